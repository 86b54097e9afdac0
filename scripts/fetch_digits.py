#!/usr/bin/env python3
"""Fetch scikit-learn's 8x8 handwritten digits (1797 images, 10 classes) for
the DCGAN demo into data/digits/digits.csv.gz.

The file ships inside scikit-learn's wheel (sklearn/datasets/data/digits.csv.gz,
BSD-3-Clause); this downloads that wheel from PyPI with pip, extracts the one
file and checks its sha256. Skips the download when the file is already there
or a copy is found in shared/data/digits beside or above the checkout.

Usage: scripts/fetch_digits.py [--out DIR]
"""
import argparse, hashlib, shutil, subprocess, sys, tempfile, zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
WHEEL = "scikit-learn==1.5.2"
MEMBER = "sklearn/datasets/data/digits.csv.gz"


def ok(path: Path) -> bool:
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == SHA256


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "digits")
    out = ap.parse_args().out / "digits.csv.gz"
    if ok(out):
        print(f"{out}: present")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    for base in [ROOT, *ROOT.parents]:
        shared = base / "shared" / "data" / "digits" / "digits.csv.gz"
        if ok(shared):
            shutil.copyfile(shared, out)
            print(f"{out}: copied from {shared}")
            return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                        "--only-binary=:all:", "-d", tmp, WHEEL], check=True)
        wheel = next(Path(tmp).glob("scikit_learn-*.whl"))
        with zipfile.ZipFile(wheel) as z:
            data = z.read(MEMBER)
    if hashlib.sha256(data).hexdigest() != SHA256:
        sys.exit(f"error: {WHEEL}:{MEMBER} has an unexpected sha256")
    part = out.with_suffix(".part")
    part.write_bytes(data)
    part.replace(out)
    print(f"{out}: extracted from {wheel.name}")


if __name__ == "__main__":
    main()
