# A process that spends its life asleep in S, woken ~200 times a second by a thread of its own: on a pipe, a
# socket, a futex (a lock another thread releases) or a timer (argv[1]). It waits on nothing the disk does.
import os, socket, sys, threading, time

kind = sys.argv[1]
PERIOD = 0.005


def every(fn):
    def loop():
        while True:
            time.sleep(PERIOD)
            fn()

    threading.Thread(target=loop, daemon=True).start()


print("ready", flush=True)
if kind == "pipe":
    r, w = os.pipe()
    every(lambda: os.write(w, b"x"))
    while True:
        os.read(r, 1)
elif kind == "socket":
    a, b = socket.socketpair()
    every(lambda: b.send(b"x"))
    while True:
        a.recv(1)
elif kind == "futex":
    lock = threading.Lock()
    lock.acquire()
    every(lambda: lock.locked() and lock.release())
    while True:
        lock.acquire()
elif kind == "sleep":
    while True:
        time.sleep(PERIOD)
else:
    sys.exit(f"sleeper.py: unknown kind {kind!r} (pipe, socket, futex or sleep)")
