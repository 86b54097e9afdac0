#!/usr/bin/env bash
# Issue 28's "CPU without VNNI" cells on a CPU that has VNNI: with
# TRACT_CPU_ISA=-avx512vnni,-avxvnni,-amx-int8,-avx512f tract and the fused
# int8 conv dispatch as on an AVX2+FMA CPU (tract's AVX2 f32 and int8
# kernels, the fused conv's AVX2 kernel). A stand-in: the instructions are
# an AVX2 CPU's, the core is this one. Rounds alternate the columns; each
# cell is the harness's p50 of RUNS. onnxruntime is left out: it has no
# such mask and would run its AVX-512 VNNI kernels.
#
#   benches/avx2_stand_in.sh [BIN] [ROUNDS] [MODELS] [SIDES] [THREADS]
#
# Prints one line per round and cell (ms), then per cell the median over
# rounds of int8 fused / the faster tract f32 lowering of the same round.
# TRACT_INT8=0 leaves out tract's own int8 lowering (seconds per run at
# 1024²; its column then reads -).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-$(benches/edge_speed_bin.sh)}"
ROUNDS="${2:-3}" MODELS="${3:-sr-x2 sr-x4 inpaint}" SIDES="${4:-256 1024}" THREADS="${5:-1 2}"
export TRACT_CPU_ISA=-avx512vnni,-avxvnni,-amx-int8,-avx512f
grep -m1 'model name' /proc/cpuinfo
echo "TRACT_CPU_ISA=$TRACT_CPU_ISA; p50 ms of RUNS (7 at 256², 3 at 1024²)"
p50() { awk '/p50_ms/ {print $1}'; }
for r in $(seq "$ROUNDS"); do
  for m in $MODELS; do
    ch=3 sides=$SIDES
    # the inpainting network's ONNX has a fixed 256² window (its working size)
    [ "$m" = inpaint ] && ch=4 sides=256
    for side in $sides; do
      runs=7; [ "$side" -ge 1024 ] && runs=3
      for t in $THREADS; do
        di=$(CH=$ch TRACT_DISABLE_DIRECT_SPATIAL=false "$BIN" "models/$m/model.onnx" "$side" "$t" "$runs" | p50)
        im=$(CH=$ch TRACT_DISABLE_DIRECT_SPATIAL=true "$BIN" "models/$m/model.onnx" "$side" "$t" "$runs" | p50)
        qt=-
        [ "${TRACT_INT8:-1}" = 1 ] &&
          qt=$(CH=$ch EDGEGAN_QCONV=off "$BIN" "models/$m/model.int8.onnx" "$side" "$t" "$runs" | p50)
        q=$(CH=$ch "$BIN" "models/$m/model.int8.onnx" "$side" "$t" "$runs" | p50)
        echo "round $r $m $side th$t f32_direct $di f32_im2col $im int8_tract $qt int8_fused $q"
      done
    done
  done
done | tee /dev/stderr | python3 -c '
import sys, statistics as st
cells = {}
for line in sys.stdin:
    f = line.split()
    v = dict(zip(f[5::2], f[6::2]))
    v = {k: float(x) for k, x in v.items() if x != "-"}
    cells.setdefault(tuple(f[2:5]), []).append(v["int8_fused"] / min(v["f32_direct"], v["f32_im2col"]))
print("| model | side | threads | rounds | int8 fused / tract f32, median (min-max) |")
print("|---|---|---|---|---|")
for (m, side, th), r in cells.items():
    print(f"| {m} | {side} | {th[2:]} | {len(r)} | {st.median(r):.2f} ({min(r):.2f}-{max(r):.2f}) |")
'
