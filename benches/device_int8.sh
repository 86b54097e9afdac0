#!/usr/bin/env bash
# Issue 28's int8 matrix on the device machine's host CPU (the "AVX-512 VNNI
# host"), which has no registry access: build and pack here, run there.
#
#   benches/device_int8.sh pack          # here: data/devbench/ (ignored, ~6 MB)
#   benches/device_int8.sh run [SECONDS] # there, with data/devbench carried
#   benches/device_int8.sh cmp [ROUNDS]  # there: int8 / f32 round by round
#
# pack: the edge_speed harness (release, stripped, xz) and onnxruntime's QDQ
# files of the three models (benches/ort_qdq.py's cache, built if missing).
# run: edge-speed amx-probe on each of CORES (default 2,3), per-node profiles
# of sr-x2 int8 (AMX, then AMX masked) on the first, then benches/edge_speed.sh
# pinned to CORES with
# the host's own python3 (onnxruntime there) in rounds until SECONDS (default
# 300) have passed. cmp: per cell one `edge-speed cmp` pinned to CORES
# (tract f32 direct and im2col, int8 fused with AMX, and with AMX masked),
# ROUNDS rounds (default 7; 3 at 1024²), then the AVX2 stand-in
# (benches/avx2_stand_in.sh, TRACT_INT8=0) the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
pack=data/devbench
case "${1:-}" in
  pack)
    bin=$(benches/edge_speed_bin.sh)
    mkdir -p "$pack/qdq"
    strip -o "$pack/edge-speed" "$bin"
    xz -f -T0 -9 "$pack/edge-speed"
    PY="$(benches/setup_peers.sh)"
    for m in sr-x2 sr-x4 inpaint; do
      EDGEGAN_ORT_QDQ_DIR="$pack/qdq" "$PY" benches/ort_qdq.py "models/$m" 256 1 1 >/dev/null
    done
    du -sh "$pack"
    ;;
  run)
    bin=/tmp/edge-speed cores="${CORES:-2,3}"
    first="${cores%%,*}"
    python3 -c "import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], 'wb'))" \
      "$pack/edge-speed.xz" "$bin"
    chmod +x "$bin"
    grep -m1 'model name' /proc/cpuinfo
    for c in ${cores//,/ }; do echo -n "amx-probe core $c: "; taskset -c "$c" "$bin" amx-probe | tr '\n' ' '; echo; done
    echo "== sr-x2 int8, 256², one thread, per node: AMX, then AMX masked"
    # awk reads to the end: head's early exit would break the harness's pipe
    CH=3 taskset -c "$first" "$bin" models/sr-x2/model.int8.onnx 256 1 15 prof | awk 'NR <= 12'
    CH=3 TRACT_CPU_ISA=-amx-int8 taskset -c "$first" "$bin" models/sr-x2/model.int8.onnx 256 1 15 prof | awk 'NR <= 12'
    start=$SECONDS r=0
    while [ $((SECONDS - start)) -lt "${2:-300}" ]; do
      r=$((r + 1)); echo "== round $r"
      EDGEGAN_PEERS_PY=python3 EDGEGAN_ORT_QDQ_DIR="$pack/qdq" taskset -c "$cores" benches/edge_speed.sh "$bin"
    done
    ;;
  cmp)
    bin=/tmp/edge-speed cores="${CORES:-2,3}" rounds="${2:-7}"
    python3 -c "import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], 'wb'))" \
      "$pack/edge-speed.xz" "$bin"
    chmod +x "$bin"
    grep -m1 'model name' /proc/cpuinfo
    for m in sr-x2 sr-x4 inpaint; do
      ch=3 sides="256 1024"; [ "$m" = inpaint ] && ch=4 sides=256
      for side in $sides; do
        r=$rounds; [ "$side" -ge 1024 ] && r=$(( (rounds + 1) / 2 ))
        for t in 1 2; do
          CH=$ch taskset -c "$cores" "$bin" cmp "$side" "$t" "$r" \
            "models/$m/model.onnx@TRACT_DISABLE_DIRECT_SPATIAL=false" \
            "models/$m/model.onnx@TRACT_DISABLE_DIRECT_SPATIAL=true" \
            "models/$m/model.int8.onnx" "models/$m/model.int8.onnx@TRACT_CPU_ISA=-amx-int8" |
            sed "s/^/$m $side th$t /" | python3 -c '
import sys, statistics as st
lines = sys.stdin.readlines()
sys.stdout.writelines(lines)
t = [[float(x) for x in l.split()[5:]] for l in lines if l.split()[3] == "round"]
amx = st.median(r[2] / min(r[0], r[1]) for r in t)
vnni = st.median(r[3] / min(r[0], r[1]) for r in t)
print(" ".join(lines[0].split()[:3]), f"median int8/f32: amx {amx:.2f} vnni {vnni:.2f}")
'
        done
      done
    done
    TRACT_INT8=0 taskset -c "$cores" benches/avx2_stand_in.sh "$bin" "$rounds"
    ;;
  *) sed -n '2,/^set /{/^#/p}' "$0"; exit 2 ;;
esac
