# OOM-risk workload (reference reproduction): leak 10 MB strings every 0.25 s (~40 MB/s).
# Capped so a forgotten run cannot take the machine down: stops growing at HOTSPOT_LEAK_CAP_MB (default 1500).
import os, time

cap = int(os.environ.get("HOTSPOT_LEAK_CAP_MB", "1500"))
leak = []
while True:
    if len(leak) * 10 < cap:
        leak.append(" " * 10_000_000)
    time.sleep(0.25)
