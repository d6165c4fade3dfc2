"""Decision rounds for a confirmation in time (``gctune tune``'s, ``gctune sweep
--confirm``'s): settle a candidate the rule of both tiers left open.

The confirming sweep times default and the finalists in ``rounds`` interleaved rounds;
the rule of both tiers (:func:`gctune.analysis.tiers.decide`) then admits a candidate
whose whole time interval lies below its line (:func:`gctune.analysis.tiers.time_line`:
1 where counts show the gain, ``1 - min_gain`` where time alone does, default+freeze).
Where none is admitted and a candidate's point is past its line but its interval is not
(``undecided``), 12 rounds leave it to the hour: request_loop's default+freeze read
0.974x [0.965, 0.983] and 0.972x [0.964, 0.981] in two tunes on quiet hours (at 1 % a
round), its dense reference 0.971x [0.953, 0.991]. So, as a sweep's decision rounds do
(:mod:`gctune.sweep.decide`), the confirmation runs up to ``decide_rounds`` more rounds
of only default and that candidate, and stops as soon as the rule decides it (admitted,
or no gain, or slower) or more rounds cannot.

More rounds are run only while they can decide: the interval expected at the cap, from
today's mean and spread of the per-round log ratios, must be able to end below the line
(:func:`gctune.sweep.decide.can_reach`, the sweep's own test).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Optional

from gctune.analysis.tiers import UNDECIDED, TierDecision, TierVerdict, time_line
from gctune.analysis.time_basis import time_logs
from gctune.analysis.tune_decision import tune_decision
from gctune.analysis.tune_search import Trial
from gctune.measure.settings import canonical_id
from gctune.store.race import DECIDED, Stop
from gctune.store.results import Point
from gctune.sweep.decide import Undecided, can_reach

__all__ = ["DecisionOf", "TierJudge", "tune_judge"]

DecisionOf = Callable[[Sequence[Point]], Optional[TierDecision]]
"""The rule's decision over one workload's confirming points (None: nothing to judge)."""


def _interval(verdict: TierVerdict) -> str:
    t = verdict.evidence.time
    return "" if t is None else f" {t.ratio:.3f}x [{t.low:.3f}, {t.high:.3f}]"


def tune_judge(
    trials: Mapping[str, Sequence[Trial]],
    order: Mapping[str, Sequence[str]],
    *,
    max_memory_ratio: float,
    min_gain: float,
) -> TierJudge:
    """``gctune tune``'s judge: ``trials``, each workload's search trials (by workload id);
    ``order``, its ranking."""

    def decision_of(points: Sequence[Point]) -> Optional[TierDecision]:
        workloads = {p.workload for p in points}
        if len(workloads) != 1:
            return None
        (workload,) = workloads
        if workload not in trials:
            return None
        return tune_decision(
            trials[workload], points, workload,
            max_memory_ratio=max_memory_ratio, min_gain=min_gain, order=order.get(workload),
        )  # fmt: skip

    return TierJudge(decision_of, min_gain)


@dataclass(frozen=True)
class TierJudge:
    """The rule of both tiers over one workload's confirming points, for decision rounds
    (:class:`gctune.sweep.decide.Judge`): ``decision_of`` applies it."""

    decision_of: DecisionOf
    min_gain: float

    def _line(self, verdict: TierVerdict) -> float:
        return time_line(verdict.evidence, self.min_gain)

    def undecided(self, points: Sequence[Point], *, rounds_left: int) -> Optional[Undecided]:
        """Where default stays: the undecided candidate fastest in time whose point is
        past its line, and whether ``rounds_left`` more rounds can decide it."""
        decision = self.decision_of(points)
        if decision is None or decision.chosen is not None:
            return None
        open_ = [
            v for v in decision.verdicts
            if v.status == UNDECIDED and v.evidence.time is not None
            and v.evidence.time.ratio < self._line(v)
        ]  # fmt: skip
        if not open_:
            return None
        best = min(open_, key=lambda v: (v.evidence.time.ratio if v.evidence.time else 1.0))
        change = best.evidence.time
        assert change is not None
        # the time sweep's own id (a count sweep's "freeze" is its "default+freeze")
        by = {canonical_id(p.setting): p for p in points}
        point = by.get(canonical_id(best.setting))
        if point is None or "default" not in by:
            return None
        logs = time_logs(by["default"], point)
        return Undecided(point.setting, change, can_reach(logs, rounds_left, self._line(best)))

    def futile(self, found: Undecided, *, rounds: int, rounds_left: int) -> Stop:
        c = found.change
        return Stop(
            DECIDED,
            f"not decided after round {rounds}: {found.setting} {c.ratio:.3f}x "
            f"[{c.low:.3f}, {c.high:.3f}]; at the spread measured, {rounds_left} more rounds "
            "could not bring its interval below its line",
        )

    def outcome(self, points: Sequence[Point], candidate: str, *, rounds: int) -> Stop:
        decision = self.decision_of(points)
        verdict = next(
            (v for v in (decision.verdicts if decision else ())
             if canonical_id(v.setting) == canonical_id(candidate)),
            None,
        )  # fmt: skip
        if verdict is None:
            return Stop(DECIDED, f"decision rounds ended after round {rounds}")
        if verdict.status == UNDECIDED:
            said = f"still undecided after round {rounds}: {candidate}{_interval(verdict)}"
            return Stop(DECIDED, f"{said} reaches above {self._line(verdict):.2f}x")
        return Stop(
            DECIDED,
            f"decided after round {rounds}: {candidate} {verdict.status}{_interval(verdict)}",
        )
