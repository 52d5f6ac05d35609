# A fixed file-backed RSS: map a 64 MB file (argv[1], created here) and touch every page, then sleep.
import mmap, os, sys, time

path = sys.argv[1]
SIZE = 64 * 1024 * 1024
with open(path, "wb") as f:
    f.truncate(SIZE)
fd = os.open(path, os.O_RDWR)
mm = mmap.mmap(fd, SIZE)
for off in range(0, SIZE, 4096):
    mm[off] = 1
print("ready", flush=True)
time.sleep(3600)
