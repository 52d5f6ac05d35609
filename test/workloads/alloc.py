# Allocates and touches N MB (argv[1], default 256), prints "ready", then sleeps: a fixed RSS to check against /proc.
import mmap, sys, time

size = int(sys.argv[1] if len(sys.argv) > 1 else 256) * 1024 * 1024
mm = mmap.mmap(-1, size, prot=mmap.PROT_READ | mmap.PROT_WRITE)
for off in range(0, size, 4096):
    mm[off] = 1
print("ready", flush=True)
time.sleep(3600)
