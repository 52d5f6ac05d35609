#!/usr/bin/env bash
# Compiles each bpf/*.bpf.c into a CO-RE object against a vmlinux.h generated from the running kernel's BTF.
# The objects are portable (CO-RE): they ship in the .vsix, so users need neither clang nor headers.
set -euo pipefail
cd "$(dirname "$0")/../bpf"
if [ ! -s vmlinux.h ]; then
  [ -r /sys/kernel/btf/vmlinux ] || { echo "build-bpf: /sys/kernel/btf/vmlinux is missing; this kernel has no BTF" >&2; exit 1; }
  bpftool btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h.tmp && mv vmlinux.h.tmp vmlinux.h
fi
for src in *.bpf.c; do
  obj="${src%.c}.o"
  if [ ! -e "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find . -maxdepth 1 -name '*.h' -newer "$obj")" ]; then
    clang -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_x86 -I. -c "$src" -o "$obj"
    llvm-strip -g "$obj" # keep BTF (needed for CO-RE), drop DWARF
  fi
done
# The helper's record offsets, from these objects' BTF (src/helper/layout.ts; unchanged unless a struct changed).
node ../scripts/bpf-layout.mjs
