"""``gctune tune``'s answer: the search's candidates through the rule of both tiers.

The search ranks in counts; :func:`gctune.analysis.tiers.confirmation_candidates` picks
the few worth timing (the best in counts, each gaining at least the minimum gain) among
those the memory probe found within the budget; the confirming time sweep measures them
interleaved with default; :func:`gctune.analysis.tiers.decide` admits a setting whose
time excludes a loss and is consistent with its counts, memory judged by the time tier
(peak RSS over default's within the budget and not growing), and chooses the admitted
one lowest in counts. With none admitted, default stays.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

from gctune.analysis.stats import workload_stats
from gctune.analysis.tiers import (
    DEFAULT_MIN_GAIN,
    TierDecision,
    TierEvidence,
    confirmation_candidates,
    decide,
)
from gctune.analysis.time_basis import time_change
from gctune.analysis.tune_search import Trial
from gctune.store.race import DECIDED, race_stop
from gctune.store.results import Point

__all__ = [
    "decision_doc",
    "decision_rounds_note",
    "default_point",
    "tune_candidates",
    "tune_decision",
]


def _counts_evidence(trial: Trial, default: Optional[Trial]) -> TierEvidence:
    instructions = None
    if trial.instructions is not None and default is not None and default.instructions:
        instructions = trial.instructions / default.instructions
    return TierEvidence(
        trial.setting,
        trial.cost_ratio,
        instructions,
        whole_cycles=trial.whole_cycles is not False,
    )


def tune_candidates(
    trials: Sequence[Trial],
    *,
    top: int,
    min_gain: float = DEFAULT_MIN_GAIN,
    order: Optional[Sequence[str]] = None,
) -> list[str]:
    """The settings to confirm in time: best in counts among those within the memory
    budget by the probe, each gaining at least ``min_gain``; ``order``: the search's
    ranking (:meth:`gctune.analysis.tune_search.Search.ranked`)."""
    default = next((t for t in trials if t.setting == "default"), None)
    evidence = [_counts_evidence(t, default) for t in trials if t.feasible and t.cost_ratio]
    return confirmation_candidates(evidence, min_gain=min_gain, top=top, order=order)


def tune_decision(
    trials: Sequence[Trial],
    points: Sequence[Point],
    workload_id: str,
    *,
    max_memory_ratio: float,
    min_gain: float = DEFAULT_MIN_GAIN,
    order: Optional[Sequence[str]] = None,
) -> TierDecision:
    """The rule of both tiers over the timed candidates of one workload; ``order``: the
    search's ranking (equal costs: the smallest change first)."""
    mine = [p for p in points if p.workload == workload_id]
    by_setting = {p.setting: p for p in mine}
    stats = {s.setting: s for s in workload_stats(mine).get(workload_id, [])}
    base = by_setting.get("default")
    default = next((t for t in trials if t.setting == "default"), None)
    evidence = []
    for trial in trials:
        point = by_setting.get(trial.setting)
        if point is None or trial.setting == "default":
            continue
        e = _counts_evidence(trial, default)
        s = stats.get(trial.setting)
        memory_ok: Optional[bool] = None
        note = "not measured in time"
        if s is not None and s.ok and s.rss_ratio is not None:
            growing = s.growth is not None and s.growth.status == "growing"
            memory_ok = s.rss_ratio <= max_memory_ratio and not growing
            note = f"peak RSS {s.rss_ratio:.2f}x default's in time" + (
                ", growing" if growing else ""
            )
        change = time_change(base, point) if base is not None and point.ok else None
        evidence.append(
            TierEvidence(
                e.setting, e.cycles, e.instructions, change, memory_ok, note, e.whole_cycles
            )
        )
    return decide(evidence, min_gain=min_gain, order=order)


def default_point(points: Sequence[Point], workload_id: str) -> Optional[Point]:
    """``default``'s time point for ``workload_id`` in a confirmation, if it has one."""
    return next((p for p in points if p.workload == workload_id and p.setting == "default"),
                None)  # fmt: skip


def decision_rounds_note(points: Sequence[Point], workload_id: str) -> Optional[str]:
    """How the confirmation's decision rounds ended for ``workload_id``
    (:mod:`gctune.sweep.tier_judge`), as default's point records it; None: none ran."""
    base = default_point(points, workload_id)
    stop = race_stop(base.race) if base is not None else None
    return stop.text if stop is not None and stop.end == DECIDED else None


def decision_doc(decision: TierDecision, rounds_note: Optional[str] = None) -> dict[str, Any]:
    """Plain data for the search record (``rounds_note``: how decision rounds ended)."""
    chosen = decision.chosen
    return {
        "chosen": chosen.setting if chosen is not None else "default",
        "rests_on": decision.rests_on,
        "decision_rounds": rounds_note,
        "verdicts": [
            {"setting": v.setting, "status": v.status, "reason": v.reason}
            for v in decision.verdicts
        ],
    }
