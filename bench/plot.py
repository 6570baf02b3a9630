#!/usr/bin/env python3
"""Draws p99 latency against store size from bench/scale-results.jsonl as
an SVG (no plotting library needed): one line per scenario, log-scale x.

    python3 bench/plot.py bench/scale-results.jsonl docs/benchmarks-p99.svg
"""

import json
import math
import sys

src = sys.argv[1] if len(sys.argv) > 1 else "bench/scale-results.jsonl"
dst = sys.argv[2] if len(sys.argv) > 2 else "docs/benchmarks-p99.svg"
points = {}
for line in open(src):
    r = json.loads(line)
    if r.get("step") != "bench":
        continue
    points.setdefault(r["result"]["scenario"], []).append((r["size"], r["result"]["p99_ms"]))
W, H, L, B, T, R = 640, 400, 70, 60, 40, 150
sizes = sorted({s for pts in points.values() for s, _ in pts})
ymax = max(p for pts in points.values() for _, p in pts) * 1.15
xmin, xmax = math.log10(min(sizes)), math.log10(max(sizes))
span = (xmax - xmin) or 1.0
x = lambda s: L + (math.log10(s) - xmin) / span * (W - L - R)
y = lambda v: H - B - v / ymax * (H - B - T)
colors = {"read": "#1f77b4", "pay": "#2ca02c", "bind": "#d62728", "unbind": "#9467bd"}
out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{W / 2 - 60}" y="22" font-size="14">p99 latency against cards on file</text>',
       f'<line x1="{L}" y1="{H - B}" x2="{W - R}" y2="{H - B}" stroke="black"/>',
       f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H - B}" stroke="black"/>',
       f'<text x="{(W - R + L) / 2 - 70}" y="{H - 15}">bound cards in the store (log)</text>',
       f'<text x="14" y="{(H - B + T) / 2}" transform="rotate(-90 14 {(H - B + T) / 2})">p99 (ms), 64 concurrent</text>']
for s in sizes:
    label = f"{s // 1_000_000} M" if s >= 1_000_000 else f"{s // 1000} k"
    out.append(f'<line x1="{x(s):.1f}" y1="{H - B}" x2="{x(s):.1f}" y2="{H - B + 5}" stroke="black"/>')
    out.append(f'<text x="{x(s) - 12:.1f}" y="{H - B + 20}">{label}</text>')
for i in range(6):
    v = ymax * i / 5
    out.append(f'<line x1="{L - 5}" y1="{y(v):.1f}" x2="{W - R}" y2="{y(v):.1f}" stroke="#ddd"/>')
    out.append(f'<text x="{L - 45}" y="{y(v) + 4:.1f}">{v:.0f}</text>')
for n, (scenario, pts) in enumerate(sorted(points.items())):
    pts.sort()
    c = colors.get(scenario, "black")
    path = " ".join(f"{x(s):.1f},{y(p):.1f}" for s, p in pts)
    out.append(f'<polyline points="{path}" fill="none" stroke="{c}" stroke-width="2"/>')
    for s, p in pts:
        out.append(f'<circle cx="{x(s):.1f}" cy="{y(p):.1f}" r="3" fill="{c}"/>')
        out.append(f'<text x="{x(s) + 5:.1f}" y="{y(p) - 6:.1f}" fill="{c}">{p:.0f}</text>')
    out.append(f'<rect x="{W - R + 20}" y="{T + 20 * n}" width="12" height="12" fill="{c}"/>')
    out.append(f'<text x="{W - R + 38}" y="{T + 20 * n + 10}">{scenario}</text>')
out.append("</svg>")
open(dst, "w").write("\n".join(out))
print(f"wrote {dst}")
