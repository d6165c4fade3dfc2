"""Decision rounds: settle a near miss before a sweep says "keep the default".

A quick sweep measures each setting in 3 rounds. With one span per round the paired
time ratio to default moves by about 5% from round to round on a shared 2-core machine,
so a setting that is truly 8–20% faster can end its 3 rounds with an interval that
still reaches above the ``min_gain`` line: one sweep recommends it, the next keeps the
default. Measured over five pairs of back-to-back quick sweeps, six of seven
disagreements between the two sweeps of a pair were of this kind.

After the fixed rounds, when the recommendation is ``default`` and the best candidate's
paired ratio lies below ``1 - min_gain`` while its interval still reaches above it,
the sweep runs up to ``extra`` more rounds of only default and that candidate (two
spans a round, in a shuffled order, compared within rounds as before). It stops as
soon as the candidate qualifies, or its estimate no longer beats the line, or the cap
is reached; the point files say which (``race.stopped``). Rounds that cannot decide are
not run: before each one, the interval expected at the cap — the mean and spread of the
per-round log ratios measured so far, with the cap's degrees of freedom — must be able to
end below the line; on a machine whose spans scatter by 20% a round, four more rounds
cannot confirm a 10% gain, and the sweep says so instead of spending them.

Looking after every extra round is a sequential test: a candidate whose true gain is
exactly ``min_gain`` qualifies a little more often than the nominal 2.5% of a single
look. The cap keeps the looks few; ``--no-racing`` (every setting in every round, no
extra rounds) turns decision rounds off.

Every way decision rounds end is a :class:`gctune.store.race.Stop` of kind ``decided``
(with its sentence), which a resumed sweep and the recommendation read back.

Pure functions over saved points: a resumed sweep reaches the same decisions.

What counts as undecided is a :class:`Judge`'s: :class:`RecommendJudge` (the functions
below: ``recommend``'s rule) for sweeps; the confirmations in time of ``gctune tune`` and
``gctune sweep --confirm``, which have no racing, bring the rule of both tiers
(:class:`gctune.sweep.tier_judge.TierJudge`).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional, Protocol

from gctune.analysis.fmt import fmt_interval, fmt_ratio
from gctune.analysis.intervals import Change
from gctune.analysis.paired import half_width
from gctune.analysis.recommend import Recommendation, RecommendError, recommend
from gctune.analysis.stats import workload_stats
from gctune.analysis.time_basis import time_logs
from gctune.store.race import DECIDED, Stop
from gctune.store.results import Point

__all__ = ["Judge", "RecommendJudge", "Undecided", "can_reach", "futile", "outcome", "undecided"]


@dataclass(frozen=True)
class Undecided:
    """The candidate a quick sweep could not yet confirm, and its paired change.

    ``reachable``: whether, at the per-round spread measured so far, the rounds left
    could bring the interval's upper end below the line (False: more rounds are futile).
    """

    setting: str
    change: Change
    reachable: bool = True


def _recommendation(points: Sequence[Point], min_gain: float) -> Optional[Recommendation]:
    finished = [p for p in points if p.ok]
    stats = workload_stats(finished)
    if len(stats) != 1:
        return None
    (rows,) = stats.values()
    try:
        return recommend(rows, finished, min_gain=min_gain)
    except RecommendError:
        return None


def undecided(
    points: Sequence[Point], *, min_gain: float, rounds_left: Optional[int] = None
) -> Optional[Undecided]:
    """The best candidate whose estimate beats ``1 - min_gain`` but whose interval does
    not, when the throughput recommendation is ``default``; else None.

    With ``rounds_left``, also whether those rounds could decide it: the interval
    expected after them (today's mean and spread of the per-round log ratios, Student's t
    with the degrees of freedom it would then have) must end below the line.
    """
    rec = _recommendation(points, min_gain)
    if rec is None or not rec.is_default or rec.best_other is None:
        return None
    other, change = rec.best_other
    if not change.ratio < 1.0 - min_gain <= change.high:
        return None
    reachable = True
    if rounds_left is not None:
        by = {p.setting: p for p in points}
        logs = time_logs(by["default"], by[other.setting])
        reachable = can_reach(logs, rounds_left, 1.0 - min_gain)
    return Undecided(other.setting, change, reachable)


def can_reach(logs: Sequence[float], rounds_left: int, line: float) -> bool:
    """Whether ``rounds_left`` more rounds could bring the interval's upper end below
    ``line``: the interval expected then, from the mean and spread of the per-round log
    ratios ``logs`` measured so far (Student's t with the degrees of freedom it would
    then have), ends below it. Fewer than two rounds: True (nothing to judge by)."""
    if len(logs) < 2:
        return True
    half = half_width(statistics.stdev(logs), len(logs) + rounds_left)
    return statistics.fmean(logs) + half < math.log(line)


def futile(found: Undecided, *, min_gain: float, rounds: int, rounds_left: int) -> Stop:
    """Why no (more) decision rounds were run for ``found``, after ``rounds`` rounds."""
    return Stop(
        DECIDED,
        f"not decided after round {rounds}: {found.setting} {fmt_ratio(found.change.ratio)} "
        f"{fmt_interval(found.change.low, found.change.high)}; at the spread measured, "
        f"{rounds_left} more rounds could not bring its interval below "
        f"{1.0 - min_gain:.2f}x (gctune verify measures it longer)",
    )


def outcome(points: Sequence[Point], candidate: str, *, min_gain: float, rounds: int) -> Stop:
    """Why decision rounds about ``candidate`` ended, after ``rounds`` rounds in all."""
    rec = _recommendation(points, min_gain)
    if rec is None:
        return Stop(DECIDED, f"decision rounds ended after round {rounds}")
    if rec.change is not None:
        return Stop(
            DECIDED,
            f"decided after round {rounds}: {rec.setting} beats default by at least "
            f"{min_gain:.0%} ({fmt_ratio(rec.change.ratio)} "
            f"{fmt_interval(rec.change.low, rec.change.high)})",
        )
    left = undecided(points, min_gain=min_gain)
    if left is not None:
        return Stop(
            DECIDED,
            f"still undecided after round {rounds}: {left.setting} "
            f"{fmt_ratio(left.change.ratio)} {fmt_interval(left.change.low, left.change.high)}"
            f" reaches above {1.0 - min_gain:.2f}x",
        )
    return Stop(
        DECIDED,
        f"decided after round {rounds}: {candidate} does not beat default by "
        f"{min_gain:.0%} over its whole interval",
    )


class Judge(Protocol):
    """What decision rounds ask of a rule (pure functions over one target's points)."""

    def undecided(self, points: Sequence[Point], *, rounds_left: int) -> Optional[Undecided]:
        """The candidate more rounds of it and default could decide; else None."""

    def futile(self, found: Undecided, *, rounds: int, rounds_left: int) -> Stop:
        """Why no (more) rounds are run for ``found`` (``reachable`` False)."""

    def outcome(self, points: Sequence[Point], candidate: str, *, rounds: int) -> Stop:
        """Why the rounds about ``candidate`` ended, after ``rounds`` rounds in all."""


@dataclass(frozen=True)
class RecommendJudge:
    """A sweep's decision rounds: ``recommend``'s rule at ``min_gain``."""

    min_gain: float

    def undecided(self, points: Sequence[Point], *, rounds_left: int) -> Optional[Undecided]:
        return undecided(points, min_gain=self.min_gain, rounds_left=rounds_left)

    def futile(self, found: Undecided, *, rounds: int, rounds_left: int) -> Stop:
        return futile(found, min_gain=self.min_gain, rounds=rounds, rounds_left=rounds_left)

    def outcome(self, points: Sequence[Point], candidate: str, *, rounds: int) -> Stop:
        return outcome(points, candidate, min_gain=self.min_gain, rounds=rounds)
