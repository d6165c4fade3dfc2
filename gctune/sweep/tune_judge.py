"""Decision rounds for ``gctune tune``'s confirmation: settle a candidate time left open.

The confirming sweep times default and the finalists in ``rounds`` interleaved rounds;
the rule of both tiers (:func:`gctune.analysis.tiers.decide`) then admits a candidate
whose time interval excludes a loss. Where none is admitted and a candidate's interval
holds 1 (``undecided``), one tune kept default and the next, an hour later, admitted the
candidate: request_loop's default+freeze read 0.974x [0.939, 1.011] and 0.987x [0.954,
1.022] (undecided, default kept) and 0.974x [0.965, 0.983] (admitted), while a 12-round
check put default 1.026x [0.995, 1.057] of it. So, as a sweep's decision rounds do
(:mod:`gctune.sweep.decide`), the confirmation runs up to ``decide_rounds`` more rounds
of only default and that candidate, and stops as soon as the rule decides it (admitted,
or no gain, or time slower) or more rounds cannot.

Reachable: a sweep's decision rounds run only while the interval expected at the cap,
from today's mean and spread of the per-round log ratios, can end below the line. Here
the mean is given one standard error of room first: after 12 rounds it is itself that
uncertain, and request_loop's 0.987x above (the check: 0.974x) is a mean that more rounds
would have moved; a candidate whose mean is at 1 or above, or whose rounds scatter so
that even then the cap cannot exclude a loss, gets no extra round.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Optional

from gctune.analysis.paired import half_width
from gctune.analysis.tiers import UNDECIDED, TierDecision, TierVerdict
from gctune.analysis.time_basis import time_logs
from gctune.analysis.tune_decision import tune_decision
from gctune.analysis.tune_search import Trial
from gctune.store.race import DECIDED, Stop
from gctune.store.results import Point
from gctune.sweep.decide import Undecided

__all__ = ["TuneJudge"]


def _interval(verdict: TierVerdict) -> str:
    t = verdict.evidence.time
    return "" if t is None else f" {t.ratio:.3f}x [{t.low:.3f}, {t.high:.3f}]"


@dataclass(frozen=True)
class TuneJudge:
    """The rule of both tiers over one workload's confirming points, for decision rounds:
    ``trials``, each workload's search trials (by workload id); ``order``, its ranking."""

    trials: Mapping[str, Sequence[Trial]]
    order: Mapping[str, Sequence[str]]
    max_memory_ratio: float
    min_gain: float

    def _decision(self, points: Sequence[Point]) -> Optional[TierDecision]:
        workloads = {p.workload for p in points}
        if len(workloads) != 1:
            return None
        (workload,) = workloads
        if workload not in self.trials:
            return None
        return tune_decision(
            self.trials[workload], points, workload,
            max_memory_ratio=self.max_memory_ratio, min_gain=self.min_gain,
            order=self.order.get(workload),
        )  # fmt: skip

    def undecided(self, points: Sequence[Point], *, rounds_left: int) -> Optional[Undecided]:
        """Where default stays: the undecided candidate fastest in time, if it is faster
        than default at all; ``reachable`` as the module docstring says."""
        decision = self._decision(points)
        if decision is None or decision.chosen is not None:
            return None
        open_ = [
            v for v in decision.verdicts
            if v.status == UNDECIDED and v.evidence.time is not None
            and v.evidence.time.ratio < 1.0
        ]  # fmt: skip
        if not open_:
            return None
        best = min(open_, key=lambda v: v.evidence.time.ratio if v.evidence.time else 1.0)
        change = best.evidence.time
        assert change is not None
        by = {p.setting: p for p in points}
        logs = time_logs(by["default"], by[best.setting])
        reachable = True
        if len(logs) >= 2:
            spread = statistics.stdev(logs)
            room = spread / math.sqrt(len(logs))
            reachable = (
                statistics.fmean(logs) - room + half_width(spread, len(logs) + rounds_left) < 0.0
            )
        return Undecided(best.setting, change, reachable)

    def futile(self, found: Undecided, *, rounds: int, rounds_left: int) -> Stop:
        c = found.change
        return Stop(
            DECIDED,
            f"not decided after round {rounds}: {found.setting} {c.ratio:.3f}x "
            f"[{c.low:.3f}, {c.high:.3f}]; at the spread measured, {rounds_left} more rounds "
            "could not exclude a loss (gctune verify measures it longer)",
        )

    def outcome(self, points: Sequence[Point], candidate: str, *, rounds: int) -> Stop:
        decision = self._decision(points)
        verdict = next(
            (v for v in (decision.verdicts if decision else ()) if v.setting == candidate), None
        )
        if verdict is None:
            return Stop(DECIDED, f"decision rounds ended after round {rounds}")
        if verdict.status == UNDECIDED:
            said = f"still undecided after round {rounds}: {candidate}{_interval(verdict)}"
            return Stop(DECIDED, said + " reaches above 1.000x")
        return Stop(
            DECIDED,
            f"decided after round {rounds}: {candidate} {verdict.status}{_interval(verdict)}",
        )
