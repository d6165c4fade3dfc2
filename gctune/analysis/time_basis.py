"""Which chunks a time ratio is taken over: those run at the machine's full speed where
enough rounds have them, every chunk otherwise; the row says which.

Every span times a speed reference around its chunks. On the shared machines gctune is
measured on, that reference reads two speeds about 2x apart and flips between them
several times a second, with nothing else running; a chunk's time follows it. Paired in
seconds over every chunk, identical settings came out "significant" in 11 % of
comparisons at 95 % (5 of 45) over fifteen quiet 20-round sweeps, and a 10 % slower
workload was missed by a 5 % gate in 2 of 15; over the chunks whose references on both
sides read the fast state (:mod:`gctune.analysis.speed_state`: the reference *selects*
chunks, it never divides them), 2 of 45 and 0 of 15, with a third of the round-to-round
spread and the same ratios on every known difference (docs/time-reference.md, "Two
speeds").

A pair of points is compared over full-speed chunks when at least :data:`MIN_FAST_ROUNDS`
rounds, and at least half the rounds both sides measured, have
:data:`~gctune.analysis.speed_state.MIN_FAST_CHUNKS` full-speed chunks on each side; the
choice depends on how many chunks ran at full speed, never on the ratio. Otherwise (few
chunks a span: steps of a second; few rounds; no speed reference: ``--command`` points)
it is every chunk's seconds, paired as before, and the row says so.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Optional

from gctune.analysis.intervals import Change
from gctune.analysis.paired import half_width, paired_change, paired_ratios, ratio_change, run_time
from gctune.analysis.speed_state import fast_floor, fast_time
from gctune.store.results import Point

__all__ = [
    "EVERY_CHUNK",
    "FULL_SPEED",
    "MIN_FAST_ROUNDS",
    "RoundSpread",
    "TimeChange",
    "basis_text",
    "round_spread",
    "speed_range",
    "time_change",
    "time_logs",
]

FULL_SPEED = "full speed"
EVERY_CHUNK = "every chunk"
MIN_FAST_ROUNDS = 3
FAST_SHARE = 0.5
"""Full-speed chunks are used when at least this share of the shared rounds has them."""


@dataclass(frozen=True)
class TimeChange(Change):
    """A round-paired time ratio and the chunks it was taken over."""

    basis: str = EVERY_CHUNK
    rounds: int = 0
    """Rounds the ratio is over."""
    shared: int = 0
    """Rounds both sides measured."""

    @property
    def full_speed(self) -> bool:
        """Whether the ratio is over full-speed chunks only."""
        return self.basis == FULL_SPEED

    def basis_text(self) -> str:
        """``full speed, 18 of 20 rounds`` or ``every chunk`` (with why, when rounds ran)."""
        if self.full_speed:
            return f"{FULL_SPEED}, {self.rounds} of {self.shared} rounds"
        return EVERY_CHUNK


def basis_text(change: Optional[Change]) -> Optional[str]:
    """What a time ratio was taken over (None without one); a plain :class:`Change` is an
    unpaired comparison of whole runs."""
    if isinstance(change, TimeChange):
        return change.basis_text()
    return f"{EVERY_CHUNK} (unpaired)" if change is not None else None


def _shared_rounds(base: Point, new: Point) -> int:
    b = {r.round for r in base.runs if r.round is not None}
    return len(b & {r.round for r in new.runs if r.round is not None})


def _enough(rounds: int, shared: int) -> bool:
    return rounds >= max(MIN_FAST_ROUNDS, math.ceil(FAST_SHARE * shared))


def _full_speed_ratios(base: Point, new: Point, floor: Optional[float]) -> Optional[list[float]]:
    """The per-round ratios over full-speed chunks, or None where too few rounds have them
    (the rule of the module; ``floor`` None: that of the two points)."""
    if floor is None:
        floor = fast_floor((base, new))
    if floor is None:
        return None
    ratios = paired_ratios(base, new, fast_time(floor))
    return ratios if _enough(len(ratios), _shared_rounds(base, new)) else None


def time_change(
    base: Point,
    new: Point,
    confidence: float = 0.95,
    floor: Optional[float] = None,
) -> Optional[TimeChange]:
    """``new``'s time per step relative to ``base``'s, round-paired over full-speed chunks
    where enough rounds have them, else over every chunk (see the module).

    ``floor``: the fast floor (default: that of the two points' references; a gate passes
    that of both workloads). None when nothing can be compared."""
    shared = _shared_rounds(base, new)
    ratios = _full_speed_ratios(base, new, floor)
    c = ratio_change(ratios, confidence) if ratios is not None else None
    if ratios is not None and c is not None:
        n = len(ratios)
        return TimeChange(c.ratio, c.low, c.high, c.significant, FULL_SPEED, n, shared)
    c = paired_change(base, new, run_time, confidence)
    if c is None:
        return None
    return TimeChange(c.ratio, c.low, c.high, c.significant, EVERY_CHUNK, shared, shared)


def time_logs(base: Point, new: Point) -> list[float]:
    """The per-round log ratios :func:`time_change` takes its interval over."""
    ratios = _full_speed_ratios(base, new, None)
    return [math.log(r) for r in (ratios or paired_ratios(base, new, run_time))]


@dataclass(frozen=True)
class RoundSpread:
    """How much a workload's time ratios to default moved from round to round.

    ``spread``: the median, over its settings, of the standard deviation of the
    per-round log ratios (0.05: about 5% a round), on each ratio's own basis;
    ``rounds``: the median number of rounds paired; ``half_width``: the 95% interval's
    relative half-width that spread and those rounds give a ratio; ``rounds_needed``: the
    rounds that would narrow it to ``target``; ``speed_range``: the slowest span's speed
    reference over the fastest's (1.7: the machine ran some spans 1.7x slower than
    others), None without references.
    """

    spread: float
    rounds: int
    half_width: float
    rounds_needed: int
    target: float
    speed_range: Optional[float] = None

    def line(self) -> str:
        """One line for a summary or a report."""
        text = (
            f"round to round, time ratios to default moved {self.spread:.0%} (median over "
            f"settings): {self.rounds} rounds give an interval of about ±{self.half_width:.0%}"
            f"; ±{self.target:.0%} would take about {self.rounds_needed} rounds (--rounds)"
        )
        if self.speed_range is not None and self.speed_range >= 1.1:
            text += (
                f"; the machine itself ran some spans {self.speed_range:.1f}x slower than "
                "others (speed reference): pairing in rounds cancels what a round's spans "
                "share, and ratios are taken over the chunks run at full speed where enough "
                "rounds have them"
            )
        return text


def speed_range(points: Iterable[Point]) -> Optional[float]:
    """The slowest over the fastest span's median speed-reference time (one interpreter's
    spans only); None without two spans that timed the same reference."""
    by_python: dict[str, list[float]] = {}
    for run in (r for p in points for r in p.runs):
        if not run.reference:
            continue
        seconds = run.reference.get("seconds") or []
        if seconds and min(seconds) > 0:
            key = str(run.reference.get("python"))
            by_python.setdefault(key, []).append(statistics.median(seconds))
    ranges = [max(v) / min(v) for v in by_python.values() if len(v) >= 2]
    return max(ranges) if ranges else None


def round_spread(points: Sequence[Point], *, target: float = 0.03) -> Optional[RoundSpread]:
    """The round-to-round spread of one workload's paired time ratios; None without a
    finished default or without a setting paired in two rounds."""
    default = next((p for p in points if p.setting == "default" and p.ok), None)
    if default is None:
        return None
    spreads: list[float] = []
    counts: list[int] = []
    for point in points:
        if point is default or not point.ok:
            continue
        logs = time_logs(default, point)
        if len(logs) >= 2:
            spreads.append(statistics.stdev(logs))
            counts.append(len(logs))
    if not spreads:
        return None
    spread = statistics.median(spreads)
    rounds = int(statistics.median(counts))

    def half(n: int) -> float:
        return math.exp(half_width(spread, n)) - 1

    needed = rounds
    while half(needed) > target and needed < 10_000:
        needed += 1
    return RoundSpread(spread, rounds, half(rounds), needed, target, speed_range(points))
