#!/usr/bin/env bash
# Builds and packages the extension for Linux x64 (the only platform proven so far: the libbpf print callback's
# va_list handling is x86-64-specific): hotspot-<version>-linux-x64.vsix plus its .sha256 in the repo root
# (verify with: sha256sum -c hotspot-<version>-linux-x64.vsix.sha256), the helper's manifest
# (dist/helper-manifest.sha256, inside the .vsix) with its summary hash in hotspot-<version>.helper.sha256 (Install
# Helper shows the same hash), and hotspot-helper_<version>_<arch>.deb (+ .sha256), the helper as a Debian package.
# The .vsix is platform-specific (vsce --target), so the marketplace offers it only where its koffi binary runs.
# Offline: vsce needs no network.
set -euo pipefail
cd "$(dirname "$0")/.."
target=linux-x64
bash scripts/build-bpf.sh
node scripts/build.mjs
summary=$(node scripts/helper-manifest.mjs .)
version=$(node -p "require('./package.json').version")
vsix="hotspot-$version-$target.vsix"
rm -f "$vsix" "$vsix.sha256"
echo "$summary  dist/helper-manifest.sha256" >"hotspot-$version.helper.sha256"
npx --no-install vsce package --allow-missing-repository --no-rewrite-relative-links --target "$target" --out "$vsix" >&2
sha256sum "$vsix" >"$vsix.sha256"
deb=$(bash scripts/package-deb.sh .)
sha256sum "$(basename "$deb")" >"$(basename "$deb").sha256"
echo "$deb"
echo "$PWD/$vsix" # last: the .vsix (test/e2e/vsix.test.ts reads it)
