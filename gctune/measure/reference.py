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
advances or triggers the collector). :func:`normalized_mean` divides each chunk's time by
the reference times around it, which gives the span's time per step in *reference
loops*.

gctune once paired its time ratios in reference loops. It no longer does: measured
against known differences (``benchmarks/time_truth.py``, ``docs/time-reference.md``),
dividing took noise out only while the machine switched speed, and then the reference
also ran 2-4% (beside ``200,5,5``: 7-8%) faster or slower beside one side's work than the
other's — a bias of that size; it took nothing out while other processes took the CPU (a
0.2 ms loop runs inside one time slice, a 20 ms chunk does not), and it multiplied the
noise of sleep-bound steps. Time ratios are paired in seconds
(:mod:`gctune.analysis.paired`); the reference stays in every span as a witness of the machine's
speed (:func:`gctune.analysis.paired.speed_range`, the round-spread line) and for
``benchmarks/``.

The loop takes 0.16–0.27 ms here against chunks of ``gctune.sweep.horizon.CHUNK_S`` (20
ms): 1–1.5% of a span's wall time, kept out of its measured wall and CPU time.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Sequence
from typing import Optional

__all__ = [
    "REFERENCE_OPS",
    "WINDOW",
    "interpreter_key",
    "normalized_mean",
    "reference_seconds",
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
