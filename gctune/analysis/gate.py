"""``gctune gate``: a CI gate measured interleaved, compared within rounds.

Two result sets swept minutes apart absorb the machine's drift (see docs/ci.md, its noise
tables). A gate that compares a base and a change measured *in the same rounds* of one
sweep does not: ``gctune sweep base/bench.py new/bench.py --interleave`` (two checkouts'
workloads), or ``gctune sweep W --python OLD --python NEW`` (two interpreters or two
virtualenvs), then ``gctune gate DIR BASE NEW --fail-on time:5%``, where BASE and NEW are
workload ids of that sweep. Each setting both measured is compared:

* ``time``: round-paired ratio in seconds (geometric mean of per-round ratios, t-interval
  over rounds) over the chunks run at the machine's full speed where enough rounds have
  them, else over every chunk (:mod:`gctune.analysis.time_basis`; the row says which); a
  regression (:func:`time_regression`) when new is significantly slower (the interval
  lies above 1) and the interval does not show the slowdown within the threshold (its
  upper end lies above 1 + threshold);
* ``cpu``: the same over every chunk's process CPU time, the same rule;
* ``fullspeed``: ``time`` over full-speed chunks only, never every chunk (chunks selected
  by the speed reference, not divided by it: :mod:`gctune.analysis.speed_state`); a row
  that has too few such rounds says so, and when ``fullspeed`` is gated that is a
  measurement that failed, not a pass;
* ``collections``: collections per step, each generation, mean over rounds; a regression
  when new's lower bound exceeds base's upper bound × (1 + threshold), the bounds set by
  where a span can start and end in the collector's rhythm and by the spans' own spread
  (:mod:`gctune.analysis.collection_rates`; exact when every span measured the same number of
  steps).

The time intervals (``time``, ``cpu``, ``fullspeed``) are family-wise: the gate fails when
any setting's row does, so with ``k`` settings compared each interval is taken at
1 - 5%/k (Bonferroni; 98.3% for the example workflow's three settings) and identical code
fails the whole gate at most 5% of the time, not about k × 2.5%.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from gctune.analysis.collection_rates import compare_rates
from gctune.analysis.comparison import CompareError, Threshold
from gctune.analysis.fmt import fmt_interval, fmt_ratio
from gctune.analysis.intervals import Change
from gctune.analysis.paired import (
    RunSample,
    paired_change,
    paired_ratios,
    ratio_change,
)
from gctune.analysis.speed_state import MIN_FAST_CHUNKS, fast_floor, fast_time
from gctune.analysis.time_basis import time_change
from gctune.store.results import Point, RunMetrics, load_sweep

__all__ = ["GATE_METRICS", "GateRow", "family_confidence", "gate", "time_regression"]

GATE_METRICS = ("time", "cpu", "fullspeed", "collections")


@dataclass(frozen=True)
class GateRow:
    """One metric of one setting: new relative to base, and whether it fails the gate."""

    setting: str
    metric: str
    ratio: float
    low: float
    high: float
    rounds: int
    limit: Optional[float]
    regression: bool
    note: str = ""
    failed: str = ""
    """``base``, ``new`` or ``both`` when that side's point failed, ``measure`` when a
    gated metric could not be measured from the spans (too few fast-state rounds):
    nothing was compared, and ``ratio``, ``low`` and ``high`` are NaN."""

    def line(self) -> str:
        """The row as text."""
        if self.failed:
            return f"{self.setting:24s} not compared: {self.note}"
        verdict = "REGRESSION" if self.regression else "ok"
        limit = f" (gate {self.limit:.0%})" if self.limit is not None else ""
        return (
            f"{self.setting:24s} {self.metric:12s} {fmt_ratio(self.ratio)} "
            f"{fmt_interval(self.low, self.high)} over {self.rounds} rounds{limit}: {verdict}"
            + (f" — {self.note}" if self.note else "")
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form; a failed side's missing ratios are ``null``."""
        data = dict(self.__dict__)
        for key in ("ratio", "low", "high"):
            if not math.isfinite(data[key]):
                data[key] = None
        return data


def time_regression(change: Change, limit: float) -> bool:
    """Whether a round-paired ratio fails a ``limit`` (0.05: 5%) gate: significantly
    slower, and not shown to be within the limit. Requiring the whole interval above
    1 + limit, as gctune did, lets a slowdown of the limit's size pass half the time at
    any number of rounds; this rule catches it once the interval is narrower than the
    limit, and passes identical code unless the interval is both shifted and wide
    (``docs/time-reference.md``)."""
    return change.low > 1.0 and change.high > 1.0 + limit


def _cpu(run: RunMetrics) -> Optional[float]:
    if run.cpu_ns is None or not run.steps:
        return None
    return run.cpu_ns / 1e9 / run.steps


def _collection_rows(
    setting: str, base: Point, new: Point, limit: Optional[float]
) -> list[GateRow]:
    rows = []
    gens = sorted({g for p in (base, new) for r in p.runs for g in r.pauses})
    for gen in gens:
        # per-step rates of each round's span, bounded by where a span can start and end
        # in the collector's rhythm and by the spans' own spread (gctune.analysis.collection_rates)
        c = compare_rates(base.runs, new.runs, gen, limit)
        rows.append(
            GateRow(
                setting,
                f"gen{gen} GCs",
                c.ratio,
                c.low,
                c.high,
                len(new.runs),
                limit,
                c.regression,
                c.note(),
            )
        )
    return rows


FULLSPEED = "fullspeed"  # time over the chunks run in the machine's fast state
FAMILY = 0.95  # the confidence of a gate's verdict on identical code, over all its settings


def family_confidence(settings: int) -> float:
    """Each time interval's confidence in a gate of ``settings`` settings: a gate fails
    when any setting's row does, so each is taken at 1 - 5%/settings (Bonferroni) and the
    whole gate passes identical code at least 95% of the time."""
    return 1.0 - (1.0 - FAMILY) / max(1, settings)


def _time_row(
    setting: str,
    metric: str,
    b: Point,
    n: Point,
    sample: RunSample,
    limit: Optional[float],
    confidence: float = FAMILY,
) -> list[GateRow]:
    """The round-paired row of ``metric``; for ``fullspeed``, with the rounds it could use, or
    a row saying it could not be compared (a failure of the measurement when gated)."""
    both = {r.round for r in n.runs} & {r.round for r in b.runs}
    used = len(both)
    note = ""
    if metric == FULLSPEED:  # paired only: no unpaired fallback for chunks selected by round
        ratios = paired_ratios(b, n, sample)
        change = ratio_change(ratios, confidence)
        used = len(ratios)
        note = f"{used} of {len(both)} rounds with {MIN_FAST_CHUNKS}+ fast-state chunks each side"
    else:
        change = paired_change(b, n, sample, confidence)
    return _row(setting, metric, change, used, limit, note)


def _row(
    setting: str,
    metric: str,
    change: Optional[Change],
    used: int,
    limit: Optional[float],
    note: str,
) -> list[GateRow]:
    if change is None:
        if metric == FULLSPEED and limit is not None:
            return [_not_measured(setting, metric, note)]
        return []
    bad = limit is not None and time_regression(change, limit)
    return [GateRow(setting, metric, change.ratio, change.low, change.high, used, limit, bad, note)]


def _not_measured(setting: str, metric: str, why: str) -> GateRow:
    nan = math.nan
    note = f"{metric}: {why}"
    return GateRow(setting, metric, nan, nan, nan, 0, None, False, note, failed="measure")


def _failed_row(setting: str, base: Point, new: Point) -> GateRow:
    """A setting whose point failed on one side or both: which side, and why; no ratio."""
    sides = [(name, p) for name, p in (("base", base), ("new", new)) if not p.ok]
    side = "both" if len(sides) == 2 else sides[0][0]
    why = "; ".join(f"{name} ({p.workload}) failed: {p.reason}" for name, p in sides)
    nan = math.nan
    return GateRow(setting, "status", nan, nan, nan, 0, None, False, why, failed=side)


def gate(
    sweep_dir: Path, base_id: str, new_id: str, thresholds: Sequence[Threshold]
) -> list[GateRow]:
    """Compare workload ``new_id`` with ``base_id`` within the rounds of one sweep."""
    _, points = load_sweep(sweep_dir)
    ids = sorted({p.workload for p in points})
    for wanted in (base_id, new_id):
        if wanted not in ids:
            raise CompareError(f"{sweep_dir} has no workload {wanted!r}: it has {', '.join(ids)}")
    limits = {t.metric: t.limit for t in thresholds}
    for metric in limits:
        if metric not in GATE_METRICS:
            raise CompareError(
                f"gate compares {', '.join(GATE_METRICS)} within rounds, not {metric!r}"
            )
    base = {p.setting: p for p in points if p.workload == base_id}
    new = {p.setting: p for p in points if p.workload == new_id}
    floor = fast_floor(p for p in points if p.ok and p.workload in (base_id, new_id))
    samples: list[tuple[str, RunSample]] = [("cpu", _cpu)]
    if floor is not None:
        samples.append((FULLSPEED, fast_time(floor)))
    rows: list[GateRow] = []
    shared = [s for s in base if s in new]
    confidence = family_confidence(sum(1 for s in shared if base[s].ok and new[s].ok))
    for setting in shared:
        b, n = base[setting], new[setting]
        if not b.ok or not n.ok:
            rows.append(_failed_row(setting, b, n))
            continue
        timed = time_change(b, n, confidence, floor)
        rows += _row(
            setting,
            "time",
            timed,
            timed.rounds if timed else 0,
            limits.get("time"),
            timed.basis_text() if timed else "",
        )
        for metric, sample in samples:
            rows += _time_row(setting, metric, b, n, sample, limits.get(metric), confidence)
        if floor is None and FULLSPEED in limits:
            rows.append(_not_measured(setting, FULLSPEED, "no speed reference in these spans"))
        rows += _collection_rows(setting, b, n, limits.get("collections"))
    if not rows:
        raise CompareError(f"{base_id} and {new_id} share no setting in {sweep_dir}")
    return rows
