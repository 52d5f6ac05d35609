#!/usr/bin/env bash
# Copies the README's screenshots from the last e2e runs (test-artifacts/, written by test/e2e/*.test.ts) into
# docs/screenshots/. Run the tests first: dashboard, config, process and install.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p docs/screenshots
for shot in process-context-menu process-confirm timeline-oom-exited dashboard-scrolled config-problems process-row install-offer; do
  if [ -f "test-artifacts/$shot.png" ]; then cp "test-artifacts/$shot.png" "docs/screenshots/$shot.png"
  else echo "missing test-artifacts/$shot.png (run its e2e test)" >&2; exit 1; fi
done
echo "docs/screenshots updated"
