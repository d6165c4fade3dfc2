"""How long each point's span must be: the collector's rhythm, predicted per setting.

A setting's cost comes in cycles: many cheap young collections, then a rare, expensive
full collection. A span must hold whole cycles of the oldest generation the setting
triggers, so a workload's rhythm is learnt once, by a pilot under ``default`` (see
:func:`gctune.measure.span._pilot`): time per step, net tracked-container allocations per step,
and the steps at which full collections came. From it, each setting's full-collection
period in steps is predicted with the interpreter's rules:

* generational collectors (3.9–3.13, 3.14.5+, 3.15; 3.12+ collect at the eval
  breaker, which changes when, not how often): a young collection every
  ``t0 / a`` steps, where ``a`` is the effective allocation rate that triggers young
  collections (measured under default: young collections per step × default's t0, at
  least the net rate); a full one every ``t1 × t2`` young ones — unless the long-lived
  rule (a full collection also needs the objects moved to the old generation since the
  last one to reach a quarter of those already there, bpo-4074) holds it back longer,
  which the pilot sees as default's observed period exceeding its formula. That observed
  period, scaled by the setting's t0 × t1 over default's (the pace of the middle
  collections that feed the old generation), then bounds every setting without freeze
  from below (freeze empties the old generation, so the rule no longer binds);
* the incremental collector (3.14.0–3.14.4): every automatic collection is an increment
  of the old generation, counted as a full one; period ``t0 / a``;
* free-threaded builds: every collection scans the whole heap; period ``t0 / a``.

A span whose cycles fit its budget first lets ``SETTLE_CYCLES`` natural full collections
pass unmeasured, so that it measures the program's own rhythm rather than the first
cycle after the worker's ``gc.collect()``, which finds no accumulated garbage.

The prediction plans the span and is checked against the collections each span saw
(``observed`` beside ``predicted`` in the report); the span itself stops on the full
collections it sees, not on the formula.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Optional

from gctune.analysis.steady import FULL_TARGET
from gctune.measure.settings import parse_setting

__all__ = ["FULL_TARGET", "SpanPlan", "plan_span", "predicted_full_period"]

CHUNK_S = 0.02  # seconds of work per timed value
WARMUP_S = 0.05  # unmeasured warm-up, seconds (at least 3 steps)
MIN_SPAN_SHARE = 0.25  # a span runs at least this share of its budget
STRETCH = 2.5  # a span may run up to this many budgets to hold FULL_TARGET cycles
STRETCH_DEFAULT = 4.0  # default is the reference every ratio divides by: more room
MARGIN = 1.5  # room for steps slower, or periods longer, than the pilot's
SETTLE_CYCLES = 1  # unmeasured natural full collections before a span (see gctune.measure.span)


@dataclass(frozen=True)
class SpanPlan:
    """What one point's worker span runs. Steps are workload steps; times in seconds.

    ``predicted_period`` is the predicted number of steps between full collections
    (None: the setting never triggers one — collector disabled, or no allocations);
    ``reachable`` says whether ``FULL_TARGET`` of them fit in the budget.
    """

    setting: str
    warmup: int
    chunk: int
    min_steps: int
    max_steps: int
    budget_s: float
    predicted_period: Optional[float]
    reachable: bool
    step_s: float
    settle: int = 0  # natural full collections let pass before the measured span

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form stored in the point file (``gctune.sweep.horizon``)."""
        return asdict(self)


def predicted_full_period(pilot: dict[str, Any], setting_id: str) -> Optional[float]:
    """Predicted steps between full collections under ``setting_id``; None for never."""
    setting = parse_setting(setting_id)
    if setting.mode == "disabled":
        return None
    defaults = [int(t) for t in pilot["thresholds"]]
    thresholds = list(setting.thresholds) + defaults[len(setting.thresholds) :]
    if setting.mode == "default":
        thresholds = defaults
    t0, t1, t2 = (max(1, t) for t in thresholds[:3])
    steps = max(1, int(pilot["steps"]))
    young_rate = int(pilot["collections"].get("0", 0)) / steps  # young collections per step
    alloc = max(float(pilot["net_allocations_per_step"]), young_rate * defaults[0])
    if alloc <= 0:
        return None
    young_period = t0 / alloc
    kind = pilot.get("gc_kind", "generational")
    if kind in ("incremental", "free-threaded"):
        return young_period
    formula = young_period * t1 * t2
    observed = _observed_period(pilot)
    if observed is None:
        if setting.mode == "default" and not setting.freeze:
            # no full collection in the pilot: at least its length
            return max(formula, float(pilot["steps"]))
        return formula
    d0, d1, d2 = (max(1, t) for t in defaults[:3])
    default_formula = d0 / alloc * d1 * d2
    if not setting.freeze and observed > 1.5 * default_formula:
        # The long-lived rule binds: the old generation's pending objects grow by the
        # survivors of each middle collection, one every t0 * t1 / a steps, so the wait
        # scales with t0 * t1 (on real 3.13-3.15, t5000-10-10's first full collection came
        # 2.4-2.7x later than default's, not at default's period).
        return max(formula, observed * (t0 * t1) / (d0 * d1))
    return formula


def _observed_period(pilot: dict[str, Any]) -> Optional[float]:
    at = [int(s) for s in pilot.get("full_at", [])]
    if len(at) >= 2:
        return (at[-1] - at[0]) / (len(at) - 1)
    if len(at) == 1 and at[0] > 0:
        return float(at[0])
    return None


def plan_span(pilot: dict[str, Any], setting_id: str, *, budget_s: float) -> SpanPlan:
    """The span of ``setting_id``: chunk size from the pilot's step time, a step limit
    from the budget, and whether ``FULL_TARGET`` full collections are expected in it.

    A setting whose predicted cycles need more than ``budget_s`` gets up to ``STRETCH``
    budgets (``default``, the reference, ``STRETCH_DEFAULT``); beyond that it is measured
    for that long and labelled not at steady state. A span that reaches its full
    collections stops there, so the room costs nothing where it is not needed.

    Settings that never collect run as many steps as the budget's minimum share allows
    or as default's cycles need, whichever is more, so their memory trajectory is as long
    as the collecting settings'.
    """
    step_s = max(float(pilot["step_s"]), 1e-7)
    if pilot.get("steps"):  # with the collector on: the time a cycle really takes
        step_s = max(step_s, float(pilot["elapsed_s"]) / int(pilot["steps"]))
    chunk = max(1, round(CHUNK_S / step_s))
    warmup = max(3, math.ceil(WARMUP_S / step_s))
    period = predicted_full_period(pilot, setting_id)
    budget_steps = max(chunk, int(budget_s / step_s))
    min_steps = max(chunk, int(MIN_SPAN_SHARE * budget_s / step_s))
    if period is None:
        default_period = predicted_full_period(pilot, "default")
        want = FULL_TARGET * default_period if default_period else budget_steps
        steps = int(min(budget_steps, max(min_steps, want)))
        return SpanPlan(setting_id, warmup, chunk, steps, steps, budget_s, None, True, step_s)
    needed_s = FULL_TARGET * period * step_s * MARGIN
    stretch = STRETCH_DEFAULT if setting_id == "default" else STRETCH
    span_s = min(max(budget_s, needed_s), stretch * budget_s)
    reachable = needed_s <= span_s
    return SpanPlan(
        settle=SETTLE_CYCLES if reachable else 0,
        setting=setting_id,
        warmup=warmup,
        chunk=chunk,
        min_steps=min(min_steps, budget_steps),
        # the budget, not the count, ends a long span; a step longer than the whole span
        # still measures one whole chunk (a span without a value measures nothing)
        max_steps=max(chunk, int(span_s / step_s) * 2),
        budget_s=span_s,
        predicted_period=period,
        reachable=reachable,
        step_s=step_s,
    )
