# A service with a warm heap that then leaks at a steady rate: WARM_MB (argv[1]) touched at start, flat for
# WARM_SEC (argv[3]), then +RATE MiB/s (argv[2]) in 1 MiB blocks; with STOP_SEC (argv[4]) it stops growing that
# many seconds into the leak and stays flat. Prints "ready" once the warm heap is resident, "leaking" when the leak
# begins and "stopped" when it ends. Capped by HOTSPOT_LEAK_CAP_MB (default 1500) like every leak here.
import os, sys, time

warm_mb, rate, warm_sec = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
stop_sec = float(sys.argv[4]) if len(sys.argv) > 4 else float("inf")
cap = int(os.environ.get("HOTSPOT_LEAK_CAP_MB", "1500"))
MB = 1 << 20
heap = [bytearray(b"w" * MB) for _ in range(warm_mb)]
print("ready", flush=True)
time.sleep(warm_sec)
print("leaking", flush=True)
start = time.monotonic()
leaked = 0
while True:
    now = time.monotonic() - start
    if now >= stop_sec:
        print("stopped", flush=True)
        break
    while leaked < rate * now and warm_mb + leaked < cap:
        heap.append(bytearray(b"l" * MB))
        leaked += 1
    time.sleep(0.05)
while True:
    time.sleep(3600)
