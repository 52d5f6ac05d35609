#!/usr/bin/env bash
# `npm run bench`: installs what is missing, builds, compiles the C workloads and prints Hotspot's cost as ratios
# (see scripts/bench/main.ts). Needs root for BPF; not part of `npm test` (it measures, it does not assert).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "$(id -u)" != 0 ]; then
  echo "npm run bench loads BPF programs: run it as root (sudo npm run bench)." >&2
  exit 1
fi
mkdir -p dist/bench
for c in pingpong faultstorm sleepers; do
  gcc -O2 -Wall -o "dist/bench/$c" "scripts/bench/$c.c"
done
# The floor: the same helper with an on_switch that returns at once (the helper finds its BPF objects next to itself).
mkdir -p dist/bench/floor/bpf
cp dist/helper.js dist/bench/floor/helper.js
cp bpf/faults.bpf.o dist/bench/floor/bpf/
clang -g -O2 -Wall -target bpf -D__TARGET_ARCH_x86 -DHOTSPOT_BENCH_EMPTY -Ibpf -c bpf/sched.bpf.c -o dist/bench/floor/bpf/sched.bpf.o
llvm-strip -g dist/bench/floor/bpf/sched.bpf.o
# Bundled like the shipped code (tsx's transform would add its own overhead to the classifier figure).
npx --no-install esbuild scripts/bench/main.ts --bundle --platform=node --target=node20 --outfile=dist/bench/main.js --log-level=warning
exec node dist/bench/main.js
