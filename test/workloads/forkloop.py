# Fork loop: a parent with a 64 MiB heap forks children that write to their copy of it (copy-on-write faults)
# and exit, back to back. Many minor faults, none of them costly I/O.
import os

heap = bytearray(b"h" * (64 * 1024 * 1024))
print("ready", flush=True)
while True:
    pid = os.fork()
    if pid == 0:
        for off in range(0, len(heap), 4096 * 16):
            heap[off] = 1
        os._exit(0)
    os.waitpid(pid, 0)
