# Major faults: map a file on disk, evict its pages from the page cache (posix_fadvise DONTNEED after unmapping),
# map it again and touch every page: each touch has to read the page from disk. argv[1] is the file (created here).
import mmap, os, sys, time

path = sys.argv[1]
SIZE = 16 * 1024 * 1024
with open(path, "wb") as f:
    f.write(os.urandom(SIZE))
    f.flush()
    os.fsync(f.fileno())
fd = os.open(path, os.O_RDONLY)
print("ready", flush=True)
while True:
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    mm = mmap.mmap(fd, SIZE, prot=mmap.PROT_READ)
    mm.madvise(mmap.MADV_RANDOM)  # no read-around: one major fault per page
    s = 0
    for off in range(0, SIZE, 4096):
        s += mm[off]
    mm.close()
    time.sleep(0.05)
