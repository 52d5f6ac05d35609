# Read-only mmap of a large cold file: argv[1] is the file, dropped from the page cache first, then read page by
# page through the mapping at ~RATE MiB/s (argv[2], default 48) and over again. Its RSS grows in clean,
# file-backed pages that reclaim can drop, never in anonymous memory.
import mmap, os, sys, time

path = sys.argv[1]
rate = float(sys.argv[2]) if len(sys.argv) > 2 else 48
fd = os.open(path, os.O_RDONLY)
size = os.fstat(fd).st_size
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
m = mmap.mmap(fd, size, prot=mmap.PROT_READ)
m.madvise(mmap.MADV_RANDOM)  # no read-around: each page is its own (major) fault, as with a cold index
print("ready", flush=True)
step = 1024 * 1024
total = 0
while True:
    for off in range(0, size, step):
        for p in range(off, min(off + step, size), 4096):
            total += m[p]
        time.sleep(1 / rate)
    m.madvise(mmap.MADV_DONTNEED)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
