# Two processes bounce a byte through two pipes until killed: every round trip is two context switches, and
# pinned to one CPU, about half of them are preemptions (the woken reader preempts the writer).
import ctypes
import os
import signal

a_r, a_w = os.pipe()
b_r, b_w = os.pipe()
if os.fork() == 0:
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: goes with the parent
    while True:
        os.read(a_r, 1)
        os.write(b_w, b"x")
print("ready", flush=True)
while True:
    os.write(a_w, b"x")
    os.read(b_r, 1)
