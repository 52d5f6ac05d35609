#!/usr/bin/env bash
# `npm start`: installs what is missing (apt/npm/code-server), packages Hotspot, and serves the sample workspace
# in code-server on 127.0.0.1:${PORT:-8080} with the extension installed. Stays in the foreground; Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --e2e
vsix=$(bash scripts/package.sh | tail -1)
exec node --import tsx scripts/e2e/serve.ts "$vsix" "${PORT:-8080}"
