#!/usr/bin/env python3
"""Peer runtimes on the same ONNX files and inputs as `edgegan bench`.

* onnxruntime CPU (f32 and int8 files, whole image, 1 and all threads),
  and onnxruntime's fair int8 peer: the f32 file quantized by its own
  `quantize_static` (QDQ, fused into QLinearConv; `benches/ort_qdq.py`),
  recorded as path `onnxruntime-cpu-qdq`, precision int8;
* PyTorch CUDA, when torch sees a GPU: the same graph rebuilt op by op from
  the ONNX file (same weights), checked against onnxruntime's output, timed
  from host memory (8-bit image in, 8-bit image out, as edgegan's `gpu` path)
  and with the input resident on the GPU (as `gpu-resident`).

Writes the records in `edgegan bench --json`'s shape (plus
`max_abs_diff_vs_onnxruntime` for PyTorch) and a PyTorch f32 matmul peak.

An inpainting model (a 4-channel input: RGB + mask) is timed as its network
alone on one window of the card's working size (`--sizes` is ignored for
it), next to `edgegan bench`'s `cpu-net` and `gpu-resident`: onnxruntime on
the CPU and PyTorch with the input resident (`pytorch-cuda-resident`); no
FLOPs are counted for it (strided convs and upsampling).

    python3 benches/peers.py --models models/sr-x2 models/sr-x4 \
        --sizes 256 1024 --out peers.json

Needs numpy, onnx and onnxruntime, and torch for the PyTorch peer
(`--no-torch` skips it): `benches/setup_peers.sh [--torch]` installs them,
pinned, into a venv and prints its python:

    $(benches/setup_peers.sh) benches/peers.py --models models/inpaint --no-torch
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

try:
    import tomllib
except ImportError:  # Python < 3.11
    tomllib = None


def card_name(model_dir):
    text = open(os.path.join(model_dir, "card.toml"), "rb").read()
    if tomllib:
        return tomllib.loads(text.decode())["name"]
    line = next(l for l in text.decode().splitlines() if l.startswith("name"))
    return line.split("=", 1)[1].strip().strip('"')


def test_image(side):
    """The same test card as `edgegan bench`: gradients and a checkerboard."""
    y, x = np.mgrid[0:side, 0:side].astype(np.uint32)
    c = np.where((x // 3 + y // 3) % 2 == 0, 40, 0)
    return np.stack([x * 255 // side, y * 255 // side, 100 + c], axis=-1).astype(np.uint8)


def timed(fn, budget, warmup=2, min_runs=3):
    for _ in range(warmup):
        fn()
    start, samples = time.perf_counter(), []
    while len(samples) < min_runs or (time.perf_counter() - start < budget and len(samples) < 1000):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1e3)
    return samples


def pct(samples, p):
    v = sorted(samples)
    return v[max(1, int(np.ceil(p * len(v)))) - 1]


def conv_flops_per_lr_pixel(model):
    """2 x the convolutions' weight sizes: MACs per input pixel when every
    conv runs at input resolution (true of the SR generators)."""
    inits = {t.name: t for t in model.graph.initializer}
    total = 0
    for n in model.graph.node:
        if n.op_type in ("Conv", "ConvInteger"):
            total += int(np.prod(inits[n.input[1]].dims))
    return 2.0 * total


def record(name, path, precision, threads, side, scale, samples, flops, prepare_s, **extra):
    p50 = pct(samples, 0.5)
    out_px = (side * scale) ** 2
    r = {
        "model": name, "path": path, "precision": precision, "threads": threads,
        "tile": side if threads else 0, "input": [side, side], "runs": len(samples),
        "p50_ms": p50, "p95_ms": pct(samples, 0.95), "mp_per_s": out_px / 1e6 / (p50 / 1e3),
        "gflop_per_s": flops * side * side / 1e9 / (p50 / 1e3),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "prepare_s": prepare_s,
    }
    r.update(extra)
    return r


def ort_session(path, threads):
    o = ort.SessionOptions()
    o.intra_op_num_threads = threads
    o.inter_op_num_threads = 1
    return ort.InferenceSession(path, o, providers=["CPUExecutionProvider"])


# ---- PyTorch: the ONNX graph rebuilt op by op ------------------------------

def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def torch_graph(model, device):
    import torch
    import torch.nn.functional as F

    consts = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()).to(device)
              for t in model.graph.initializer}
    nodes = [(n.op_type, list(n.input), list(n.output), attrs(n)) for n in model.graph.node]

    def depth_to_space(x, b, mode):
        if mode == b"CRD":
            return F.pixel_shuffle(x, b)
        n, c, h, w = x.shape
        x = x.reshape(n, b, b, c // (b * b), h, w).permute(0, 3, 4, 1, 5, 2)
        return x.reshape(n, c // (b * b), h * b, w * b)

    def run(x):
        env = dict(consts)
        env[model.graph.input[0].name] = x
        for op, ins, outs, a in nodes:
            v = [env[i] if i else None for i in ins]
            if op == "Conv":
                p = a.get("pads", [0, 0, 0, 0])
                assert p[0] == p[2] and p[1] == p[3], "asymmetric pads"
                y = F.conv2d(v[0], v[1], v[2] if len(v) > 2 else None,
                             stride=tuple(a.get("strides", [1, 1])), padding=(p[0], p[1]),
                             dilation=tuple(a.get("dilations", [1, 1])), groups=a.get("group", 1))
            elif op == "Pad":
                pads = consts[ins[1]].tolist()
                mode = {b"edge": "replicate", b"reflect": "reflect"}.get(a.get("mode", b"constant"), "constant")
                y = F.pad(v[0], (pads[3], pads[7], pads[2], pads[6]), mode=mode)
            elif op == "LeakyRelu":
                y = F.leaky_relu(v[0], a.get("alpha", 0.01))
            elif op == "Relu":
                y = F.relu(v[0])
            elif op == "DepthToSpace":
                y = depth_to_space(v[0], a["blocksize"], a.get("mode", b"DCR"))
            elif op == "Add":
                y = v[0] + v[1]
            elif op == "Mul":
                y = v[0] * v[1]
            elif op == "Identity":
                y = v[0]
            elif op == "Sigmoid":
                y = torch.sigmoid(v[0])
            elif op == "Slice":
                starts, ends, axes = (consts[i].tolist() for i in ins[1:4])
                y = v[0]
                for st, en, ax in zip(starts, ends, axes):
                    y = y.narrow(ax, st, min(en, y.shape[ax]) - st)
            elif op == "Reshape":
                shape = [d if d != 0 else v[0].shape[i] for i, d in enumerate(consts[ins[1]].tolist())]
                y = v[0].reshape(shape)
            elif op == "Expand":
                shape = torch.broadcast_shapes(tuple(v[0].shape), tuple(consts[ins[1]].tolist()))
                y = v[0].expand(shape)
            else:
                raise SystemExit(f"peers.py: op {op} not rebuilt in PyTorch")
            env[outs[0]] = y
        return env[model.graph.output[0].name]

    return run


def torch_peak(n, budget):
    import torch
    a = torch.rand(n, n, device="cuda")
    b = torch.rand(n, n, device="cuda")

    def mm():
        a @ b
        torch.cuda.synchronize()

    s = timed(mm, budget)
    return {"path": "pytorch-matmul", "threads": 0, "n": n,
            "gflop_per_s": 2.0 * n ** 3 / 1e9 / (pct(s, 0.5) / 1e3),
            "tf32": torch.backends.cuda.matmul.allow_tf32}


def input_channels(model):
    return model.graph.input[0].type.tensor_type.shape.dim[1].dim_value


def inpaint_window(side):
    """One inpainting window: the test card in [0, 1] with a centred box
    hole (its timing does not depend on the values), then the mask."""
    x = test_image(side).transpose(2, 0, 1).astype(np.float32) / 255.0
    m = np.zeros((1, side, side), np.float32)
    m[:, side // 4: 3 * side // 4, side // 4: 3 * side // 4] = 1.0
    return np.concatenate([x * (1 - m), m])[None]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", nargs="+", required=True)
    ap.add_argument("--sizes", nargs="+", type=int, default=[256])
    ap.add_argument("--threads", nargs="+", type=int, default=[1, os.cpu_count() or 1])
    ap.add_argument("--precision", nargs="*", default=["f32", "int8"],
                    help="onnxruntime files to time (none: PyTorch only)")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    torch = None
    if not args.no_torch:
        try:
            import torch as _torch
            if _torch.cuda.is_available():
                torch = _torch
                torch.backends.cudnn.benchmark = True
        except ImportError:
            pass
    records, skipped, peaks = [], [], []
    if torch is None:
        skipped.append("pytorch-cuda: torch with a CUDA GPU not found")
    else:
        peaks.append(torch_peak(4096, args.seconds))
    for d in args.models:
        name = card_name(d)
        f32_path = os.path.join(d, "model.onnx")
        f32_model = onnx.load(f32_path)
        inpainting = input_channels(f32_model) == 4
        inp = f32_model.graph.input[0].name
        sizes = args.sizes
        if inpainting:
            sizes = [f32_model.graph.input[0].type.tensor_type.shape.dim[2].dim_value]
        for side in sizes:
            img = test_image(side)
            x = (img.transpose(2, 0, 1)[None].astype(np.float32) / 255.0)
            if inpainting:
                x = inpaint_window(side)
            ref = ort_session(f32_path, max(args.threads)).run(None, {inp: x})[0]
            scale = ref.shape[-1] // side
            files = [(os.path.join(d, "model.onnx"), "f32", "onnxruntime-cpu"),
                     (os.path.join(d, "model.int8.onnx"), "int8", "onnxruntime-cpu")]
            if "int8" in args.precision:
                from ort_qdq import qdq
                files.append((str(qdq(d)), "int8", "onnxruntime-cpu-qdq"))
            for path, precision, peer in files:
                if not os.path.exists(path) or precision not in args.precision:
                    continue
                # the QDQ file's convs read dequantized weights: count the f32 file's
                flops = 0.0 if inpainting else conv_flops_per_lr_pixel(f32_model)
                for t in sorted(set(args.threads)):
                    t0 = time.perf_counter()
                    s = ort_session(path, t)
                    y = s.run(None, {inp: x})[0]
                    prep = time.perf_counter() - t0
                    samples = timed(lambda: s.run(None, {inp: x}), args.seconds, warmup=1)
                    records.append(record(name, peer, precision, t, side, scale,
                                          samples, flops / scale ** 2, prep))
                    print(json.dumps(records[-1]), flush=True)
            if torch is None:
                continue
            t0 = time.perf_counter()
            run = torch_graph(f32_model, "cuda")
            flops = 0.0 if inpainting else conv_flops_per_lr_pixel(f32_model)
            with torch.inference_mode():
                xd = torch.from_numpy(x).cuda()
                diff = float((run(xd).cpu().numpy() - ref).__abs__().max())
                torch.cuda.synchronize()
                prep = time.perf_counter() - t0

                def host():
                    u8 = torch.from_numpy(img).cuda().permute(2, 0, 1)[None].float() / 255.0
                    out = (run(u8).clamp(0, 1) * 255.0).round().to(torch.uint8)
                    out[0].permute(1, 2, 0).cpu().numpy()

                def resident():
                    run(xd)
                    torch.cuda.synchronize()

                paths = (("pytorch-cuda", host), ("pytorch-cuda-resident", resident))
                for path, fn in paths[1:] if inpainting else paths:
                    samples = timed(fn, args.seconds)
                    records.append(record(name, path, "f32", 0, side, scale, samples,
                                          flops / scale ** 2, prep,
                                          max_abs_diff_vs_onnxruntime=diff))
                    print(json.dumps(records[-1]), flush=True)
    machine = {"python": sys.version.split()[0], "onnxruntime": ort.__version__,
               "torch": torch.__version__ if torch else None,
               "gpu": torch.cuda.get_device_name(0) if torch else None,
               "cudnn_tf32": torch.backends.cudnn.allow_tf32 if torch else None}
    with open(args.out + ".part", "w") as f:
        json.dump({"machine": machine, "peaks": peaks, "records": records, "skipped": skipped}, f, indent=1)
    os.replace(args.out + ".part", args.out)


if __name__ == "__main__":
    main()
