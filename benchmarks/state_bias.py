"""What selecting full-speed chunks changes: on the same spans of gate tries, each pair's
round-paired ratio over full-speed chunks, over every chunk, their paired quotient, and
the ratio over slow-state chunks only, pooled over the tries.

A chunk is in the fast state when the references on both sides read within ``--fast``
of the floor (the 5th percentile of the sweep's reference times), in the slow state when
both read above ``--slow`` times it; a span needs 3 such chunks, a round both sides.

    python benchmarks/state_bias.py /work/tries/gate*     # benchmarks/gate_tries.py directories
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gctune.analysis.intervals import t95  # noqa: E402
from gctune.analysis.paired import run_time  # noqa: E402
from gctune.analysis.speed_state import fast_floor, references  # noqa: E402
from gctune.store.results import Point, RunMetrics, load_sweep  # noqa: E402

SETTINGS = ("default", "disabled", "t70000-20-100+freeze")
Sample = Callable[[RunMetrics], Optional[float]]


def between(low: float, high: float) -> Sample:
    """A run's mean over the chunks whose references on both sides read in [low, high]."""

    def sample(run: RunMetrics) -> Optional[float]:
        refs = references(run)
        if not refs:
            return None
        kept = [
            v
            for i, v in enumerate(run.values)
            if low <= refs[i] <= high and low <= refs[i + 1] <= high
        ]
        return statistics.fmean(kept) if len(kept) >= 3 else None

    return sample


def pairs(points: list[Point]) -> dict[str, tuple[Point, Point]]:
    by = {(p.workload, p.setting): p for p in points if p.ok}
    out = {}
    for new in ("copy", "p5", "p10"):
        for s in SETTINGS:
            if ("base", s) in by and (new, s) in by:
                out[f"{new}/base @{s}"] = (by[("base", s)], by[(new, s)])
    for w in ("base", "copy", "p5", "p10"):
        for s in SETTINGS[1:]:
            if (w, "default") in by and (w, s) in by:
                out[f"{w} {s}/default"] = (by[(w, "default")], by[(w, s)])
    return out


def cell(logs: list[float]) -> str:
    if len(logs) < 2:
        return "-"
    m = statistics.fmean(logs)
    h = t95(len(logs) - 1) * statistics.stdev(logs) / math.sqrt(len(logs))
    return f"{math.exp(m):.3f} [{math.exp(m - h):.3f}, {math.exp(m + h):.3f}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tries", nargs="+", type=Path)
    parser.add_argument("--fast", type=float, default=1.25)
    parser.add_argument("--slow", type=float, default=1.6)
    args = parser.parse_args()
    rows: dict[str, list[list[float]]] = {}  # fast, every, quotient, slow
    for try_dir in args.tries:
        sweep = try_dir / "sweep" if (try_dir / "sweep").is_dir() else try_dir
        _, points = load_sweep(sweep)
        floor = fast_floor([p for p in points if p.ok])
        if floor is None:
            continue
        fast, slow = between(0.0, args.fast * floor), between(args.slow * floor, math.inf)
        for name, (b, n) in pairs(points).items():
            into = rows.setdefault(name, [[], [], [], []])
            rb = {r.round: r for r in b.runs if r.round is not None}
            rn = {r.round: r for r in n.runs if r.round is not None}
            for k in sorted(set(rb) & set(rn)):
                fb, fn = fast(rb[k]), fast(rn[k])
                eb, en = run_time(rb[k]), run_time(rn[k])
                if fb and fn and eb and en:
                    into[0].append(math.log(fn / fb))
                    into[1].append(math.log(en / eb))
                    into[2].append(math.log(fn / fb) - math.log(en / eb))
                sb, sn = slow(rb[k]), slow(rn[k])
                if sb and sn:
                    into[3].append(math.log(sn / sb))
    print("| pair | rounds | full speed | every chunk | full speed / every chunk, paired "
          "| slow state only (rounds) |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for name, (f, e, q, s) in sorted(rows.items()):
        print(f"| {name} | {len(f)} | {cell(f)} | {cell(e)} | {cell(q)} | {cell(s)} ({len(s)}) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
