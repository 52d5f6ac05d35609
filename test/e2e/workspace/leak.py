# Leaks memory steadily: appends 10 MB every 0.25 s, capped at about 1.5 GB, then idles until killed.
import time

chunks = []
while True:
    if len(chunks) < 150:
        chunks.append(" " * 10_000_000)
    time.sleep(0.25)
