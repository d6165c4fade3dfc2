"""Independent check of a sweep's steady-state figures: one long process per point.

For each (workload, setting) this runs the workload in one fresh interpreter for
``--steps`` steps (3,000 by default) — no rounds, no spans, no gctune probe: its own
``gc.callbacks`` timing, its own RSS reads — and prints, beside the sweep's figures for
the same point:

* GC share of time (sum of pauses / wall time of the steps) and the longest and median
  pause: amortised over whole collector cycles by sheer length;
* memory growth: a least-squares line through RSS sampled every few steps after the first
  quarter of the run (bytes per step), the figure the sweep's growth model must match.

    python benchmarks/steady_state_check.py RESULTS_DIR [-p longlived_heap@default ...]

Default points: ``longlived_heap@default``, ``short_cycles@disabled`` and every built-in's
``default``. Each long run is a fresh ``python -c`` child (the ``CHILD`` script below).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

CHILD = r"""
import gc, json, os, sys, time
from array import array
from gctune.measure.catalog import load_workload
from gctune.measure.settings import apply_setting, parse_setting

workload, setting, steps, every = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
size = int(sys.argv[5]) if sys.argv[5] != "-" else None
page = os.sysconf("SC_PAGE_SIZE")
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * page
w = load_workload(workload)
state = w.setup(w.size_for(size))
apply_setting(parse_setting(setting))
w.run_steps(state, 20)
# Records go into arrays of machine integers: a callback that kept a tuple per
# collection would add tracked containers to the heap it measures, and on an object
# graph such as deltablue's that alone made full collections 1.7x longer.
gens, durs, started = array("q"), array("q"), array("q", [0])
def cb(phase, info):
    if phase == "start":
        started[0] = time.perf_counter_ns()
    else:
        gens.append(info["generation"])
        durs.append(time.perf_counter_ns() - started[0])
gc.callbacks.append(cb)
at, rsses = array("q"), array("q")
t0 = time.perf_counter_ns()
for i in range(steps):
    w.run_steps(state, 1)
    if i % every == 0:
        at.append(i)
        rsses.append(rss())
wall = time.perf_counter_ns() - t0
gc.callbacks.remove(cb)
print(json.dumps({"wall_ns": wall, "pauses": list(zip(gens, durs)),
                  "samples": list(zip(at, rsses)), "steps": steps}))
"""


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys over xs."""
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0


def measure(
    workload: str, setting: str, steps: int, every: int, size: Optional[int] = None
) -> dict[str, Any]:
    """One long fresh process: GC share, pauses and RSS growth of ``steps`` steps."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, workload, setting, str(steps), str(every), str(size or "-")],
        capture_output=True,
        text=True,
        check=True,
    )
    data: dict[str, Any] = json.loads(out.stdout)
    durations = sorted(d for _, d in data["pauses"])
    settled = [s for s in data["samples"] if s[0] >= steps // 4]
    return {
        "gc_share": sum(durations) / data["wall_ns"],
        "max_pause_ns": durations[-1] if durations else None,
        "median_pause_ns": durations[len(durations) // 2] if durations else None,
        "full_collections": sum(1 for g, _ in data["pauses"] if g == 2),
        "bytes_per_step": slope([s[0] for s in settled], [s[1] for s in settled]),
        "time_per_step_s": data["wall_ns"] / 1e9 / steps,
    }


def sweep_figures(sweep: Path, workload: str, setting: str) -> dict[str, Any]:
    """The sweep's figures for one point, from its saved files."""
    from gctune.analysis.stats import workload_stats
    from gctune.measure.catalog import workload_id
    from gctune.store.results import load_sweep

    wid = workload_id(workload)  # a spec such as bench.py:run is saved as bench-run
    _, points = load_sweep(sweep)
    stats = workload_stats([p for p in points if p.workload == wid])[wid]
    s = next(x for x in stats if x.setting == setting)
    g = s.growth
    return {
        "gc_share": s.gc_share,
        "max_pause_ns": s.pause_max_ns if s.collections else None,
        "median_pause_ns": s.pause_p50_ns if s.collections else None,
        "bytes_per_step": g.bytes_per_step if g else None,
        "growth": g.status if g else "unknown",
        "steady": s.steady,
    }


def _fmt(value: Any, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "pct":
        return f"{value * 100:.1f}%"
    if kind == "ms":
        return f"{value / 1e6:.2f} ms"
    if kind == "kib":
        return f"{value / 1024:.1f} KiB"
    return str(value)


def main() -> None:
    """Measure the chosen points the long way and print both sets of figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", type=Path, help="a sweep directory to compare with")
    parser.add_argument("-p", "--point", action="append", help="WORKLOAD@SETTING (repeatable)")
    parser.add_argument("--steps", type=int, default=3000, help="steps of the long run")
    parser.add_argument("--growth-steps", type=int, default=1000, help="steps for disabled")
    parser.add_argument("--size", type=int, default=None, help="workload size, as the sweep's")
    args = parser.parse_args()
    points = args.point or [
        "longlived_heap@default",
        "short_cycles@disabled",
        "acyclic_churn@default",
        "short_cycles@default",
        "tree_parents@default",
        "request_loop@default",
    ]
    print(
        "| point | GC share: sweep / long run | max pause: sweep / long run | "
        "median pause: sweep / long run | growth per step: sweep / long run |"
    )
    print("|---|---|---|---|---|")
    for spec in points:
        workload, setting = spec.rsplit("@", 1)
        steps = args.growth_steps if setting == "disabled" else args.steps
        long = measure(workload, setting, steps, every=5, size=args.size)
        swept = sweep_figures(args.sweep, workload, setting)
        growth = f"{_fmt(swept['bytes_per_step'], 'kib')} ({swept['growth']})"
        print(
            f"| {spec} ({swept['steady']}) | {_fmt(swept['gc_share'], 'pct')} / "
            f"{_fmt(long['gc_share'], 'pct')} | {_fmt(swept['max_pause_ns'], 'ms')} / "
            f"{_fmt(long['max_pause_ns'], 'ms')} | {_fmt(swept['median_pause_ns'], 'ms')} / "
            f"{_fmt(long['median_pause_ns'], 'ms')} | {growth} / "
            f"{_fmt(long['bytes_per_step'], 'kib')} |"
        )


if __name__ == "__main__":
    main()
