#!/usr/bin/env bash
# Install the OpenCV inpainting baseline (Telea, Navier-Stokes) for
# `edgegan eval --model inpaint`: a virtual environment with pinned
# opencv-python-headless and numpy from PyPI. Idempotent; prints the
# environment's python, which `scripts/opencv_inpaint.py` runs under.
#
# Usage: scripts/setup_opencv.sh   (env EDGEGAN_OPENCV_VENV overrides the place)
set -euo pipefail
VENV="${EDGEGAN_OPENCV_VENV:-$HOME/.cache/edgegan/opencv-venv}"
if ! "$VENV/bin/python" -c 'import cv2, numpy' 2>/dev/null; then
  python3 -m venv "$VENV" >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    'numpy==2.1.3' 'opencv-python-headless==4.10.0.84' >&2
fi
echo "$VENV/bin/python"
