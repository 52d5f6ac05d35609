# Idle process: wakes every 100 ms and does nothing.
import time

print("ready", flush=True)
while True:
    time.sleep(0.1)
