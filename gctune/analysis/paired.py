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
is kept only as a witness of the machine's speed (:func:`run_loops`) and to *select* the
chunks run at the machine's full speed (:mod:`gctune.analysis.time_basis`).

Points without rounds (format 1 files, ``--command`` points) fall back to the unpaired
bootstrap of :func:`gctune.analysis.intervals.compare_samples`.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Callable, Optional

from gctune.analysis.intervals import Change, compare_samples, t95, t_interval
from gctune.measure.reference import normalized_mean
from gctune.store.results import Point, RunMetrics

__all__ = [
    "by_round",
    "half_width",
    "paired_change",
    "paired_logs",
    "paired_ratios",
    "ratio_change",
    "run_loops",
    "run_mean",
    "run_time",
]

RunSample = Callable[[RunMetrics], Optional[float]]


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
