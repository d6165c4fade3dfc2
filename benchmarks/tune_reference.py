"""``gctune tune`` against a dense reference in time, in two steps (each short enough to
run under the timing lock on its own).

``reference``: one time sweep of the ``full`` grid plus a dense threshold0 line
(``--line`` points, log-even from default to 1000x), every setting interleaved in every
round, no racing; prints its best setting (lowest round-paired time within the memory
budget) and its worker-process CPU seconds (the children's user + system time, as
``tune.json``'s ``worker_cpu_s``).

``check``: default, tune's answer and the reference's best in one interleaved time
sweep (``--rounds``, no racing): tune's answer over the reference's best, round-paired
on gctune's time basis (full-speed chunks where enough rounds have them), with its 95%
interval. Within 2% means the interval's upper end is at most 1.02. It prints tune's worker
CPU over the reference's too (``cost_share``). ``check --against SETTING`` pairs
tune's answer with SETTING instead (a long time check's best, where no dense reference
was measured: a public program); no cost share then.

    flock /work/timing.lock .venv/bin/python benchmarks/tune_reference.py reference \\
        short_cycles --out results/ref-short
    flock /work/timing.lock .venv/bin/python benchmarks/tune_reference.py check \\
        short_cycles --tune results/tune-short-1 --ref results/ref-short --out results/chk-short
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from gctune.analysis.recommend import DEFAULT_MAX_MEMORY_RATIO
from gctune.analysis.stats import workload_stats
from gctune.analysis.time_basis import time_change
from gctune.analysis.tune_search import line_thresholds, read_tune
from gctune.measure.catalog import resolve_specs, workload_ids
from gctune.measure.settings import FULL_GRID, parse_settings, with_references
from gctune.store.results import load_sweep
from gctune.sweep.runner import run_sweep
from gctune.sweep.spec import SweepSpec


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return float(usage.ru_utime + usage.ru_stime)


def _sweep(workload: str, settings: list[str], out: Path, rounds: int, span: float) -> float:
    spec = SweepSpec(
        workloads=tuple(resolve_specs([workload], python=sys.executable, size=None)),
        settings=tuple(settings), mode="normal", rounds=rounds, min_rounds=rounds,
        max_point_time=span, racing=False, decide_rounds=0,
    )  # fmt: skip
    cpu = _cpu()
    run_sweep(spec, out)
    return _cpu() - cpu


def _best(out: Path, budget: float) -> dict[str, Any]:
    _, points = load_sweep(out)
    (stats,) = workload_stats(points).values()
    ok = [
        s for s in stats
        if s.ok and s.time_ratio is not None and s.rss_ratio is not None and s.rss_ratio <= budget
        and (s.growth is None or s.growth.status != "growing")
    ]  # fmt: skip
    best = min(ok, key=lambda s: s.time_ratio or 1.0)
    return {"setting": best.setting, "time_ratio": best.time_ratio, "rss_ratio": best.rss_ratio}


def reference(args: argparse.Namespace) -> dict[str, Any]:
    """The dense reference sweep."""
    line = [f"{t0},10,10" for t0 in line_thresholds(700, points=args.line)]
    settings = [s.id for s in with_references(parse_settings([*FULL_GRID, *line]))]
    start = time.monotonic()
    cpu = _sweep(args.workload, settings, args.out, args.rounds, args.span)
    doc = {
        "workload": args.workload, "settings": len(settings), "rounds": args.rounds,
        "worker_cpu_s": cpu, "wall_s": time.monotonic() - start,
        "best": _best(args.out, args.max_memory_ratio),
    }  # fmt: skip
    (args.out / "reference.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return doc


def check(args: argparse.Namespace) -> dict[str, Any]:
    """tune's answer against the reference's best, paired."""
    record = read_tune(args.tune)
    assert record is not None, f"{args.tune} holds no tune record"
    (wid,) = workload_ids(resolve_specs([args.workload], python=sys.executable, size=None))
    ours = record["decisions"][wid]["chosen"]
    ref: dict[str, Any] = {"worker_cpu_s": None}  # --against: a long check's best instead
    if args.against is None:
        ref = json.loads((args.ref / "reference.json").read_text(encoding="utf-8"))
    theirs = args.against or ref["best"]["setting"]
    settings = list(dict.fromkeys(["default", ours, theirs]))
    _sweep(args.workload, settings, args.out, args.rounds, args.span)
    _, points = load_sweep(args.out)
    by = {p.setting: p for p in points}
    change = time_change(by[theirs], by[ours]) if ours != theirs else None
    return {
        "workload": args.workload, "tune": ours, "reference_best": theirs,
        "tune_over_reference": None if change is None else
        {"ratio": change.ratio, "low": change.low, "high": change.high, "basis": change.basis},
        "tune_worker_cpu_s": record["worker_cpu_s"],
        "reference_worker_cpu_s": ref["worker_cpu_s"],
        "cost_share": record["worker_cpu_s"] / ref["worker_cpu_s"] if ref["worker_cpu_s"] else None,
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("reference", "check"))
    parser.add_argument("workload")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--tune", type=Path)
    parser.add_argument("--ref", type=Path)
    parser.add_argument(
        "--against",
        help="check: a setting instead of --ref's best (a "
        "long time check's best, where no dense reference was measured)",
    )
    parser.add_argument("--line", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--span", type=float, default=1.0)
    parser.add_argument("--max-memory-ratio", type=float, default=DEFAULT_MAX_MEMORY_RATIO)
    args = parser.parse_args()
    doc = reference(args) if args.step == "reference" else check(args)
    print(json.dumps(doc, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
