#!/usr/bin/env bash
# The boards check (run by CI after the tests):
#  1. aarch64: the cross-built edgegan, run under qemu as a Pi 4 (Cortex-A72)
#     and a Pi 5 (Cortex-A76, fp16 + SDOT kernels), must write the same PNG
#     bytes as the x86_64 build: f32 with each conv lowering, and int8.
#     The same for `edgegan inpaint` (the embedded inpaint model, a 26.8 %
#     mask): f32 byte-identical, int8 within two 8-bit levels (tract's int8
#     kernels for aarch64 requantize a few values a level apart from
#     x86_64's, and across the U-Net's 24 quantized convs a flipped level
#     spreads; int8 itself is up to 37 levels from f32 there; every pixel
#     outside the mask is the input's anyway). Compared with numpy from
#     scripts/setup_opencv.sh.
#  2. armv7 (Pi 3, Cortex-A7 with NEON): the runtime's unit tests under qemu-arm.
# Emulation is 40-70x slower than native: this proves pixels, not speed.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/edgegan/target}"
SECONDS=0

echo "== cross-building edgegan for aarch64"
# Pixels, not speed, are checked here: the quick-to-build `board-check`
# profile (release without LTO) is enough (EDGEGAN_CROSS_PROFILE overrides).
arm_bin=$(EDGEGAN_CROSS_PROFILE="${EDGEGAN_CROSS_PROFILE:-board-check}" boards/cross.sh aarch64)
echo "   built in ${SECONDS} s: $arm_bin"
# The x86_64 reference: EDGEGAN_HOST_BIN when set (CI passes the binary its
# `cargo test` just linked, whose dev-dependency features differ from a plain
# `cargo build`, which would rebuild burn and the trainer), else a build.
if [ -n "${EDGEGAN_HOST_BIN:-}" ]; then
  host_bin="$EDGEGAN_HOST_BIN"
else
  cargo build -q --bin edgegan
  host_bin="$CARGO_TARGET_DIR/debug/edgegan"
fi

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

echo "== inpainting on aarch64 vs x86_64 (f32 byte-identical, int8 within two levels)"
py=$(scripts/setup_opencv.sh)
mkdir "$work/mask"
"$host_bin" mask --like "$photo" --bin 20-30 --seed 1 -o "$work/mask/m.png" 2>/dev/null
for run in "f32 0" "int8 2"; do
  set -- $run
  args=(inpaint "$photo" --mask "$work/mask/m.png" --precision "$1")
  "$host_bin" "${args[@]}" -o "$work/x86.png" 2>/dev/null
  for cpu in cortex-a72 cortex-a76; do
    start=$SECONDS
    qemu-aarch64 -cpu "$cpu" "$arm_bin" "${args[@]}" -o "$work/$cpu.png" 2>/dev/null
    read -r worst px < <("$py" -c 'import sys, cv2, numpy as np
a, b = (cv2.imread(p).astype(int) for p in sys.argv[1:])
d = np.abs(a - b).max(axis=2)
print(d.max(), (d > 0).sum())' "$work/x86.png" "$work/$cpu.png")
    if [ "$worst" -eq 0 ]; then verdict="identical to x86_64"
    elif [ "$worst" -le "$2" ]; then verdict="within $worst levels of x86_64 ($px px differ)"
    else verdict="DIFFERS from x86_64 by $worst levels ($px px)"; failed=1; fi
    printf '%-11s %-6s %-7s %8d  %s\n' "$cpu" "$1" inpaint $((SECONDS - start)) "$verdict"
  done
  rm -f "$work"/*.png
done

echo "== armv7: the runtime's unit tests under qemu-arm -cpu cortex-a7"
start=$SECONDS
boards/cross.sh armv7 test -q --locked -p edgegan-runtime --lib
echo "   armv7 build + tests: $((SECONDS - start)) s"
echo "== boards check: ${SECONDS} s in all"
exit $failed
