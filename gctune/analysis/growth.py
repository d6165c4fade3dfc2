"""Memory over time: is a point's memory bounded, or does it grow, and how fast?

Each worker span samples its resident memory (RSS) and allocated blocks after every
timed chunk (see :mod:`gctune.measure.span`). Which samples a run's trend is read from:

* with ``MIN_CYCLES`` or more full collections in the span, the first sample after each
  full collection from the second on: the heap just after a collection, where a bounded
  setting returns every cycle (a sawtooth between them says nothing about growth);
* otherwise the samples after the first full collection, or after the first quarter of
  the span (the first cycle fills the heap up to its working size).

Least-squares lines through them give the run's rates in bytes (RSS) and blocks per step.
A run **grows** when, over those samples, its RSS rose by at least ``GROWTH_MIN_BYTES``
and ``GROWTH_MIN_SHARE`` *and* its allocated blocks by at least ``GROWTH_MIN_SHARE``:
live objects piling up, not the allocator keeping pages it got earlier. The point is
**growing** when most of its runs grow, else **bounded**; runs without samples (format 1
files) leave it **unknown**. The point's rate is the median of its runs' RSS rates; per
second it is that over the measured time per step, and the time to a memory budget is
what is left of the budget over that rate.

A growing verdict read over spans of fewer than ``MIN_CYCLES`` full collections (but at
least one) is marked (``few_cycles``, "rises ... (2 fulls)"): a span stops after two full
collections, and one cycle's rise cannot tell growth from the heap still filling up over
its first cycles (short_cycles at 7000,10,10 rose 3.97 KiB a step over such spans, and
was flat over 25 cycles of one long run: docs/measurement.md). It stays a reason not to
recommend the setting; it is not called growth.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

from gctune.store.results import Point, RunMetrics

__all__ = [
    "GROWTH_MIN_BYTES",
    "GROWTH_MIN_SHARE",
    "Growth",
    "RunGrowth",
    "point_growth",
    "run_growth",
    "slope",
]

GROWTH_MIN_BYTES = 1024 * 1024
GROWTH_MIN_SHARE = 0.02
SETTLE_SHARE = 0.25
MIN_SAMPLES = 4
MIN_CYCLES = 4


@dataclass(frozen=True)
class RunGrowth:
    """One span's memory trend over its settled samples. Bytes, steps."""

    bytes_per_step: float
    blocks_per_step: float
    increase_bytes: float
    mean_rss_bytes: float
    samples: int
    growing: bool
    cycles: int = 0  # full collections in the span


@dataclass(frozen=True)
class Growth:
    """A point's memory verdict: ``status`` is ``bounded``, ``growing`` or ``unknown``.

    ``bytes_per_step`` is the median of its runs' rates; ``bytes_per_s`` the same at the
    point's measured time per step.
    """

    status: str
    bytes_per_step: Optional[float]
    bytes_per_s: Optional[float]
    runs_growing: int
    runs: int
    cycles: Optional[int] = None  # full collections a span, the fewest over its runs

    @property
    def few_cycles(self) -> bool:
        """Growing, read over spans of 1 to ``MIN_CYCLES - 1`` full collections."""
        return self.status == "growing" and self.cycles is not None and 0 < self.cycles < MIN_CYCLES

    @property
    def fulls_words(self) -> str:
        """``1 full collection``, ``2 full collections``: the spans' fewest."""
        n = self.cycles or 0
        return f"{n} full collection{'' if n == 1 else 's'}"

    def seconds_to(self, budget_bytes: float, now_bytes: float) -> Optional[float]:
        """Seconds until memory at ``now_bytes`` reaches ``budget_bytes`` at this rate."""
        if self.status != "growing" or not self.bytes_per_s or self.bytes_per_s <= 0:
            return None
        return max(0.0, (budget_bytes - now_bytes) / self.bytes_per_s)

    def words(self, *, per_second: bool = False, unknown: str = "-") -> str:
        """The verdict as a table cell: ``bounded``, ``grows 12 KiB/step`` (or ``/s``)."""
        from gctune.analysis.fmt import fmt_size

        if self.status == "unknown":
            return unknown
        if self.status == "bounded":
            return "bounded"
        n = self.cycles or 0
        fulls = f" ({n} full{'' if n == 1 else 's'})" if self.few_cycles else ""
        verb = "rises" if self.few_cycles else "grows"
        if per_second and self.bytes_per_s:
            return f"{verb} {fmt_size(self.bytes_per_s)}/s{fulls}"
        if self.bytes_per_step is not None:
            return f"{verb} {fmt_size(self.bytes_per_step)}/step{fulls}"
        return f"growing{fulls}"

    def steps_to(self, budget_bytes: float, now_bytes: float) -> Optional[float]:
        """Steps until memory at ``now_bytes`` reaches ``budget_bytes`` at this rate."""
        if self.status != "growing" or not self.bytes_per_step or self.bytes_per_step <= 0:
            return None
        return max(0.0, (budget_bytes - now_bytes) / self.bytes_per_step)


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of ``ys`` over ``xs`` (0 when ``xs`` do not vary)."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx


def _settled(run: RunMetrics) -> list[tuple[int, int, int]]:
    samples = list(run.memory)
    full_at = [int(s) for s in (run.span or {}).get("full_at", [])]
    if len(full_at) >= MIN_CYCLES:
        after: list[tuple[int, int, int]] = []
        for at in full_at[1:]:
            first = next((s for s in samples if s[0] >= at), None)
            if first is not None and (not after or first[0] > after[-1][0]):
                after.append(first)
        if len(after) >= MIN_SAMPLES - 1:
            return after
    if full_at:
        after = [s for s in samples if s[0] > full_at[0]]
        if len(after) >= MIN_SAMPLES:
            return after
    if not samples:
        return []
    last = samples[-1][0]
    return [s for s in samples if s[0] >= SETTLE_SHARE * last]


def run_growth(run: RunMetrics) -> Optional[RunGrowth]:
    """The memory trend of one span, or None without enough samples."""
    settled = _settled(run)
    if len(settled) < MIN_SAMPLES - 1:
        return None
    steps = [float(s[0]) for s in settled]
    rss = [float(s[1]) for s in settled]
    blocks = [float(s[2]) for s in settled]
    per_step = slope(steps, rss)
    span = steps[-1] - steps[0]
    increase = per_step * span
    mean_rss = statistics.fmean(rss)
    blocks_per_step = slope(steps, blocks)
    growing = increase >= max(
        GROWTH_MIN_BYTES, GROWTH_MIN_SHARE * mean_rss
    ) and blocks_per_step * span >= GROWTH_MIN_SHARE * statistics.fmean(blocks)
    return RunGrowth(
        bytes_per_step=per_step,
        blocks_per_step=blocks_per_step,
        increase_bytes=increase,
        mean_rss_bytes=mean_rss,
        samples=len(settled),
        growing=growing,
        cycles=len((run.span or {}).get("full_at", [])),
    )


def point_growth(point: Point, time_per_step_s: Optional[float] = None) -> Growth:
    """The memory verdict of a finished point over its runs."""
    trends = [g for g in (run_growth(r) for r in point.runs) if g is not None]
    if not trends:
        return Growth("unknown", None, None, 0, 0)
    growing = sum(t.growing for t in trends)
    rate = statistics.median(t.bytes_per_step for t in trends)
    status = "growing" if 2 * growing > len(trends) else "bounded"
    per_s = rate / time_per_step_s if time_per_step_s else None
    return Growth(status, rate, per_s, growing, len(trends), min(t.cycles for t in trends))
