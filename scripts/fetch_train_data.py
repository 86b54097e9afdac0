#!/usr/bin/env python3
"""Rebuild edgegan's training photo pool from Debian packages, by name.

Reads the `train` rows of shared/data/manifest.csv, downloads each package
with `apt-get download` (no root needed once apt lists exist), extracts it with
`dpkg-deb -x`, copies the listed files into data/train/ and checks each file's
sha256 prefix against the manifest. GCompris photos live inside Qt resource
bundles (.rcc): their WebP blobs are found by their RIFF headers and matched
to manifest rows by checksum. Photos are never committed (data/ is ignored).

With --extra it also fetches the 373 photos listed in the project's own
manifest, scripts/train_extra.csv (full sha256 per file): landscapes and
cities (endless-sky-high-dpi), underwater scenes (krank), kphotoalbum's demo
photos, avatar photos (plasma-workspace-data, gnome-control-center-data) and
photo textures (lugaru-data), into data/train/extra/PACKAGE/. They are
training photos only; the dev set is unchanged (none of them is in it).

Usage: scripts/fetch_train_data.py [--extra] [--manifest PATH] [--out DIR] [--cache DIR]
Standard library only; needs apt-get and dpkg-deb (any Debian/Raspberry Pi OS).
"""
import argparse, csv, hashlib, os, shutil, struct, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def find_manifest() -> Path:
    for base in [ROOT, *ROOT.parents]:
        p = base / "shared" / "data" / "manifest.csv"
        if p.exists():
            return p
    sys.exit("error: shared/data/manifest.csv not found; pass --manifest")


def package_of(source: str) -> str:
    return source.split("/")[0]


def fetch_deb(pkg: str, cache: Path) -> Path:
    extracted = cache / pkg
    if extracted.is_dir():
        return extracted
    cache.mkdir(parents=True, exist_ok=True)
    debs = list(cache.glob(f"{pkg}_*.deb"))
    if not debs:
        r = subprocess.run(["apt-get", "download", pkg], cwd=cache, capture_output=True, text=True)
        if r.returncode != 0 and os.geteuid() == 0:
            subprocess.run(["apt-get", "update", "-qq"], check=False)
            r = subprocess.run(["apt-get", "download", pkg], cwd=cache, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"error: apt-get download {pkg} failed: {r.stderr.strip().splitlines()[-1:]}")
        debs = list(cache.glob(f"{pkg}_*.deb"))
    tmp = cache / f".{pkg}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(tmp)], check=True)
    tmp.rename(extracted)
    return extracted


def riff_blobs(data: bytes):
    """Every RIFF/WEBP blob inside a Qt resource bundle."""
    i = data.find(b"RIFF")
    while i >= 0:
        if data[i + 8:i + 12] == b"WEBP":
            size = struct.unpack("<I", data[i + 4:i + 8])[0] + 8
            yield data[i:i + size]
        i = data.find(b"RIFF", i + 4)


def place(dest: Path, data, matches, name: str, source: str) -> bool:
    """Write `data` as `dest` (through a .part file and a rename) when its
    sha256 `matches`; else print one error line and write nothing."""
    if data is None or not matches(sha(data)):
        print(f"error: {name}: not found or checksum differs in {source}", file=sys.stderr)
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_suffix(dest.suffix + ".part")
    part.write_bytes(data)
    part.rename(dest)
    return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "data")
    ap.add_argument("--cache", type=Path, default=ROOT / "data" / "cache")
    ap.add_argument("--extra", action="store_true", help="also the photos of scripts/train_extra.csv")
    args = ap.parse_args()
    manifest = args.manifest or find_manifest()
    rows = [r for r in csv.DictReader(open(manifest)) if r["split"] == "train"]
    done = failed = 0
    rcc_blobs = {}
    for row in rows:
        dest = args.out / row["file"]
        want = row["sha256"]
        if dest.exists() and sha(dest.read_bytes()).startswith(want):
            done += 1
            continue
        root = fetch_deb(package_of(row["source"]), args.cache)
        path = row["installed_path"]
        if ".rcc " in path:
            rcc = root / path.split(" ")[0].lstrip("/")
            if rcc not in rcc_blobs:
                rcc_blobs[rcc] = {sha(b): b for b in riff_blobs(rcc.read_bytes())}
            data = next((b for h, b in rcc_blobs[rcc].items() if h.startswith(want)), None)
        else:
            src = root / path.lstrip("/")
            data = src.read_bytes() if src.exists() else None
        if place(dest, data, lambda h: h.startswith(want), row["file"], row["source"]):
            done += 1
        else:
            failed += 1
    print(f"{done} of {len(rows)} training photos in {args.out / 'train'}" + (f"; {failed} failed" if failed else ""))
    if args.extra:
        failed += fetch_extra(args.out, args.cache)
    return 1 if failed else 0


def fetch_extra(out: Path, cache: Path) -> int:
    """The photos of scripts/train_extra.csv; returns how many failed."""
    rows = list(csv.DictReader(open(ROOT / "scripts" / "train_extra.csv")))
    done = failed = 0
    for row in rows:
        dest = out / row["file"]
        if dest.exists() and sha(dest.read_bytes()) == row["sha256"]:
            done += 1
            continue
        src = fetch_deb(row["package"], cache) / row["installed_path"].lstrip("/")
        data = src.read_bytes() if src.exists() else None
        if place(dest, data, lambda h: h == row["sha256"], row["file"], row["package"]):
            done += 1
        else:
            failed += 1
    print(f"{done} of {len(rows)} extra training photos in {out / 'train' / 'extra'}" + (f"; {failed} failed" if failed else ""))
    return failed


if __name__ == "__main__":
    sys.exit(main())
