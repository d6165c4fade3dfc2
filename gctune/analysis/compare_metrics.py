"""One point against another, metric by metric: time, CPU and p99 in seconds (paired
within rounds when both were measured in spans), collections and memory from counters,
each with its interval or bounds and whether it is beyond its gate."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Optional

from gctune.analysis.collection_rates import compare_rates
from gctune.analysis.comparison import (
    MetricResult,
)
from gctune.analysis.intervals import Change, compare_samples
from gctune.analysis.stats import run_cpu_per_step, run_latency_p99, run_means, run_peak_rss
from gctune.store.results import Point


def run_p99s(point: Point) -> list[float]:
    """GC pause p99 of each run that collected at least once, nanoseconds.

    A run without collections has no pause to regress, so it is not a sample here.
    """
    p99s = run_latency_p99(point, requests=False)
    return [p99 for p99, run in zip(p99s, point.runs) if run.collections]


def _steps(point: Point) -> list[int]:
    """Steps measured in each run: its span's, else values x loops (format 1)."""
    loops = point.loops or 1
    return [run.steps or len(run.values) * loops for run in point.runs]


def _count_samples(point: Point, metric: str, generation: Optional[int]) -> list[int]:
    if metric == "collected":
        return [sum(run.collected.values()) for run in point.runs]
    assert generation is not None
    return [run.pauses[generation].count if generation in run.pauses else 0 for run in point.runs]


def beyond(change: Change, limit: float) -> bool:
    """True when ``change`` is an increase beyond ``limit`` (a fraction) with confidence.

    The whole 95% interval must lie above ``1 + limit``; a point estimate past the
    limit with an interval reaching below it is noise as far as the gate is concerned.
    """
    return change.significant and change.low > 1.0 + limit


def _sampled(
    metric: str, base: Sequence[float], new: Sequence[float], limit: Optional[float]
) -> MetricResult:
    if not base or not new:
        side = "base" if not base else "new"
        return MetricResult(
            metric,
            metric,
            math.nan,
            math.nan,
            math.nan,
            math.nan,
            math.nan,
            False,
            limit,
            False,
            f"no sample on the {side} side",
        )
    change = compare_samples(base, new)
    note = "" if min(len(base), len(new)) >= 2 else "one run: no interval, never significant"
    regression = limit is not None and beyond(change, limit)
    return MetricResult(
        metric,
        metric,
        statistics.fmean(base),
        statistics.fmean(new),
        change.ratio,
        change.low,
        change.high,
        change.significant,
        limit,
        regression,
        note,
    )


def _counted(
    name: str,
    gate: str,
    base_point: Point,
    new_point: Point,
    generation: Optional[int],
    limit: Optional[float],
) -> MetricResult:
    """Compare a count as a rate per measured step (see the module docstring)."""
    if gate == "collections" and generation is not None and _all_spans(base_point, new_point):
        return _span_rates(name, base_point, new_point, generation, limit)
    sides = []
    for point in (base_point, new_point):
        counts = _count_samples(point, gate, generation)
        steps = _steps(point)
        rates = [c / s for c, s in zip(counts, steps)]
        # one event's worth of this count, for the quantisation allowance
        events = sum(run.collections for run in point.runs)
        worth = sum(counts) / events if gate == "collected" and events else 1.0
        spans = statistics.fmean(len(run.values) for run in point.runs)
        quantum = (spans + 1) * worth / statistics.fmean(steps)
        sides.append((sum(counts) / sum(steps), set(steps), max(rates) - min(rates), quantum))
    (base_rate, base_steps, base_spread, base_q), (new_rate, new_steps, new_spread, new_q) = sides
    same_steps = len(base_steps | new_steps) == 1
    allowance = base_spread + new_spread + (0.0 if same_steps else base_q + new_q)
    ratio = _ratio(new_rate, base_rate)
    low = _ratio(max(0.0, new_rate - allowance), base_rate)
    high = _ratio(new_rate + allowance, base_rate)
    significant = abs(new_rate - base_rate) > allowance
    regression = limit is not None and new_rate > base_rate * (1.0 + limit) + allowance
    notes = []
    if not same_steps:
        notes.append(f"steps per run differ ({_span(base_steps)} vs {_span(new_steps)})")
    if base_spread or new_spread:
        notes.append("runs disagree")
    note = "exact" if allowance == 0 else f"allowance ±{allowance:.3g}/step: " + ", ".join(notes)
    return MetricResult(
        name, gate, base_rate, new_rate, ratio, low, high, significant, limit, regression, note
    )


def _all_spans(*points: Point) -> bool:
    return all(run.span and run.steps for p in points for run in p.runs)


def _span_rates(
    name: str, base: Point, new: Point, generation: int, limit: Optional[float]
) -> MetricResult:
    """Collections per step of points measured in spans (format 2).

    Bounds from :mod:`gctune.analysis.collection_rates`.
    """
    c = compare_rates(base.runs, new.runs, generation, limit)
    significant = c.new.low > c.base.high or c.new.high < c.base.low
    return MetricResult(
        name,
        "collections",
        c.base.rate,
        c.new.rate,
        c.ratio,
        c.low,
        c.high,
        significant,
        limit,
        c.regression,
        "exact" if c.exact else c.note(),
    )


def _ratio(new: float, base: float) -> float:
    if base:
        return new / base
    return 1.0 if new == 0 else math.inf


def _span(steps: set[int]) -> str:
    return str(min(steps)) if len(steps) == 1 else f"{min(steps)}-{max(steps)}"


TIMED = ("time", "cpu", "p99")
"""The metrics that are durations: they depend on the machine that measured them."""


def _not_timed(metric: str) -> MetricResult:
    nan = math.nan
    note = "not compared: measured on different machines"
    return MetricResult(metric, metric, nan, nan, nan, nan, nan, False, None, False, note)


def compare_points(
    base: Point, new: Point, limits: dict[str, float], *, timed: bool = True
) -> tuple[MetricResult, ...]:
    """Every metric of two finished points; ``limits`` maps a gate to its fraction.

    Without ``timed`` (two machines), the durations of :data:`TIMED` are not compared."""
    out = [
        _sampled("time", run_means(base), run_means(new), limits.get("time")),
        _sampled("cpu", run_cpu_per_step(base), run_cpu_per_step(new), limits.get("cpu")),
        _sampled("p99", run_p99s(base), run_p99s(new), limits.get("p99")),
        _sampled("rss", run_peak_rss(base), run_peak_rss(new), limits.get("rss")),
    ]
    if not timed:
        out = [_not_timed(m.metric) if m.metric in TIMED else m for m in out]
    generations = sorted({g for p in (base, new) for run in p.runs for g in run.pauses})
    for gen in generations:
        name = f"collections gen{gen}"
        out.append(_counted(name, "collections", base, new, gen, limits.get("collections")))
    out.append(_counted("collected", "collected", base, new, None, limits.get("collected")))
    return tuple(out)
