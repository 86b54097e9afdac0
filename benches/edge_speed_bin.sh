#!/usr/bin/env bash
# Build the edge_speed harness (benches/edge_speed/: the patched tract,
# release) into ~/.cache/edgegan/edge-speed and print the binary's path,
# for the scripts that run it: edge_speed.sh, avx2_stand_in.sh,
# device_int8.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="$HOME/.cache/edgegan/edge-speed"
cargo build -q --release --manifest-path benches/edge_speed/Cargo.toml --target-dir "$dir"
echo "$dir/release/edge-speed"
