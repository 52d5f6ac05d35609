# Bounded sawtooth: a 64 MiB cache kept for life, plus batches built up to ~BATCH MiB (argv[1], default 160)
# over ~1 s and freed, every ~1.5 s. Memory goes up and down but never beyond cache + batch.
import sys, time

batch = int(sys.argv[1]) if len(sys.argv) > 1 else 160
cache = b"c" * (64 * 1024 * 1024)
print("ready", flush=True)
while True:
    parts = []
    for _ in range(batch // 16):
        parts.append(b"b" * (16 * 1024 * 1024))
        time.sleep(1.0 / (batch // 16))
    del parts
    time.sleep(0.5)
