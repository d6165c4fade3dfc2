"""Steady state: whether a point's spans held whole collector cycles.

A span counts as steady when it held at least ``FULL_TARGET`` full collections; one that
held fewer either missed little (under ``RARE_FULL_SHARE`` of its time: "rare full") or
reports a lower bound on its cost. The span planner (:mod:`gctune.sweep.horizon`) aims
its spans at the same target."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Optional

from gctune.store.results import Point, RunMetrics


@dataclass(frozen=True)
class Steadiness:
    """Whether a point's spans held whole collector cycles (see ``PointStats.steady``).

    ``period_bound``: the fewest steps between full collections consistent with what the
    spans saw (each span starts right after a collection); ``missed_bound``: at most this
    share of the time per step is unmeasured full-collection work, when the spans saw
    fewer than ``FULL_TARGET`` full collections.
    """

    status: str
    full_min: Optional[int]
    predicted: Optional[float]
    observed: Optional[float]
    period_bound: Optional[float] = None
    missed_bound: Optional[float] = None


RARE_FULL_SHARE = 0.01  # a missed full-collection cost below this counts as steady


def _period_bound(run: RunMetrics) -> Optional[float]:
    """Fewest steps between full collections consistent with one span's collections.

    Generational: ``threshold2`` middle collections per full one, ``threshold1`` young
    ones per middle one; a span that saw none of a generation ran longer than one of its
    periods. Other collectors (every collection is full) give the span's own length.
    """
    steps = run.steps
    if not steps or run.span is None:
        return None
    full_gen = int(run.span.get("full_generation", 2))
    counts = {g: h.count for g, h in run.pauses.items()}
    t = [*run.thresholds, 10, 10, 10]
    if full_gen != 2:
        return float(steps) / max(1, sum(counts.values()))
    if counts.get(1, 0):
        return steps / counts[1] * max(1, t[2])
    if counts.get(0, 0):
        return steps / counts[0] * max(1, t[1]) * max(1, t[2])
    return float(steps) * max(1, t[1]) * max(1, t[2])


def steady_state(point: Point, full_pause_ns: Optional[float] = None) -> Steadiness:
    """Steady-state status of a finished point's spans, with the full-collection period
    predicted for it (steps) and the one its spans saw.

    A point whose spans saw fewer than ``FULL_TARGET`` full collections still counts as
    steady (``rare full GC``) when the work it may have missed is bounded below
    ``RARE_FULL_SHARE`` of its time: one full collection's pause (``full_pause_ns``,
    typically default's longest full collection; else its own longest pause) per
    :func:`_period_bound` steps.
    """
    predicted = (point.horizon or {}).get("predicted_period")
    if not point.runs or any(r.span is None for r in point.runs):
        return Steadiness("unknown", None, predicted, None)
    fulls = [int(r.span["full_collections"]) for r in point.runs if r.span is not None]
    gaps: list[float] = []
    for run in point.runs:
        at = [int(s) for s in (run.span or {}).get("full_at", [])]
        gaps += [b - a for a, b in zip(at, at[1:])]
        if at:
            gaps.append(float(at[0]))  # spans start right after a collection
    observed = statistics.median(gaps) if gaps else None
    if not any(r.gc_enabled for r in point.runs):
        return Steadiness("collector off", min(fulls), predicted, observed)
    if min(fulls) >= FULL_TARGET:
        return Steadiness("steady", min(fulls), predicted, observed)
    bounds = [b for b in (_period_bound(r) for r in point.runs) if b]
    bound = min(bounds) if bounds else None
    pause = full_pause_ns
    if pause is None:
        own = [h.max for r in point.runs for h in r.pauses.values() if h.count]
        pause = float(max(own)) if own else None
    means = [statistics.fmean(r.values) for r in point.runs if r.values]
    missed = None
    if bound and pause is not None and means:
        missed = pause / 1e9 / (bound * statistics.fmean(means))
    status = "rare full GC" if missed is not None and missed <= RARE_FULL_SHARE else "not steady"
    return Steadiness(status, min(fulls), predicted, observed, bound, missed)


def _steady_warnings(point: Point, steadiness: Steadiness) -> tuple[str, ...]:
    if steadiness.status != "not steady":
        return ()
    missed = (
        f"; up to {steadiness.missed_bound:.0%} of its time may be full collections it did not see"
        if steadiness.missed_bound is not None
        else ""
    )
    steps = min((r.steps or 0) for r in point.runs)
    period = steadiness.predicted
    when = f"; predicted period {period:,.0f} steps" if period else ""
    if period and point.horizon and point.horizon.get("step_s"):
        when += f" (~{period * float(point.horizon['step_s']):.3g} s)"
    return (
        f"not at steady state: a span of {steps:,} steps saw {steadiness.full_min} full "
        f"collection(s), fewer than {FULL_TARGET}{when}{missed}; its time per step is a lower "
        "bound on its cost",
    )


FULL_TARGET = 2  # full collections a span must hold to count as steady state
