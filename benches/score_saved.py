#!/usr/bin/env python3
"""Score SR outputs made outside edgegan with the DESIGN protocol.

For a peer that does not run in tract (benches/realesrgan.py --upscale runs
Real-ESRGAN through ncnn on the LR inputs that `edgegan eval --save` wrote),
this computes what `edgegan eval` reports, in numpy, against the references
`edgegan eval --save` wrote (NAME.hr.png), with the runtime's
formulas (runtime/src/metrics.rs): BT.601 luma in f32, `scale` border
pixels cropped, PSNR on Y, SSIM on Y (11×11 Gaussian, σ 1.5, valid
windows) and the sharpness ratio (mean squared Laplacian of the output's Y
over the truth's). `--check JSON` first scores edgegan's own saved outputs
and compares them with that `edgegan eval --json`, image by image, and
refuses to go on if any score differs by more than 1e-6: the numbers below
then come from the same protocol, not a lookalike.

    benches/score_saved.py --refs SAVE_DIR --scale 4 --saved DIR [--check EVAL.json --saved-check DIR2]

Prints one JSON object shaped like `edgegan eval --json` (means only).
"""
import argparse, json, sys
from pathlib import Path

import numpy as np
from PIL import Image

def luma(rgb: np.ndarray) -> np.ndarray:
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    return np.float32(16.0) + (np.float32(65.481) * r + np.float32(128.553) * g + np.float32(24.966) * b) / np.float32(255.0)


def gauss_valid(x: np.ndarray) -> np.ndarray:
    k = np.exp(-((np.arange(11) - 5.0) ** 2) / (2 * 1.5 * 1.5))
    k /= k.sum()
    h, w = x.shape
    rows = sum(k[i] * x[:, i:w - 10 + i] for i in range(11))
    return sum(k[i] * rows[i:h - 10 + i, :] for i in range(11))


def scores(truth: np.ndarray, out: np.ndarray, border: int) -> tuple:
    a = luma(truth)[border:-border, border:-border]
    b = luma(out)[border:-border, border:-border]
    mse = np.mean(((a - b).astype(np.float64)) ** 2)
    psnr = 10 * np.log10(255.0 * 255.0 / mse)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    ma, mb = gauss_valid(a64), gauss_valid(b64)
    va, vb, cov = gauss_valid(a64 * a64) - ma * ma, gauss_valid(b64 * b64) - mb * mb, gauss_valid(a64 * b64) - ma * mb
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    ssim = np.mean(((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2)))

    def lap(y):
        l = 4 * y[1:-1, 1:-1] - y[1:-1, :-2] - y[1:-1, 2:] - y[:-2, 1:-1] - y[2:, 1:-1]
        return np.mean(l.astype(np.float64) ** 2)

    return float(psnr), float(ssim), float(lap(b) / max(lap(a), np.finfo(float).tiny))


def score_dir(refs: Path, saved: Path, scale: int) -> dict:
    """Scores of every output in `saved` (NAME.png) against the reference
    that `edgegan eval --save` wrote into `refs` (NAME.hr.png: the photo as
    the runtime decoded it, so JPEG decoders cannot differ)."""
    out = {}
    for f in sorted(saved.glob("*.png")):
        if f.name.endswith((".lr.png", ".hr.png")):
            continue
        name = f.name[: -len(".png")]
        ref = refs / f"{name}.hr.png"
        if not ref.exists():
            sys.exit(f"error: {ref}: missing (run edgegan eval --save {refs} on the same photos)")
        sr = np.asarray(Image.open(f).convert("RGB"))
        truth = np.asarray(Image.open(ref).convert("RGB"))
        if sr.shape != truth.shape:
            sys.exit(f"error: {f}: {sr.shape[1]}x{sr.shape[0]}, expected {truth.shape[1]}x{truth.shape[0]}")
        out[name] = scores(truth, sr, scale)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--refs", type=Path, required=True, help="a folder `edgegan eval --save` wrote (NAME.hr.png)")
    ap.add_argument("--scale", type=int, required=True)
    ap.add_argument("--saved", type=Path, required=True)
    ap.add_argument("--check", type=Path, help="edgegan eval --json of the outputs in --saved-check")
    ap.add_argument("--saved-check", type=Path)
    a = ap.parse_args()
    if a.check:
        ref = {str(Path(i["file"]).with_suffix("")).replace("/", "__"): i for i in json.loads(a.check.read_text())["images"]}
        mine = score_dir(a.refs, a.saved_check, a.scale)
        if sorted(mine) != sorted(ref):
            sys.exit(f"error: {a.saved_check} and {a.check} hold different photos")
        worst = max(abs(mine[f][k] - ref[f][key]) for f in ref for k, key in enumerate(["psnr_y", "ssim_y", "sharpness_y"]))
        if worst > 1e-6:
            sys.exit(f"error: scores differ from {a.check} by up to {worst}")
        print(f"check: {len(ref)} images, largest difference from {a.check.name}: {worst:.1e}", file=sys.stderr)
    s = score_dir(a.refs, a.saved, a.scale)
    mean = {k: float(np.mean([v[i] for v in s.values()])) for i, k in enumerate(["psnr_y", "ssim_y", "sharpness_y"])}
    print(json.dumps({"saved": str(a.saved), "scale": a.scale, "images": sorted(s), "mean": mean}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
