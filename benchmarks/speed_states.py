"""Replay: round-paired time ratios from every chunk, and from the chunks that ran while
the machine was in its fast state, on sweeps already made.

Every span times the speed reference (about 0.13 ms of fixed work) before its first
chunk and after each one. On the shared machine the reference reads two speeds about 2x
apart, and flips between them several times a second even at load 1: a chunk's time
follows (1.2-1.5 ms a step of acyclic_churn in the fast state, 2.3-2.6 ms in the slow
one, in one span). Dividing by the reference was dropped because the reference also
moves with the work beside it (docs/time-reference.md). This script tries *selecting*
instead: a chunk counts only when the references on both sides of it read within
``--factor`` of the sweep's fast floor (its 5th percentile of reference times); a span
is the mean of its fast chunks (at least ``--min-chunks``), a round whose span on
either side has fewer is left out of that pair.

For gate tries (``benchmarks/gate_tries.py`` directories: files ``base``, ``copy``,
``p5``, ``p10``, settings of the example workflow) it prints each pair's ratio both ways
and the ``time:5%`` verdict of :func:`gctune.analysis.gate.time_regression` on each (95%
intervals per setting), then what ``gctune gate`` says (``time`` and ``fullspeed``, its
intervals family-wise over the settings: ``time`` over full-speed chunks where enough
rounds have them, :mod:`gctune.analysis.time_basis`), a table of tries failed (A/A) and
caught (+5 %, +10 %), and how many identical-copy comparisons came out significant at
95 % (what a sweep table or ``verify`` would call a difference). Reads JSON only: seconds.

    .venv/bin/python benchmarks/speed_states.py /work/tries/gate*
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

from gctune.analysis.comparison import Threshold  # noqa: E402
from gctune.analysis.gate import gate, time_regression  # noqa: E402
from gctune.analysis.intervals import Change  # noqa: E402
from gctune.analysis.paired import paired_ratios, ratio_change, run_mean  # noqa: E402
from gctune.analysis.speed_state import (  # noqa: E402
    fast_chunks,
    fast_floor,
    fast_time,
    references,
)
from gctune.analysis.time_basis import time_change  # noqa: E402
from gctune.store.results import Point, RunMetrics, load_sweep  # noqa: E402

Sample = Callable[[RunMetrics], Optional[float]]
NEW = ("copy", "p5", "p10")


def fast_sample(threshold: float, min_chunks: int) -> Sample:
    """gctune's fast-state time, at a threshold in seconds rather than over a floor."""
    return fast_time(threshold, 1.0, min_chunks)


def paired(base: Point, new: Point, sample: Sample) -> tuple[Optional[Change], list[float]]:
    ratios = paired_ratios(base, new, sample)
    return ratio_change(ratios), ratios


def _cell(change: Optional[Change], ratios: list[float]) -> str:
    if change is None:
        return "-"
    sd = statistics.stdev(math.log(r) for r in ratios)
    star = "*" if change.significant else " "
    return (
        f"{change.ratio:.3f}{star}[{change.low:.3f}, {change.high:.3f}] sd {sd:.3f} n={len(ratios)}"
    )


def replay(
    sweep: Path, factor: float, min_chunks: int, pairs: list[tuple[str, str]]
) -> dict[str, tuple[bool, bool]]:
    """Print one sweep's pairs (new, base); per new file: (failed in seconds, failed in
    fast chunks)."""
    _, points = load_sweep(sweep)
    floor = fast_floor(points) or math.nan
    fast = fast_sample(factor * floor, min_chunks)
    kept = sum(len(fast_chunks(r, factor * floor)) for p in points for r in p.runs)
    chunks = sum(len(r.values) for p in points for r in p.runs if references(r))
    print(f"{sweep}: fast floor {floor * 1e3:.3f} ms, fast chunks {kept} of {chunks}")
    by = {(p.workload, p.setting): p for p in points if p.ok}
    failed = {}
    for new, old in pairs:
        verdict = [False, False]
        for (w, s), base in sorted(by.items()):
            if w != old or (new, s) not in by:
                continue
            line = f"  {new}/{old} @{s:22}"
            for k, how in enumerate((run_mean, fast)):
                change, ratios = paired(base, by[(new, s)], how)
                fail = change is not None and time_regression(change, 0.05)
                verdict[k] = verdict[k] or fail
                said = "FAIL" if fail else "ok"
                line += f"  {('seconds', 'fast')[k]} {_cell(change, ratios):42} {said}"
            print(line)
        failed[new] = (verdict[0], verdict[1])
    for w in sorted({w for w, _ in by}):
        for s in sorted({s for (x, s) in by if x == w} - {"default"}):
            line = f"  {w} {s}/default{'':8}"
            for k, how in enumerate((run_mean, fast)):
                change, ratios = paired(by[(w, "default")], by[(w, s)], how)
                line += f"  {('seconds', 'fast')[k]} {_cell(change, ratios):42}"
            print(line)
    return failed


def _pooled(
    tries: list[Path], factor: float, min_chunks: int, pairs: list[tuple[str, ...]]
) -> None:
    """Every round of every try pooled, per pair and setting: the ratio both ways (to set
    beside a known difference), and the settings' ratios to default."""
    pooled: dict[tuple[str, str, str], list[list[float]]] = {}
    for try_dir in tries:
        sweep = try_dir / "sweep" if (try_dir / "sweep").is_dir() else try_dir
        _, points = load_sweep(sweep)
        fast = fast_sample(factor * (fast_floor(points) or math.nan), min_chunks)
        by = {(p.workload, p.setting): p for p in points if p.ok}
        wanted = [(new, old, s) for new, old in pairs for (w, s) in by if w == old]
        wanted += [(w, w, s) for (w, s) in by if s != "default"]
        for new, old, s in wanted:
            b = by.get((old, "default" if new == old else s))
            n = by.get((new, s))
            if b is None or n is None:
                continue
            cell = pooled.setdefault((new, old, s), [[], []])
            for k, how in enumerate((run_mean, fast)):
                cell[k] += paired(b, n, how)[1]
    print("\npooled over the tries (every round): seconds / fullspeed")
    for (new, old, s), (secs, fast_ratios) in sorted(pooled.items()):
        name = f"{new} {s}/default" if new == old else f"{new}/{old} @{s}"
        print(
            f"  {name:40} {_cell(ratio_change(secs), secs):42} "
            f"{_cell(ratio_change(fast_ratios), fast_ratios)}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tries", nargs="+", type=Path, help="gate try directories")
    parser.add_argument("--factor", type=float, default=1.25, help="fast: within this of the floor")
    parser.add_argument("--min-chunks", type=int, default=3, help="fast chunks a span needs")
    parser.add_argument(
        "--pair", action="append", default=None, help="NEW/BASE file ids (default: the tries')"
    )
    args = parser.parse_args()
    pairs = [tuple(p.split("/", 1)) for p in args.pair or [f"{n}/base" for n in NEW]]
    tally = {new: [0, 0, 0, 0] for new, _ in pairs}
    aa = [0, 0, 0]  # identical pairs significant at 95%: every chunk, full speed, time_change
    gated = [Threshold("time", 0.05), Threshold("fullspeed", 0.05)]
    for try_dir in args.tries:
        sweep = try_dir / "sweep" if (try_dir / "sweep").is_dir() else try_dir
        got = replay(sweep, args.factor, args.min_chunks, pairs)
        for k, n in enumerate(_aa_significant(sweep)):
            aa[k] += n
        for new, old in pairs:
            rows = gate(sweep, old, new, gated)  # as gctune gate says it: family-wise
            metrics = ("time", "fullspeed")
            shipped = [any(r.regression for r in rows if r.metric == m) for m in metrics]
            print(f"  gctune gate {new} vs {old}: time {shipped[0]}, fast {shipped[1]}")
            for k, failed in enumerate((got[new][0], shipped[0], got[new][1], shipped[1])):
                tally[new][k] += failed
    _pooled(args.tries, args.factor, args.min_chunks, pairs)
    if args.pair:
        return 0
    n = len(args.tries)
    print(
        f"\n| {n} tries, gate 5% | every chunk, 95% per setting | gctune gate `time` "
        "(family-wise) | full-speed chunks, 95% per setting | gctune gate `fullspeed` "
        "(family-wise) |"
    )
    print("|---|---|---|---|---|")
    what = ("A/A (identical copy): failed", "+5% work: caught", "+10% work: caught")
    for new, said in zip(NEW, what):
        print(f"| {said} | " + " | ".join(f"{c} of {n}" for c in tally[new]) + " |")
    total = 3 * n
    print(
        f"\nidentical-copy comparisons significant at 95% (of {total}): every chunk {aa[0]}, "
        f"full-speed chunks {aa[1]}, gctune's time ratio (time_basis.time_change) {aa[2]}"
    )
    return 0


def _aa_significant(sweep: Path) -> tuple[int, int, int]:
    """copy/base under each setting: significant at 95% in every chunk's seconds, in
    full-speed chunks (the sweep's floor), and as gctune's time ratio takes it."""
    _, points = load_sweep(sweep)
    by = {(p.workload, p.setting): p for p in points if p.ok}
    floor = fast_floor(points) or math.nan
    out = [0, 0, 0]
    for (w, s), base in by.items():
        new = by.get(("copy", s))
        if w != "base" or new is None:
            continue
        changes = (
            paired(base, new, run_mean)[0],
            paired(base, new, fast_sample(1.25 * floor, 3))[0],
            time_change(base, new),
        )
        for k, c in enumerate(changes):
            out[k] += bool(c is not None and c.significant)
    return out[0], out[1], out[2]


if __name__ == "__main__":
    sys.exit(main())
