#!/usr/bin/env bash
# `npm run bench`: installs what is missing, builds, compiles the C workloads and measures Hotspot's cost
# (see scripts/bench/main.ts). Needs root for BPF; not part of `npm test` (it measures, it does not assert).
# BENCH_PREVIOUS_REF=<git ref> also builds that revision's helper and measures it beside the current one.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${BENCH_SKIP_SETUP:-}" ] || bash scripts/setup.sh
if [ "$(id -u)" != 0 ]; then
  echo "npm run bench loads BPF programs: run it as root (sudo npm run bench)." >&2
  exit 1
fi
# bpftrace's tracepoint: probes need tracefs, which a fresh machine may not have mounted.
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
mkdir -p dist/bench
for c in pingpong faultstorm sleepers fsyncloop; do
  gcc -O2 -Wall -o "dist/bench/$c" "scripts/bench/$c.c"
done
# The floor: the same helper with an on_switch that returns at once (the helper finds its BPF objects next to itself).
rm -rf dist/bench/floor && mkdir -p dist/bench/floor/bpf
cp dist/helper.js dist/bench/floor/helper.js
cp bpf/tasks.bpf.o dist/bench/floor/bpf/
clang -g -O2 -Wall -target bpf -D__TARGET_ARCH_x86 -Ibpf -c scripts/bench/floor.bpf.c -o dist/bench/floor/bpf/sched.bpf.o
llvm-strip -g dist/bench/floor/bpf/sched.bpf.o
rm -rf dist/bench/previous
if [ -n "${BENCH_PREVIOUS_REF:-}" ]; then
  src=$(mktemp -d)
  git archive "$BENCH_PREVIOUS_REF" | tar -x -C "$src"
  cp bpf/vmlinux.h "$src/bpf/"
  (cd "$src" && bash scripts/build-bpf.sh)
  mkdir -p dist/bench/previous/bpf
  cp "$src"/bpf/*.bpf.o dist/bench/previous/bpf/
  npx --no-install esbuild "$src/src/helper/main.ts" --bundle --platform=node --target=node20 --external:koffi \
    --outfile=dist/bench/previous/helper.js --log-level=warning
  rm -rf "$src"
fi
# Bundled like the shipped code (tsx's transform would add its own overhead to the classifier figure).
npx --no-install esbuild scripts/bench/main.ts --bundle --platform=node --target=node20 --external:koffi \
  --outfile=dist/bench/main.js --log-level=warning
node dist/bench/main.js
# The on-demand profiler: overhead beside bpftrace, symbolization and the view's render time.
exec node --import tsx scripts/bench/profile.ts
