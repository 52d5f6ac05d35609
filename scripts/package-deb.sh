#!/usr/bin/env bash
# Builds hotspot-helper_<version>_<arch>.deb: the privileged helper as a Debian package, the ecosystem's way to give
# root files it can trust. The tree under /usr/lib/hotspot is exactly the files of dist/helper-manifest.sha256 (each
# checked here), plus that manifest, the launcher and the CLI; the polkit action names that launcher. dpkg records every
# file's checksum at install (`dpkg --verify hotspot-helper` checks them) and the files are root's, written by dpkg.
# Usage: scripts/package-deb.sh [out-dir]   (run after the build; prints the .deb's path)
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-.}")
version=$(node -p "require('./package.json').version")
arch=$(dpkg --print-architecture)
manifest=dist/helper-manifest.sha256
[ -f "$manifest" ] || { echo "package-deb: $manifest is missing; build first (npm run build)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/root"
lib="$root/usr/lib/hotspot"
action=$(node --import tsx -p "require('./src/host/rootPath.ts').PACKAGED_POLKIT_ACTION")
mkdir -p "$lib" "$root/DEBIAN" "$root/usr/share/polkit-1/actions" "$root/usr/share/doc/hotspot-helper"

# The manifest names installed paths; dist/helper.js is installed as helper.js.
while read -r _ name; do
  src=$name
  [ "$name" = helper.js ] && src=dist/helper.js
  install -D -m 0644 "$src" "$lib/$name"
done <"$manifest"
install -m 0644 "$manifest" "$lib/helper-manifest.sha256"
(cd "$lib" && sha256sum --quiet --strict -c helper-manifest.sha256) ||
  { echo "package-deb: the built files do not match $manifest" >&2; exit 1; }

# The CLI too, so that `sudo node /usr/lib/hotspot/cli.js` runs a root-owned, dpkg-verified copy (it finds the
# helper next to itself).
install -m 0644 dist/cli.js "$lib/cli.js"

# The launcher and the polkit action, rendered from the templates Install Helper uses (src/host/rootTemplates.ts).
render() { node --import tsx scripts/render-root-files.ts "$1"; }
render launcher >"$lib/hotspot-helper"
chmod 0755 "$lib/hotspot-helper"
render policy >"$root/usr/share/polkit-1/actions/$action.policy"
chmod 0644 "$root/usr/share/polkit-1/actions/$action.policy"
install -m 0644 LICENSE "$root/usr/share/doc/hotspot-helper/copyright"

# --- hotspot serve as a service: unit (installed disabled), its notes, the `hotspot` user it runs as -------------
# Kept apart from the helper's files above; the unit's text is scripts/templates/hotspot-serve.service.
install -D -m 0644 scripts/templates/hotspot-serve.service "$root/usr/lib/systemd/system/hotspot-serve.service"
install -D -m 0644 docs/serve.md "$root/usr/share/doc/hotspot-helper/README.serve"
cat >"$root/DEBIAN/postinst" <<'SH'
#!/bin/sh
# The unprivileged user `hotspot serve` becomes after starting the helper. The unit is not enabled here.
set -e
if [ "$1" = configure ]; then
  getent passwd hotspot >/dev/null ||
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin hotspot
  if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
fi
SH
cat >"$root/DEBIAN/prerm" <<'SH'
#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then systemctl stop hotspot-serve.service || true; fi
SH
cat >"$root/DEBIAN/postrm" <<'SH'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
SH
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"
# --- end of hotspot serve ------------------------------------------------------------------------------------------

cat >"$root/DEBIAN/control" <<CONTROL
Package: hotspot-helper
Version: $version
Architecture: $arch
Maintainer: Hotspot developers <hotspot-dev@users.noreply.github.com>
Depends: nodejs (>= 20), libbpf1
Section: admin
Priority: optional
Installed-Size: $(du -sk "$root/usr" | cut -f1)
Description: privileged eBPF helper of the Hotspot VS Code extension
 Loads Hotspot's BPF collectors (sched_switch, page faults) and streams one
 JSON line per window to the extension or the hotspot CLI. Started through
 pkexec; the polkit action $action requires an administrator.
CONTROL
(cd "$root" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"

mkdir -p "$out"
deb="$out/hotspot-helper_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >&2
echo "$deb"
