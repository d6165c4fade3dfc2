"""Collections per step, per generation, and how far a measured rate can be from the truth.

A span's count of collections is exact, but its rate per step is not: the span starts
and ends at arbitrary points of the collector's rhythm, so a span of ``S`` steps that
saw ``c`` collections of a generation had a true rate anywhere in ``[(c-1)/S, (c+1)/S]``.
A span that recorded where its full collections happened (``full_at``: the steps done
at the end of the chunk holding each) is better placed: it started within one chunk of
a full collection (it settled on one, or began at ``gc.collect()``) and its ``n``-th
ended the chunk at ``F = full_at[n-1]``, so ``n`` periods lie within ``F ± chunk`` steps
and the full rate is ``n/F``, in ``[n/(F + chunk), n/(F - chunk)]``. ``F``, not the
span's steps: a span that reached its full collections before its minimum steps ran on
past the last one (a tiny acyclic_churn sweep: 12 full collections, the 12th at step
1632 of 1700), and ``S ± chunk`` then excluded the true rate.

When every span of both sides measured the same number of steps, both start and end at
the same points of the rhythm and that quantisation cancels: the comparison is exact.

Over the rounds of a side, the rate is the mean of its spans' rates; its bounds are the
means of theirs, widened by the 95% t-interval of the spans' own variation (a workload
whose collections vary from span to span says so by that spread). A rate
regresses when the new side's lower bound exceeds the base side's upper bound
× (1 + threshold): doubling a generation's collections fails ``collections:0%`` once a
span holds a few chunks, and identical code passes.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

from gctune.analysis.intervals import t95
from gctune.store.results import RunMetrics

__all__ = ["CountChange", "SideRate", "compare_rates", "side_rate"]


@dataclass(frozen=True)
class SideRate:
    """One side's collections of one generation per step: mean over spans, and bounds."""

    rate: float
    low: float
    high: float
    steps: tuple[int, ...]


def _span_bounds(run: RunMetrics, generation: int, exact: bool) -> tuple[float, float, float]:
    steps = run.steps or 1
    count = run.pauses[generation].count if generation in run.pauses else 0
    rate = count / steps
    if exact:
        return rate, rate, rate
    span = run.span or {}
    chunk = span.get("chunk")
    full = span.get("full_generation", 2)  # as gctune.analysis.stats reads it
    full_at = span.get("full_at")
    if (
        isinstance(full, int)
        and generation >= full
        and isinstance(chunk, int)
        and isinstance(full_at, list)
        and count
        and len(full_at) == count  # not thinned (MAX_SAMPLES)
        and isinstance(full_at[-1], int)
        and full_at[-1] > chunk
    ):
        last = full_at[-1]
        return count / last, count / (last + chunk), count / (last - chunk)
    return rate, max(count - 1, 0) / steps, (count + 1) / steps


def side_rate(runs: Sequence[RunMetrics], generation: int, *, exact: bool) -> SideRate:
    """The rate of ``generation``'s collections per step over ``runs`` (spans), with the
    bounds described in the module docstring; ``exact``: no quantisation allowance."""
    spans = [_span_bounds(r, generation, exact) for r in runs if r.steps]
    if not spans:
        return SideRate(math.nan, math.nan, math.nan, ())
    rates = [s[0] for s in spans]
    rate = statistics.fmean(rates)
    low = statistics.fmean(s[1] for s in spans)
    high = statistics.fmean(s[2] for s in spans)
    if len(rates) > 1:
        spread = t95(len(rates) - 1) * statistics.stdev(rates) / math.sqrt(len(rates))
        low, high = max(0.0, low - spread), high + spread
    return SideRate(rate, low, high, tuple(r.steps or 0 for r in runs if r.steps))


@dataclass(frozen=True)
class CountChange:
    """New's rate relative to base's, the ratio's bounds, and the verdict."""

    base: SideRate
    new: SideRate
    ratio: float
    low: float
    high: float
    regression: bool
    exact: bool

    def note(self) -> str:
        """``0.0559 vs 0.112 per step, exact`` or with the bounds."""
        b, n = self.base, self.new
        text = f"{b.rate:.4g} vs {n.rate:.4g} per step"
        if self.exact:
            return text + ", exact (equal steps per span)"
        return text + f" (bounds [{b.low:.4g}, {b.high:.4g}] vs [{n.low:.4g}, {n.high:.4g}])"


def _ratio(new: float, base: float) -> float:
    if base:
        return new / base
    return 1.0 if new == 0 else math.inf


def compare_rates(
    base: Sequence[RunMetrics], new: Sequence[RunMetrics], generation: int, limit: Optional[float]
) -> CountChange:
    """Compare ``generation``'s collections per step of two sets of spans."""
    steps = {r.steps for r in (*base, *new) if r.steps}
    exact = len(steps) == 1
    b = side_rate(base, generation, exact=exact)
    n = side_rate(new, generation, exact=exact)
    regression = limit is not None and n.low > b.high * (1.0 + limit)
    return CountChange(
        b,
        n,
        _ratio(n.rate, b.rate),
        _ratio(n.low, b.high),
        _ratio(n.high, b.low),
        regression,
        exact,
    )
