"""``gctune tune``'s search: which settings to measure next, and when to stop. Pure logic.

The search runs over threshold0 on a log scale first, because it is the setting that
moves both cost and memory most, then over threshold1, threshold2 and freeze at the best
threshold0. Memory grows with threshold0 (more garbage waits between collections), so
the search first locates the *feasible edge* — the largest threshold0 whose peak memory
is within the budget, measured — and searches for the lowest cost inside it:

1. ``line``: threshold0 from the interpreter's default to ``max_factor`` times it, evenly
   on a log scale, and default with freeze (one batch: the points run side by side).
   Freeze is the one change that leaves threshold0, and so memory, as default's, and
   counts under-weigh its gain: it takes the long-lived heap out of the full
   collections, whose traversal of a large heap costs time in cache misses that the
   counts' cache model does not see (longlived_heap on 3.11: default+freeze 0.964x
   default's estimated cycles, 0.837x its time in a dense reference, the best setting
   within the budget). In the first batch, next to default, it is counted whatever the
   budget (a budget that cut the search before its last stage left it out), at about the
   cost of default's count point or less: its full collections come no later than
   default's. The confirmation times it wherever counts show no loss
   (:func:`gctune.analysis.tiers.time_decides`).
2. ``edge``: where a line point is over the memory budget, the interval between the
   largest feasible threshold0 below it and the smallest infeasible one is split (on a
   log scale, ``jobs`` points at a time) until its ends are within ``edge_ratio``.
3. ``refine``: bracketing on log threshold0 around the cheapest feasible point: the
   log-midpoints between it and its measured neighbours, until the bracket is within
   ``refine_ratio``. Costs in counts are exact (no noise), so a bracket narrows the way
   a golden-section search does; a cost curve with several minima finds the lowest one
   of the line's sampling. Costs within ``flat_ratio`` count as equal: a side whose two
   ends count the same is a flat stretch (settings that never collect within the counted
   window count the same), not bracketed; among equal costs the smallest change leads.
4. ``t1``, ``t2``: threshold1, then threshold2, at the best threshold0 (a coordinate
   search); ``t2`` is skipped where the interpreter ignores it (3.14's incremental
   collector) and both on a free-threaded build (one generation), and both where the
   best setting's counted window held no collection (the thresholds count collections).
5. ``freeze``: the best thresholds with freeze (default with freeze is the line's).

A trial's cost is whatever the caller measured (estimated cycles per step in counts, or
time per step); lower is better. Its memory is its peak RSS over default's. A trial
whose memory is unknown is not feasible. :class:`Search` only proposes and records; the
caller measures and may stop it (``stop``) when its budget runs out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

from gctune.measure.settings import Setting, parse_setting
from gctune.store.atomic import atomic_write_json, read_versioned

__all__ = [
    "STAGES",
    "TUNE_FILE",
    "Candidate",
    "Search",
    "Trial",
    "line_thresholds",
    "read_tune",
    "round_threshold",
    "write_tune",
]

STAGES = ("line", "edge", "refine", "t1", "t2", "freeze")
TUNE_FILE = "tune.json"
TUNE_FORMAT = 1
T1_CHOICES = (5, 20, 50)
T2_CHOICES = (5, 20, 100)


@dataclass(frozen=True)
class Candidate:
    """A setting the search asks to measure, and the stage that asked."""

    setting: str  # a setting id
    stage: str


@dataclass(frozen=True)
class Trial:
    """One measured candidate: its cost (lower is better) and its memory vs default's.

    ``cost`` and ``cost_ratio`` are None where the measurement failed or was skipped
    (a candidate over the memory budget is not measured in cost); ``memory_ratio`` is
    peak RSS / default's, None where unknown. ``memory_whole``: the memory probe ended
    on full collections (else its peak is a lower bound).
    """

    setting: str
    stage: str
    batch: int
    cost: Optional[float]
    cost_ratio: Optional[float]
    memory_ratio: Optional[float]
    feasible: bool
    note: str = ""
    memory_whole: bool = True
    instructions: Optional[float] = None
    whole_cycles: Optional[bool] = None
    seconds: float = 0.0  # wall time its measurement took
    collections: Optional[tuple[float, ...]] = None  # per step, per generation (counts)

    @property
    def thresholds(self) -> Optional[tuple[int, ...]]:
        """The setting's thresholds (None: default, disabled)."""
        parsed = parse_setting(self.setting)
        return parsed.thresholds if parsed.mode == "thresholds" else None


def round_threshold(value: float) -> int:
    """``value`` to two significant digits (readable setting ids: 2,200, 70,000)."""
    if value < 100:
        return max(1, round(value))
    digits = math.floor(math.log10(value)) - 1
    return int(round(value / 10**digits) * 10**digits)


def line_thresholds(t0_default: int, *, max_factor: float = 1000.0, points: int = 7) -> list[int]:
    """threshold0 from ``t0_default`` to ``max_factor`` times it, even on a log scale."""
    out: list[int] = []
    for i in range(points):
        t0 = (
            t0_default if i == 0 else round_threshold(t0_default * max_factor ** (i / (points - 1)))
        )
        if t0 not in out:
            out.append(t0)
    return out


def _log_mid(lo: float, hi: float, parts: int) -> list[int]:
    """``parts`` threshold0 values splitting (lo, hi) evenly on a log scale."""
    step = math.log(hi / lo) / (parts + 1)
    return [round_threshold(lo * math.exp(step * (i + 1))) for i in range(parts)]


@dataclass
class Search:
    """The adaptive search (see the module's docstring); ``next_batch`` / ``record``."""

    default_thresholds: tuple[int, int, int]
    max_memory_ratio: float
    jobs: int = 2
    gc_kind: str = "generational"
    max_factor: float = 1000.0
    line_points: int = 7
    edge_ratio: float = 1.25
    refine_ratio: float = 1.3
    flat_ratio: float = 0.001
    trials: list[Trial] = field(default_factory=list)
    stage: str = "line"
    stopped: Optional[str] = None
    batches: int = 0
    skipped: list[str] = field(default_factory=list)  # stages passed over, and why

    # --- what the caller reads -------------------------------------------------------
    def t0_of(self, setting: str) -> int:
        """threshold0 of a setting id (default's for default and freeze)."""
        parsed = parse_setting(setting)
        return parsed.thresholds[0] if parsed.mode == "thresholds" else self.default_thresholds[0]

    def tried(self, setting: str) -> bool:
        """Whether ``setting`` was measured (or asked for) already."""
        return any(t.setting == setting for t in self.trials)

    def feasible(self) -> list[Trial]:
        """Measured trials within the memory budget, with a cost (a line trial the
        monotone fit of memory puts over the budget is not: :meth:`memory_fit`)."""
        within = self._within_fn()
        return [t for t in self.trials if within(t) and t.cost is not None]

    def leader(self) -> Optional[Trial]:
        """The cheapest feasible trial so far (among costs equal within ``flat_ratio``,
        the smallest change)."""
        ranked = self.ranked()
        return ranked[0] if ranked else None

    def ranked(self) -> list[Trial]:
        """Feasible trials, cheapest first; costs equal within ``flat_ratio`` rank the
        smallest change first."""
        return self._ranked(self.feasible())

    def finalists(self, k: int) -> list[Trial]:
        """Up to ``k`` cheapest feasible trials cheaper than default (default excluded)."""
        base = next((t for t in self.trials if t.setting == "default"), None)
        ranked = self._ranked([t for t in self.feasible() if t.setting != "default"])
        if base is not None and base.cost is not None:
            ranked = [t for t in ranked if t.cost is not None and t.cost < base.cost]
        return ranked[:k]

    def _flat(self, a: float, b: float) -> bool:
        """Two costs equal within ``flat_ratio``: one count, read twice (counts are exact
        per install; two installs differ by up to ~0.4 %, settings of interest by 2 %+)."""
        return abs(a - b) <= self.flat_ratio * min(a, b)

    def _ranked(self, trials: Sequence[Trial]) -> list[Trial]:
        """Cheapest first; costs within ``flat_ratio`` of the cheapest left count as one
        (a flat stretch: settings that never collect in the window count the same bound),
        and among them the smallest change comes first."""
        left = sorted((t for t in trials if t.cost is not None), key=lambda t: float(t.cost or 0))
        out: list[Trial] = []
        while left:
            low = float(left[0].cost or 0)
            tied = [t for t in left if self._flat(float(t.cost or 0), low)]
            out += sorted(tied, key=lambda t: (self._size(t.setting), float(t.cost or 0)))
            left = [t for t in left if t not in tied]
        return out

    def _size(self, setting: str) -> float:
        # ties go to the smaller change (threshold0 closer to default, no freeze)
        parsed = parse_setting(setting)
        return math.log(self.t0_of(setting)) + (1.0 if parsed.freeze else 0.0)

    # --- the search itself -------------------------------------------------------------
    def record(self, trial: Trial) -> None:
        """A measured candidate."""
        self.trials = [t for t in self.trials if t.setting != trial.setting] + [trial]

    def stop(self, why: str) -> None:
        """End the search (its budget ran out, or the caller says so)."""
        if self.stopped is None:
            self.stopped = why

    def next_batch(self) -> list[Candidate]:
        """The next settings to measure (empty: the search has ended; ``stopped`` says why)."""
        while self.stopped is None:
            batch = self._propose()
            if batch:
                self.batches += 1
                return batch
            i = STAGES.index(self.stage)
            if i + 1 == len(STAGES):
                self.stop("; ".join(["every stage searched", *self.skipped]))
                break
            self.stage = STAGES[i + 1]
        return []

    def _propose(self) -> list[Candidate]:
        if self.stage == "line":
            line = self._new([self.thresholds_id(t0) for t0 in self.line()], "line")
            # default+freeze next to default: counted in the first ``jobs`` side by side,
            # before a budget can cut the batch (its count is no longer than default's)
            return line[:1] + self._new([_freeze("default")], "freeze") + line[1:]
        if not any(t.feasible for t in self.trials):
            self.stop("no setting within the memory budget, default included")
            return []
        if self.stage == "edge":
            return self._edge()
        if self.stage == "refine":
            return self._refine()
        best = self.leader()
        thresholds = self._best_thresholds(best)
        if self.stage in ("t1", "t2") and _collects_nothing(best):
            assert best is not None
            why = (
                f"threshold1 and threshold2 not searched: {best.setting} collects nothing"
                " in its counted window"
            )
            if why not in self.skipped:
                self.skipped.append(why)
            return []  # threshold1/2 count young collections: nothing to decide there
        if self.stage == "t1" and self.gc_kind != "free-threaded":
            return self._new([_id(thresholds[0], t1, thresholds[2]) for t1 in T1_CHOICES], "t1")
        if self.stage == "t2" and self.gc_kind == "generational":
            return self._new([_id(thresholds[0], thresholds[1], t2) for t2 in T2_CHOICES], "t2")
        if self.stage == "freeze":
            base = "default" if best is None or best.thresholds is None else best.setting
            base = base.replace("+freeze", "")
            return self._new([_freeze(base)], "freeze")  # default+freeze: the first batch
        return []

    def line(self) -> list[int]:
        """threshold0 values of the line stage."""
        return line_thresholds(
            self.default_thresholds[0], max_factor=self.max_factor, points=self.line_points
        )

    def thresholds_id(self, t0: int) -> str:
        """The setting id of threshold0 ``t0`` with default's threshold1 and threshold2."""
        d = self.default_thresholds
        return "default" if t0 == d[0] else _id(t0, d[1], d[2])

    def _new(self, settings: Sequence[str], stage: str) -> list[Candidate]:
        fresh = [s for s in dict.fromkeys(parse_setting(s).id for s in settings)]
        return [Candidate(s, stage) for s in fresh if not self.tried(s)]

    def _t0_line(self) -> list[Trial]:
        """Trials on the threshold0 line (default's threshold1 and threshold2, no freeze)."""
        d = self.default_thresholds
        out = []
        for t in self.trials:
            parsed = parse_setting(t.setting)
            if t.setting == "default" or (
                parsed.mode == "thresholds" and not parsed.freeze and parsed.thresholds[1:] == d[1:]
            ):
                out.append(t)
        return sorted(out, key=lambda t: self.t0_of(t.setting))

    def memory_fit(self) -> dict[int, float]:
        """The line's memory readings (peak RSS / default's, by threshold0) fitted to a
        non-decreasing line: memory grows with threshold0, but one native run's peak moves
        by a few percent, so near the budget a larger threshold0 can read lower than a
        smaller one (short_cycles: 3,900 read 1.260x, 7,000 1.246x, against a 1.25x
        budget). Pool-adjacent-violators: a run of readings out of order is replaced by
        their mean, which decides the side of the budget for all of them."""
        readings = [
            (self.t0_of(t.setting), float(t.memory_ratio))
            for t in self._t0_line()
            if t.memory_ratio is not None
        ]
        blocks: list[list[float]] = []  # [sum, count] per pooled block
        keys: list[list[int]] = []
        for t0, ratio in readings:
            blocks.append([ratio, 1.0])
            keys.append([t0])
            while len(blocks) > 1 and (
                blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]
            ):
                total, count = blocks.pop()
                blocks[-1][0] += total
                blocks[-1][1] += count
                merged = keys.pop()
                keys[-1].extend(merged)
        return {t0: b[0] / b[1] for b, ts in zip(blocks, keys) for t0 in ts}

    def over_by_fit(self) -> set[int]:
        """threshold0 values read within the budget that the monotone fit puts over it,
        or that lie above a threshold0 read over it: treated as over (not candidates, not
        the edge). Memory grows with threshold0, so a reading within the budget above one
        over it is the probe's noise; where the pooled mean of the two is within the
        budget, the fit alone would keep the larger one (tree_parents in tune run c: 25,000
        read 1.261x, 28,000 1.189x, pooled 1.225x: 28,000 became the leader beyond an edge
        the summary put at 22,000)."""
        fit = self.memory_fit()
        line = self._t0_line()
        first_over = min(
            (
                self.t0_of(t.setting)
                for t in line
                if t.memory_ratio is not None and t.memory_ratio > self.max_memory_ratio
            ),
            default=math.inf,
        )
        return {
            t0
            for t0 in (self.t0_of(t.setting) for t in line if t.feasible)
            if fit.get(t0, 0.0) > self.max_memory_ratio or t0 > first_over
        }

    def _within_fn(self) -> Callable[[Trial], bool]:
        """Whether a trial is within the budget: measured so, and (a line trial) not put
        over it by the monotone fit; the fit computed once."""
        over = self.over_by_fit()
        line = {x.setting for x in self._t0_line()}

        def within(t: Trial) -> bool:
            return t.feasible and not (t.setting in line and self.t0_of(t.setting) in over)

        return within

    def _bracket(self) -> Optional[tuple[int, int]]:
        """The largest feasible threshold0 of the line below its smallest infeasible one
        above the smallest feasible one, and that infeasible one (None: no edge seen);
        feasible by the monotone fit of the readings (:meth:`memory_fit`)."""
        line = self._t0_line()
        within = self._within_fn()
        feasible = [self.t0_of(t.setting) for t in line if within(t)]
        above = [self.t0_of(t.setting) for t in line if not within(t) and t.memory_ratio]
        above = [t0 for t0 in above if feasible and t0 > min(feasible)]
        if not above:
            return None
        hi = min(above)
        return max(t0 for t0 in feasible if t0 < hi), hi

    @property
    def edge(self) -> Optional[int]:
        """The feasible edge: the largest threshold0 measured within the memory budget
        below the smallest one measured over it (None: none over it was measured)."""
        bracket = self._bracket()
        return bracket[0] if bracket else None

    @property
    def edge_above(self) -> Optional[int]:
        """The smallest threshold0 measured over the budget above the edge."""
        bracket = self._bracket()
        return bracket[1] if bracket else None

    def _edge(self) -> list[Candidate]:
        bracket = self._bracket()
        if bracket is None:
            return []
        lo, hi = bracket
        if hi / lo <= self.edge_ratio:
            return []
        parts = max(1, self.jobs)
        return self._new([self.thresholds_id(t0) for t0 in _log_mid(lo, hi, parts)], "edge")

    def _refine(self) -> list[Candidate]:
        line = [t for t in self._t0_line() if t.feasible and t.cost is not None]
        if not line:
            return []
        costs = [float(t.cost) for t in line if t.cost is not None]
        i = line.index(self._ranked(line)[0])
        t0s = [self.t0_of(t.setting) for t in line]
        wanted: list[int] = []
        for j in (i - 1, i + 1):
            if 0 <= j < len(line):
                lo, hi = sorted((t0s[i], t0s[j]))
                # a flat stretch (both ends count the same) has nothing to bracket
                if hi / lo > self.refine_ratio and not self._flat(costs[i], costs[j]):
                    wanted += _log_mid(lo, hi, 1)
        return self._new([self.thresholds_id(t0) for t0 in wanted], "refine")

    def _best_thresholds(self, best: Optional[Trial]) -> tuple[int, int, int]:
        if best is None or best.thresholds is None:
            return self.default_thresholds
        t = best.thresholds
        return (t[0], t[1], t[2])


def _collects_nothing(trial: Optional[Trial]) -> bool:
    """Whether ``trial``'s counted window held no collection at all (then threshold1 and
    threshold2, which count young collections, decide nothing in it)."""
    return trial is not None and trial.collections is not None and not any(trial.collections)


def _id(t0: int, t1: int, t2: int) -> str:
    return Setting("thresholds", (t0, t1, t2)).id


def _freeze(setting: str) -> str:
    parsed = parse_setting(setting)
    return Setting(parsed.mode, parsed.thresholds, True).id


def write_tune(directory: Path, doc: dict[str, Any]) -> None:
    """Write the search record (``tune.json``) whole."""
    atomic_write_json(directory / TUNE_FILE, {"gctune_tune": TUNE_FORMAT, **doc})


def read_tune(directory: Path) -> Optional[dict[str, Any]]:
    """The search record of a tuned sweep directory, None where there is none."""
    path = directory / TUNE_FILE
    if not path.exists():
        return None
    return read_versioned(path, "gctune_tune", TUNE_FORMAT, "tune record")


def trial_dict(trial: Trial) -> dict[str, Any]:
    """Plain data for the search record."""
    return asdict(trial)


def trial_from(doc: dict[str, Any]) -> Trial:
    """A trial from the search record."""
    fields = dict(doc)
    if fields.get("collections") is not None:
        fields["collections"] = tuple(float(c) for c in fields["collections"])
    return Trial(**fields)
