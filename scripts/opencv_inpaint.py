#!/usr/bin/env python3
"""OpenCV inpainting baselines for `edgegan eval --model inpaint`.

Usage: opencv_inpaint.py DIR
For every DIR/NAME.png with a mask DIR/NAME.mask.png (white = fill), writes
DIR/NAME.telea.png and DIR/NAME.ns.png: cv2.inpaint with INPAINT_TELEA and
INPAINT_NS, radius 3 (OpenCV's documented example). Needs opencv-python-headless
(scripts/setup_opencv.sh installs it).
"""
import sys
from pathlib import Path

import cv2

RADIUS = 3


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: opencv_inpaint.py DIR", file=sys.stderr)
        return 2
    d = Path(sys.argv[1])
    for mask_path in sorted(d.glob("*.mask.png")):
        name = mask_path.name[: -len(".mask.png")]
        img = cv2.imread(str(d / f"{name}.png"), cv2.IMREAD_COLOR)
        mask = cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE)
        if img is None or mask is None:
            print(f"{d / name}.png: not readable", file=sys.stderr)
            return 1
        hole = ((mask >= 128) * 255).astype("uint8")
        for tag, flag in (("telea", cv2.INPAINT_TELEA), ("ns", cv2.INPAINT_NS)):
            out = cv2.inpaint(img, hole, RADIUS, flag)
            cv2.imwrite(str(d / f"{name}.{tag}.png"), out)
    print(f"opencv {cv2.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
