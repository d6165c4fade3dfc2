"""Racing: which settings stop being measured after a round, and when a race is over.

After ``min_rounds`` rounds, a setting stops when its round-paired time ratio to the
current leader lies wholly above ``1 + min_gain`` (it is slower than the leader by more
than the smallest gain of interest) and it is not on the time × peak memory × p99 pause
front — a practical front (:func:`front_margins`): a setting stays on it only for less
memory or a shorter p99 pause, by a margin that matters, than every faster setting.
The leader is the fastest setting (round-paired ratio to default) whose memory is not
growing; ``default`` (the reference) and the leader are never stopped. The race is
over when the leader is separated from every other setting still racing — each slower
than it by more than ``min_gain`` over its whole interval, default and the front too —
or at the round cap.

Pure functions over saved points: a resumed sweep reaches the same decisions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional

from gctune.analysis.fmt import fmt_interval, fmt_ratio
from gctune.analysis.growth import point_growth
from gctune.analysis.intervals import Change
from gctune.analysis.recommend import DEFAULT_MIN_GAIN
from gctune.analysis.stats import pareto_front, workload_stats
from gctune.analysis.time_basis import time_change
from gctune.measure.settings import change_size
from gctune.store.race import IDENTICAL, IDENTICAL_WORK, OUT, OVER, Stop
from gctune.store.results import Point

__all__ = [
    "DEFAULT_MIN_GAIN",
    "P99_MARGIN",
    "Decision",
    "front_margins",
    "race_decisions",
]

# A tail pause is called shorter than another's only beyond 10% (as in gctune.analysis.recommend):
# histogram quantiles are within 2%, and tails move by a few percent between spans.
P99_MARGIN = 0.10


def front_margins(min_gain: float) -> tuple[float, float, float]:
    """Margins of the practical front racing keeps, per key (time, peak RSS, p99 pause).

    A setting stays in the race for another objective only for a trade that matters:
    less peak memory by more than ``min_gain`` (the smallest gain of interest), or a
    p99 pause shorter by more than ``P99_MARGIN``, than every faster setting's.
    """
    return (0.0, min_gain, P99_MARGIN)


@dataclass(frozen=True)
class Decision:
    """The outcome of one round: settings that stop (with why), and whether it is over."""

    leader: Optional[str]
    stopped: dict[str, Stop]
    over: Optional[Stop]


def race_decisions(
    points: Mapping[str, Point], *, round_number: int, min_gain: float = DEFAULT_MIN_GAIN
) -> Decision:
    """Decide, from the still-racing ``points`` (by setting id), who stops after a round."""
    default = points.get("default")
    if default is None or not default.ok:
        return Decision(None, {}, Stop(OVER, "no finished default point to compare with"))
    ratios = {"default": Change(1.0, 1.0, 1.0, False)}
    for setting, point in points.items():
        if setting == "default" or not point.ok:
            continue
        change = time_change(default, point)
        if change is not None:
            ratios[setting] = change
    same, kept = identical_work_stops(points, ratios, round_number)
    safe = [s for s in ratios if point_growth(points[s]).status != "growing"]
    leader = min(safe, key=lambda s: ratios[s].ratio) if safe else None
    if leader is None:
        return Decision(None, same, None)
    if leader in same and kept is not None:  # identical work: its kept twin leads instead
        leader = kept
    stats = workload_stats(list(points.values()))
    margins = front_margins(min_gain)
    front = {s.setting for rows in stats.values() for s in pareto_front(rows, tolerance=margins)}
    stopped: dict[str, Stop] = dict(same)
    separated = True
    for setting in ratios:
        if setting == leader or setting in same:
            continue
        versus = time_change(points[leader], points[setting])
        if versus is None or versus.low <= 1.0 + min_gain:
            separated = False
        elif setting != "default" and setting not in front:
            stopped[setting] = Stop(
                OUT,
                f"out after round {round_number}: time {fmt_ratio(versus.ratio)} of "
                f"{leader}'s {fmt_interval(versus.low, versus.high)}, slower by more than "
                f"{min_gain:.0%}, and not on the time × memory × p99 front",
            )
    over = (
        Stop(OVER, f"leader {leader} separated after round {round_number}") if separated else None
    )
    return Decision(leader, stopped, over)


def _collections(point: Point) -> int:
    return sum(h.count for run in point.runs for h in run.pauses.values())


def identical_work_stops(
    points: Mapping[str, Point], ratios: Mapping[str, Change], round_number: int
) -> tuple[dict[str, Stop], Optional[str]]:
    """Settings that stop because another still racing did the same GC work, and the one
    kept for all of them.

    Settings that ran no collection in any span so far (thresholds the workload never
    reaches, ``disabled``) ran the same program: their times can differ only by noise, so
    racing them against each other measures nothing. The smallest change among them is
    kept (``default`` when it is one of them); the others stop.
    """
    quiet = [s for s in ratios if points[s].ok and points[s].runs and not _collections(points[s])]
    if len(quiet) < 2:
        return {}, None
    default = points["default"]
    thresholds = list(default.runs[0].thresholds) if default.runs else [700, 10, 10]
    kept = min(quiet, key=lambda s: (s != "default", change_size(s, thresholds)))
    why = (
        f"out after round {round_number}: no collection in any span, {IDENTICAL_WORK}"
        f"{kept} (still racing), so its time can differ from it only by noise"
    )
    return {s: Stop(IDENTICAL, why, kept) for s in quiet if s != kept}, kept
