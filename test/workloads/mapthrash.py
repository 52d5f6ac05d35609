# A working set larger than the memory it may use: reads random pages of a read-only mapping of argv[1] (a file on
# disk) without end. Inside a memory cgroup limited well below the file's size, most reads find their page evicted
# by the cgroup's own reclaim and fault it back from disk (refaults), while each new page charged makes the cgroup
# reclaim again: the thrashing of a database or an index that no longer fits. Its memory is file-backed and clean.
import mmap, os, random, sys

fd = os.open(sys.argv[1], os.O_RDONLY)
size = os.fstat(fd).st_size
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # cold: read from disk, charged to this process's cgroup
m = mmap.mmap(fd, size, prot=mmap.PROT_READ)
m.madvise(mmap.MADV_RANDOM)  # no read-around: a page evicted is read back on its own (one major fault)
pages = size // 4096
print("ready", flush=True)
total = 0
while True:
    total += m[random.randrange(pages) * 4096]
