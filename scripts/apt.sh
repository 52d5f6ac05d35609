# Sourced by scripts/setup.sh and scripts/kernels/run.sh (not run on its own).
# ensure_debs WHAT PKG…: installs the Debian packages among PKG that are not installed yet. As root it runs
# apt-get; otherwise it prints the command for the user and exits, since the caller cannot go on without them.
ensure_debs() {
  local what=$1
  shift
  local p missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ]; then
    log "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "$what needs these system packages. Run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
}
