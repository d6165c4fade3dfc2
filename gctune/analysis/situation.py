"""When the advice is "keep the default" but the collector is expensive: what the
situation is, and what to try next.

A workload whose collector takes a large share of its time (:data:`HIGH_GC_SHARE` or
more of default's) and whose faster settings all cost memory beyond the budget (they
grow, or peak above it, or are ``disabled`` where default freed cycles) gets "keep the
default" from the rules of :mod:`gctune.analysis.recommend`: correct, and no help. This
module states the situation in numbers (GC's share, each faster setting's time and what
it costs in memory, default's own growth) and the next steps: the thresholds between
default and the cheapest of the excluded settings (geometric steps, none measured yet),
worker recycling where :mod:`gctune.analysis.recycle` finds an interval that keeps a
faster setting within the budget, and a longer verify of the default when it grows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

from gctune.analysis.growth import Growth
from gctune.analysis.recycle import Recycle, recycle_plan
from gctune.analysis.stats import PointStats
from gctune.measure.settings import Setting, SettingError, parse_setting
from gctune.store.results import Point

__all__ = ["HIGH_GC_SHARE", "Costly", "Situation", "between_settings", "situation"]

HIGH_GC_SHARE = 0.20  # default's collector time at or above this share is "expensive"
BETWEEN_STEPS = 3  # the thresholds between are this many geometric steps (2 settings)
OPEN_CEILING = 100  # with no threshold setting excluded, try up to this × default's


@dataclass(frozen=True)
class Costly:
    """A setting faster than default that costs memory beyond the budget."""

    setting: str
    ratio: float
    low: float
    high: float
    memory: str
    """What it costs: ``grows 18 MiB/s``, ``peak RSS 1.4x default's``, ..."""


@dataclass(frozen=True)
class Situation:
    """Why "keep the default" is not the end of it, in numbers, and what to try next."""

    gc_share: float
    budget_ratio: float
    costly: tuple[Costly, ...]
    default_growth: Optional[Growth]
    between: tuple[str, ...]
    plans: tuple[Recycle, ...]


def _memory_cost(s: PointStats, d: PointStats, budget: float) -> Optional[str]:
    """What ``s`` costs in memory beyond the budget, or None when it fits."""
    g = s.growth
    if g is not None and g.status == "growing":
        return g.words(per_second=True)
    if s.peak_rss_bytes > budget:
        return f"peak RSS {s.rss_ratio or 0:.3g}x default's"
    if s.setting == "disabled" and d.collected > 0:
        return f"never frees a cycle again (default's collections freed {d.collected:,} objects)"
    return None


def _interpolate(low: Sequence[int], high: Sequence[int], f: float) -> tuple[int, ...]:
    """Thresholds a share ``f`` of the way from ``low`` to ``high``, geometrically, to two
    significant figures (``t2700-10-10``, not ``t2689-10-10``)."""
    out = []
    for a, b in zip(low, high):
        v = math.exp(math.log(max(a, 1)) + f * (math.log(max(b, 1)) - math.log(max(a, 1))))
        digits = max(0, len(str(int(v))) - 2)
        out.append(int(round(v, -digits)))
    return tuple(out)


def _thresholds(setting: str, default: Sequence[int]) -> Optional[tuple[int, ...]]:
    try:
        parsed = parse_setting(setting)
    except SettingError:
        return None
    if parsed.mode == "thresholds":
        return tuple(parsed.thresholds)
    return tuple(default) if parsed.mode == "default" else None


def between_settings(
    stats: Sequence[PointStats], costly: Sequence[Costly], default: Sequence[int]
) -> tuple[str, ...]:
    """Thresholds between the nearest measured setting that fits the budget (default, or
    a larger threshold0 that fits) and the smallest threshold0 that did not (with no
    threshold setting among the costly ones, :data:`OPEN_CEILING` × default's), none
    measured already."""
    over = [t for t in (_thresholds(c.setting, default) for c in costly) if t and t[0] > default[0]]
    ceiling = (default[0] * OPEN_CEILING, *default[1:])
    high = min(over) if over else tuple(ceiling)
    names = {c.setting for c in costly}
    fits = [
        t for s in stats
        if s.ok and s.setting not in names
        for t in [_thresholds(s.setting, default)] if t and t[0] < high[0]
    ]  # fmt: skip
    low = max(fits, default=tuple(default))
    measured = {s.setting for s in stats}
    out: list[str] = []
    for i in range(1, BETWEEN_STEPS):
        t = _interpolate(low, high, i / BETWEEN_STEPS)
        sid = Setting("thresholds", t).id
        if t[0] > low[0] and t[0] < high[0] and sid not in measured and sid not in out:
            out.append(sid)
    return tuple(out)


def situation(
    stats: Sequence[PointStats],
    points: Sequence[Point],
    *,
    budget_ratio: float,
    min_gain: float,
) -> Optional[Situation]:
    """The situation of a workload whose advice is "keep the default" although GC is
    expensive and every faster setting costs memory (or default itself grows); None when
    that is not the case."""
    d = next((s for s in stats if s.setting == "default" and s.ok), None)
    if d is None or d.gc_share != d.gc_share or d.gc_share < HIGH_GC_SHARE:
        return None
    budget = budget_ratio * d.peak_rss_bytes
    by_setting = {p.setting: p for p in points}
    costly: list[Costly] = []
    plans: list[Recycle] = []
    for s in stats:
        ratio, low, high = s.time_ratio, s.time_ratio_low, s.time_ratio_high
        if s.setting == "default" or not s.ok or ratio is None or low is None or high is None:
            continue
        if high >= 1.0 - min_gain:  # not faster over its whole interval
            continue
        cost = _memory_cost(s, d, budget)
        if cost is None:
            return None  # a faster setting that fits: the rules would have weighed it
        costly.append(Costly(s.setting, ratio, low, high, cost))
        g = s.growth
        steady = s.steady in ("steady", "collector off")  # as recommend's --recycle
        if g is not None and g.status == "growing" and steady and s.setting in by_setting:
            plan = recycle_plan(s, by_setting["default"], by_setting[s.setting], budget)
            if plan is not None and plan.high < 1.0:
                plans.append(plan)
    grows = d.growth if d.growth is not None and d.growth.status == "growing" else None
    if not costly and grows is None:
        return None
    costly.sort(key=lambda c: c.ratio)
    thresholds = list(d.thresholds) if d.thresholds else [700, 10, 10]
    plans.sort(key=lambda p: p.time_ratio)
    return Situation(
        gc_share=d.gc_share,
        budget_ratio=budget_ratio,
        costly=tuple(costly),
        default_growth=grows,
        between=between_settings(stats, costly, thresholds),
        plans=tuple(plans),
    )
