#!/usr/bin/env python3
"""Per-cell medians of per-round ratios (min-max) from benches/edge_speed.sh outputs.

benches/edge_speed_medians.py ROUNDS.txt...: every table row of every file is one round
of its cell (model, side, threads). tract f32 is the faster of its two lowerings; the
columns: f32 / onnxruntime f32, fused int8 / f32, the fused conv without AMX / f32,
AMX / without, fused int8 / onnxruntime QDQ int8. A noisy machine moves single
timings by up to 2x between rounds, so ratios are taken within a round."""
import statistics as st
import sys
rows = {}
for f in sys.argv[1:]:
    for l in open(f):
        p = l.split()
        if len(p) == 13 and p[0] in ('sr-x2','sr-x4','inpaint'):
            key = (p[0], int(p[1]), int(p[2]))
            v = list(map(float, p[3:10]))
            rows.setdefault(key, []).append(v)
print("| model | side | threads | rounds | f32 / ort | int8 / f32 | int8 VNNI / f32 | AMX / VNNI | int8 / QDQ |")
print("|---|---|---|---|---|---|---|---|---|")
for key, vs in rows.items():
    def med(fn): 
        xs = [fn(v) for v in vs]; return st.median(xs), min(xs), max(xs)
    f32 = lambda v: min(v[0], v[1])
    a = med(lambda v: f32(v)/v[5]); b = med(lambda v: v[4]/f32(v)); c = med(lambda v: v[3]/f32(v)); d = med(lambda v: v[4]/v[3]); e = med(lambda v: v[4]/v[6])
    fmt = lambda m: f"{m[0]:.2f} ({m[1]:.2f}–{m[2]:.2f})"
    print(f"| {key[0]} | {key[1]} | {key[2]} | {len(vs)} | {fmt(a)} | {fmt(b)} | {fmt(c)} | {fmt(d)} | {fmt(e)} |")
