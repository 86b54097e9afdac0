#!/usr/bin/env python3
"""How much an inpainting model's network adds over its own prefill, per hole bin.

The model's graph outputs its prefill (the runtime's push-pull + harmonic
fill) plus the tail conv's residual. A copy of the model with that conv
zeroed outputs the prefill alone; `edgegan eval --json` runs both on the same
protocol crops and masks, and the paired difference of their in-hole PSNR is
the network's gain (mean ± standard error per bin, and the prefill's own lead
over OpenCV Telea). Run on the training photos and on photos the model never
saw, it tells memorization from a domain gap.

--holdout DIR first writes the photos of the cached gcompris-qt-data bundles
(data/cache, left by scripts/fetch_train_data.py) that manifest.csv does not
list, at least 300 px on the short side and without alpha, into DIR as WebP:
photos from the same package as most training photos, never trained on.

Usage (numpy and onnx from benches/setup_peers.sh):
  $(benches/setup_peers.sh) scripts/network_gain.py --holdout data/holdout \\
      data/train ../shared/data/dev data/holdout
"""
import argparse
import hashlib
import json
import math
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

ROOT = Path(__file__).resolve().parent.parent
BINS = ["0-10%", "10-20%", "20-30%", "30-40%", "40-50%"]
BUNDLES = ["categorization", "photo_hunter", "explore_world_music", "instruments", "memory-sound",
           "geography", "canal_lock", "chronos", "lang"]


def webp_size(blob: bytes):
    """(width, height, has_alpha) of a WebP blob, or None."""
    kind = blob[12:16]
    if kind == b"VP8 " and blob[23:26] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", blob[26:30])
        return w & 0x3FFF, h & 0x3FFF, False
    if kind == b"VP8L" and blob[20] == 0x2F:
        bits = int.from_bytes(blob[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool(bits >> 28 & 1)
    if kind == b"VP8X":
        w = int.from_bytes(blob[24:27], "little") + 1
        h = int.from_bytes(blob[27:30], "little") + 1
        return w, h, bool(blob[20] & 0x10)
    return None


def holdout(out: Path) -> int:
    listed = {line.rsplit(",", 1)[1] for line in (ROOT.parent / "shared/data/manifest.csv")
              .read_text().splitlines()[1:]}
    rcc = ROOT / "data/cache/gcompris-qt-data/usr/share/gcompris-qt/rcc"
    if not rcc.is_dir():
        sys.exit(f"{rcc}: missing; run scripts/fetch_train_data.py first")
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for name in BUNDLES:
        data = (rcc / f"{name}.rcc").read_bytes()
        i = data.find(b"RIFF")
        while i >= 0:
            if data[i + 8:i + 12] == b"WEBP":
                blob = data[i:i + struct.unpack("<I", data[i + 4:i + 8])[0] + 8]
                sha = hashlib.sha256(blob).hexdigest()[:16]
                size = webp_size(blob)
                if sha not in listed and size and min(size[:2]) >= 300 and not size[2]:
                    (out / f"{name}-{sha}.webp").write_bytes(blob)
                    n += 1
            i = data.find(b"RIFF", i + 4)
    return n


def prefill_only(model: Path, out: Path) -> None:
    """A copy of `model` whose residual (the tail conv) is zero."""
    shutil.copytree(model, out)
    m = onnx.load(out / "model.onnx")
    for t in m.graph.initializer:
        if t.name in ("tail_w", "tail_b"):
            t.CopyFrom(numpy_helper.from_array(np.zeros_like(numpy_helper.to_array(t)), t.name))
    onnx.save(m, out / "model.onnx")
    old = hashlib.sha256((model / "model.onnx").read_bytes()).hexdigest()
    new = hashlib.sha256((out / "model.onnx").read_bytes()).hexdigest()
    card = out / "card.toml"
    card.write_text(card.read_text().replace(old, new))


def rows(edgegan: str, model: Path, data: Path):
    out = subprocess.run([edgegan, "eval", "--model", str(model), "--data", str(data),
                          "--precision", "f32", "--json"], check=True, capture_output=True, text=True)
    return {(r["file"], r["bin"]): r for r in json.loads(out.stdout)["images"]}


def mean_se(xs):
    m = sum(xs) / len(xs)
    return m, math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1) / len(xs))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument("--model", type=Path, default=ROOT / "models/inpaint")
    ap.add_argument("--edgegan", default=str(ROOT / "target/release/edgegan"))
    ap.add_argument("--holdout", type=Path, help="first write the held-out photos here")
    a = ap.parse_args()
    if a.holdout:
        print(f"{holdout(a.holdout)} held-out photos in {a.holdout}")
    with tempfile.TemporaryDirectory() as tmp:
        zero = Path(tmp) / "prefill-only"
        prefill_only(a.model, zero)
        print("folder (photos): network gain over its prefill, in-hole PSNR dB ± SE "
              "[prefill's lead over Telea], per bin " + " / ".join(BINS))
        for d in a.folders:
            net, pre = rows(a.edgegan, a.model, d), rows(a.edgegan, zero, d)
            cells = []
            for b in BINS:
                keys = [k for k in pre if k[1] == b]
                g, se = mean_se([net[k]["hole_psnr"] - pre[k]["hole_psnr"] for k in keys])
                t, _ = mean_se([pre[k]["hole_psnr"] - pre[k]["baselines"]["opencv_telea"]["hole_psnr"]
                                for k in keys])
                cells.append(f"{g:+.2f} ± {se:.2f} [{t:+.2f}]")
            print(f"{d} ({len(keys)}): " + " | ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
