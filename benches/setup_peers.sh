#!/usr/bin/env bash
# Install what benches/peers.py needs for its CPU peer: a virtual
# environment with pinned numpy, onnx, onnxruntime, Pillow and OpenCV (to read
# the calibration photos of benches/ort_qdq.py) from PyPI; with
# --torch, PyTorch too (the GPU peer; a large download). Idempotent; prints
# the environment's python.
#
# Usage: benches/setup_peers.sh [--torch]   (env EDGEGAN_PEERS_VENV overrides the place)
#        $(benches/setup_peers.sh) benches/peers.py --models models/inpaint --no-torch
set -euo pipefail
VENV="${EDGEGAN_PEERS_VENV:-$HOME/.cache/edgegan/peers-venv}"
PKGS=('numpy==2.4.6' 'onnx==1.17.0' 'onnxruntime==1.32.0' 'opencv-python-headless==4.13.0.92' 'ml_dtypes==0.7.0' 'pillow==13.0.0')
CHECK='import numpy, onnx, onnxruntime, cv2, ml_dtypes, PIL'
if [ "${1:-}" = "--torch" ]; then
  PKGS+=('torch==2.11.0')
  CHECK="$CHECK, torch"
elif [ -n "${1:-}" ]; then
  echo "benches/setup_peers.sh: unknown argument '$1' (only --torch)" >&2
  exit 2
fi
if ! "$VENV/bin/python" -c "$CHECK" 2>/dev/null; then
  python3 -m venv "$VENV" >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PKGS[@]}" >&2
fi
echo "$VENV/bin/python"
