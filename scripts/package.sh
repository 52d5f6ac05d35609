#!/usr/bin/env bash
# Builds and packages the extension: hotspot-<version>.vsix plus hotspot-<version>.vsix.sha256 in the repo root
# (verify with: sha256sum -c hotspot-<version>.vsix.sha256), the helper's manifest (dist/helper-manifest.sha256,
# inside the .vsix) with its summary hash in hotspot-<version>.helper.sha256 (Install Helper shows the same hash),
# and hotspot-helper_<version>_<arch>.deb (+ .sha256), the helper as a Debian package. Offline: vsce needs no network.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-bpf.sh
node scripts/build.mjs
summary=$(node scripts/helper-manifest.mjs .)
version=$(node -p "require('./package.json').version")
vsix="hotspot-$version.vsix"
rm -f "$vsix" "$vsix.sha256"
echo "$summary  dist/helper-manifest.sha256" >"hotspot-$version.helper.sha256"
npx --no-install vsce package --allow-missing-repository --out "$vsix" >&2
sha256sum "$vsix" >"$vsix.sha256"
deb=$(bash scripts/package-deb.sh .)
sha256sum "$(basename "$deb")" >"$(basename "$deb").sha256"
echo "$deb"
echo "$PWD/$vsix" # last: the .vsix (test/e2e/vsix.test.ts reads it)
