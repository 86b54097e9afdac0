#!/usr/bin/env python3
"""tract and onnxruntime timed in turn, round by round, on one model: the
harness (`edge-speed serve`) holds tract's plans — f32 with the direct and
the im2col lowering, and the product's fused int8 plan — and this process
holds onnxruntime's f32 and QDQ int8 sessions (benches/ort_qdq.py's file).
Each round runs each of the five once, so that a slow minute of a shared
machine slows them all alike; the statistics are the medians of the
per-round ratios. Input as the harness's: 1×C×SIDE×SIDE, (x*7 + y*3 + c)
% 255 / 255.

    $(benches/setup_peers.sh) benches/interleaved.py BIN MODEL_DIR SIDE THREADS ROUNDS

Prints each round's times (ms) on stderr and one line on stdout:
`MODEL SIDE THREADS ROUNDS f32/ort int8/f32 int8/qdq` (tract f32 is the
faster lowering of the round). onnxruntime keeps its default thread
spinning (its best path); a 50 ms pause before every run lets the other
engine's spinning threads go quiet (EDGEGAN_PAUSE=SECONDS sets it,
EDGEGAN_ORT_SPIN=0 turns onnxruntime's spinning off: to check that
neither engine slows the other; on the dev Xeon neither moved the ratios
beyond a round's noise).
"""
import os, statistics, subprocess, sys, time
from pathlib import Path

import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ort_qdq import qdq  # noqa: E402

PAUSE = float(os.environ.get("EDGEGAN_PAUSE", "0.05"))


def session(path, threads):
    o = ort.SessionOptions()
    o.intra_op_num_threads = threads
    o.inter_op_num_threads = 1
    if os.environ.get("EDGEGAN_ORT_SPIN") == "0":
        o.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), o, providers=["CPUExecutionProvider"])


def main():
    bin_, model_dir, side, threads, rounds = sys.argv[1], Path(sys.argv[2]), *map(int, sys.argv[3:6])
    sessions = [session(model_dir / "model.onnx", threads), session(qdq(model_dir), threads)]
    inp = sessions[0].get_inputs()[0]
    c = inp.shape[1]
    y, x = np.mgrid[0:side, 0:side]
    img = np.stack([((x * 7 + y * 3 + ch) % 255) / 255.0 for ch in range(c)])[None].astype(np.float32)
    f32, int8 = model_dir / "model.onnx", model_dir / "model.int8.onnx"
    plans = [f"{f32}@TRACT_DISABLE_DIRECT_SPATIAL=false", f"{f32}@TRACT_DISABLE_DIRECT_SPATIAL=true", str(int8)]
    env = dict(os.environ, CH=str(c))
    tract = subprocess.Popen([bin_, "serve", str(side), str(threads), *plans], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=env)
    assert tract.stdout.readline().strip() == "ready", "edge-speed serve did not start"
    for s in sessions:
        s.run(None, {inp.name: img})

    def run_tract(i):
        time.sleep(PAUSE)
        tract.stdin.write(f"{i}\n")
        tract.stdin.flush()
        return float(tract.stdout.readline())

    def run_ort(s):
        time.sleep(PAUSE)
        t = time.perf_counter()
        s.run(None, {inp.name: img})
        return (time.perf_counter() - t) * 1e3

    rows = []
    for r in range(rounds):
        row = [run_tract(i) for i in range(3)] + [run_ort(s) for s in sessions]
        rows.append(row)
        print(f"{model_dir.name} {side} th{threads} round {r + 1} "
              "tf32_direct {:.1f} tf32_im2col {:.1f} tint8 {:.1f} ort_f32 {:.1f} ort_qdq {:.1f}".format(*row),
              file=sys.stderr)
    tract.stdin.close()
    tract.wait()
    med = lambda v: statistics.median(v)  # noqa: E731
    f32_ort = med([min(r[0], r[1]) / r[3] for r in rows])
    int8_f32 = med([r[2] / min(r[0], r[1]) for r in rows])
    int8_qdq = med([r[2] / r[4] for r in rows])
    print(f"{model_dir.name} {side} {threads} {rounds} {f32_ort:.2f} {int8_f32:.2f} {int8_qdq:.2f}")


if __name__ == "__main__":
    main()
