"""A log-bucketed histogram of durations with bounded memory and ≤ 1% relative error.

Values (nanoseconds, or any positive integers) fall in geometric buckets
``[GAMMA**i, GAMMA**(i+1))``; a quantile is reported as its bucket's geometric midpoint,
clamped to the exact minimum and maximum. With ``GAMMA = 1.02`` the reported value is
within ``sqrt(1.02) - 1 ≈ 0.995%`` of a value in the same bucket, so every quantile is
within 1% of the exact nearest-rank quantile. Count, sum, minimum and maximum are exact.

Memory is bounded by the range of values, not their number: 1 ns to 1 hour spans about
1,450 buckets, however long a run lasts.

Used inside measured workers: pure Python, no imports beyond ``math``, 3.9+.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Union

__all__ = ["GAMMA", "RELATIVE_ERROR", "Histogram"]

GAMMA = 1.02
RELATIVE_ERROR = math.sqrt(GAMMA) - 1.0
_LOG_GAMMA = math.log(GAMMA)

JSONValue = Union[int, float, dict[str, int]]


class Histogram:
    """Durations in geometric buckets plus exact count, sum, min and max."""

    __slots__ = ("buckets", "count", "max", "min", "total", "zeros")

    def __init__(self) -> None:
        self.buckets: dict[int, int] = {}
        self.count = 0
        self.total = 0
        self.min = 0
        self.max = 0
        self.zeros = 0  # values ≤ 0 (a timer tick too coarse to see the pause)

    def add(self, value: int) -> None:
        """Record one value (integer, e.g. nanoseconds)."""
        if self.count == 0 or value < self.min:
            self.min = value
        if value > self.max or self.count == 0:
            self.max = value
        self.count += 1
        self.total += value
        if value <= 0:
            self.zeros += 1
            return
        index = int(math.log(value) / _LOG_GAMMA)
        buckets = self.buckets
        buckets[index] = buckets.get(index, 0) + 1

    def merge(self, other: Histogram) -> None:
        """Add every value recorded in ``other`` to this histogram."""
        if other.count == 0:
            return
        if self.count == 0:
            self.min, self.max = other.min, other.max
        else:
            self.min = min(self.min, other.min)
            self.max = max(self.max, other.max)
        self.count += other.count
        self.total += other.total
        self.zeros += other.zeros
        for index, n in other.buckets.items():
            self.buckets[index] = self.buckets.get(index, 0) + n

    def quantile(self, q: float) -> float:
        """Nearest-rank quantile ``q`` in [0, 1], within ``RELATIVE_ERROR`` of the exact one.

        Returns 0.0 for an empty histogram.
        """
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"quantile {q} is outside [0, 1]")
        if self.count == 0:
            return 0.0
        rank = max(1, math.ceil(q * self.count))
        if rank >= self.count:
            return float(self.max)
        if rank <= self.zeros:
            return float(min(self.min, 0))
        if rank == 1:
            return float(self.min)
        seen = self.zeros
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen >= rank:
                mid = GAMMA ** (index + 0.5)
                return float(min(max(mid, self.min), self.max))
        return float(self.max)  # unreachable when counts are consistent

    @property
    def mean(self) -> float:
        """Exact arithmetic mean, 0.0 when empty."""
        return self.total / self.count if self.count else 0.0

    def to_json(self) -> dict[str, JSONValue]:
        """A JSON-ready dict; bucket indexes become string keys."""
        return {
            "gamma": GAMMA,
            "count": self.count,
            "sum": self.total,
            "min": self.min,
            "max": self.max,
            "zeros": self.zeros,
            "buckets": {str(i): n for i, n in sorted(self.buckets.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Histogram:
        """Rebuild a histogram written by :meth:`to_json`; rejects another bucket base."""
        if data.get("gamma") != GAMMA:
            raise ValueError(f"histogram bucket base {data.get('gamma')!r} is not {GAMMA}")
        hist = cls()
        hist.count = _int(data, "count")
        hist.total = _int(data, "sum")
        hist.min = _int(data, "min")
        hist.max = _int(data, "max")
        hist.zeros = _int(data, "zeros")
        buckets = data.get("buckets")
        if not isinstance(buckets, dict):
            raise ValueError("histogram has no bucket table")
        hist.buckets = {int(k): int(v) for k, v in buckets.items()}
        if sum(hist.buckets.values()) + hist.zeros != hist.count:
            raise ValueError("histogram bucket counts do not add up to its count")
        return hist


def _int(data: Mapping[str, object], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"histogram field {key!r} is not an integer")
    return value
