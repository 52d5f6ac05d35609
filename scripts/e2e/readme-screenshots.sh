#!/usr/bin/env bash
# Copies the README's screenshots from the last e2e runs (test-artifacts/, written by test/e2e/*.test.ts) into
# docs/screenshots/. Run the tests first: dashboard, config, config-actions, glance, process, install and profile.
# With --present, copies the ones that exist (after running only some of those tests).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p docs/screenshots
present=false; [ "${1:-}" = --present ] && present=true
for shot in process-context-menu process-confirm timeline-oom-exited dashboard-scrolled config-problems process-row \
  install-offer glance-tree-dark glance-tree-light tooltip-open glance-expanded-dark glance-expanded-light \
  glance-timeline-dark glance-timeline-light config-error-dark config-error-light config-generated config-ignored-key \
  profile-context-menu profile-open-line profile-cpuprofile; do
  if [ -f "test-artifacts/$shot.png" ]; then cp "test-artifacts/$shot.png" "docs/screenshots/$shot.png"
  elif ! $present; then echo "missing test-artifacts/$shot.png (run its e2e test)" >&2; exit 1; fi
done
echo "docs/screenshots updated"
