#!/usr/bin/env bash
# Starts (or stops) the system D-Bus and polkitd for the real-pkexec tests on machines without systemd.
# Usage: scripts/e2e/polkit.sh start|stop   (root only). Idempotent: only what this script started is stopped,
# tracked in $STATE; a bus or polkitd that was already running is left alone.
set -euo pipefail
STATE=${HOTSPOT_POLKIT_STATE:-/run/hotspot-e2e-polkit.pids}
POLKITD=""
for p in /usr/lib/polkit-1/polkitd /usr/libexec/polkitd /usr/lib/policykit-1/polkitd; do
  [ -x "$p" ] && POLKITD=$p && break
done

has_name() {
  dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner "string:$1" 2>/dev/null |
    grep -q 'boolean true'
}
bus_up() { dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.GetId >/dev/null 2>&1; }

start() {
  [ "$(id -u)" = 0 ] || { echo "polkit.sh: must run as root" >&2; exit 1; }
  [ -n "$POLKITD" ] || { echo "polkit.sh: polkitd not found (apt-get install polkitd)" >&2; exit 1; }
  touch "$STATE"
  if ! bus_up; then
    mkdir -p /run/dbus
    # A pid file left by a dead bus makes dbus-daemon refuse to start.
    if [ -f /run/dbus/pid ] && ! kill -0 "$(cat /run/dbus/pid)" 2>/dev/null; then rm -f /run/dbus/pid; fi
    pid=$(dbus-daemon --system --fork --print-pid)
    echo "dbus $pid" >>"$STATE"
    for _ in $(seq 50); do bus_up && break; sleep 0.1; done
  fi
  if ! has_name org.freedesktop.PolicyKit1; then
    setsid "$POLKITD" --no-debug </dev/null >/dev/null 2>&1 &
    echo "polkitd $!" >>"$STATE"
    for _ in $(seq 100); do has_name org.freedesktop.PolicyKit1 && break; sleep 0.1; done
  fi
  has_name org.freedesktop.PolicyKit1 || { echo "polkit.sh: polkitd did not register on the system bus" >&2; exit 1; }
  echo "polkit.sh: system bus and polkitd are up" >&2
}

stop() {
  [ -f "$STATE" ] || return 0
  # polkitd first, then the bus it is registered on.
  for what in polkitd dbus; do
    while read -r name pid; do
      [ "$name" = "$what" ] || continue
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      [ "$what" = dbus ] && rm -f /run/dbus/pid
    done <"$STATE"
  done
  rm -f "$STATE"
  echo "polkit.sh: stopped what it had started" >&2
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
