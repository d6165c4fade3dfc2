"""Round-paired comparisons: ratios within rounds, intervals over rounds.

A sweep measures every setting of a workload once per round, in a shuffled order (see
:mod:`gctune.sweep.rounds`), so a slow minute of the machine hits all settings of a round
alike. A setting is compared with a reference by the ratio of their samples *within*
each round both were measured in; the ratio reported is the geometric mean of those
per-round ratios and its 95% interval a Student-t interval of their logarithms over
rounds. Drift between rounds cancels; drift within a round is what the interval sees.

Time is compared in seconds (:func:`run_time`). Every span also times a speed reference
(:mod:`gctune.measure.reference`), and gctune once divided by it. Measured against known
differences (``benchmarks/time_truth.py``, ``docs/time-reference.md``), dividing took
noise out only while the machine switched speed, and then the reference also ran 2-4%
faster or slower beside one side's work than the other's — a bias of that size; it took
nothing out when other processes took the CPU, and it multiplied the noise of
sleep-bound steps (two identical settings came out a "significant" 1.26x apart). So it
is kept only as a witness of the machine's speed (:func:`speed_range`,
:func:`run_loops`).

Points without rounds (format 1 files, ``--command`` points) fall back to the unpaired
bootstrap of :func:`gctune.analysis.intervals.compare_samples`.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Callable, Optional

from gctune.analysis.intervals import Change, compare_samples, t95, t_interval
from gctune.measure.reference import normalized_mean
from gctune.store.results import Point, RunMetrics

__all__ = [
    "RoundSpread",
    "by_round",
    "half_width",
    "paired_change",
    "paired_logs",
    "paired_ratios",
    "ratio_change",
    "round_spread",
    "TIME_BASIS",
    "run_loops",
    "run_mean",
    "run_time",
    "speed_range",
]

RunSample = Callable[[RunMetrics], Optional[float]]

TIME_BASIS = (
    "time ratios round-paired in seconds (the speed reference is only a witness of the "
    "machine's speed: docs/time-reference.md)"
)
"""What time ratios are taken in, for every table's legend."""


def run_mean(run: RunMetrics) -> Optional[float]:
    """Mean time per step of one run (seconds), None without values."""
    return statistics.fmean(run.values) if run.values else None


def run_time(run: RunMetrics) -> Optional[float]:
    """Mean time per step of one run in seconds: what time ratios are paired on."""
    return run_mean(run)


def run_loops(run: RunMetrics) -> Optional[float]:
    """Mean time per step of one run in speed-reference loops (None without a reference
    record): a diagnostic, never what gctune's time ratios are taken in."""
    if not run.reference:
        return None
    return normalized_mean(run.values, run.reference.get("seconds") or ())


def _runs_by_round(point: Point) -> dict[int, RunMetrics]:
    return {run.round: run for run in point.runs if run.round is not None}


def by_round(point: Point, sample: RunSample = run_time) -> dict[int, float]:
    """``sample`` of each of the point's runs, keyed by round (runs without one: none)."""
    out: dict[int, float] = {}
    for number, run in _runs_by_round(point).items():
        value = sample(run)
        if value is not None:
            out[number] = value
    return out


def paired_ratios(base: Point, new: Point, sample: RunSample = run_time) -> list[float]:
    """``new / base`` within each round both measured (rounds where base is 0 left out)."""
    b, n = _runs_by_round(base), _runs_by_round(new)
    out = []
    for number in sorted(set(b) & set(n)):
        low, high = sample(b[number]), sample(n[number])
        if low is not None and high is not None and low > 0 and high > 0:
            out.append(high / low)
    return out


def paired_logs(base: Point, new: Point, sample: RunSample = run_time) -> list[float]:
    """Logarithms of :func:`paired_ratios`: the per-round samples intervals are made of."""
    return [math.log(r) for r in paired_ratios(base, new, sample)]


def half_width(spread: float, rounds: int) -> float:
    """Half-width, in log units, of the 95% t-interval of a mean over ``rounds`` rounds
    whose per-round log ratios have standard deviation ``spread``."""
    return t95(rounds - 1) * spread / math.sqrt(rounds)


def ratio_change(ratios: Sequence[float], confidence: float = 0.95) -> Optional[Change]:
    """Geometric mean of per-round ratios with a t-interval of their logarithms (95%
    unless said); None for fewer than two rounds."""
    if len(ratios) < 2:
        return None
    logs = [math.log(r) for r in ratios]
    low, high = t_interval(logs, confidence)
    lo, hi = math.exp(low), math.exp(high)
    return Change(math.exp(statistics.fmean(logs)), lo, hi, not lo <= 1.0 <= hi)


def paired_change(
    base: Point, new: Point, sample: RunSample = run_time, confidence: float = 0.95
) -> Optional[Change]:
    """``new`` relative to ``base``: geometric mean of per-round ratios, t-interval (95%
    unless said).

    Falls back to the unpaired bootstrap (95%) when the points share fewer than two
    rounds. None when there is nothing to compare (no samples, or a reference of zeros).
    """
    change = ratio_change(paired_ratios(base, new, sample), confidence)
    if change is not None:
        return change
    b = [v for v in (sample(r) for r in base.runs) if v is not None]
    n = [v for v in (sample(r) for r in new.runs) if v is not None]
    if not b or not n or sum(b) <= 0:
        return None
    return compare_samples(b, n)


@dataclass(frozen=True)
class RoundSpread:
    """How much a workload's time ratios to default moved from round to round.

    ``spread``: the median, over its settings, of the standard deviation of the
    per-round log ratios (0.05: about 5% a round); ``rounds``: the median number of
    rounds paired; ``half_width``: the 95% interval's relative half-width that spread and
    those rounds give a ratio; ``rounds_needed``: the rounds that would narrow it to
    ``target``; ``speed_range``: the slowest span's speed reference over the fastest's
    (1.7: the machine ran some spans 1.7x slower than others), None without references.
    """

    spread: float
    rounds: int
    half_width: float
    rounds_needed: int
    target: float
    speed_range: Optional[float] = None

    def line(self) -> str:
        """One line for a summary or a report."""
        text = (
            f"round to round, time ratios to default moved {self.spread:.0%} (median over "
            f"settings): {self.rounds} rounds give an interval of about ±{self.half_width:.0%}"
            f"; ±{self.target:.0%} would take about {self.rounds_needed} rounds (--rounds)"
        )
        if self.speed_range is not None and self.speed_range >= 1.1:
            text += (
                f"; the machine itself ran some spans {self.speed_range:.1f}x slower than "
                "others (speed reference): pairing in rounds cancels what a round's spans "
                "share, the interval holds the rest"
            )
        return text


def speed_range(points: Sequence[Point]) -> Optional[float]:
    """The slowest over the fastest span's median speed-reference time (one interpreter's
    spans only); None without two spans that timed the same reference."""
    by_python: dict[str, list[float]] = {}
    for run in (r for p in points for r in p.runs):
        if not run.reference:
            continue
        seconds = run.reference.get("seconds") or []
        if seconds and min(seconds) > 0:
            key = str(run.reference.get("python"))
            by_python.setdefault(key, []).append(statistics.median(seconds))
    ranges = [max(v) / min(v) for v in by_python.values() if len(v) >= 2]
    return max(ranges) if ranges else None


def round_spread(points: Sequence[Point], *, target: float = 0.03) -> Optional[RoundSpread]:
    """The round-to-round spread of one workload's paired time ratios; None without a
    finished default or without a setting paired in two rounds."""
    default = next((p for p in points if p.setting == "default" and p.ok), None)
    if default is None:
        return None
    spreads: list[float] = []
    counts: list[int] = []
    for point in points:
        if point is default or not point.ok:
            continue
        logs = paired_logs(default, point)
        if len(logs) >= 2:
            spreads.append(statistics.stdev(logs))
            counts.append(len(logs))
    if not spreads:
        return None
    spread = statistics.median(spreads)
    rounds = int(statistics.median(counts))

    def half(n: int) -> float:
        return math.exp(half_width(spread, n)) - 1

    needed = rounds
    while half(needed) > target and needed < 10_000:
        needed += 1
    return RoundSpread(spread, rounds, half(rounds), needed, target, speed_range(points))
