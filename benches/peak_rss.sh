#!/usr/bin/env bash
# Peak memory of `edgegan upscale` (bicubic-x2) against the size of its image
# buffers, for 6, 24 and 48 megapixel outputs: the excess must stay constant.
# Usage: benches/peak_rss.sh [PHOTO]   (needs python3 + Pillow to make inputs)
set -euo pipefail
cd "$(dirname "$0")/.."
photo=${1:-examples/astronaut.png}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 -c 'import PIL' 2>/dev/null || python3 -m pip install -q pillow
cargo build --release -q
bin=${CARGO_TARGET_DIR:-target}/release/edgegan
echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "| output | input+output buffers | threads | tile | peak RSS | excess |"
echo "|---|---|---|---|---|---|"
for size in 1500x1000 3000x2000 4000x3000; do
  w=${size%x*}; h=${size#*x}
  python3 -c "import sys; from PIL import Image; Image.open(sys.argv[1]).convert('RGB').resize(($w, $h), Image.BICUBIC).save(sys.argv[2])" "$photo" "$tmp/in.png"
  buffers=$(( w * h * 3 * 5 / 1000000 ))   # RGB8 input + 4x larger output
  for threads in 1 2; do
    for tile in 128 256; do
      /usr/bin/time -f '%M' -o "$tmp/rss" "$bin" upscale "$tmp/in.png" -o "$tmp/out.png" \
        --model models/bicubic-x2 --threads "$threads" --tile "$tile" --overwrite 2>/dev/null
      rss=$(( $(cat "$tmp/rss") * 1024 / 1000000 ))
      echo "| $(( w * 2 ))x$(( h * 2 )) ($(( w * h * 4 / 1000000 )) MP) | $buffers MB | $threads | $tile | $rss MB | $(( rss - buffers )) MB |"
    done
  done
done
