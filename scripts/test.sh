#!/usr/bin/env bash
# npm test: installs what is missing, builds, then runs every suite in one node:test run
# (unit → real-kernel → real VS Code), so the output ends with the runner's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --e2e
npx tsc --noEmit -p .
npx biome check . >/dev/null || { npx biome check . 2>&1 | tail -40; exit 1; }
mkdir -p test-artifacts
shopt -s nullglob
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec \
  test/unit/*.test.ts test/kernel/*.test.ts test/e2e/*.test.ts
