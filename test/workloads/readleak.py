# Leak of kernel-filled buffers: read() from /dev/zero into fresh 8 MiB buffers that are kept, ~RATE MiB/s
# (argv[1], default 32). The pages are first touched by the kernel inside read(), not by user code.
import os, sys, time

rate = float(sys.argv[1]) if len(sys.argv) > 1 else 32
cap = int(os.environ.get("HOTSPOT_LEAK_CAP_MB", "1500"))
chunk = 8 * 1024 * 1024
fd = os.open("/dev/zero", os.O_RDONLY)
kept = []
print("ready", flush=True)
while True:
    if len(kept) * 8 < cap:
        kept.append(os.read(fd, chunk))
    time.sleep(8 / rate)
