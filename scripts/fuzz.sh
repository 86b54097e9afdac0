#!/usr/bin/env bash
# A coverage-guided fuzzing campaign of one target under AFL++:
#   scripts/fuzz.sh TARGET SECONDS [MEM_MB]      (targets: fuzz/src/lib.rs)
# Installs cargo-afl from crates.io once (it builds AFL++ from its bundled
# source: needs cc and make), builds the harness fuzz/afl with coverage
# instrumentation, and runs afl-fuzz for SECONDS on fuzz/corpus/TARGET with
# a memory limit of MEM_MB (default 1024) per input process. Findings go to
# ~/.cache/edgegan/fuzz/TARGET/default/{crashes,hangs}; copy each into
# fuzz/regressions/TARGET/ once fixed, where CI replays it. The last lines
# printed are the campaign's numbers (execs, crashes, hangs).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh TARGET SECONDS [MEM_MB]}
seconds=${2:?usage: scripts/fuzz.sh TARGET SECONDS [MEM_MB]}
mem=${3:-1024}
cache="$HOME/.cache/edgegan"
export PATH="$cache/afl/bin:$PATH"
if ! command -v cargo-afl >/dev/null; then
  cargo install --locked cargo-afl --version 0.18.2 --root "$cache/afl"
fi
# Builds AFL++ once per rustc; "already built" is not an error here.
cargo afl config --build >/dev/null 2>&1 || true
export CARGO_TARGET_DIR="${EDGEGAN_FUZZ_TARGET_DIR:-$cache/fuzz-target}"
# cargo-afl compiles with -C target-cpu=native; a later flag wins, so the
# harness runs on any x86-64-v3 CPU (AVX2, FMA), not only the one it was
# built on. A harness built on a Zen box with `native` died with SIGILL in
# the JPEG decoder on the Xeon campaign host (2026-12-02).
case "$(uname -m)" in
  x86_64) export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-C target-cpu=x86-64-v3" ;;
  *) export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-C target-cpu=generic" ;;
esac
(cd fuzz/afl && cargo afl build --release)
out="$cache/fuzz/$target"
mkdir -p "$out"
# No core dumps to wait for, no CPU governor to check on shared machines,
# no core pinning (campaigns of several targets share the cores:
#   for t in image mask card model board cache checkpoint; do
#     scripts/fuzz.sh $t 1260 & done; wait).
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1
resume=(-i fuzz/corpus/"$target")
[ -d "$out/default/queue" ] && resume=(-i -)
cargo afl fuzz "${resume[@]}" -o "$out" -m "$mem" -t 2000 -V "$seconds" \
  -- "$CARGO_TARGET_DIR/release/edgegan-fuzz-afl" "$target" >"$out/afl.log" 2>&1 || true
stats="$out/default/fuzzer_stats"
grep -E '^(run_time|execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs|peak_rss_mb)' "$stats"
