#!/usr/bin/env python3
"""OpenCV's inpainting on the image and mask of benches/inpaint.rs: the
median of 20 timed calls each of cv2.inpaint TELEA and NS (radius 3, as the
eval baseline), after one warm-up, on one thread.

Run with the OpenCV venv (scripts/setup_opencv.sh):
  edgegan mask --size 256x256 --bin 20-30 --seed 1 -o /tmp/edgegan-bench-mask.png
  ~/.cache/edgegan/opencv-venv/bin/python benches/inpaint_peers.py /tmp/edgegan-bench-mask.png
"""
import statistics
import sys
import time
from pathlib import Path

import cv2


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    cv2.setNumThreads(1)
    root = Path(__file__).resolve().parent.parent
    img = cv2.imread(str(root / "examples/astronaut.png"), cv2.IMREAD_COLOR)
    mask = cv2.imread(sys.argv[1], cv2.IMREAD_GRAYSCALE)
    if img is None or mask is None:
        print(f"{sys.argv[1]}: not readable", file=sys.stderr)
        return 1
    hole = ((mask >= 128) * 255).astype("uint8")
    print(f"opencv {cv2.__version__}, hole {100 * (hole > 0).mean():.1f} %")
    for tag, flag in (("telea", cv2.INPAINT_TELEA), ("ns", cv2.INPAINT_NS)):
        cv2.inpaint(img, hole, 3, flag)
        times = []
        for _ in range(20):
            t = time.perf_counter()
            cv2.inpaint(img, hole, 3, flag)
            times.append(time.perf_counter() - t)
        print(f"{tag}: {1e3 * statistics.median(times):.2f} ms (median of 20)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
