#!/usr/bin/env bash
# Installs everything Hotspot needs to build, run and test on Debian/Ubuntu.
# Usage: scripts/setup.sh [--e2e]   (--e2e also installs code-server + chromium for the real-VS-Code tests)
# Idempotent: each step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
want_e2e=0
[ "${1:-}" = "--e2e" ] && want_e2e=1

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }
# shellcheck source=scripts/apt.sh
source scripts/apt.sh

# --- system packages -------------------------------------------------------
pkgs=(clang llvm libbpf-dev libbpf1 bpftool bpftrace pkexec polkitd dbus procps python3 make)
[ "$want_e2e" = 1 ] && pkgs+=(chromium ripgrep libkrb5-dev g++)
ensure_debs Hotspot "${pkgs[@]}"

# --- Prometheus, for the `hotspot serve` test (its binary and promtool; the test runs it on its own port) ---
if ! dpkg-query -W -f='${Status}' prometheus 2>/dev/null | grep -q 'install ok installed'; then
  ensure_debs "hotspot serve's test" prometheus
  # The package enables and (where an init system runs) starts its own server on :9090: not wanted here.
  if [ "$(id -u)" = 0 ]; then
    if [ -d /run/systemd/system ]; then systemctl disable --now prometheus >/dev/null 2>&1 || true
    else service prometheus stop >/dev/null 2>&1 || true; fi
  fi
fi

# --- npm dependencies ------------------------------------------------------
if [ ! -d node_modules/koffi ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund >/dev/null
fi

# --- code-server for the real-VS-Code tests (kept out of the project's deps) -
if [ "$want_e2e" = 1 ] && [ ! -x .e2e-tools/node_modules/.bin/code-server ]; then
  log "installing code-server 4.100.3 into .e2e-tools (about 2 minutes)"
  mkdir -p .e2e-tools/tmp
  export TMPDIR="$PWD/.e2e-tools/tmp"
  # @vscode/ripgrep downloads rg from GitHub in postinstall; seed its cache from Debian's ripgrep.
  mkdir -p "$TMPDIR/vscode-ripgrep-cache-1.15.11"
  tar czf "$TMPDIR/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C /usr/bin rg
  (cd .e2e-tools && { [ -f package.json ] || echo '{"name":"hotspot-e2e-tools","private":true}' > package.json; } &&
    npm_config_unsafe_perm=true npm_config_yes=true npm i --no-audit --no-fund code-server@4.100.3 >install.log 2>&1) ||
    { tail -30 .e2e-tools/install.log >&2; exit 1; }
fi

# --- build -----------------------------------------------------------------
log "building BPF objects and bundles"
bash scripts/build-bpf.sh
node scripts/build.mjs
