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

Usage: scripts/pack_gpu_data.py TRAIN DEV OUT   (needs Pillow)
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
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    train, dev, out = map(Path, sys.argv[1:])
    if out.exists():
        sys.exit(f"error: {out}: already exists")
    (out / "train").mkdir(parents=True)
    for p in walk(train):
        im = Image.open(p).convert("RGB")
        w, h = im.size
        im = im.resize((w // SHRINK, h // SHRINK), Image.BICUBIC)
        name = str(p.relative_to(train)).replace("/", "__")
        im.save(out / "train" / (Path(name).stem + ".jpg"), quality=93)
    for p in walk(dev)[::4]:
        dst = out / "val" / p.relative_to(dev)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(p, dst)
    print(f"{out}: {len(walk(out / 'train'))} training, {len(walk(out / 'val'))} validation photos")


if __name__ == "__main__":
    main()
