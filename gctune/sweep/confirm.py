"""The confirmation of a sweep in counts: its best settings measured in time.

Counts rank settings exactly, but they model time. A confirmation measures, per
workload, ``default`` and the few best settings in counts (those whose counts gain is at
least the minimum gain; :func:`gctune.analysis.tiers.confirmation_candidates`) in time:
an ordinary time sweep, interleaved in every round, no racing, ``rounds`` rounds of
spans of up to ``span_s`` seconds — the time tier's own machinery, as ``gctune verify``
uses it. Each workload's is a sweep directory of its own (its settings differ),
``<count sweep>/time/<workload id>/``, readable by every time command.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

from gctune.measure.catalog import workload_ids
from gctune.store.results import MANIFEST
from gctune.sweep.count_sweep import CountSpec
from gctune.sweep.spec import DEFAULT_MAX_MEMORY, SweepSpec

__all__ = [
    "CONFIRM_DIR",
    "CONFIRM_ROUNDS",
    "CONFIRM_SPAN_S",
    "confirmation_dir",
    "confirmation_dirs",
    "confirmation_spec",
]

CONFIRM_DIR = "time"
CONFIRM_ROUNDS = 8
"""Rounds of a confirmation: at the ~4.5% median round-to-round spread of time ratios of
this machine when quiet, 8 paired rounds give a 95% interval of about ±4%; loaded (spread
17-39%, docs/counts-validity.md) they gave ±15-38%, and ``--rounds`` must grow."""
CONFIRM_SPAN_S = 3.0
"""Seconds one span may measure: ``gctune verify``'s, long enough for whole cycles."""


def confirmation_dir(count_dir: Path, workload_id: str) -> Path:
    """Where the time sweep confirming ``workload_id`` of ``count_dir`` is kept."""
    return count_dir / CONFIRM_DIR / workload_id


def confirmation_dirs(count_dir: Path) -> dict[str, Path]:
    """The confirmations of ``count_dir`` that were started, by workload id."""
    folder = count_dir / CONFIRM_DIR
    if not folder.is_dir():
        return {}
    return {p.name: p for p in sorted(folder.iterdir()) if (p / MANIFEST).exists()}


def confirmation_spec(
    count: CountSpec,
    workload_id: str,
    settings: Sequence[str],
    *,
    rounds: int = CONFIRM_ROUNDS,
    span_s: float = CONFIRM_SPAN_S,
    max_memory: int = DEFAULT_MAX_MEMORY,
    cwd: Optional[str] = None,
) -> SweepSpec:
    """The time sweep of ``default`` and ``settings`` on one workload of a count sweep."""
    by_id = dict(zip(workload_ids(list(count.workloads)), count.workloads))
    chosen = ("default", *(s for s in settings if s != "default"))
    return SweepSpec(
        python=count.python,
        workloads=(by_id[workload_id],),
        cwd=cwd if cwd is not None else os.getcwd(),
        settings=chosen,
        size=count.size,
        mode="normal",
        max_memory=max_memory,
        rounds=rounds,
        min_rounds=rounds,
        max_point_time=span_s,
        racing=False,
        decide_rounds=0,
    )
