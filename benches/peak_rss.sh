#!/usr/bin/env bash
# Peak memory of `edgegan upscale` for a 24-megapixel output (3000x2000 -> 6000x4000, x2).
# Usage: benches/peak_rss.sh [PHOTO]   (needs python3 with Pillow to make the input)
set -euo pipefail
cd "$(dirname "$0")/.."
photo=${1:-examples/astronaut.png}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 -c 'import PIL' 2>/dev/null || python3 -m pip install -q pillow
python3 - "$photo" "$tmp/in.png" <<'PY'
import sys
from PIL import Image
Image.open(sys.argv[1]).convert("RGB").resize((3000, 2000), Image.BICUBIC).save(sys.argv[2])
PY
cargo build --release -q
bin=${CARGO_TARGET_DIR:-target}/release/edgegan
echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "buffers: input 3000x2000x3 = 18.0 MB, output 6000x4000x3 = 72.0 MB"
for threads in 1 2; do
  for tile in 128 256; do
    printf 'threads %s tile %s: ' "$threads" "$tile"
    /usr/bin/time -f '%M' -o "$tmp/rss" "$bin" upscale "$tmp/in.png" -o "$tmp/out.png" \
      --model models/bicubic-x2 --threads "$threads" --tile "$tile" --overwrite 2>&1 | tail -1
    echo "  /usr/bin/time max RSS: $(( $(cat "$tmp/rss") / 1024 )) MB"
  done
done
