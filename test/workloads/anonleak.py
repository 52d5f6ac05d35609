# Leak of anonymous memory written by user code: 4 MiB strings kept, ~RATE MiB/s (argv[1], default 32), capped at
# HOTSPOT_LEAK_CAP_MB (default 1500) so a forgotten run cannot take the machine down.
import os, sys, time

rate = float(sys.argv[1]) if len(sys.argv) > 1 else 32
cap = int(os.environ.get("HOTSPOT_LEAK_CAP_MB", "1500"))
kept = []
print("ready", flush=True)
start = time.monotonic()
while True:
    if len(kept) * 4 < cap:
        kept.append(b"x" * (4 * 1024 * 1024))
    # paced against the clock, so a slow moment does not lower the rate
    time.sleep(max(0, start + len(kept) * 4 / rate - time.monotonic()))
