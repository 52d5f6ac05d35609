#!/usr/bin/env bash
# Builds and packages the extension: hotspot-<version>.vsix plus hotspot-<version>.vsix.sha256 in the repo root
# (verify with: sha256sum -c hotspot-<version>.vsix.sha256). Offline: vsce needs no network.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-bpf.sh
node scripts/build.mjs
version=$(node -p "require('./package.json').version")
vsix="hotspot-$version.vsix"
rm -f "$vsix" "$vsix.sha256"
npx --no-install vsce package --allow-missing-repository --out "$vsix" >&2
sha256sum "$vsix" >"$vsix.sha256"
echo "$PWD/$vsix"
