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
action=dev.hotspot.helper.packaged
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

# The node flags every launch uses, from the one place that defines them (src/host/supervisor.ts).
flags=$(node --import tsx -p "require('./src/host/supervisor.ts').HELPER_NODE_FLAGS.join(' ')")
[[ "$flags" =~ ^[-=a-z0-9\ ]+$ ]] || { echo "package-deb: unexpected helper node flags: $flags" >&2; exit 1; }

cat >"$lib/hotspot-helper" <<SH
#!/bin/sh
# Installed by the hotspot-helper package: the privileged eBPF helper, run by pkexec with the system's node.
# Every thread starts with at most what loading BPF needs (the helper drops to CAP_BPF + CAP_PERFMON once attached);
# without a setpriv that knows these capabilities the helper still starts, and drops what it can itself.
caps=-all,+setpcap,+sys_admin,+bpf,+perfmon,+sys_resource
if /usr/bin/setpriv --bounding-set=\$caps --inh-caps=-all true 2>/dev/null; then
  exec /usr/bin/setpriv --bounding-set=\$caps --inh-caps=-all -- /usr/bin/node $flags /usr/lib/hotspot/helper.js "\$@"
fi
exec /usr/bin/node $flags /usr/lib/hotspot/helper.js "\$@"
SH
chmod 0755 "$lib/hotspot-helper"

cat >"$root/usr/share/polkit-1/actions/$action.policy" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE policyconfig PUBLIC "-//freedesktop//DTD PolicyKit Policy Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/PolicyKit/1/policyconfig.dtd">
<policyconfig>
  <vendor>Hotspot</vendor>
  <action id="$action">
    <description>Run the Hotspot eBPF helper</description>
    <message>Authentication is required to load Hotspot's eBPF programs into the kernel</message>
    <defaults>
      <allow_any>no</allow_any>
      <allow_inactive>no</allow_inactive>
      <allow_active>auth_admin_keep</allow_active>
    </defaults>
    <annotate key="org.freedesktop.policykit.exec.path">/usr/lib/hotspot/hotspot-helper</annotate>
  </action>
</policyconfig>
XML
chmod 0644 "$root/usr/share/polkit-1/actions/$action.policy"
install -m 0644 LICENSE "$root/usr/share/doc/hotspot-helper/copyright"

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
