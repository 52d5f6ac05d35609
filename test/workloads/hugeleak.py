# Huge-page leak: 32 MiB anonymous mappings with MADV_HUGEPAGE, one byte written per 2 MiB (one fault per huge
# page), kept; ~RATE MiB/s (argv[1], default 32). Few faults, fast growth.
import mmap, os, sys, time

rate = float(sys.argv[1]) if len(sys.argv) > 1 else 32
cap = int(os.environ.get("HOTSPOT_LEAK_CAP_MB", "1500"))
size = 32 * 1024 * 1024
kept = []
print("ready", flush=True)
while True:
    if len(kept) * 32 < cap:
        # private: mmap(-1) alone would be shared anonymous memory (shmem), which has its own THP policy
        m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, prot=mmap.PROT_READ | mmap.PROT_WRITE)
        m.madvise(mmap.MADV_HUGEPAGE)
        for off in range(0, size, 2 * 1024 * 1024):
            m[off] = 1
        kept.append(m)
    time.sleep(32 / rate)
