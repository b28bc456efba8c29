#!/usr/bin/env python3
"""Cost curves of the processor, from the JSON of `npm run bench:curves`.

Writes a PNG (messages/s, CPU µs per message and peak RSS against backlog size, batch size, lanes
and catalog size; median with the min-max spread as error bars) and prints the Markdown table that
BENCHMARKS.md carries. Needs matplotlib (PyPI):

    python3 bench/chart.py [bench/results/curves.json] [--png docs/cost-curves.png]
"""
import argparse
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SERIES = [
    ("backlog", "backlog (messages)", True),
    ("batch", "PROCESSOR_BATCH_MAX_MESSAGES", True),
    ("lanes", "PROCESSOR_APPLY_CONCURRENCY (lanes)", False),
    ("products", "catalog size (products)", True),
]
METRICS = [
    ("perSecond", "messages/s", 1),
    ("cpuPerOrderUs", "CPU µs per message", 1),
    ("rssMB", "peak RSS (MB)", 1),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("json", nargs="?", default="bench/results/curves.json")
    parser.add_argument("--png", default="docs/cost-curves.png")
    args = parser.parse_args()
    with open(args.json, encoding="utf-8") as f:
        data = json.load(f)
    points = data["points"]

    fig, axes = plt.subplots(len(METRICS), len(SERIES), figsize=(16, 10), squeeze=False)
    for col, (series, xlabel, logx) in enumerate(SERIES):
        pts = sorted((p for p in points if p["series"] == series), key=lambda p: p["x"])
        for row, (metric, ylabel, _) in enumerate(METRICS):
            ax = axes[row][col]
            xs, ys, lo, hi = [], [], [], []
            for p in pts:
                s = p["summary"]["processor"][metric]
                xs.append(p["x"])
                ys.append(s["median"])
                lo.append(s["median"] - s["min"])
                hi.append(s["max"] - s["median"])
            if xs:
                ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=4)
            if logx:
                ax.set_xscale("log")
            ax.set_ylim(bottom=0)
            ax.grid(True, alpha=0.3)
            if row == len(METRICS) - 1:
                ax.set_xlabel(xlabel)
            if col == 0:
                ax.set_ylabel(ylabel)
            if metric == "rssMB":
                ax.axhline(200, color="red", linestyle="--", linewidth=1)
    fig.suptitle(f"order-stream processor drain — cost curves (median of {data['runs']} round(s), bars: min–max; {data['at'][:16]}Z)")
    fig.tight_layout()
    os.makedirs(os.path.dirname(args.png) or ".", exist_ok=True)
    fig.savefig(args.png, dpi=90)

    print(f"| curve | value | backlog (messages) | messages/s | CPU µs per message | peak RSS (MB) |")
    print("|---|---|---|---|---|---|")
    for series, xlabel, _ in SERIES:
        for p in sorted((p for p in points if p["series"] == series), key=lambda p: p["x"]):
            s = p["summary"]["processor"]
            cell = lambda m, d: f"{s[m]['median']:.{d}f} ({s[m]['min']:.{d}f}–{s[m]['max']:.{d}f})"  # noqa: E731
            print(f"| {xlabel} | {p['x']} | {p['orders']} | {cell('perSecond', 0)} | {cell('cpuPerOrderUs', 2)} | {cell('rssMB', 0)} |")
    print(f"\nchart: {args.png}")


if __name__ == "__main__":
    main()
