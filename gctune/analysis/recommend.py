"""Which GC setting to ship for a workload, under a memory budget, and how sure we are.

Rules (documented in docs/reports.md, "Recommendation"):

1. Candidates are the workload's finished points. Left out, each with its reason:
   failed points; settings whose memory *grows* at steady state (unless ``recycle``
   gives them a worker-recycling interval that keeps memory within the budget); settings
   *not at steady state* (their full collections were not measured, so their cost is a
   lower bound); settings whose peak RSS is over ``max_memory_ratio`` × default's;
   ``disabled`` when default's collections freed objects (it would leak them), unless
   recycled; settings that, like default, ran no collection at all (identical work: any
   time difference is drift).
2. Each candidate is compared with ``default`` on the objective, round-paired when the
   points were measured in rounds (:mod:`gctune.analysis.paired`): ``throughput`` — mean time per
   step; ``latency`` — p99 request latency when the workload records requests, else the
   longest GC pause of each span (full collections included); ``balanced`` —
   sqrt(time × latency) per span.
3. A candidate qualifies when its whole 95% interval beats default by at least
   ``min_gain`` (2% unless given). Among qualifiers the lowest ratio leads; a setting that
   changes less (no ``disabled``, no freeze, thresholds nearer the default) is preferred
   unless the leader beats it by more than ``min_gain`` over the whole interval: a
   difference too small to be of interest does not buy a bigger change (and two sweeps
   of settings that close would otherwise pick between them by noise). With no
   qualifier, ``default``; when GC is expensive and every faster setting costs memory
   (or default itself grows), the situation and the next steps to try
   (:mod:`gctune.analysis.situation`).
4. Settings that ran no collection in any span did identical GC work: one program,
   ranked as one setting (``default`` when it is one of them, else the twin the race
   kept, else the one nearest the default: :func:`gctune.analysis.evidence.quiet_group`);
   its gain against default is stated once, the others are excluded in its favour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

from gctune.analysis.evidence import quiet_group
from gctune.analysis.fmt import fmt_bytes, fmt_interval, fmt_ns, fmt_pct, fmt_ratio, fmt_size
from gctune.analysis.intervals import Change
from gctune.analysis.paired import RunSample, paired_change, run_time
from gctune.analysis.recycle import MIN_INTERVAL_STEPS, Recycle, recycle_plan
from gctune.analysis.situation import Situation, situation
from gctune.analysis.stats import PointStats
from gctune.analysis.time_basis import time_change
from gctune.errors import UserError
from gctune.measure.histogram import Histogram
from gctune.measure.settings import change_size
from gctune.store.race import DECIDED
from gctune.store.results import Point, RunMetrics

__all__ = [
    "DEFAULT_MAX_MEMORY_RATIO",
    "DEFAULT_MIN_GAIN",
    "OBJECTIVES",
    "Excluded",
    "RecommendError",
    "Recommendation",
    "gap_text",
    "has_gap",
    "recommend",
]

OBJECTIVES = ("throughput", "latency", "balanced")
DEFAULT_MAX_MEMORY_RATIO = 1.25
DEFAULT_MIN_GAIN = 0.02


class RecommendError(UserError, ValueError):
    """A recommendation that cannot be made from the data; one line for the user."""


@dataclass(frozen=True)
class Excluded:
    """A setting left out of the choice, and why."""

    setting: str
    reason: str


@dataclass(frozen=True)
class Recommendation:
    """The recommended setting of one workload and the evidence for it.

    ``change`` is the recommended setting's objective metric relative to default (None
    when default itself is recommended); ``best_other`` is the best candidate that did
    not qualify, with its change; ``recycle`` the worker-recycling interval that the
    recommended setting needs (None: it runs unattended).
    """

    workload: str
    objective: str
    metric: str
    max_memory_ratio: float
    min_gain: float
    stats: PointStats
    default: PointStats
    change: Optional[Change]
    best_other: Optional[tuple[PointStats, Change]]
    excluded: tuple[Excluded, ...]
    notes: tuple[str, ...]
    recycle: Optional[Recycle] = None
    recycle_plans: tuple[Recycle, ...] = ()
    """With ``recycle``: the interval of every growing setting, recommended or not."""
    per: str = "step"
    """What a time is per: ``"step"`` of a workload or ``"run"`` of a program."""
    floor: Optional[PointStats] = None
    """The workload's ``disabled`` point, when it has one (for the gap closed)."""
    situation: Optional[Situation] = None
    """With default kept although GC is expensive: why, and what to try next."""

    @property
    def setting(self) -> str:
        """The recommended setting's id."""
        return self.stats.setting

    @property
    def is_default(self) -> bool:
        """True when no setting qualified."""
        return self.stats.setting == "default"


def _merged(hists: Sequence[Histogram]) -> Histogram:
    total = Histogram()
    for h in hists:
        total.merge(h)
    return total


def _request_p99(run: RunMetrics) -> Optional[float]:
    if run.requests is None or not run.requests.count:
        return None
    return run.requests.quantile(0.99)


def _max_pause(run: RunMetrics) -> Optional[float]:
    merged = _merged(list(run.pauses.values()))
    return float(merged.max) if merged.count else 0.0


def _objective(objective: str, requests: bool, per: str) -> tuple[str, RunSample]:
    latency: RunSample = _request_p99 if requests else _max_pause
    lat_name = "p99 request latency" if requests else "longest GC pause"
    if objective == "throughput":
        return f"time per {per}", run_time
    if objective == "latency":
        return lat_name, latency
    if objective == "balanced":

        def combined(run: RunMetrics) -> Optional[float]:
            t, q = run_time(run), latency(run)
            return math.sqrt(t * q) if t is not None and q is not None else None

        return f"sqrt(time × {lat_name})", combined
    raise RecommendError(f"unknown objective {objective!r}: use {', '.join(OBJECTIVES)}")


def _exclusion(s: PointStats, d: PointStats, budget: float, *, recycle: bool) -> Optional[str]:
    """Why ``s`` cannot be recommended plainly, or None."""
    if not s.ok:
        return f"failed: {s.reason}"
    g = s.growth
    steady = s.steady in ("steady", "collector off")
    # --recycle changes only the answer to steady growth (an interval is computed for
    # it); every other reason is the same with or without it
    if g is not None and g.status == "growing" and not (recycle and steady):
        rate = f"{fmt_size(g.bytes_per_step)} per step"
        if g.bytes_per_s:
            rate += f", {fmt_size(g.bytes_per_s)}/s"
        left = g.seconds_to(budget, s.peak_rss_bytes)
        if s.peak_rss_bytes >= budget:
            when = f"; already over the budget ({fmt_bytes(budget)})"
        elif left is not None:
            when = f"; at that rate it passes the budget ({fmt_bytes(budget)}) in {left:.3g} s"
        else:
            when = ""
        if steady and g.few_cycles:
            return (
                f"memory rose over its spans of {g.fulls_words} ({rate}){when}: "
                "too few to tell growth from the heap filling its first cycles; not "
                "recommended until a longer run shows it bounded"
            )
        if steady:
            return (
                f"memory grows at steady state ({rate}){when}; --recycle computes a "
                "recycling interval"
            )
        return (
            f"memory still rising within its spans ({rate}){when}: not at steady state, its "
            "peak before the next full collection is unmeasured"
        )
    if d.collections == 0 and s.collections == 0:
        return "identical GC work to default (neither collected): a time difference is drift"
    if s.steady == "not steady":
        period = f" (predicted every {s.predicted_period:,.0f} steps)" if s.predicted_period else ""
        return (
            f"not at steady state: its full collections{period} were not measured, so its "
            "time is a lower bound on its cost; measure longer spans (--max-point-time)"
        )
    if (g is None or g.status != "growing") and s.peak_rss_bytes > budget:
        return (
            f"peak RSS {fmt_bytes(s.peak_rss_bytes)} is {fmt_ratio(s.rss_ratio)} default's, "
            f"over the {budget / max(d.peak_rss_bytes, 1):.3g}x memory budget"
        )
    if s.setting == "disabled" and g is not None and g.status == "unknown" and s.rounds:
        return (
            "its memory trend is unknown (too few memory samples in its spans: each holds "
            "a few long steps); gc.disable() is not recommended without one: measure longer "
            "spans (--max-point-time)"
        )
    if s.setting == "disabled" and d.collected > 0 and not recycle:
        return (
            f"gc.disable() never frees a reference cycle again, and default's collections "
            f"freed {d.collected:,} objects; --recycle pairs it with worker recycling"
        )
    return None


def recommend(
    stats: Sequence[PointStats],
    points: Sequence[Point],
    *,
    objective: str = "throughput",
    max_memory_ratio: float = DEFAULT_MAX_MEMORY_RATIO,
    min_gain: float = DEFAULT_MIN_GAIN,
    recycle: bool = False,
    per: str = "step",
) -> Recommendation:
    """Recommend a setting for one workload from its points' statistics and samples.

    ``per`` names what a time is per: ``"step"``, or ``"run"`` for a ``--command`` program.
    """
    if max_memory_ratio <= 0:
        raise RecommendError(f"--max-memory-ratio must be positive, not {max_memory_ratio}")
    by_setting = {p.setting: p for p in points}
    default = next((s for s in stats if s.setting == "default"), None)
    if default is None or not default.ok:
        workload = stats[0].workload if stats else "?"
        raise RecommendError(f"workload {workload!r} has no finished default point to compare")
    requests = default.request_p99_ns is not None
    metric, sample = _objective(objective, requests, per)

    def compare(b: Point, n: Point) -> Optional[Change]:
        # time: over the chunks run at full speed where enough rounds have them
        # (gctune.analysis.time_basis); latency and the balanced score: every run's own
        return time_change(b, n) if sample is run_time else paired_change(b, n, sample)

    floor = next((s for s in stats if s.setting == "disabled"), None)
    budget = max_memory_ratio * default.peak_rss_bytes
    base = by_setting["default"]

    excluded: list[Excluded] = []
    plans: list[Recycle] = []
    scored: list[tuple[PointStats, Change, Optional[Recycle]]] = []
    own = next((s for s in stats if s.ok and s.gc_interference), None)
    quiet = quiet_group(stats)
    changed = any(s.ok and s.gc_changed for s in stats)
    for s in stats:
        if s.setting == "default":
            continue
        why = _exclusion(s, default, budget, recycle=recycle)
        if why is None and changed:
            why = "the program changes the collector's setting itself: not the setting measured"
        twin = s.race.twin if s.race is not None else None
        if why is None and quiet is not None and s.setting in quiet[1]:
            twin = quiet[0]  # the race's twin when it ran no collection either
        if why is None and twin is not None:
            why = (
                f"identical GC work to {twin} (no collection in any span): one program, "
                "measured as one with it"
            )
        if why is not None:
            excluded.append(Excluded(s.setting, why))
            continue
        plan: Optional[Recycle] = None
        compared = compare(base, by_setting[s.setting])
        if s.growth is not None and s.growth.status == "growing":
            plan = recycle_plan(s, base, by_setting[s.setting], budget)
            if plan is None:
                rate = s.growth.bytes_per_step or 0.0
                excluded.append(
                    Excluded(
                        s.setting,
                        f"memory grows {fmt_size(rate)} per step: the budget "
                        f"({fmt_bytes(budget)}) leaves room for fewer than "
                        f"{MIN_INTERVAL_STEPS} steps between recycles; a larger "
                        "--max-memory-ratio allows recycling",
                    )
                )
                continue
            plans.append(plan)
            if objective == "throughput":
                compared = Change(
                    plan.time_ratio, plan.low, plan.high, plan.high < 1 or plan.low > 1
                )
        if compared is None:
            excluded.append(Excluded(s.setting, f"default has no {metric} to compare with"))
            continue
        scored.append((s, compared, plan))
    scored.sort(key=lambda sc: sc[1].ratio)
    qualified = [sc for sc in scored if sc[1].high < 1.0 - min_gain]
    notes: list[str] = [f"{own.setting}: {own.gc_interference}"] if own else []
    best_other: Optional[tuple[PointStats, Change]] = None
    if not qualified:
        if scored:
            other, c, _ = scored[0]
            best_other = (other, c)
            notes += _one_voice(other.setting, quiet)
            notes.append(
                f"no setting beats default by at least {min_gain:.0%} over its whole interval "
                f"on {metric}: keep the default"
            )
            if other.race is not None and other.race.end == DECIDED:
                notes.append(f"decision rounds: {other.race.text}")
        else:
            notes.append("no other setting can be recommended (see excluded): keep the default")
        return Recommendation(
            workload=default.workload, objective=objective, metric=metric,
            max_memory_ratio=max_memory_ratio, min_gain=min_gain, stats=default,
            default=default, change=None, best_other=best_other,
            excluded=tuple(excluded), notes=tuple(notes), per=per, floor=floor,
            recycle_plans=tuple(plans),
            situation=situation(
                stats, points, budget_ratio=max_memory_ratio, min_gain=min_gain
            ),
        )  # fmt: skip
    leader, lead_change, lead_plan = qualified[0]
    default_t = list(default.thresholds) if default.thresholds else [700, 10, 10]
    chosen, change, plan = leader, lead_change, lead_plan
    for s, c, p in sorted(qualified[1:], key=lambda sc: change_size(sc[0].setting, default_t)):
        if change_size(s.setting, default_t) >= change_size(leader.setting, default_t):
            break
        versus = compare(by_setting[leader.setting], by_setting[s.setting])
        if versus is not None and versus.low <= 1.0 + min_gain:
            notes.append(
                f"{leader.setting} was fastest, but {s.setting} changes less and is not "
                f"shown slower than it by more than {min_gain:.0%} ({metric} "
                f"{fmt_ratio(versus.ratio)} of its, 95% interval "
                f"{fmt_interval(versus.low, versus.high)})"
                + (" and still frees cycles" if leader.setting == "disabled" else "")
            )
            chosen, change, plan = s, c, p
            break
    notes += _one_voice(chosen.setting, quiet)
    notes += _tail_notes(chosen, default, by_setting, per)
    return Recommendation(
        workload=default.workload, objective=objective, metric=metric,
        max_memory_ratio=max_memory_ratio, min_gain=min_gain, stats=chosen,
        default=default, change=change, best_other=None, excluded=tuple(excluded),
        notes=tuple(notes), recycle=plan, per=per, floor=floor, recycle_plans=tuple(plans),
    )  # fmt: skip


def _one_voice(setting: str, quiet: Optional[tuple[str, tuple[str, ...]]]) -> list[str]:
    """A note that ``setting`` stands for the settings that did identical GC work."""
    if quiet is None or setting != quiet[0] or not quiet[1]:
        return []
    return [
        f"{setting} stands for {', '.join(quiet[1])} as well: none of them collected "
        "(identical GC work), so they are one program, measured and stated as one; "
        "the differences between their own times are drift"
    ]


# A pause (or request) is called longer than default's only beyond this ratio: the
# histogram's quantiles are within 1%, and tails move by a few percent between runs.
LONGER = 1.10


def _collections_per_step(point: Point) -> float:
    """Collections per measured step (or program run) over all of a point's runs."""
    steps = sum(r.steps or len(r.values) * (point.loops or 1) for r in point.runs)
    return sum(run.collections for run in point.runs) / steps if steps else 0.0


def _tail_notes(s: PointStats, d: PointStats, by_setting: dict[str, Point], per: str) -> list[str]:
    """What the chosen setting does to pauses and to the slowest request, as measured."""
    notes = []
    if s.collections and d.collections and s.pause_p99_ns > LONGER * d.pause_p99_ns:
        rate = _collections_per_step(by_setting[s.setting])
        base = _collections_per_step(by_setting[d.setting])
        how = "fewer but longer pauses" if rate < base else "longer pauses, and no fewer,"
        notes.append(
            f"{how} than default: {rate:.3g} vs {base:.3g} collections per {per}, p99 GC "
            f"pause {fmt_ns(s.pause_p99_ns)} vs {fmt_ns(d.pause_p99_ns)}: check them "
            "against your latency needs"
        )
    if (
        s.request_max_ns is not None
        and d.request_max_ns is not None
        and s.request_max_ns > LONGER * d.request_max_ns
    ):
        notes.append(
            f"its longest request took {fmt_ns(s.request_max_ns)} vs "
            f"{fmt_ns(d.request_max_ns)} under default: check it against your latency needs"
        )
    return notes


def has_gap(floor: Optional[PointStats]) -> bool:
    """True when ``disabled`` (the floor) is significantly faster than default: only then
    is there a default→disabled gap whose share a setting can close."""
    return (
        floor is not None
        and floor.ok
        and floor.time_significant
        and floor.time_ratio is not None
        and floor.time_ratio < 1.0
    )


def gap_text(s: PointStats, floor: Optional[PointStats]) -> str:
    """``gap closed`` as a table cell: a percentage, ``no gap`` when disabled is not
    significantly faster than default (any share would be noise), and a percentage
    marked ``past floor`` above 100% (faster than with the collector disabled)."""
    if s.gap_recovered is None or s.gap_recovered != s.gap_recovered:
        return "-"
    if not has_gap(floor):
        return "no gap"
    text = fmt_pct(s.gap_recovered)
    return f"{text} (past floor)" if s.gap_recovered > 1.0 else text
