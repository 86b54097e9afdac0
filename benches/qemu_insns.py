#!/usr/bin/env python3
"""Guest instructions per output pixel of an aarch64 edgegan under qemu:
how int8 compares with f32 on a Pi's core when there is no Pi to time.

Each cell runs the cross-built binary under `qemu-aarch64 -cpu CPU` on one
thread, upscaling two crops of examples/astronaut.png (sides S1 < S2), with
qemu logging every translated block (`-d in_asm`: its instructions) and
every block it executes (`-d exec,nochain`: one line each, no chaining so
none is skipped). Instructions executed = sum over executions of the block's
length. The difference between the two sides divided by the difference in
output pixels is the cost of one more output pixel: startup, model parsing
and graph optimization cancel out.

What it shows: the work each precision and lowering asks of that core's
instruction set, with tract's kernel choice for the emulated CPU (qemu
reports the CPU's features, so tract picks its SDOT kernels on a
Cortex-A76, its plain NEON ones on an A72), and which instructions carry it.
What it cannot show: time. A multiply-accumulate instruction counts one
whatever its width, latency or throughput on the real core; caches,
memory bandwidth, prefetch and out-of-order overlap are not modelled; small
crops favour fixed per-row costs. A ratio of instruction counts is a
hypothesis about a ratio of times, to be checked on a board. Rows under 128
points take the im2col lowering whatever --conv-path says (the patched
tract's threshold for its direct convolution), so counting the direct f32
lowering needs --sides 128,160 and minutes per run. qemu's disassembler
names no dot-product instruction: on a Cortex-A76 the SDOTs of tract's int8
kernel show as `.byte`.

Usage (the binary from boards/cross.sh aarch64):
  benches/qemu_insns.py BIN [--cpus cortex-a72,cortex-a76] [--models sr-x2]
                            [--sides 32,48] [--cells f32:im2col,int8:im2col]
"""
import argparse
import collections
import os
import subprocess
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def count(fifo: str, out: dict) -> None:
    """Read qemu's log from `fifo`: block lengths from `IN:` listings, then
    one `Trace` line per executed block; sums instructions and mnemonics."""
    length, mnemonics = {}, {}
    execs = collections.Counter()
    block, start = None, None
    with open(fifo, "r", errors="replace") as f:
        for line in f:
            if line.startswith("Trace"):
                # Trace 0: 0xHOST [flags/GUEST_PC/...]
                pc = int(line.split("[", 1)[1].split("/", 2)[1], 16)
                execs[pc] += 1
            elif line.startswith("IN:"):
                block, start = [], None
            elif block is not None and line.startswith("0x"):
                parts = line.split(None, 3)
                if start is None:
                    start = int(parts[0].rstrip(":"), 16)
                block.append(parts[2] if len(parts) > 2 else "?")
            elif block is not None and not line.strip():
                if start is not None:
                    length[start] = len(block)
                    mnemonics[start] = block
                block = None
    if block and start is not None:
        length[start], mnemonics[start] = len(block), block
    total, by_mnemonic = 0, collections.Counter()
    for pc, n in execs.items():
        total += n * length.get(pc, 0)
        for m in mnemonics.get(pc, []):
            by_mnemonic[m] += n
    out["insns"], out["mnemonics"] = total, by_mnemonic


def run(binary: str, cpu: str, args: list) -> dict:
    with tempfile.TemporaryDirectory() as d:
        fifo = os.path.join(d, "log")
        os.mkfifo(fifo)
        out = {}
        reader = threading.Thread(target=count, args=(fifo, out))
        reader.start()
        subprocess.run(["qemu-aarch64", "-cpu", cpu, "-d", "in_asm,exec,nochain", "-D", fifo,
                        binary, *args, "-o", os.path.join(d, "out.png")],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        reader.join()
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary")
    ap.add_argument("--cpus", default="cortex-a72,cortex-a76")
    ap.add_argument("--models", default="sr-x2")
    ap.add_argument("--sides", default="32,48")
    ap.add_argument("--cells", default="f32:im2col,int8:im2col")
    a = ap.parse_args()
    from PIL import Image  # the peers venv (benches/setup_peers.sh) has it

    sides = [int(s) for s in a.sides.split(",")]
    assert len(sides) == 2 and sides[0] < sides[1], "--sides: two sizes, small first"
    photo = Image.open(ROOT / "examples/astronaut.png").convert("RGB")
    with tempfile.TemporaryDirectory() as d:
        crops = {}
        for s in sides:
            crops[s] = os.path.join(d, f"crop{s}.png")
            photo.crop((96, 64, 96 + s, 64 + s)).save(crops[s])
        print(f"guest instructions per output pixel, the {sides[0]}² to {sides[1]}² slope, one thread")
        print(f"{'cpu':<11} {'model':<7} {'cell':<12} {'insns/px':>10} {'vs f32':>7}  top instructions (share)")
        for cpu in a.cpus.split(","):
            for model in a.models.split(","):
                scale = int(model.split("-x")[1][0]) if "-x" in model else 1
                f32 = None
                for cell in a.cells.split(","):
                    precision, path = cell.split(":")
                    # One tile, one plan per run: a tiled crop would count its tiles'
                    # halos and a plan build per window shape in the slope.
                    res = [run(a.binary, cpu, ["upscale", crops[s], "--model", model, "--precision",
                                               precision, "--conv-path", path, "--threads", "1",
                                               "--tile", str(sides[1])])
                           for s in sides]
                    px = [(s * scale) ** 2 for s in sides]
                    slope = (res[1]["insns"] - res[0]["insns"]) / (px[1] - px[0])
                    diff = res[1]["mnemonics"].copy()
                    diff.subtract(res[0]["mnemonics"])
                    top = [(m, n) for m, n in diff.most_common(6)]
                    spent = sum(n for n in diff.values() if n > 0)
                    tops = ", ".join(f"{m} {100 * n / spent:.0f}%" for m, n in top)
                    if precision == "f32" and (f32 is None or slope < f32):
                        f32 = slope
                    ratio = f"{slope / f32:.2f}" if f32 else "—"
                    print(f"{cpu:<11} {model:<7} {cell:<12} {slope:>10.0f} {ratio:>7}  {tops}", flush=True)


if __name__ == "__main__":
    main()
