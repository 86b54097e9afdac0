#!/usr/bin/env python3
"""Markdown tables from committed bench runs (no dependencies).

    python3 benches/report.py benches/results/EDGE_DIR benches/results/GPU_DIR

Each directory holds `bench.json` (`edgegan bench --json --out`) and
optionally `peers.json` (`benches/peers.py`). Prints:

1. edge vs GPU: output MP/s per model and input size for the edge CPU paths
   (first directory) and the GPU paths (second), with GPU / edge ratios;
2. peers: tract / onnxruntime (f32; int8 against both its ConvInteger file
   and its quantize_static QDQ file) on each machine's CPU and tract-cuda / PyTorch
   on the GPU, as latency ratios (below 1: tract is faster);
3. achieved GFLOP/s next to each machine's measured matmul peak.
"""
import json
import os
import sys


def load(d):
    """Every JSON report in `d` (`edgegan bench --out`, `peers.py --out`)."""
    out = {"records": [], "peaks": [], "machine": {}}
    for f in sorted(os.listdir(d)):
        if not f.endswith(".json"):
            continue
        j = json.load(open(os.path.join(d, f)))
        out["records"] += j["records"]
        out["peaks"] += j.get("peaks", [])
        if "cores" in j["machine"]:
            out["machine"] = j["machine"]
    return out


def find(recs, **k):
    for r in recs:
        if all(r.get(a) == b for a, b in k.items()):
            return r
    return None


def fmt(x, spec=".2f"):
    return "–" if x is None else format(x, spec)


def main():
    edge, gpu = load(sys.argv[1]), load(sys.argv[2])
    er, gr = edge["records"], gpu["records"]
    all_edge = edge["machine"].get("cores", 1)
    all_gpu = gpu["machine"].get("cores", 1)
    models = sorted({r["model"] for r in gr if r["path"] == "gpu"})
    sizes = sorted({r["input"][0] for r in gr if r["path"] == "gpu"})

    print(f"Edge: {edge['machine'].get('cpu')} ({all_edge} cores). "
          f"GPU: {gpu['machine'].get('gpu')} (host CPU {gpu['machine'].get('cpu')}, {all_gpu} cores).\n")
    print("| model | input | edge CPU f32 1 thr | edge CPU int8 1 thr | edge CPU f32 all | "
          "GPU host→host | GPU resident | host→host / edge f32 all | resident / edge f32 all |")
    print("|---|---|---|---|---|---|---|---|---|")
    for m in models:
        for s in sizes:
            inp = [s, s]
            e1 = find(er, model=m, path="cpu", precision="f32", threads=1, tile=128, input=inp)
            e8 = find(er, model=m, path="cpu", precision="int8", threads=1, tile=128, input=inp)
            ea = find(er, model=m, path="cpu", precision="f32", threads=all_edge, tile=128, input=inp)
            g = find(gr, model=m, path="gpu", input=inp)
            gres = find(gr, model=m, path="gpu-resident", input=inp)
            mp = lambda r: r["mp_per_s"] if r else None
            ratio = lambda a, b: a["mp_per_s"] / b["mp_per_s"] if a and b else None
            print(f"| {m} | {s}² | {fmt(mp(e1))} | {fmt(mp(e8))} | {fmt(mp(ea))} | {fmt(mp(g))} | "
                  f"{fmt(mp(gres))} | {fmt(ratio(g, ea), '.0f')}× | {fmt(ratio(gres, ea), '.0f')}× |")

    print("\n| machine | model | input | tract path | peer | tract ms | peer ms | tract / peer |")
    print("|---|---|---|---|---|---|---|---|")
    for label, run, cores in (("edge", edge, all_edge), ("GPU host", gpu, all_gpu)):
        recs = run["records"]
        for m in models:
            for s in sizes:
                inp = [s, s]
                pairs = [
                    (f"cpu {p} {t} thr, whole image", find(recs, model=m, path="cpu", precision=p, threads=t, tile=s, input=inp),
                     f"onnxruntime {p} {t} thr", find(recs, model=m, path="onnxruntime-cpu", precision=p, threads=t, input=inp))
                    for p in ("f32", "int8") for t in sorted({1, cores})
                ] + [
                    (f"cpu int8 {t} thr, whole image", find(recs, model=m, path="cpu", precision="int8", threads=t, tile=s, input=inp),
                     f"onnxruntime QDQ int8 {t} thr", find(recs, model=m, path="onnxruntime-cpu-qdq", threads=t, input=inp))
                    for t in sorted({1, cores})
                ] + [
                    ("tract-cuda host→host", find(recs, model=m, path="gpu", input=inp),
                     "PyTorch host→host", find(recs, model=m, path="pytorch-cuda", input=inp)),
                    ("tract-cuda resident", find(recs, model=m, path="gpu-resident", input=inp),
                     "PyTorch resident", find(recs, model=m, path="pytorch-cuda-resident", input=inp)),
                ]
                for tn, t, pn, p in pairs:
                    if t and p:
                        print(f"| {label} | {m} | {s}² | {tn} | {pn} | {t['p50_ms']:.2f} | {p['p50_ms']:.2f} | "
                              f"{t['p50_ms'] / p['p50_ms']:.2f} |")

    print("\n| machine | peak (same library, f32 matmul) | GFLOP/s |")
    print("|---|---|---|")
    for label, run in (("edge", edge), ("GPU host", gpu)):
        seen = set()
        for p in run["peaks"]:
            key = (p["path"], p["threads"])
            if key in seen:
                continue
            seen.add(key)
            print(f"| {label} | {p['path']} n={p['n']} threads={p['threads']} | {p['gflop_per_s']:.1f} |")
    print("\n| machine | model | best path at largest input | GFLOP/s achieved |")
    print("|---|---|---|---|")
    for label, run in (("edge", edge), ("GPU host", gpu)):
        for m in models:
            rs = [r for r in run["records"] if r["model"] == m and r["input"][0] == max(sizes)]
            for path in ("cpu", "gpu", "gpu-resident"):
                c = [r for r in rs if r["path"] == path]
                if c:
                    b = max(c, key=lambda r: r["gflop_per_s"])
                    print(f"| {label} | {m} | {path} {b['precision']} {b['threads']} thr | {b['gflop_per_s']:.1f} |")


if __name__ == "__main__":
    main()
