# A stable large process: N MiB (argv[1], default 512) of anonymous memory written once, then it wakes every
# 100 ms doing nothing, so every window lists it with the same memory.
import sys, time

size = int(sys.argv[1] if len(sys.argv) > 1 else 512) * 1024 * 1024
data = bytearray(b"s" * size)
print("ready", flush=True)
while True:
    time.sleep(0.1)
