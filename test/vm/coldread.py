# Major faults inside the kernel-matrix VM, where every writable file lives in tmpfs (whose pages never leave
# memory): map a file of the read-only host root (argv[1]), drop its pages from the page cache, touch every page of
# its first 16 MB again, repeat. MADV_RANDOM turns read-around off, so each touch is one major fault.
import mmap, os, sys

fd = os.open(sys.argv[1], os.O_RDONLY)
size = min(os.fstat(fd).st_size, 16 * 1024 * 1024) & ~4095
while True:
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    mm = mmap.mmap(fd, size, prot=mmap.PROT_READ)
    mm.madvise(mmap.MADV_RANDOM)
    s = 0
    for off in range(0, size, 4096):
        s += mm[off]
    mm.close()
