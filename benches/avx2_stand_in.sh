#!/usr/bin/env bash
# Issue 28's "CPU without VNNI" cells on a CPU that has VNNI: with
# TRACT_CPU_ISA=-avx512vnni,-avxvnni,-amx-int8,-avx512f tract and the fused
# int8 conv dispatch as on an AVX2+FMA CPU (tract's AVX2 f32 and int8
# kernels, the fused conv's AVX2 kernel). A stand-in: the instructions are
# an AVX2 CPU's, the core is this one. onnxruntime is left out: it has no
# such mask and would run its AVX-512 VNNI kernels.
#
#   benches/avx2_stand_in.sh [BIN] [ROUNDS] [MODELS] [SIDES] [THREADS]
#
# Each cell is one `edge-speed cmp` process: tract f32 (direct and im2col
# lowering), tract's own int8 lowering (EDGEGAN_QCONV=off; left out with
# TRACT_INT8=0, seconds a run at 1024²) and the product's fused int8 plan,
# one run each per round, ROUNDS rounds (default 9; ROUNDS_1024, default 5,
# at 1024²), so that the machine's slow minutes slow them all alike.
# Prints each round's times (ms) on stderr, then per cell the minimum times
# and the median over rounds of int8 fused / the faster f32 lowering of
# the same round (min-max).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-$(benches/edge_speed_bin.sh)}"
ROUNDS="${2:-9}" MODELS="${3:-sr-x2 sr-x4 inpaint}" SIDES="${4:-256 1024}" THREADS="${5:-1 2}"
export TRACT_CPU_ISA=-avx512vnni,-avxvnni,-amx-int8,-avx512f
grep -m1 'model name' /proc/cpuinfo
echo "TRACT_CPU_ISA=$TRACT_CPU_ISA"
echo "| model | side | threads | rounds | f32 min ms | int8 tract min ms | int8 fused min ms | int8 fused / f32, median (min-max) |"
echo "|---|---|---|---|---|---|---|---|"
for m in $MODELS; do
  ch=3 sides=$SIDES
  # the inpainting network's ONNX has a fixed 256² window (its working size)
  [ "$m" = inpaint ] && ch=4 sides=256
  for side in $sides; do
    rounds=$ROUNDS; [ "$side" -ge 1024 ] && rounds=${ROUNDS_1024:-5}
    for t in $THREADS; do
      plans=("models/$m/model.onnx@TRACT_DISABLE_DIRECT_SPATIAL=false"
             "models/$m/model.onnx@TRACT_DISABLE_DIRECT_SPATIAL=true")
      [ "${TRACT_INT8:-1}" = 1 ] && plans+=("models/$m/model.int8.onnx@EDGEGAN_QCONV=off")
      plans+=("models/$m/model.int8.onnx")
      CH=$ch "$BIN" cmp "$side" "$t" "$rounds" "${plans[@]}" | sed "s/^/$m $side th$t /" |
        python3 -c '
import sys, statistics as st
lines = sys.stdin.readlines()
sys.stderr.writelines(lines)
rows = [l.split() for l in lines if l.split()[3] == "round"]
m, side, th = rows[0][:3]
t = [[float(x) for x in r[5:]] for r in rows]
ratio = [r[-1] / min(r[0], r[1]) for r in t]
f32 = min(min(r[0], r[1]) for r in t)
qt = f"{min(r[2] for r in t):.1f}" if len(t[0]) == 4 else "-"
q = min(r[-1] for r in t)
print(f"| {m} | {side} | {th[2:]} | {len(t)} | {f32:.1f} | {qt} | {q:.1f} | {st.median(ratio):.2f} ({min(ratio):.2f}-{max(ratio):.2f}) |")
'
    done
  done
done
