#!/usr/bin/env bash
# The boards check (run by CI after the tests):
#  1. aarch64: the cross-built edgegan, run under qemu as a Pi 4 (Cortex-A72)
#     and a Pi 5 (Cortex-A76, fp16 + SDOT kernels), must write the same PNG
#     bytes as the x86_64 build: f32 with each conv lowering, and int8.
#  2. armv7 (Pi 3, Cortex-A7 with NEON): the runtime's unit tests under qemu-arm.
# Emulation is 40-70x slower than native: this proves pixels, not speed.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/edgegan/target}"
SECONDS=0

echo "== cross-building edgegan for aarch64"
arm_bin=$(boards/cross.sh aarch64)
echo "   built in ${SECONDS} s: $arm_bin"
cargo build -q --bin edgegan
host_bin="$CARGO_TARGET_DIR/debug/edgegan"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
photo=examples/astronaut.png
failed=0
printf '%-11s %-6s %-7s %8s  %s\n' cpu prec conv qemu_s result
for run in "f32 im2col" "f32 direct" "int8 im2col"; do
  set -- $run
  args=(upscale "$photo" --model sr-x2 --precision "$1" --conv-path "$2" --threads 2)
  "$host_bin" "${args[@]}" -o "$work/x86.png" 2>/dev/null
  for cpu in cortex-a72 cortex-a76; do
    start=$SECONDS
    qemu-aarch64 -cpu "$cpu" "$arm_bin" "${args[@]}" -o "$work/$cpu.png" 2>/dev/null
    if cmp -s "$work/x86.png" "$work/$cpu.png"; then verdict="identical to x86_64"; else verdict="DIFFERS from x86_64"; failed=1; fi
    printf '%-11s %-6s %-7s %8d  %s\n' "$cpu" "$1" "$2" $((SECONDS - start)) "$verdict"
  done
  rm -f "$work"/*.png
done

echo "== armv7: the runtime's unit tests under qemu-arm -cpu cortex-a7"
start=$SECONDS
boards/cross.sh armv7 test -q --locked -p edgegan-runtime --lib
echo "   armv7 build + tests: $((SECONDS - start)) s"
echo "== boards check: ${SECONDS} s in all"
exit $failed
