#!/usr/bin/env bash
# Builds and packages the extension for Linux x64 (the only platform proven so far: the libbpf print callback's
# va_list handling is x86-64-specific): hotspot-<version>-linux-x64.vsix plus its .sha256 in the repo root
# (verify with: sha256sum -c hotspot-<version>-linux-x64.vsix.sha256). Offline: vsce needs no network.
# The .vsix is platform-specific (vsce --target), so the marketplace offers it only where its koffi binary runs.
set -euo pipefail
cd "$(dirname "$0")/.."
target=linux-x64
bash scripts/build-bpf.sh
node scripts/build.mjs
version=$(node -p "require('./package.json').version")
vsix="hotspot-$version-$target.vsix"
rm -f "$vsix" "$vsix.sha256"
npx --no-install vsce package --target "$target" --out "$vsix" >&2
sha256sum "$vsix" >"$vsix.sha256"
echo "$PWD/$vsix"
