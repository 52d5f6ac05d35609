# Mem-thrashing workload (reference reproduction): drop a 256 MB mapping, then fault 5000 random pages back, every 0.1 s.
import mmap, random, time

SIZE = 256 * 1024 * 1024
mm = mmap.mmap(-1, SIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
while True:
    mm.madvise(mmap.MADV_DONTNEED)
    for _ in range(5000):
        mm[random.randint(0, SIZE - 4096) & ~4095] = 65
    time.sleep(0.1)
