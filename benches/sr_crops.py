#!/usr/bin/env python3
"""Side-by-side crops of SR outputs saved by `edgegan eval --save DIR`.

One row per photo, one column per labelled folder (the first column is the
LR input the models got, nearest-upscaled; the last the reference
`--save` wrote beside the first folder's outputs, NAME.hr.png: the photo
as the runtime decoded it, so no second JPEG decoder is involved).
Each crop is the SIZE×SIZE window of the original (on a grid of SIZE/2
steps) with the most detail (sum of squared Laplacian of its luma), or the
one given with --box; crops are shown at --zoom× with nearest sampling and
labelled in PIL's built-in font.

    edgegan eval --model sr-x4 --data DEV --degrade blur,noise,jpeg --save /tmp/s/sr-x4   # per model
    benches/sr_crops.py out.png --photo NAME [--photo NAME ...] \\
        --col bicubic=/tmp/s/bicubic-x4 --col sr-x4=/tmp/s/sr-x4 ... [--size 96] [--zoom 2]

NAME is a photo's path under DEV as `--save` writes it (`/` as `__`, no
extension). Needs Pillow and numpy.
"""
import argparse, sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

def busiest(truth: np.ndarray, size: int) -> tuple:
    y = truth[..., :3].astype(np.float64) @ np.array([65.481, 128.553, 24.966]) / 255.0
    lap = np.zeros_like(y)
    lap[1:-1, 1:-1] = 4 * y[1:-1, 1:-1] - y[:-2, 1:-1] - y[2:, 1:-1] - y[1:-1, :-2] - y[1:-1, 2:]
    e = lap**2
    best, at = -1.0, (0, 0)
    for r in range(0, e.shape[0] - size + 1, size // 2):
        for c in range(0, e.shape[1] - size + 1, size // 2):
            s = e[r:r + size, c:c + size].sum()
            if s > best:
                best, at = s, (c, r)
    return at


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--photo", action="append", required=True)
    ap.add_argument("--box", action="append", default=[], help="X,Y of one --photo's window (HR pixels), in order")
    ap.add_argument("--col", action="append", required=True, help="LABEL=DIR of `edgegan eval --save`")
    ap.add_argument("--size", type=int, default=96)
    ap.add_argument("--zoom", type=int, default=2)
    a = ap.parse_args()
    cols = [c.split("=", 1) for c in a.col]
    if a.out.exists():
        sys.exit(f"error: {a.out}: already exists")
    lr_dir = Path(cols[0][1])
    font = ImageFont.load_default()
    tile, pad, head = a.size * a.zoom, 4, 14
    labels = ["LR input"] + [c[0] for c in cols] + ["original"]
    sheet = Image.new("RGB", (len(labels) * (tile + pad) + pad, head + len(a.photo) * (tile + pad) + pad), "white")
    draw = ImageDraw.Draw(sheet)
    for j, label in enumerate(labels):
        draw.text((pad + j * (tile + pad), 2), label, fill="black", font=font)
    for i, name in enumerate(a.photo):
        truth = np.asarray(Image.open(lr_dir / f"{name}.hr.png").convert("RGB"))
        lr = Image.open(lr_dir / f"{name}.lr.png").convert("RGB")
        scale = truth.shape[1] // lr.width
        x, y = map(int, a.box[i].split(",")) if i < len(a.box) else busiest(truth, a.size)
        x, y = x // scale * scale, y // scale * scale
        crops = [lr.crop((x // scale, y // scale, (x + a.size) // scale, (y + a.size) // scale))]
        for _, d in cols:
            crops.append(Image.open(Path(d) / f"{name}.png").convert("RGB").crop((x, y, x + a.size, y + a.size)))
        crops.append(Image.fromarray(truth).crop((x, y, x + a.size, y + a.size)))
        for j, c in enumerate(crops):
            sheet.paste(c.resize((tile, tile), Image.NEAREST), (pad + j * (tile + pad), head + i * (tile + pad)))
        print(f"{name}: window at ({x}, {y}), {a.size}x{a.size} HR pixels")
    sheet.save(a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
