"""Time in the machine's fast state: chunks selected by the speed reference, not divided by it.

Every span times the speed reference (a fixed loop of about 0.13 ms) before its first
chunk and after each one. On a shared machine the reference reads two speeds about 2x
apart and flips between them several times a second, even with nothing else running
(load average 1): a chunk's time follows it, and round-to-round spreads of 0.13-0.31 in
seconds leave a 20-round gate an interval of ±6-14 % (docs/time-reference.md, "Two
speeds").

Dividing by the reference was dropped because the reference also moves with the work
beside it, by a few percent (the bias table there). *Selecting* uses it only to tell the
two states apart, a 2x difference: a chunk is in the fast state when the references on
both sides of it read within :data:`FAST_FACTOR` of the fast floor (the 5th percentile of
every reference time of the points compared), and a span's time is the mean of its fast
chunks (at least :data:`MIN_FAST_CHUNKS`). A round whose span on either side has fewer
is left out of that comparison, and the row says how many rounds were used.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from typing import Optional

from gctune.analysis.paired import RunSample
from gctune.store.results import Point, RunMetrics

__all__ = [
    "FAST_FACTOR",
    "MIN_FAST_CHUNKS",
    "fast_chunks",
    "fast_floor",
    "fast_time",
    "references",
]

FAST_FACTOR = 1.25
"""A reference within this factor of the floor reads the fast state (the two states are
about 2x apart)."""
MIN_FAST_CHUNKS = 3
FLOOR_SHARE = 0.05
"""The floor is this quantile of the reference times, not their minimum: one lucky
reading must not set it."""


def references(run: RunMetrics) -> list[float]:
    """The run's reference times around its chunks (one more than its values), or []."""
    seconds = (run.reference or {}).get("seconds") or []
    if len(seconds) != len(run.values) + 1:
        return []
    return [float(s) for s in seconds]


def fast_floor(points: Iterable[Point]) -> Optional[float]:
    """The fast floor of ``points``: the 5th percentile of every reference time they took
    (None without references)."""
    refs = sorted(s for p in points for r in p.runs for s in references(r))
    if not refs or refs[0] <= 0:
        return None
    return refs[int(len(refs) * FLOOR_SHARE)]


def fast_chunks(run: RunMetrics, threshold: float) -> list[float]:
    """The run's chunk values whose references on both sides read at most ``threshold``."""
    refs = references(run)
    if not refs or not math.isfinite(threshold):
        return []
    return [v for i, v in enumerate(run.values) if max(refs[i], refs[i + 1]) <= threshold]


def fast_time(
    floor: float, factor: float = FAST_FACTOR, min_chunks: int = MIN_FAST_CHUNKS
) -> RunSample:
    """A run's mean time per step over its chunks in the fast state (within ``factor`` of
    ``floor``); None with fewer than ``min_chunks`` of them."""

    def sample(run: RunMetrics) -> Optional[float]:
        kept = fast_chunks(run, factor * floor)
        return statistics.fmean(kept) if len(kept) >= min_chunks else None

    return sample
