#!/usr/bin/env bash
# npm run test:kernels: boots Debian's 6.1 and 6.12 kernels (and the host's own, when its bzImage is readable)
# under qemu and runs the in-VM check suite (test/vm/checks.test.ts) on each; prints the kernel matrix and writes
# test-artifacts/kernels.json. Uses only Debian packages; installs the missing ones when run as root.
# Kernel packages are cached in .kernels/ (git-ignored). See scripts/kernels/matrix.ts for the knobs.
set -euo pipefail
cd "$(dirname "$0")/../.."

log() { printf '\033[1;34m[kernels]\033[0m %s\n' "$*" >&2; }
# shellcheck source=scripts/apt.sh
source scripts/apt.sh

# e2fsprogs: mkfs.ext4 for the guest's scratch disk (the blocked-time check needs a real block device).
pkgs=(qemu-system-x86 busybox-static kmod xz-utils zstd bpftool e2fsprogs)
ensure_debs "The kernel matrix" "${pkgs[@]}"

# The VM runs this checkout's build (it sees the host's / read-only): build it if it is not there.
if [ ! -f dist/helper.js ] || [ ! -f dist/cli.js ] || [ ! -f bpf/sched.bpf.o ] || [ ! -f bpf/tasks.bpf.o ]; then
  log "building BPF objects and bundles"
  bash scripts/build-bpf.sh
  node scripts/build.mjs
fi

exec node --import tsx scripts/kernels/matrix.ts "$@"
