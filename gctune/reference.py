"""The speed reference: a fixed loop each worker times between its span's chunks.

A shared machine does not run a process at one speed. On the 2-core hosts gctune is
developed on, fresh processes doing identical work with no collection at all ran at
~1.1 or ~1.9 ms per step, a loop of string work slowed with them, and a process could
switch from one speed to the other while it ran (``benchmarks/speed_switch.py``). A
sweep's settings run one after another, so a round's settings land in different speeds
and round-pairing cannot cancel it: that was most of the spread between two identical
sweeps.

So every span times, before its first chunk and after each chunk, the same small piece
of work (:func:`reference_seconds`: integers turned into strings and bytes — the
allocator and the eval loop, like the workloads, but no GC-tracked object, so it never
advances or triggers the collector). Each chunk's time is divided by the reference
times around it (:func:`normalized_mean`), which gives the span's time per step in
*reference loops*: what the work costs at the speed the machine had at that moment.
Ratios between two spans of the same interpreter (``same_reference``) use it; absolute
times stay in seconds. Two different interpreters run the reference at different speeds,
so their comparisons stay in seconds.

The loop takes 0.16–0.27 ms here against chunks of ``gctune.horizon.CHUNK_S`` (20
ms): 1–1.5% of a span's wall time, kept out of its measured wall and CPU time. Whether
dividing by it changes the noise and not the answer is what
``benchmarks/speed_reference.py`` checks.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any, Optional

__all__ = [
    "REFERENCE_OPS",
    "WINDOW",
    "interpreter_key",
    "normalized_mean",
    "reference_seconds",
    "same_reference",
]

REFERENCE_OPS = 1500  # passes of the reference loop (0.16–0.27 ms on the 2-core hosts)
WARM_OPS = 300  # untimed passes first
WINDOW = 3  # reference times on each side of a chunk whose median is its local speed


def reference_seconds(ops: int = REFERENCE_OPS) -> float:
    """Seconds one pass of the reference loop took here and now."""
    for i in range(WARM_OPS):  # untimed: the caches the chunk before left cold
        text = str(i) + "x"
        text.encode()
    timer = time.perf_counter
    began = timer()
    for i in range(ops):
        text = str(i) + "x"
        text.encode()
    return timer() - began


def interpreter_key() -> str:
    """Which interpreter ran the reference: its times compare only with the same one."""
    return f"{sys.executable} {sys.version}"


def normalized_mean(values: Sequence[float], reference: Sequence[float]) -> Optional[float]:
    """Mean time per step in reference loops: each chunk's value over the median of the
    reference times around it (``WINDOW`` on each side; chunk ``i`` sits between
    reference ``i`` and ``i + 1``). None unless there is one more reference than chunks
    and all of them are positive."""
    n = len(values)
    if n == 0 or len(reference) != n + 1 or min(reference) <= 0:
        return None
    total = 0.0
    for i, value in enumerate(values):
        lo, hi = max(0, i + 1 - WINDOW), min(n + 1, i + 1 + WINDOW)
        total += value / statistics.median(reference[lo:hi])
    return total / n


def same_reference(a: Optional[dict[str, Any]], b: Optional[dict[str, Any]]) -> bool:
    """Whether two runs' reference records came from the same interpreter and loop."""
    if not a or not b:
        return False
    return a.get("python") == b.get("python") and a.get("ops") == b.get("ops")
