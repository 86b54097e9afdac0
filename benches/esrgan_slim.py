#!/usr/bin/env python3
"""esrgan-slim, the edge SR peer people download, as edgegan model directories.

Fetches npm's `@upscalerjs/esrgan-slim@1.0.0` by name (`npm pack`, MIT; TF.js
layers models trained on DIV2K, idealo's RDN architecture: C=1, D=2, G=4,
G0=64), reads each scale's Keras topology and float32 weights, and writes the
same network as an ONNX graph in edgegan's contract (NCHW, RGB in [0, 1];
the TF.js model works in [0, 255], so the graph scales in and out), with a
`card.toml` naming it a peer, under `data/peers/esrgan-slim-xS/`. Then
`edgegan eval` and `edgegan bench` run it through the same protocol and the
same tract as edgegan's own models. Weights are never committed (data/ is
ignored). The conversion is checked by running the ONNX graph and a plain
numpy NHWC evaluation of the Keras graph on one input (max |diff| printed);
with --tfjs, that numpy evaluation is checked in turn against TF.js itself
(npm `@tensorflow/tfjs@4.22.0`, CPU backend, run by node).

    $(benches/setup_peers.sh) benches/esrgan_slim.py [--scales 2 4] [--out data/peers] [--tfjs]
"""
import argparse, hashlib, json, os, subprocess, sys, tarfile, tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import peer_card

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "@upscalerjs/esrgan-slim@1.0.0"


def fetch(cache: Path) -> Path:
    """The unpacked npm package (`npm pack` once, then from the cache)."""
    pkg = cache / "esrgan-slim-1.0.0"
    if (pkg / "package" / "models").is_dir():
        return pkg / "package"
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        tgz = next(Path(tmp).glob("*.tgz"))
        with tarfile.open(tgz) as t:
            t.extractall(pkg, filter="data")
    return pkg / "package"


def load_keras(model_dir: Path):
    """Layers (class, name, config, inbound names) and weights by name."""
    m = json.loads((model_dir / "model.json").read_text())
    cfg = m["modelTopology"]["model_config"]["config"]
    layers = []
    for l in cfg["layers"]:
        inbound = [i[0] for i in l["inbound_nodes"][0]] if l.get("inbound_nodes") else []
        layers.append((l["class_name"], l["name"], l["config"], inbound))
    weights = {}
    for group in m["weightsManifest"]:
        blob = b"".join((model_dir / p).read_bytes() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            if w["dtype"] != "float32" or "quantization" in w:
                sys.exit(f"error: {model_dir}: weight {w['name']} is {w['dtype']}, not plain float32")
            n = int(np.prod(w["shape"]))
            weights[w["name"]] = np.frombuffer(blob, "<f4", n, off).reshape(w["shape"])
            off += 4 * n
    return layers, weights, cfg["output_layers"][0][0]


def to_onnx(layers, weights, output: str) -> onnx.ModelProto:
    """The Keras graph as NCHW ONNX with [0, 1] in and out."""
    nodes, inits = [], []
    const = lambda name, arr: inits.append(numpy_helper.from_array(np.asarray(arr, np.float32), name))
    const("k255", [255.0])
    const("inv255", [1.0 / 255.0])
    names = {}
    for cls, name, c, inbound in layers:
        ins = [names[i] for i in inbound]
        if cls == "InputLayer":
            nodes.append(helper.make_node("Mul", ["input", "k255"], [name]))
        elif cls == "Conv2D":
            k = weights[f"{name}/kernel"]  # HWIO
            # ("valid" padding only on 1x1 kernels, where it is "same")
            same = c["padding"] == "same" or k.shape[:2] == (1, 1)
            assert c["strides"] == [1, 1] and same and c["activation"] == "linear", c
            const(f"{name}.w", k.transpose(3, 2, 0, 1))
            const(f"{name}.b", weights[f"{name}/bias"])
            p = [k.shape[0] // 2, k.shape[1] // 2] * 2
            nodes.append(helper.make_node("Conv", [ins[0], f"{name}.w", f"{name}.b"], [name], pads=p))
        elif cls == "Activation":
            assert c["activation"] == "relu", c
            nodes.append(helper.make_node("Relu", ins, [name]))
        elif cls == "Concatenate":
            assert c["axis"] in (3, -1)
            nodes.append(helper.make_node("Concat", ins, [name], axis=1))
        elif cls == "Add":
            nodes.append(helper.make_node("Sum" if len(ins) > 2 else "Add", ins, [name]))
        elif cls == "UpSampling2D":
            assert c["interpolation"] == "nearest"
            const(f"{name}.scales", [1.0, 1.0, *c["size"]])
            nodes.append(helper.make_node(
                "Resize", [ins[0], "", f"{name}.scales"], [name], mode="nearest",
                coordinate_transformation_mode="asymmetric", nearest_mode="floor"))
        else:
            sys.exit(f"error: layer {name}: {cls} is not converted")
        names[name] = name
    nodes.append(helper.make_node("Mul", [names[output], "inv255"], ["output"]))
    dims = ["batch", 3, "height", "width"]
    graph = helper.make_graph(
        nodes, "esrgan-slim",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 3, "oh", "ow"])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="edgegan esrgan_slim.py")
    onnx.checker.check_model(model)
    return model


def keras_numpy(layers, weights, output: str, x: np.ndarray) -> np.ndarray:
    """The Keras graph evaluated directly in NHWC with numpy (the check)."""
    vals = {}
    for cls, name, c, inbound in layers:
        ins = [vals[i] for i in inbound]
        if cls == "InputLayer":
            v = x
        elif cls == "Conv2D":
            k, b = weights[f"{name}/kernel"], weights[f"{name}/bias"]
            kh, kw = k.shape[:2]
            a = np.pad(ins[0], ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
            h, w = ins[0].shape[1:3]
            v = sum(a[:, i:i + h, j:j + w, :] @ k[i, j] for i in range(kh) for j in range(kw)) + b
        elif cls == "Activation":
            v = np.maximum(ins[0], 0)
        elif cls == "Concatenate":
            v = np.concatenate(ins, axis=3)
        elif cls == "Add":
            v = sum(ins)
        elif cls == "UpSampling2D":
            v = ins[0].repeat(c["size"][0], 1).repeat(c["size"][1], 2)
        vals[name] = v
    return vals[output]


TFJS_RUN = r"""
const tf = require('@tensorflow/tfjs');
const fs = require('fs');
const [dir, input, output, h, w] = process.argv.slice(2);
const handler = { load: async () => {
  const m = JSON.parse(fs.readFileSync(dir + '/model.json'));
  const all = Buffer.concat(m.weightsManifest.flatMap(g => g.paths.map(p => fs.readFileSync(dir + '/' + p))));
  return { modelTopology: m.modelTopology, weightSpecs: m.weightsManifest.flatMap(g => g.weights),
           weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.length), format: m.format };
}};
(async () => {
  await tf.setBackend('cpu');
  const model = await tf.loadLayersModel(handler);
  const x = new Float32Array(fs.readFileSync(input).buffer.slice(0));
  const y = model.predict(tf.tensor4d(x, [1, +h, +w, 3]));
  fs.writeFileSync(output, Buffer.from((await y.data()).buffer));
})();
"""


def tfjs_output(model_dir: Path, x: np.ndarray, cache: Path) -> np.ndarray:
    """TF.js's own output for NHWC `x` (installs tfjs into `cache` once)."""
    js = cache / "tfjs"
    if not (js / "node_modules" / "@tensorflow" / "tfjs").is_dir():
        js.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--prefix", str(js), "@tensorflow/tfjs@4.22.0"], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "run.js").write_text(TFJS_RUN)
        (Path(tmp) / "in.bin").write_bytes(x.astype("<f4").tobytes())
        env = dict(os.environ, NODE_PATH=str(js / "node_modules"))
        subprocess.run(["node", "run.js", str(model_dir), "in.bin", "out.bin", str(x.shape[1]), str(x.shape[2])],
                       cwd=tmp, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return np.frombuffer((Path(tmp) / "out.bin").read_bytes(), "<f4")


def params_and_flops(weights, scale: int) -> tuple[int, float]:
    """Parameters, and conv multiply-adds per output pixel (LR convs count
    1/scale² per output pixel; the layer after the upsampling counts 1)."""
    params = sum(w.size for w in weights.values())
    macs = 0.0
    for name, w in weights.items():
        if name.endswith("/kernel"):
            per_pixel = w.size  # kh*kw*cin*cout MACs per pixel it runs on
            macs += per_pixel if name.startswith("SR/") else per_pixel / scale**2
    return params, macs


def card(name: str, scale: int, sha: str, params: int, macs: float) -> str:
    return peer_card.card(
        name, scale, sha, 12,
        f"Peer, not edgegan's: npm {PACKAGE} x{scale} (idealo RDN C=1 D=2 G=4 G0=64, trained on DIV2K by UpscalerJS), converted to ONNX by benches/esrgan_slim.py; {params} parameters, {macs:.0f} conv multiply-adds per output pixel.",
        "peer: UpscalerJS esrgan-slim, DIV2K; downscaler: bicubic (TF/Keras resize, not MATLAB imresize)",
        PACKAGE, "MIT", params, macs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", type=int, nargs="+", default=[2, 4])
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "peers")
    ap.add_argument("--cache", type=Path, default=ROOT / "data" / "cache")
    ap.add_argument("--tfjs", action="store_true", help="also check against TF.js itself (npm, node)")
    args = ap.parse_args()
    pkg = fetch(args.cache)
    import onnxruntime as ort
    for s in args.scales:
        layers, weights, output = load_keras(pkg / "models" / f"x{s}")
        model = to_onnx(layers, weights, output)
        data = model.SerializeToString()
        rng = np.random.default_rng(s)
        x = rng.random((1, 24, 20, 3), dtype=np.float32)
        want = keras_numpy(layers, weights, output, x * 255.0) / 255.0
        sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        got = sess.run(None, {"input": x.transpose(0, 3, 1, 2).copy()})[0].transpose(0, 2, 3, 1)
        diff = float(np.abs(got - want).max())
        if got.shape != want.shape or diff > 1e-4:
            sys.exit(f"error: x{s}: ONNX and Keras graphs differ (shape {got.shape} vs {want.shape}, max {diff})")
        if args.tfjs:
            tf_out = tfjs_output(pkg / "models" / f"x{s}", x * 255.0, args.cache) / 255.0
            tf_diff = float(np.abs(tf_out - want.ravel()).max())
            print(f"x{s}: numpy Keras graph vs TF.js max |diff| {tf_diff:.2e} (of 1)")
            if tf_diff > 1e-4:
                sys.exit(f"error: x{s}: the numpy evaluation differs from TF.js by {tf_diff}")
        name = f"esrgan-slim-x{s}"
        d = args.out / name
        d.mkdir(parents=True, exist_ok=True)
        (d / "model.onnx").write_bytes(data)
        params, macs = params_and_flops(weights, s)
        (d / "card.toml").write_text(card(name, s, hashlib.sha256(data).hexdigest(), params, macs))
        print(f"{d}: {params} parameters, {macs:.0f} MACs per output pixel, ONNX vs Keras max |diff| {diff:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
