# Source on a CUDA machine before running a `--features gpu` build:
#   . benches/gpu_env.sh
# tract-cuda loads cudart, cuBLAS, cuDNN and NVRTC at run time; where the
# only CUDA libraries are the ones PyTorch ships (pip's nvidia-* wheels),
# put those on the library path, and point CUDA_HOME at the toolkit headers
# NVRTC compiles tract's kernels against.
SITE=$(python3 -c 'import nvidia, os; print(os.path.dirname(list(nvidia.__path__)[0]))' 2>/dev/null || true)
if [ -n "$SITE" ]; then
  for d in "$SITE"/nvidia/cu13/lib "$SITE"/nvidia/cudnn/lib "$SITE"/nvidia/*/lib; do
    [ -d "$d" ] && LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  done
  export LD_LIBRARY_PATH
fi
export CUDA_HOME="${CUDA_HOME:-/usr/local/cuda}"
