"""Rank in counts, confirm in time: one decision from both tiers (docs/counts.md).

The counts tier (instructions and estimated cycles under valgrind) is exact but a model
of time; the time tier is the truth but noisy. Per setting the evidence is its counts
ratio to default, its round-paired time ratio to default with a 95% interval (or none),
and whether its memory stays within the budget (True, False, or None: unknown).

The rule, per setting (:func:`tier_verdict`; the first that applies):

1. not measured in counts, or default was not: no verdict from counts;
2. its counts gain ``1 - ratio`` is below ``min_gain``: not a candidate (freeze over
   the interpreter's own thresholds excepted, where counts show no loss beyond
   ``tolerance``: time decides, below);
3. its memory grows or is over the budget: unsafe (memory is read from the time tier);
4. no time interval: not confirmed in time (counts alone recommend nothing);
5. the whole time interval is above 1: **time contradicts counts** (slower in time), and
   time wins;
6. the interval holds 1 (no loss excluded): not confirmed, time undecided (for a setting
   time decides: its point is past ``1 - min_gain``, else no gain, and its interval
   reaches above it);
7. the whole interval is above the counts ratio plus ``tolerance`` (time shows clearly
   less gain than counts promise): time wins, not admitted;
8. memory unknown: not admitted;
9. otherwise **admitted**: resting on counts, time consistent (time excludes a loss and
   does not fall short of the counts' estimate by more than ``tolerance``). Time may show
   a larger gain than counts: the cache model of a typical core under-weighs a
   memory-bound collector here, so a larger gain in time is not held against counts.

Among admitted settings the one lowest in counts is chosen (:func:`decide`); with none,
default stays. ``tolerance`` defaults to ``min_gain``: a shortfall smaller than the
smallest gain of interest does not change what to ship.

``default+freeze`` is judged by time where counts show no gain (:func:`time_decides`):
it leaves the thresholds, and so memory and the young collections, as default's, and
takes the long-lived heap out of the full collections, whose traversal of a large heap
costs time in cache misses the counts' cache model does not see. Its gain is larger in
time than in counts on every built-in measured (longlived_heap 0.964x in counts, 0.837x
in time; short_cycles 0.988x, 0.893x; tree_parents 0.994x, 0.949x; request_loop 1.004x,
0.971x, the best of its 29-setting dense reference, docs/tune.md). There counts only
rule out a loss (ratio at most ``1 + tolerance``), and it is admitted where time shows
``min_gain`` or more over its whole interval — the advice rule of ``recommend``, which
reads the same time points (:func:`time_line`). Until 2026-12-08 a gain of ``min_gain``
at the point and a loss excluded admitted it: tune answered default+freeze on
request_loop at 0.972x [0.964, 0.981] while ``gctune recommend`` on the same points kept
default ("its interval does not beat default by 2%"). Between the point and the whole
interval it is undecided, and tune's decision rounds measure it longer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Optional

from gctune.analysis.intervals import Change
from gctune.analysis.recommend import DEFAULT_MIN_GAIN
from gctune.measure.settings import parse_setting

__all__ = [
    "ADMITTED",
    "CONFIRM_TOP",
    "full_period",
    "CONTRADICTED",
    "DEFAULT_MIN_GAIN",
    "NO_COUNTS",
    "NO_GAIN",
    "NO_TIME",
    "SHORTFALL",
    "UNDECIDED",
    "UNSAFE",
    "UNKNOWN_MEMORY",
    "TierDecision",
    "TierEvidence",
    "TierVerdict",
    "confirmation_candidates",
    "decide",
    "tier_verdict",
    "time_decides",
    "time_line",
]

CONFIRM_TOP = 3
"""How many of the best settings in counts a confirmation measures in time."""

# verdict statuses, one word each for tables and JSON
ADMITTED = "admitted"
NO_COUNTS = "no counts"
NO_GAIN = "no gain in counts"
UNSAFE = "unsafe"
NO_TIME = "not timed"
CONTRADICTED = "contradicted"
UNDECIDED = "undecided"
SHORTFALL = "time shows less"
UNKNOWN_MEMORY = "memory unknown"


@dataclass(frozen=True)
class TierEvidence:
    """One setting's evidence from both tiers, all relative to default.

    ``cycles`` and ``instructions`` are counts ratios per step (None: not measured);
    ``time`` the round-paired time ratio with its interval (None: not timed);
    ``memory_ok`` True within the budget, False growing or over it, None unknown;
    ``whole_cycles`` False when the counts window held no full collection of the setting
    (its counts are a lower bound of its cost).
    """

    setting: str
    cycles: Optional[float]
    instructions: Optional[float] = None
    time: Optional[Change] = None
    memory_ok: Optional[bool] = None
    memory_note: str = ""
    whole_cycles: bool = True


@dataclass(frozen=True)
class TierVerdict:
    """The rule's word on one setting: ``status`` (one of the statuses above) and why."""

    evidence: TierEvidence
    status: str
    reason: str

    @property
    def setting(self) -> str:
        """The setting's id."""
        return self.evidence.setting

    @property
    def admitted(self) -> bool:
        """True when the setting may be recommended."""
        return self.status == ADMITTED


@dataclass(frozen=True)
class TierDecision:
    """The decision for one workload: ``chosen`` (None: keep default) and every verdict."""

    chosen: Optional[TierVerdict]
    verdicts: tuple[TierVerdict, ...]
    min_gain: float
    tolerance: float
    over: Optional[TierVerdict] = None  # the counts' first, where time chose another

    @property
    def rests_on(self) -> str:
        """What the decision rests on, in words."""
        if self.chosen is None:
            return "nothing admitted: default kept"
        if self.over is not None and self.over.evidence.time is not None:
            return (
                f"counts, time consistent; time chose it over the counts' first, "
                f"{self.over.setting} ({_interval(self.over.evidence.time)}): their "
                f"intervals do not overlap"
            )
        return "counts, time consistent"


def _interval(change: Change) -> str:
    return f"{change.ratio:.3f}x [{change.low:.3f}, {change.high:.3f}]"


def tier_verdict(
    evidence: TierEvidence,
    *,
    min_gain: float = DEFAULT_MIN_GAIN,
    tolerance: Optional[float] = None,
) -> TierVerdict:
    """The rule (module docstring) applied to one setting's ``evidence``."""
    tol = min_gain if tolerance is None else tolerance
    e = evidence

    def said(status: str, reason: str) -> TierVerdict:
        return TierVerdict(e, status, reason)

    if e.cycles is None:
        return said(NO_COUNTS, "not measured in counts (or default was not)")
    counts = f"{e.cycles:.3f}x default's estimated cycles"
    by_time = _by_time(e, min_gain, tol)
    if 1 - e.cycles < min_gain and not by_time:
        return said(NO_GAIN, f"{counts}: less than the {100 * min_gain:g}% minimum gain")
    if e.memory_ok is False:
        return said(UNSAFE, f"memory: {e.memory_note or 'over the budget or growing'}")
    t = e.time
    if t is None:
        return said(NO_TIME, f"{counts}, not measured in time: counts alone recommend nothing")
    if t.low > 1.0:
        return said(
            CONTRADICTED,
            f"time contradicts counts: slower than default in time ({_interval(t)}) "
            f"although {counts}; time wins",
        )
    if by_time and t.ratio > 1 - min_gain:
        below = 100 * (1 - t.high)
        faster = (
            f" (faster in time: a --min-gain below {below:.1f} would admit it)"
            if below >= 0.1
            else ""
        )
        return said(
            NO_GAIN,
            f"time {_interval(t)} and counts ({counts}) both show less than the "
            f"{100 * min_gain:g}% minimum gain{faster}",
        )
    line = time_line(e, min_gain, tol)
    if t.high > line:
        said_time = (
            f"time {_interval(t)} reaches above {line:.2f}x, the {100 * min_gain:g}% line"
            if by_time
            else f"time does not exclude a loss ({_interval(t)})"
        )
        return said(UNDECIDED, f"{said_time}; {counts}: measure more rounds")
    if t.low > e.cycles + tol:
        return said(
            SHORTFALL,
            f"time shows less gain ({_interval(t)}) than counts ({counts}, beyond "
            f"{100 * tol:g}%); time wins",
        )
    if e.memory_ok is None:
        return said(UNKNOWN_MEMORY, e.memory_note or "memory not measured: cannot say it is safe")
    bound = "" if e.whole_cycles else " (counted over default's cycle: none of its own)"
    more = (
        ": time shows a larger gain than counts (the cache model under-weighs it)"
        if t.high < e.cycles - tol
        else ""
    )
    if by_time:
        more = ": freeze, judged by time where counts show no loss (they under-weigh its gain)"
    return said(ADMITTED, f"{counts}{bound}; time {_interval(t)} consistent{more}")


def decide(
    evidence: Iterable[TierEvidence],
    *,
    min_gain: float = DEFAULT_MIN_GAIN,
    tolerance: Optional[float] = None,
    order: Optional[Sequence[str]] = None,
) -> TierDecision:
    """Every setting's verdict (``default`` left out) and the admitted one lowest in
    estimated cycles (ties: fewer instructions, then the setting's id), or None;
    ``order``: the caller's ranking instead (as :func:`confirmation_candidates`).

    Where time contradicts that ranking among the admitted — another admitted setting's
    time interval lies wholly below the counts' first's — time wins: the fastest of those
    in time is chosen (``over``: the counts' first). Counts under-weigh what a larger
    young generation costs in time (tree_parents in ``gctune tune``: t27000-10-10 0.940x
    in counts, 0.977x [0.959, 0.995] in time; t7000-10-10 0.953x, 0.919x [0.905, 0.932]);
    non-overlapping intervals are a stricter test than a paired one, so time overrules
    counts only where it clearly disagrees."""
    tol = min_gain if tolerance is None else tolerance
    verdicts = tuple(
        tier_verdict(e, min_gain=min_gain, tolerance=tol)
        for e in evidence
        if e.setting != "default"
    )
    admitted = [v for v in verdicts if v.admitted]
    place = {setting: i for i, setting in enumerate(order or ())}
    chosen = min(
        admitted,
        key=lambda v: (
            place.get(v.setting, len(place)),
            v.evidence.cycles,
            v.evidence.instructions if v.evidence.instructions is not None else 1.0,
            v.setting,
        ),
        default=None,
    )
    first = chosen
    if first is not None and first.evidence.time is not None:
        low = first.evidence.time.low
        faster = [v for v in admitted if v.evidence.time is not None and v.evidence.time.high < low]
        chosen = min(faster, key=_time_ratio, default=first)
    return TierDecision(chosen, verdicts, min_gain, tol, first if chosen is not first else None)


def _time_ratio(verdict: TierVerdict) -> float:
    time = verdict.evidence.time
    return time.ratio if time is not None else math.inf


def confirmation_candidates(
    evidence: Sequence[TierEvidence],
    *,
    min_gain: float = DEFAULT_MIN_GAIN,
    top: int = CONFIRM_TOP,
    order: Optional[Sequence[str]] = None,
) -> list[str]:
    """The settings worth timing: the ``top`` lowest in estimated cycles among those whose
    counts gain is at least ``min_gain`` (best first), one per collection rhythm, one
    place kept for the lowest counted over whole cycles of its own.

    One per rhythm: a setting whose threshold0 is within :data:`SAME_RHYTHM` of an
    already chosen one's (its freeze twin, a threshold0 a refine step away, another
    threshold1 or threshold2 at the same threshold0) takes no place. Such neighbours make
    the same young collections, count alike and share the counts' bias (the cost of a
    large young generation, which the cache model under-weighs), so timing them adds
    little: ``gctune tune`` on tree_parents timed threshold0 27,000, 32,000 and 37,000
    (0.940-0.949x in counts), which ran 1.21-1.37x default's time, and never timed 7,000
    (0.953x in counts, 0.886x in a 12-round check); with full periods as the rhythm,
    t28000-5-10 (0.952x, 1.165x in time) still took 7,000's place; on acyclic_churn its
    three finalists were one program (no collection at all). The places go to different
    young generations, and time chooses among them.

    ``default+freeze`` has a place of its own beyond ``top`` wherever counts show no loss
    (:func:`time_decides`), whatever its gain in counts: time decides it.

    A setting counted over default's cycle (``whole_cycles`` False) is a lower bound: its
    window holds none of its own full collections, and where it held its young ones but
    not its middle ones the count can promise a gain that time reverses (longlived_heap
    on 3.11: t20000-50-100 0.920x in counts, 1.26x in time, docs/counts-validity.md).
    Such lower bounds must not crowd out every setting whose count is a whole cycle's.
    Where no gaining setting is counted over whole cycles, the kept place goes to the
    gaining setting whose full collections come least rarely (:func:`full_period`): the
    nearest to default's rhythm, where its bound leaves out least and counts have ranked
    as time does (tree_parents in ``gctune tune``: threshold0 27,000-37,000 counted
    0.94-0.95x and ran 1.21-1.37x in time, their larger collections costing time that
    the cache model does not see; 7,000 counted 0.953x and ran 0.89x).

    ``order``: settings best first as the caller ranks them (``gctune tune``: costs equal
    within its flat tolerance rank the smallest change first); default: by estimated
    cycles."""
    gaining = [
        e for e in evidence
        if e.setting != "default" and e.cycles is not None and 1 - e.cycles >= min_gain
    ]  # fmt: skip
    if order is not None:
        place = {setting: i for i, setting in enumerate(order)}
        gaining.sort(key=lambda e: (place.get(e.setting, len(place)), e.cycles, e.setting))
    else:
        gaining.sort(key=lambda e: (e.cycles, e.setting))
    chosen: list[TierEvidence] = []
    for e in gaining:
        if len(chosen) < top and not any(_same_rhythm(e.setting, c.setting) for c in chosen):
            chosen.append(e)
    keep = next((e for e in gaining if e.whole_cycles), None)
    if keep is None and gaining:
        # every gain is a lower bound: the least biased is the setting whose own full
        # collections (left out of its window) come least rarely
        keep = min(gaining, key=lambda e: (full_period(e.setting), e.cycles, e.setting))
    if top > 0 and keep is not None and keep not in chosen:
        chosen = [*chosen[: top - 1], keep]
    # default+freeze: a place of its own where counts show no loss (time decides it)
    frozen = next((e for e in evidence if time_decides(e, min_gain)), None)
    if top > 0 and frozen is not None and frozen not in chosen:
        chosen.append(frozen)
    return [e.setting for e in chosen]


def time_line(
    evidence: TierEvidence,
    min_gain: float = DEFAULT_MIN_GAIN,
    tolerance: Optional[float] = None,
) -> float:
    """The ratio a setting's whole time interval must lie below to be admitted: 1 (time
    excludes a loss) where its counts show the gain, ``1 - min_gain`` where time alone
    shows it (:func:`time_decides`)."""
    tol = min_gain if tolerance is None else tolerance
    return 1.0 - min_gain if _by_time(evidence, min_gain, tol) else 1.0


def _by_time(evidence: TierEvidence, min_gain: float, tolerance: float) -> bool:
    """Whether time alone judges ``evidence``: counts show less than ``min_gain`` and
    :func:`time_decides` (freeze over default's thresholds, no loss in counts)."""
    e = evidence
    return e.cycles is not None and 1 - e.cycles < min_gain and time_decides(e, tolerance)


def time_decides(evidence: TierEvidence, tolerance: float = DEFAULT_MIN_GAIN) -> bool:
    """Whether ``evidence`` is freeze over the interpreter's own thresholds with counts
    showing no loss beyond ``tolerance``: counts under-weigh freeze's gain (module
    docstring), so time decides it, whatever its gain in counts."""
    if evidence.cycles is None or evidence.cycles > 1 + tolerance:
        return False
    try:
        parsed = parse_setting(evidence.setting)
    except ValueError:
        return False
    return parsed.mode == "default" and parsed.freeze


SAME_RHYTHM = 2.0
"""Settings whose young generations (threshold0) are within this factor of each other
share one place in a confirmation."""


def _young_size(setting: str) -> float:
    """A setting's young generation for :func:`_same_rhythm`: threshold0 (0 for the
    interpreter's own thresholds, infinite with the collector off)."""
    return _of_thresholds(setting, lambda t: float(max(t[0], 1)))


def _of_thresholds(setting: str, size: Callable[[tuple[int, ...]], float]) -> float:
    """``size`` of a setting's thresholds; 0 for the interpreter's own, infinite with the
    collector off."""
    parsed = parse_setting(setting)
    if parsed.mode == "disabled":
        return math.inf
    if parsed.mode != "thresholds":
        return 0.0
    return size(parsed.thresholds)


def _same_rhythm(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` collect their young generation in nearly the same rhythm:
    threshold0 within :data:`SAME_RHYTHM` of each other, whatever threshold1 and
    threshold2 (a freeze twin is the same rhythm; a name that is no setting, none)."""
    try:
        pa, pb = _young_size(a), _young_size(b)
    except ValueError:
        return False
    if pa == pb:
        return True
    if min(pa, pb) <= 0 or math.isinf(max(pa, pb)):
        return False
    return max(pa, pb) / min(pa, pb) < SAME_RHYTHM


def full_period(setting: str) -> float:
    """How rarely ``setting``'s full collections come, relative to other settings:
    threshold0 x threshold1 x threshold2 allocations (0 for the interpreter's own
    thresholds, infinite with the collector off)."""
    return _of_thresholds(setting, lambda t: float(math.prod(max(v, 1) for v in t)))
