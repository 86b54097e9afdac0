#!/usr/bin/env python3
"""Pack SR training photos and validation photos small enough to travel to
the GPU machine (its working-tree copy is capped at 64 MiB).

Every photo under TRAIN (scripts/fetch_train_data.py --extra: 494 photos)
is shrunk 3× with PIL's bicubic (the clean-HR-target step that `edgegan
train sr --prescale 3` would do; the run then uses --prescale 1; 3, not 2,
so that the pool fits beside the binary and the tracked files) and stored
as JPEG quality 93, flattened into OUT/train/. Every 4th photo of DEV, in the
runtime's order (sorted, recursive; the photos `--val-stride 4` validates
on), is copied as is into OUT/val/.

With --short-side N (inpainting: `train inpaint --scales 1 --patch 256`
resizes every photo to a short side of 256 anyway) each training photo is
instead resized with PIL's Lanczos to a short side of N (smaller ones kept
as they are) and stored as JPEG quality 92, and only the first 6 photos of
DEV are copied (what `train inpaint --val-photos 6` validates on).

Usage: scripts/pack_gpu_data.py [--short-side N] TRAIN DEV OUT   (needs Pillow)
"""
import os, shutil, sys
from pathlib import Path

from PIL import Image

IMAGE = ("png", "jpg", "jpeg", "webp")
SHRINK = 3


def walk(d: Path) -> list:
    """Image files under d in the order of edgegan_runtime::io::image_files."""
    out = []
    for n in sorted(os.listdir(d)):
        p = d / n
        if p.is_dir():
            out += walk(p)
        elif n.lower().rsplit(".", 1)[-1] in IMAGE:
            out.append(p)
    return out


def main() -> None:
    args = sys.argv[1:]
    short = None
    if args[:1] == ["--short-side"] and len(args) > 1 and args[1].isdigit():
        short, args = int(args[1]), args[2:]
    if len(args) != 3:
        sys.exit(__doc__)
    train, dev, out = map(Path, args)
    if out.exists():
        sys.exit(f"error: {out}: already exists")
    (out / "train").mkdir(parents=True)
    for p in walk(train):
        im = Image.open(p).convert("RGB")
        w, h = im.size
        if short is None:
            im, quality = im.resize((w // SHRINK, h // SHRINK), Image.BICUBIC), 93
        else:
            f = short / min(w, h)
            if f < 1:
                im = im.resize((max(short, round(w * f)), max(short, round(h * f))), Image.LANCZOS)
            quality = 92
        name = str(p.relative_to(train)).replace("/", "__")
        im.save(out / "train" / (Path(name).stem + ".jpg"), quality=quality)
    for p in (walk(dev)[:6] if short else walk(dev)[::4]):
        dst = out / "val" / p.relative_to(dev)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(p, dst)
    val = len(walk(out / "val")) if (out / "val").exists() else 0
    print(f"{out}: {len(walk(out / 'train'))} training, {val} validation photos")


if __name__ == "__main__":
    main()
