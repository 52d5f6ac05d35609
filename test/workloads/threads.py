# Threads that come and go: every 0.2 s a worker thread burns CPU for 0.15 s and exits, while the main thread
# sleeps. The process's CPU is then mostly that of threads that no longer exist (folded into signal_struct).
import threading, time

def burn(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass

while True:
    t = threading.Thread(target=burn, args=(0.15,))
    t.start()
    t.join()
    time.sleep(0.05)
