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
# Bundled like the shipped code (tsx's transform would add its own overhead to the classifier figure).
npx --no-install esbuild scripts/bench/main.ts --bundle --platform=node --target=node20 --outfile=dist/bench/main.js --log-level=warning
exec node dist/bench/main.js
