#!/usr/bin/env bash
# Issue 28's matrix with tract and onnxruntime timed in turn, round by
# round (benches/interleaved.py): per cell the medians of the per-round
# ratios tract f32 / onnxruntime f32, int8 fused / tract f32 and int8 fused
# / onnxruntime QDQ int8.
#
#   benches/edge_speed_interleaved.sh [BIN] [ROUNDS] [MODELS] [SIDES] [THREADS]
#
# BIN: the harness (benches/edge_speed_bin.sh builds it when not given);
# ROUNDS at 256² (default 9; ROUNDS_1024, default 5, at 1024²). Each
# round's times go to stderr. EDGEGAN_PEERS_PY: a python with onnxruntime
# already there (the device machine).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-$(benches/edge_speed_bin.sh)}"
ROUNDS="${2:-9}" MODELS="${3:-sr-x2 sr-x4 inpaint}" SIDES="${4:-256 1024}" THREADS="${5:-1 2}"
PY="${EDGEGAN_PEERS_PY:-$(benches/setup_peers.sh)}"
grep -m1 'model name' /proc/cpuinfo
grep -o -w -E 'avx2|avx512f|avx512_vnni|amx_int8' /proc/cpuinfo | sort -u | tr '\n' ' '; echo
"$PY" -c 'import onnxruntime; print("onnxruntime", onnxruntime.__version__)'
echo "| model | side | threads | rounds | tract f32 / ort f32 | int8 / tract f32 | int8 / ort QDQ |"
echo "|---|---|---|---|---|---|---|"
for m in $MODELS; do
  sides=$SIDES
  # the inpainting network's ONNX has a fixed 256² window (its working size)
  [ "$m" = inpaint ] && sides=256
  for side in $sides; do
    rounds=$ROUNDS; [ "$side" -ge 1024 ] && rounds=${ROUNDS_1024:-5}
    for t in $THREADS; do
      "$PY" benches/interleaved.py "$BIN" "models/$m" "$side" "$t" "$rounds" |
        awk '{ printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7 }'
    done
  done
done
