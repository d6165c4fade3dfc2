"""What a sweep's data says about itself: who frees the garbage, and how noisy it is.

Pure functions over :class:`gctune.analysis.stats.PointStats`; the report words their results.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

from gctune.analysis.stats import PointStats
from gctune.analysis.steady import FULL_TARGET
from gctune.measure.settings import change_size

__all__ = [
    "CYCLIC_PER_COLLECTION",
    "MIN_RSS_GROWTH",
    "IdenticalWork",
    "ReclaimEvidence",
    "identical_work",
    "quiet_group",
    "reclaim_evidence",
    "workload_warnings",
]

# Below these, a workload counts as acyclic (the collector found next to no garbage) and
# its peak RSS with the collector off as flat: growth must be significant (bootstrap over
# worker processes) and above 2%, so allocator jitter of a few pages is not "growth".
CYCLIC_PER_COLLECTION = 1.0
MIN_RSS_GROWTH = 0.02


@dataclass(frozen=True)
class ReclaimEvidence:
    """What one workload's data says about who frees its garbage.

    ``collected_per_collection``: objects the default collector freed per collection
    (≈ 0 when reference counting already freed everything). ``rss_ratio``: peak RSS with
    the collector disabled / with default (None when disabled failed; ``disabled_reason``
    says why). ``cyclic``: at least :data:`CYCLIC_PER_COLLECTION` object freed per
    collection. ``grows``: the workers' peak RSS is significantly above default's and by
    more than :data:`MIN_RSS_GROWTH`, or disabled died of the memory cap.
    """

    workload: str
    collected_per_collection: float
    default_rss_bytes: int
    disabled_rss_bytes: Optional[int]
    rss_ratio: Optional[float]
    disabled_reason: Optional[str]
    cyclic: bool
    grows: bool

    @property
    def consistent(self) -> bool:
        """True when the data shows the claim: cycles ⇔ memory grows without the collector."""
        return self.cyclic == self.grows


def reclaim_evidence(stats: Sequence[PointStats]) -> Optional[ReclaimEvidence]:
    """The evidence of one workload's default and disabled points; None without both."""
    default = next((s for s in stats if s.setting == "default" and s.ok), None)
    disabled = next((s for s in stats if s.setting == "disabled"), None)
    if default is None or disabled is None:
        return None
    per = default.collected / default.collections if default.collections else 0.0
    cyclic = per >= CYCLIC_PER_COLLECTION
    if not disabled.ok:
        # A disabled run that died of the memory cap grew past it.
        grew = "memory" in (disabled.reason or "")
        return ReclaimEvidence(
            default.workload,
            per,
            default.peak_rss_bytes,
            None,
            None,
            disabled.reason,
            cyclic,
            grew,
        )
    ratio = disabled.rss_ratio if disabled.rss_ratio is not None else math.nan
    change = disabled.rss_change
    if disabled.growth is not None and disabled.growth.status != "unknown":
        # the trajectory through whole spans, not a short window's peak
        grows = disabled.growth.status == "growing"
    else:
        grows = change is not None and change.significant and change.ratio > 1 + MIN_RSS_GROWTH
    return ReclaimEvidence(
        default.workload,
        per,
        default.peak_rss_bytes,
        disabled.peak_rss_bytes,
        ratio,
        None,
        cyclic,
        grows,
    )


@dataclass(frozen=True)
class IdenticalWork:
    """Points of one workload that ran no collection while measuring, so did the same work.

    They are one program, read as one setting: ``kept`` (``default`` when it is one of
    them, else the twin the race kept, else the setting nearest the default). Their times
    should agree; ``low``/``high`` are the fastest and slowest mean time per step relative
    to default's, and ``disjoint`` is True when the two points' 95% intervals do not
    overlap: the machine changed between points (load, frequency) by more than each
    point's own interval shows.
    """

    workload: str
    settings: tuple[str, ...]
    low: float
    high: float
    disjoint: bool
    kept: str = ""


def quiet_group(stats: Sequence[PointStats]) -> Optional[tuple[str, tuple[str, ...]]]:
    """The settings of one workload that ran no collection in any span, as one: the kept
    setting and the others (None for fewer than two).

    Kept: ``default`` when it ran none either; else the twin the race kept for them (the
    race record's ``twin``), when it ran none; else the smallest change from the default,
    as the race chooses (:func:`gctune.measure.settings.change_size`).
    """
    quiet = [s for s in stats if s.ok and s.collections == 0]
    if len(quiet) < 2:
        return None
    names = [s.setting for s in quiet]
    default = next((s for s in stats if s.setting == "default"), None)
    thresholds = list(default.thresholds) if default and default.thresholds else [700, 10, 10]
    twins = [s.race.twin for s in quiet if s.race is not None and s.race.twin in names]
    if "default" in names:
        kept = "default"
    elif twins:
        kept = max(twins, key=twins.count)
    else:
        kept = min(names, key=lambda n: change_size(n, thresholds))
    return kept, tuple(n for n in names if n != kept)


def identical_work(stats: Sequence[PointStats]) -> Optional[IdenticalWork]:
    """The spread of times among a workload's points without collections; None under 2."""
    quiet = [s for s in stats if s.ok and s.collections == 0 and s.time_ratio is not None]

    def key(s: PointStats) -> float:  # round-paired ratios cancel drift between rounds
        return (s.time_ratio or 0.0) if s.paired else s.mean_s

    group = quiet_group(stats)
    if len(quiet) < 2 or group is None:
        return None
    fastest, slowest = min(quiet, key=key), max(quiet, key=key)
    return IdenticalWork(
        workload=fastest.workload,
        settings=tuple(s.setting for s in quiet),
        low=fastest.time_ratio or math.nan,
        high=slowest.time_ratio or math.nan,
        disjoint=fastest.ci_high_s < slowest.ci_low_s,
        kept=group[0],
    )


# A span that holds fewer steps than this cannot be at steady state in any useful sense:
# one step more or less is a third of it.
FEW_STEPS = 3


def long_step_warning(stats: Sequence[PointStats]) -> Optional[str]:
    """One line when a setting's spans missed steady state because a step is long against
    their budget (fewer than ``FEW_STEPS`` steps in a span), and what will measure it: a
    budget for its full-collection cycles, or a longer mode.

    A span of one long step that holds its full collections (a step of async_tree runs
    hundreds) is at steady state: no line for it.
    """
    short = [
        s for s in stats
        if s.ok and s.steady == "not steady" and s.span_steps_min is not None
        and s.span_steps_min < FEW_STEPS and s.span_budget_s is not None
    ]  # fmt: skip
    if not short:
        return None
    s = max(short, key=lambda p: p.mean_s)
    budget = s.span_budget_s or 0.0
    cycles = 2 * FULL_TARGET * (s.predicted_period or 1.0)  # room for periods twice as long
    want = max(1, math.ceil(max(FEW_STEPS, cycles) * s.mean_s))
    modes = " (or --normal)" if want <= 3 else " (or --rigorous)" if want <= 6 else ""
    return (
        f"one step took {s.mean_s:.3g} s against a span budget of {budget:.3g} s: spans of "
        f"{s.setting} held {s.span_steps_min} step(s) and not its full collections; "
        f"use --max-point-time {want}{modes}"
    )


def _identical_words(same: IdenticalWork, low: str, high: str) -> str:
    """One line for settings that did identical GC work: one program, read as one."""
    others = [s for s in same.settings if s != same.kept]
    if same.kept == "default":
        return (
            f"{', '.join(others)} ran no collection, like default (identical GC work): the "
            f"same program as default, not ranked against it; their times ({low} to {high} "
            "of default's) differ from it by drift alone"
        )
    return (
        f"{', '.join(same.settings)} ran no collection (identical GC work): one program, "
        f"read as one setting, {same.kept}, and ranked once; the spread of their times "
        f"({low} to {high} of default's) is drift between spans, not a difference between "
        "the settings"
    )


def workload_warnings(stats: Sequence[PointStats]) -> list[str]:
    """The doubts that concern one workload's numbers, one line each, most important first:
    settings not at steady state, memory that grows, and the drift that identical work
    measured."""
    from gctune.analysis.fmt import fmt_ratio, fmt_size

    out: list[str] = []
    for s in stats:
        if not s.ok:
            continue
        if s.steady == "not steady":
            period = (
                f"; predicted full-collection period {s.predicted_period:,.0f} steps"
                if s.predicted_period
                else ""
            )
            out.append(
                f"{s.setting}: not at steady state ({s.full_collections_min} full collection(s) "
                f"in a span{period}): its time is a lower bound on its cost"
            )
        g = s.growth
        if g is not None and g.status == "growing" and g.bytes_per_step is not None:
            per_s = f", {fmt_size(g.bytes_per_s)}/s" if g.bytes_per_s else ""
            if g.few_cycles:
                out.append(
                    f"{s.setting}: memory rose {fmt_size(g.bytes_per_step)} per step{per_s} "
                    f"in {g.runs_growing} of {g.runs} spans of {g.fulls_words}: "
                    "too few to tell growth from the heap filling its first cycles; not "
                    "safe to run unattended until a longer run shows it bounded"
                )
            else:
                out.append(
                    f"{s.setting}: memory grows {fmt_size(g.bytes_per_step)} per step{per_s} "
                    f"in {g.runs_growing} of {g.runs} spans: not safe to run unattended"
                )
    long = long_step_warning(stats)
    if long is not None:
        out.append(long)
    own = [s for s in stats if s.ok and s.gc_interference]
    if own:
        first = own[0]
        more = f" (and in {len(own) - 1} other setting(s))" if len(own) > 1 else ""
        out.insert(0, f"{first.setting}{more}: {first.gc_interference}")
    same = identical_work(stats)
    if same is not None:
        out.append(_identical_words(same, fmt_ratio(same.low), fmt_ratio(same.high)))
    evidence = reclaim_evidence(stats)
    if evidence is not None and evidence.cyclic and not evidence.grows and evidence.rss_ratio:
        out.append(
            "default's collections freed cyclic garbage, yet disabled's memory did not grow "
            "over its spans (the garbage may be small, or spans too short to show it)"
        )
    return out
