#!/usr/bin/env python3
"""Render every panel of every Grafana dashboard under grafana/dashboards to one PNG per dashboard,
from a real Prometheus run: each panel's queries, with the dashboard variables filled in the way
Grafana would, are sent as range queries (instant ones for pie charts) and drawn with matplotlib
at the panel's grid position. Grafana itself is not needed (nor installable here).

The run to draw is described by a JSON file that the dashboard test writes at its end
($STACK_DIR/dashboards-run.json): the Prometheus URL, the variables (jobs of the run, rate
interval, range), the step and the times of the faults, which are shaded on every chart.

    python3 scripts/monitoring/render-dashboards.py [RUN_JSON] [OUT_DIR]

`npm run pictures` runs the dashboard test and then this script into docs/images.
"""
import json
import math
import os
import re
import sys
import urllib.parse
import urllib.request

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNIT = 0.36  # inches per Grafana grid row
WIDTH = 22.0  # inches for Grafana's 24 columns
FAULTS = [  # (start event, end event, label, colour)
    ("dlqInjected", "dlqCounted", "malformed messages", "#8e44ad"),
    ("kafkaStopped", "kafkaStarted", "Kafka stopped", "#c0392b"),
    ("postgresStopped", "postgresStarted", "PostgreSQL restarted", "#d68910"),
]


def prometheus(base, path, params):
    data = urllib.parse.urlencode(params).encode()
    with urllib.request.urlopen(urllib.request.Request(base + path, data=data), timeout=30) as response:
        body = json.load(response)
    if body.get("status") != "success":
        raise RuntimeError(f"{path}: {body.get('error')} ({params.get('query')})")
    return body["data"]


def expand(expr, variables):
    def value(match):
        name = match.group(1) or match.group(2) or match.group(3)
        if name not in variables:
            raise KeyError(f"no value for ${name} in {expr}")
        return variables[name]

    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)", value, expr)


def legend(fmt, metric):
    if not fmt:
        return ", ".join(f"{k}={v}" for k, v in sorted(metric.items())) or "value"
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: metric.get(m.group(1), ""), fmt).strip() or "value"


def fmt_value(value, unit):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NaN"
    if unit == "percentunit":
        return f"{value * 100:.2f}%"
    if unit == "s":
        return f"{value * 1000:.1f} ms" if abs(value) < 1 else f"{value:.2f} s"
    if unit in ("bytes", "decbytes"):
        return f"{value / 2**20:.1f} MiB"
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def panels_of(dashboard):
    for panel in dashboard["panels"]:
        yield panel
        for inner in panel.get("panels", []):
            yield inner


def render(path, run, out_dir):
    dashboard = json.load(open(path))
    variables = run["variables"]
    events = run["events"]
    # up to the end of the traffic: the last values of the stat panels are then rates under load
    start, end, step = events["start"], events.get("trafficStopped", events["end"]), run["step"]
    panels = list(panels_of(dashboard))
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    height = rows * UNIT + 1.2
    fig = plt.figure(figsize=(WIDTH, height))
    fig.suptitle(f"{dashboard['title']} — dashboard test run, {int(end - start)} s (jobs {variables['job']})", x=0.01, ha="left", fontsize=12)
    top = 1 - 1.0 / height

    u = UNIT / height  # one grid row in figure coordinates

    def box(grid):
        """The axes rectangle of a panel: its grid cell less room for tick labels and the title."""
        x, w = grid["x"] / 24, grid["w"] / 24
        y_top, h = top - grid["y"] * u, grid["h"] * u
        return [x + 0.03, y_top - h + 0.8 * u, w - 0.036, h - 1.3 * u]

    for panel in panels:
        grid = panel["gridPos"]
        if panel.get("type") == "row":
            fig.text(grid["x"] / 24 + 0.004, top - (grid["y"] + 0.7) * UNIT / height, panel.get("title", ""), fontsize=12, weight="bold")
            continue
        ax = fig.add_axes(box(grid))
        ax.set_title(panel.get("title", ""), fontsize=9, loc="left")
        ax.tick_params(labelsize=7)
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
        kind = panel.get("type")
        results = []
        for target in panel.get("targets", []):
            expr = expand(target["expr"], variables)
            if kind == "piechart":
                data = prometheus(run["prometheus"], "/api/v1/query", {"query": expr, "time": end})
                results += [(legend(target.get("legendFormat"), r["metric"]), float(r["value"][1])) for r in data["result"]]
            else:
                data = prometheus(run["prometheus"], "/api/v1/query_range", {"query": expr, "start": start, "end": end, "step": step})
                for r in data["result"]:
                    xs = [float(t) - start for t, _ in r["values"]]
                    ys = [float(v) for _, v in r["values"]]
                    results.append((legend(target.get("legendFormat"), r["metric"]), xs, ys))
        if not results:
            ax.text(0.5, 0.5, "No data", ha="center", va="center", transform=ax.transAxes, color="grey")
            continue
        if kind == "piechart":
            values = [(name, v) for name, v in results if v > 0]
            if values:
                ax.pie([v for _, v in values], labels=[f"{n} {v:.0f}" for n, v in values], textprops={"fontsize": 7})
            else:
                ax.text(0.5, 0.5, "0", ha="center", va="center", transform=ax.transAxes)
            continue
        if kind == "stat":
            # the last value, large, over a sparkline of the run
            last = next((ys[-1] for _, _, ys in results if ys), None)
            for _, xs, ys in results:
                ax.plot(xs, ys, color="#2e86c1", linewidth=1, alpha=0.6)
            ax.text(0.5, 0.55, fmt_value(last, unit), ha="center", va="center", transform=ax.transAxes, fontsize=16, weight="bold")
        elif kind == "state-timeline":
            names = sorted({name for name, _, _ in results})
            for i, (name, xs, ys) in enumerate(sorted(results)):
                for x, y in zip(xs, ys):
                    ax.barh(names.index(name), step, left=x, color="#27ae60" if y >= 1 else "#c0392b", height=0.7)
            ax.set_yticks(range(len(names)), names, fontsize=7)
        elif kind == "heatmap":
            # requests per bucket and step, as Grafana's heatmap of increase() by le
            def bound(name):
                return float("inf") if name in ("+Inf", "Inf") else float(name)
            buckets = sorted(results, key=lambda r: bound(r[0]))
            matrix, prev = [], None
            for _, _, ys in buckets:
                matrix.append([max(0.0, y - (p if prev else 0.0)) if not math.isnan(y) else 0.0 for y, p in zip(ys, prev or ys)])
                prev = ys
            xs = buckets[0][1]
            ax.imshow(matrix, aspect="auto", origin="lower", cmap="viridis", extent=(xs[0], xs[-1], -0.5, len(buckets) - 0.5), interpolation="nearest")
            ax.set_yticks(range(len(buckets)), [name for name, _, _ in buckets], fontsize=6)
            ax.set_ylabel("le (s)", fontsize=7)
            unit = ""
        else:
            # many series (zero-initialised routes): draw the ones that moved, say how many stayed 0
            drawn = results
            if len(results) > 8:
                drawn = [r for r in results if any(y for y in r[2] if not math.isnan(y))]
                if len(drawn) < len(results):
                    ax.text(0.99, 0.97, f"{len(results) - len(drawn)} series at 0 not drawn", ha="right", va="top", transform=ax.transAxes, fontsize=6, color="grey")
            for name, xs, ys in drawn[:12]:
                ax.plot(xs, ys, linewidth=1, label=name)
            if drawn:
                ax.legend(fontsize=6, loc="upper left", framealpha=0.6)
        for first, last, label, colour in FAULTS:
            if first in events and last in events:
                # at least two steps wide: the DLQ injection takes a fraction of a second
                ax.axvspan(events[first] - start, max(events[last], events[first] + 2 * step) - start, color=colour, alpha=0.15)
        ax.set_xlim(0, end - start)
        if unit:
            ax.set_ylabel(unit, fontsize=7)
    handles = [matplotlib.patches.Patch(color=c, alpha=0.3, label=l) for _, _, l, c in FAULTS]
    fig.legend(handles=handles, loc="upper right", fontsize=9, ncol=3)
    fig.text(0.99, 0.003, "x: seconds since the run started", ha="right", fontsize=8, color="grey")
    name = os.path.splitext(os.path.basename(path))[0]
    out = os.path.join(out_dir, f"{name}.png")
    fig.savefig(out, dpi=72)
    plt.close(fig)
    return out


def main():
    stack = os.environ.get("STACK_DIR", os.path.join(ROOT, ".stack"))
    run_file = sys.argv[1] if len(sys.argv) > 1 else os.path.join(stack, "dashboards-run.json")
    out_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "docs", "images")
    run = json.load(open(run_file))
    os.makedirs(out_dir, exist_ok=True)
    directory = os.path.join(ROOT, "grafana", "dashboards")
    for file in sorted(os.listdir(directory)):
        if file.endswith(".json"):
            print("wrote", os.path.relpath(render(os.path.join(directory, file), run, out_dir), ROOT))


if __name__ == "__main__":
    main()
