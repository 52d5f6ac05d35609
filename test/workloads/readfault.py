# Faults taken in kernel mode: read() from /dev/zero into freshly mapped (untouched) memory, 32 MB at a time,
# then drop the pages and do it again. The faults happen inside the kernel's copy to user memory.
import mmap, sys, time

SIZE = 32 * 1024 * 1024
mm = mmap.mmap(-1, SIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
with open("/dev/zero", "rb", buffering=0) as f:
    while True:
        view = memoryview(mm)
        got = 0
        while got < SIZE:
            got += f.readinto(view[got:])
        view.release()
        mm.madvise(mmap.MADV_DONTNEED)
        time.sleep(0.05)
