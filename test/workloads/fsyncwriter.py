# Synchronous writer: 64 KiB pwrite + fdatasync, over and over, cycling through the first 16 MiB of argv[1]
# (created if missing). Slow because it waits for the disk, not for a CPU.
import os, sys

fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600)
buf = os.urandom(65536)
print("ready", flush=True)
off = 0
while True:
    os.pwrite(fd, buf, off)
    os.fdatasync(fd)
    off = (off + len(buf)) % (16 << 20)
