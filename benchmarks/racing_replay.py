"""Racing replayed on a sweep measured without it: the same data, with and without the rule.

A racing sweep and a full sweep measured one after the other differ in two ways: the
racing rule, and the machine's noise between the two runs. Replaying the rule on a full
(``--no-racing``) sweep's own spans separates them: after each round from the minimum
on, :func:`gctune.sweep.racing.race_decisions` sees each still-racing setting's runs up to
that round, exactly as a live race would, and a stopped setting keeps only the rounds
it had. The recommendation from the kept runs is then compared with the full sweep's,
and the spans (and worker seconds, pro rata) kept with all of them.

    python benchmarks/racing_replay.py SWEEP_DIR [--min-rounds 3] [--min-gain 2]
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from gctune.analysis.recommend import recommend
from gctune.analysis.stats import workload_stats
from gctune.store.results import Point, load_sweep
from gctune.sweep.racing import race_decisions


def _upto(point: Point, last: int) -> Point:
    return replace(point, runs=tuple(r for r in point.runs if (r.round or 0) <= last))


def replay(
    points: list[Point], min_rounds: int, min_gain: float
) -> tuple[dict[str, int], dict[str, str]]:
    """Rounds each setting of one workload would have got under racing, and why the
    settings racing stopped were stopped (what a live race writes in ``race.stopped``)."""
    stopped: dict[str, str] = {}
    cap = max((r.round or 0) for p in points for r in p.runs)
    rounds = {p.setting: cap for p in points}
    racing = {p.setting: p for p in points if p.ok}
    for r in range(min_rounds, cap):
        seen = {s: _upto(p, r) for s, p in racing.items()}
        decision = race_decisions(seen, round_number=r, min_gain=min_gain)
        # a race that is over stops everyone, default and the leader too (gctune.sweep.rounds)
        out = set(racing) if decision.over is not None else set(decision.stopped)
        for s in out:
            rounds[s] = r
            racing.pop(s)
            if s in decision.stopped:
                stopped[s] = decision.stopped[s].text
        if not racing:
            break
    return rounds, stopped


def _pick(points: list[Point], min_gain: float) -> str:
    rows = workload_stats(points)
    (stats,) = rows.values()
    return recommend(stats, points, min_gain=min_gain).setting


def main() -> None:
    """Print, per workload, spans kept and the recommendation with and without racing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", type=Path)
    parser.add_argument("--min-rounds", type=int, default=3)
    parser.add_argument("--min-gain", type=float, default=2.0, help="percent")
    args = parser.parse_args()
    gain = args.min_gain / 100
    _, points = load_sweep(args.sweep)
    print("| workload | spans kept | worker time kept | full sweep picks | racing picks |")
    print("|---|---|---|---|---|")
    total = kept = 0
    seconds = kept_seconds = 0.0
    for workload in sorted({p.workload for p in points}):
        mine = [p for p in points if p.workload == workload]
        rounds, stopped = replay(mine, args.min_rounds, gain)
        raced = [
            replace(_upto(p, rounds[p.setting]), race={"stopped": stopped.get(p.setting)})
            for p in mine
        ]
        n_all = sum(len(p.runs) for p in mine)
        n_kept = sum(len(p.runs) for p in raced)
        s_all = sum(p.duration_s or 0.0 for p in mine)
        s_kept = sum((p.duration_s or 0.0) * len(q.runs) / max(1, len(p.runs))
                     for p, q in zip(mine, raced))  # fmt: skip
        total, kept, seconds, kept_seconds = (
            total + n_all,
            kept + n_kept,
            seconds + s_all,
            kept_seconds + s_kept,
        )
        print(
            f"| {workload} | {n_kept} of {n_all} ({n_kept / n_all:.0%}) | "
            f"{s_kept:.0f} of {s_all:.0f} s ({s_kept / s_all:.0%}) | "
            f"{_pick(mine, gain)} | {_pick(raced, gain)} |"
        )
    share = kept_seconds / seconds
    print(f"| all | {kept} of {total} ({kept / total:.0%}) | "
          f"{kept_seconds:.0f} of {seconds:.0f} s ({share:.0%}) | | |")  # fmt: skip


if __name__ == "__main__":
    main()
