#!/usr/bin/env bash
# Issue 28's matrix, side by side in one run: tract f32 (im2col and direct
# lowering), tract int8 (the shipped model.int8.onnx; tract's own lowering with
# EDGEGAN_QCONV=off, then the product's plan with its int8 convs fused,
# edgegan_runtime::fuse_int8, with its AMX-INT8 kernel where the CPU has one,
# and without it: tint8_vnni) and onnxruntime f32 and
# its fair int8 peer (quantize_static QDQ, benches/ort_qdq.py), whole image,
# median of RUNS, for each model, side and thread count.
#
#   benches/edge_speed.sh [PROFILE_BIN] [MODELS] [SIDES] [THREADS]
#
# PROFILE_BIN: the harness benches/edge_speed/ (patched tract, release),
# built by benches/edge_speed_bin.sh when not given. Prints the CPU, one
# row per cell and the ratios the issue asks for.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-$(benches/edge_speed_bin.sh)}"
MODELS="${2:-sr-x2 sr-x4 inpaint}"
SIDES="${3:-256 1024}"
THREADS="${4:-1 2}"
# EDGEGAN_PEERS_PY: a python with onnxruntime already there (the device machine)
PY="${EDGEGAN_PEERS_PY:-$(benches/setup_peers.sh)}"
grep -m1 'model name' /proc/cpuinfo
grep -m1 -o -w -E 'avx2|avx512f|avx512_vnni|amx_int8' /proc/cpuinfo | sort -u | tr '\n' ' '; echo
printf '%-8s %5s %2s %9s %9s %9s %10s %9s %9s %9s  %9s %9s %9s\n' model side th tf32_im2c tf32_dir tint8_trc tint8_vnni tint8 ort_f32 ort_qdq \
  tf32/ort int8/f32 int8/qdq
for m in $MODELS; do
  ch=3; [ "$m" = inpaint ] && ch=4
  sides=$SIDES
  # the inpainting network's ONNX has a fixed 256² window (its working size)
  [ "$m" = inpaint ] && sides=256
  for side in $sides; do
    runs=7; [ "$side" -ge 1024 ] && runs=3
    for t in $THREADS; do
      im=$(CH=$ch TRACT_DISABLE_DIRECT_SPATIAL=true "$BIN" "models/$m/model.onnx" "$side" "$t" "$runs" | awk '/p50_ms/ {print $1}')
      di=$(CH=$ch TRACT_DISABLE_DIRECT_SPATIAL=false "$BIN" "models/$m/model.onnx" "$side" "$t" "$runs" | awk '/p50_ms/ {print $1}')
      # The harness keeps tract's own AMX kernel off as the runtime does;
      # TRACT_CPU_ISA=-amx-int8 in the environment masks the fused conv's too.
      # TRACT_INT8=0 leaves tract's own int8 lowering out (seconds a run at
      # 1024² without VNNI); its column then reads nan.
      qt=nan
      [ "${TRACT_INT8:-1}" = 1 ] &&
        qt=$(CH=$ch EDGEGAN_QCONV=off "$BIN" "models/$m/model.int8.onnx" "$side" "$t" "$runs" | awk '/p50_ms/ {print $1}')
      qv=$(CH=$ch TRACT_CPU_ISA=-amx-int8 "$BIN" "models/$m/model.int8.onnx" "$side" "$t" "$runs" | awk '/p50_ms/ {print $1}')
      q=$(CH=$ch "$BIN" "models/$m/model.int8.onnx" "$side" "$t" "$runs" | awk '/p50_ms/ {print $1}')
      read -r of oq < <("$PY" benches/ort_qdq.py "models/$m" "$side" "$t" "$runs" 2>/dev/null)
      best=$(awk -v a="$im" -v b="$di" 'BEGIN { print (a < b) ? a : b }')
      div() { awk -v a="$1" -v b="$2" 'BEGIN { print a / b }'; }
      printf '%-8s %5s %2s %9.1f %9.1f %9.1f %10.1f %9.1f %9.1f %9.1f  %9.2f %9.2f %9.2f\n' "$m" "$side" "$t" "$im" "$di" "$qt" "$qv" "$q" "$of" "$oq" \
        "$(div "$best" "$of")" "$(div "$q" "$best")" "$(div "$q" "$oq")"
    done
  done
done
echo "(ms, median; tint8_trc: tract's own int8 lowering, tint8: the product's plan, int8 convs fused (AMX where the CPU has it), tint8_vnni: the same without AMX; tf32/ort: the faster tract f32 lowering over onnxruntime f32; int8/f32: tint8 over that tract f32; int8/qdq: tint8 over onnxruntime's QDQ int8)"
