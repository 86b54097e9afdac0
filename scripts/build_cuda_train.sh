#!/usr/bin/env bash
# Build an edgegan that trains on an NVIDIA GPU (`edgegan train inpaint
# --device cuda`): burn's LibTorch backend, compiled against PyTorch 2.11.0
# (CUDA 13.0 wheel from PyPI) in a venv under ~/.cache/edgegan.
#
# Run it with that PyTorch's libraries on the loader path, e.g.
#   LD_LIBRARY_PATH=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')/lib \
#     target/release/edgegan train inpaint --device cuda ...
# (a machine with PyTorch 2.11 installed needs nothing else).
set -euo pipefail
venv=${EDGEGAN_TORCH_VENV:-$HOME/.cache/edgegan/torch-venv}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet torch==2.11.0
fi
export VIRTUAL_ENV=$venv PATH=$venv/bin:$PATH
# torch-sys reads the include and library paths from this Python's torch;
# tch 0.22 was generated for PyTorch 2.9 and builds against 2.11.
export LIBTORCH_USE_PYTORCH=1 LIBTORCH_BYPASS_VERSION_CHECK=1
cd "$(dirname "$0")/.."
exec cargo build --release --features cuda-train --bin edgegan "$@"
