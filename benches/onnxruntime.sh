#!/usr/bin/env bash
# tract vs onnxruntime on the same ONNX files (f32 and int8 of sr-x2, sr-x4),
# same input (1x3xSIDExSIDE, default 140: one 128-px tile with its halos),
# one thread each, run back to back in one invocation. Installs onnxruntime
# from PyPI into a venv under the build directory on first use. The int8
# rows compare tract's int8 graph with two onnxruntime peers: the same
# file (onnxruntime's ConvInteger path, its slow one) and its fair peer, the
# f32 model quantized by onnxruntime's own quantize_static (QDQ, fused into
# QLinearConv; benches/ort_qdq.py in the peers venv of benches/setup_peers.sh).
#
#   benches/onnxruntime.sh [SIDE]
set -euo pipefail
cd "$(dirname "$0")/.."
SIDE="${1:-140}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/edgegan/target}"
VENV="$CARGO_TARGET_DIR/ort-venv"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q onnxruntime numpy
fi
cargo build -q --release -p edgegan-runtime --example profile
PROFILE="$CARGO_TARGET_DIR/release/examples/profile"
PEERS=$(benches/setup_peers.sh)
grep -m1 'model name' /proc/cpuinfo
grep -o -w -E 'avx2|avx512f|avx512_vnni|amx_int8|asimddp' /proc/cpuinfo | sort -u | tr '\n' ' '; echo
printf '%-8s %-16s %10s %14s %8s\n' model file tract_ms onnxruntime_ms ratio
for m in sr-x2 sr-x4; do
  for f in model.onnx model.int8.onnx; do
    path="models/$m/$f"
    tract=$("$PROFILE" "$path" "$SIDE" | tail -1 | awk '{print $1}')
    ort=$("$VENV/bin/python" - "$path" "$SIDE" <<'PY'
import sys, time
import numpy as np
import onnxruntime as ort
path, side = sys.argv[1], int(sys.argv[2])
o = ort.SessionOptions()
o.intra_op_num_threads = 1
o.inter_op_num_threads = 1
s = ort.InferenceSession(path, o, providers=["CPUExecutionProvider"])
y, x = np.mgrid[0:side, 0:side]
img = np.stack([((x * 7 + y * 3 + c) % 255) / 255.0 for c in range(3)])[None].astype(np.float32)
s.run(None, {"input": img})
best = min((lambda t: (s.run(None, {"input": img}), time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(10))
print(f"{best * 1e3:.2f}")
PY
)
    printf '%-8s %-16s %10s %14s %8.2f\n' "$m" "$f" "$tract" "$ort" "$(echo "$tract / $ort" | bc -l)"
  done
  # The fair int8 peer: onnxruntime's QDQ model of the same f32 graph (median of 10).
  read -r _ qdq < <("$PEERS" benches/ort_qdq.py "models/$m" "$SIDE" 1 10 2>/dev/null)
  printf '%-8s %-16s %10s %14s %8.2f\n' "$m" "int8 vs ort QDQ" "$tract" "$qdq" "$(echo "$tract / $qdq" | bc -l)"
done
echo "(ms per ${SIDE}x${SIDE} input, 1 thread; ratio = tract / onnxruntime; tract: mean of 5 runs, onnxruntime: best of 10, its QDQ int8 the median of 10; the QDQ row's tract column is the int8 row above it)"
