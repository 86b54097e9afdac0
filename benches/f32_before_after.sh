#!/usr/bin/env bash
# tract f32 before and after a change to the patched tract, beside
# onnxruntime f32, cell by cell in one run (whole image, median):
#
#   benches/f32_before_after.sh OLD_HARNESS NEW_HARNESS
#
# Each harness is benches/edge_speed/ built (release) from the tree to
# compare, e.g. a `git worktree` of the old commit built into its own
# target dir. Prints both lowerings of each and the best over onnxruntime.
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=$1
NEW=$2
PY=$(benches/setup_peers.sh)
grep -m1 'model name' /proc/cpuinfo
grep -o -w -E 'avx2|avx512f|avx512_vnni|amx_int8' /proc/cpuinfo | sort -u | tr '\n' ' '; echo
printf '%-8s %5s %2s %9s %9s %9s %9s %9s %8s %8s\n' model side th old_im2c old_dir new_im2c new_dir ort_f32 old/ort new/ort
best() { echo "if ($1 < $2) $1 else $2" | bc -l; }
for cell in "sr-x2 256 1" "sr-x2 256 2" "sr-x2 1024 1" "sr-x2 1024 2" "sr-x4 256 1" "sr-x4 256 2" "sr-x4 1024 1" "sr-x4 1024 2" "inpaint 256 1" "inpaint 256 2"; do
  set -- $cell; m=$1; side=$2; t=$3
  ch=3; [ "$m" = inpaint ] && ch=4
  runs=7; [ "$side" -ge 1024 ] && runs=3
  r() { CH=$ch TRACT_DISABLE_DIRECT_SPATIAL=$2 "$1" "models/$m/model.onnx" "$side" "$t" "$runs" | awk '/p50_ms/ {print $1}'; }
  oi=$(r $OLD true); od=$(r $OLD false); ni=$(r $NEW true); nd=$(r $NEW false)
  read -r of oq < <("$PY" benches/ort_qdq.py "models/$m" "$side" "$t" "$runs" 2>/dev/null)
  ob=$(best $oi $od); nb=$(best $ni $nd)
  printf '%-8s %5s %2s %9s %9s %9s %9s %9s %8.2f %8.2f\n' $m $side $t $oi $od $ni $nd $of $(echo "$ob/$of" | bc -l) $(echo "$nb/$of" | bc -l)
done
