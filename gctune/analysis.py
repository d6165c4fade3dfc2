"""Statistics of saved points: named once here, reused by every table, chart and report.

Pure functions over :class:`gctune.results.Point`; nothing here prints or plots.
Times in seconds per step, pauses in nanoseconds, memory in bytes.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

from gctune.histogram import Histogram
from gctune.results import Point

__all__ = [
    "Change",
    "PointStats",
    "compare_samples",
    "point_stats",
    "run_cpu_per_step",
    "run_means",
    "t_interval",
    "workload_stats",
]

PAUSE_QUANTILES = (("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("p999", 0.999))


@dataclass(frozen=True)
class PointStats:
    """The statistics of one point. ``*_ratio`` fields are relative to ``default``."""

    workload: str
    setting: str
    ok: bool
    reason: Optional[str]
    n_values: int
    mean_s: float
    median_s: float
    stdev_s: float
    ci_low_s: float
    ci_high_s: float
    time_ratio: Optional[float]
    gc_share: float
    collections: int
    collections_by_gen: dict[int, int]
    collected: int
    uncollectable: int
    pause_total_ns: int
    pause_p50_ns: float
    pause_p90_ns: float
    pause_p99_ns: float
    pause_p999_ns: float
    pause_max_ns: float
    peak_rss_bytes: int
    rss_ratio: Optional[float]
    request_p50_ns: Optional[float]
    request_p99_ns: Optional[float]
    request_max_ns: Optional[float]


# Two-sided 95% Student t quantiles for small samples; normal beyond.
_T95 = {
    1: 12.706,
    2: 4.303,
    3: 3.182,
    4: 2.776,
    5: 2.571,
    6: 2.447,
    7: 2.365,
    8: 2.306,
    9: 2.262,
    10: 2.228,
    12: 2.179,
    15: 2.131,
    20: 2.086,
    30: 2.042,
    60: 2.000,
}


def _t95(dof: int) -> float:
    for known in sorted(_T95):
        if dof <= known:
            return _T95[known]
    return 1.96


def t_interval(values: Sequence[float]) -> tuple[float, float]:
    """95% confidence interval of the mean (Student t); (mean, mean) for one value."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, mean
    half = _t95(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    return mean - half, mean + half


def _merged(hists: Sequence[Histogram]) -> Histogram:
    total = Histogram()
    for h in hists:
        total.merge(h)
    return total


def point_stats(point: Point, default: Optional[Point] = None) -> PointStats:
    """Statistics of ``point``; ratios against ``default`` when it is given and finished."""
    if not point.ok:
        nan = math.nan
        return PointStats(
            point.workload,
            point.setting,
            False,
            point.reason,
            0,
            nan,
            nan,
            nan,
            nan,
            nan,
            None,
            nan,
            0,
            {},
            0,
            0,
            0,
            nan,
            nan,
            nan,
            nan,
            nan,
            0,
            None,
            None,
            None,
            None,
        )
    values = point.values
    pauses = _merged([h for run in point.runs for h in run.pauses.values()])
    by_gen: dict[int, int] = {}
    for run in point.runs:
        for gen, hist in run.pauses.items():
            by_gen[gen] = by_gen.get(gen, 0) + hist.count
    wall = sum(run.wall_ns for run in point.runs)
    requests = _merged([run.requests for run in point.runs if run.requests is not None])
    low, high = t_interval(values)
    median = statistics.median(values)
    peak = max(run.peak_rss_bytes for run in point.runs)
    time_ratio = rss_ratio = None
    if default is not None and default.ok and default is not point:
        time_ratio = median / statistics.median(default.values)
        rss_ratio = peak / max(run.peak_rss_bytes for run in default.runs)
    elif default is point:
        time_ratio = rss_ratio = 1.0
    q = {name: pauses.quantile(p) for name, p in PAUSE_QUANTILES}
    return PointStats(
        workload=point.workload,
        setting=point.setting,
        ok=True,
        reason=None,
        n_values=len(values),
        mean_s=statistics.fmean(values),
        median_s=median,
        stdev_s=statistics.stdev(values) if len(values) > 1 else 0.0,
        ci_low_s=low,
        ci_high_s=high,
        time_ratio=time_ratio,
        gc_share=pauses.total / wall if wall else 0.0,
        collections=pauses.count,
        collections_by_gen=by_gen,
        collected=sum(n for run in point.runs for n in run.collected.values()),
        uncollectable=sum(n for run in point.runs for n in run.uncollectable.values()),
        pause_total_ns=pauses.total,
        pause_p50_ns=q["p50"],
        pause_p90_ns=q["p90"],
        pause_p99_ns=q["p99"],
        pause_p999_ns=q["p999"],
        pause_max_ns=float(pauses.max),
        peak_rss_bytes=peak,
        rss_ratio=rss_ratio,
        request_p50_ns=requests.quantile(0.5) if requests.count else None,
        request_p99_ns=requests.quantile(0.99) if requests.count else None,
        request_max_ns=float(requests.max) if requests.count else None,
    )


def workload_stats(points: Sequence[Point]) -> dict[str, list[PointStats]]:
    """Statistics of every point, grouped by workload, each against its workload's default."""
    grouped: dict[str, list[Point]] = {}
    for point in points:
        grouped.setdefault(point.workload, []).append(point)
    out: dict[str, list[PointStats]] = {}
    for workload, group in grouped.items():
        default = next((p for p in group if p.setting == "default"), None)
        out[workload] = [point_stats(p, default) for p in group]
    return out


@dataclass(frozen=True)
class Change:
    """``new`` relative to ``base``: ratio of means with a 95% bootstrap interval.

    ``significant`` is True when the interval excludes 1.0 (no change).
    """

    ratio: float
    low: float
    high: float
    significant: bool


def run_means(point: Point) -> list[float]:
    """Mean time per step of each worker run (seconds): the independent samples.

    Values within one worker process share its hash seed and memory layout, so the
    process, not the value, is the unit of resampling.
    """
    return [statistics.fmean(run.values) for run in point.runs if run.values]


def run_cpu_per_step(point: Point) -> list[float]:
    """Process CPU seconds per step of each worker run that recorded CPU time.

    A run's timed spans cover ``len(values) * loops`` steps.
    """
    loops = point.loops or 1
    return [
        run.cpu_ns / 1e9 / (len(run.values) * loops)
        for run in point.runs
        if run.cpu_ns is not None and run.values
    ]


def compare_samples(
    base: Sequence[float], new: Sequence[float], *, resamples: int = 2000, seed: int = 0
) -> Change:
    """Ratio ``mean(new) / mean(base)`` with a percentile-bootstrap 95% interval.

    Both samples are resampled independently; the seed makes the interval reproducible.
    Samples of one element give a zero-width interval that is never significant.
    """
    if not base or not new:
        raise ValueError("both samples need at least one value")
    ratio = statistics.fmean(new) / statistics.fmean(base)
    if len(base) < 2 or len(new) < 2:
        return Change(ratio, ratio, ratio, False)
    rng = random.Random(seed)
    ratios = sorted(
        statistics.fmean(rng.choices(new, k=len(new)))
        / statistics.fmean(rng.choices(base, k=len(base)))
        for _ in range(resamples)
    )
    low = ratios[int(0.025 * resamples)]
    high = ratios[min(resamples - 1, int(0.975 * resamples))]
    return Change(ratio, low, high, not low <= 1.0 <= high)
