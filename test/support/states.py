# Ground truth for blocked time: samples the state of every thread of the given pids (/proc/PID/task/*/stat,
# field 3) at 200 Hz for argv[1] seconds, then prints one JSON object: per pid, how many thread-samples were in
# each state. D = uninterruptible sleep, R = on a CPU or runnable.
import json, os, sys, time

secs = float(sys.argv[1])
pids = [int(p) for p in sys.argv[2:]]
counts = {p: {} for p in pids}
period = 1 / 200
end = time.monotonic() + secs
tick = time.monotonic()
while time.monotonic() < end:
    for p in pids:
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tids:
            try:
                with open(f"/proc/{p}/task/{t}/stat", "rb") as f:
                    s = f.read()
            except OSError:
                continue
            st = chr(s[s.rindex(b")") + 2])
            counts[p][st] = counts[p].get(st, 0) + 1
    tick += period
    time.sleep(max(0, tick - time.monotonic()))
print(json.dumps(counts), flush=True)
