#!/usr/bin/env python3
"""onnxruntime's fair int8 peer: the f32 model quantized with
`onnxruntime.quantization.quantize_static` (QDQ format, per-channel s8
weights, u8 activations), calibrated on 16 fixed crops of the dev photos;
onnxruntime fuses its QDQ pairs into QLinearConv. Then onnxruntime f32 and
QDQ int8 are timed on the same input as `tractlab`/`edgegan bench`
(1×C×SIDE×SIDE, pattern (x*7 + y*3 + c) % 255 / 255), median of RUNS.

    $(benches/setup_peers.sh) benches/ort_qdq.py MODEL_DIR SIDE THREADS [RUNS]

Prints `f32_ms int8_ms` on one line; the QDQ file is cached beside the
build (EDGEGAN_ORT_QDQ_DIR, default ~/.cache/edgegan/ort-qdq/NAME.qdq.onnx).
"""
import os, sys, time
from pathlib import Path
import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                      quantize_static)

ROOT = Path(__file__).resolve().parent.parent



class Crops(CalibrationDataReader):
    def __init__(self, name, shape):
        rng = np.random.default_rng(1)
        dev = Path(os.environ.get("EDGEGAN_DEV_DATA", ROOT.parent / "shared/data/dev"))
        photos = sorted(p for p in dev.rglob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
        import cv2
        self.items = []
        s = shape[2] if isinstance(shape[2], int) and shape[2] > 0 else 64
        images = (cv2.imread(str(p), cv2.IMREAD_COLOR) for p in photos)
        big = [img[:, :, ::-1] for img in images if min(img.shape[:2]) >= s]
        for i in range(16):
            img = big[i % len(big)]
            h, w = img.shape[:2]
            y, x = rng.integers(0, h - s + 1), rng.integers(0, w - s + 1)
            crop = img[y:y + s, x:x + s].astype(np.float32).transpose(2, 0, 1)[None] / 255.0
            if shape[1] == 4:  # inpainting: RGB with a square hole + mask
                m = np.zeros((1, 1, s, s), np.float32)
                m[..., s // 4:s // 2, s // 4:s // 2] = 1
                crop = np.concatenate([crop * (1 - m), m], axis=1)
            self.items.append({name: np.ascontiguousarray(crop)})
        self.it = iter(self.items)

    def get_next(self):
        return next(self.it, None)


def qdq(model_dir):
    src = Path(model_dir) / "model.onnx"
    out_dir = Path(os.environ.get("EDGEGAN_ORT_QDQ_DIR", Path.home() / ".cache/edgegan/ort-qdq"))
    out = out_dir / f"{Path(model_dir).name}.qdq.onnx"
    if not out.exists() or out.stat().st_mtime < src.stat().st_mtime:
        out_dir.mkdir(parents=True, exist_ok=True)
        m = onnx.load(src)
        inp = m.graph.input[0]
        shape = [d.dim_value for d in inp.type.tensor_type.shape.dim]
        quantize_static(str(src), str(out), Crops(inp.name, shape), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8)
    return out


def time_it(path, side, threads, runs):
    o = ort.SessionOptions()
    o.intra_op_num_threads = threads
    o.inter_op_num_threads = 1
    s = ort.InferenceSession(str(path), o, providers=["CPUExecutionProvider"])
    inp = s.get_inputs()[0]
    c = inp.shape[1]
    y, x = np.mgrid[0:side, 0:side]
    img = np.stack([((x * 7 + y * 3 + ch) % 255) / 255.0 for ch in range(c)])[None].astype(np.float32)
    s.run(None, {inp.name: img})
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        s.run(None, {inp.name: img})
        ts.append(time.perf_counter() - t)
    return sorted(ts)[len(ts) // 2] * 1e3


def main():
    model_dir, side, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    q = qdq(model_dir)
    f = time_it(Path(model_dir) / "model.onnx", side, threads, runs)
    i = time_it(q, side, threads, runs)
    print(f"{f:.3f} {i:.3f}")


if __name__ == "__main__":
    main()
