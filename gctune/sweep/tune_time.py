"""``gctune tune`` without valgrind: the search in time, a coarse grid with racing.

Without the counts tier there is no exact cost to bracket on, and every time point costs
interleaved rounds; so the search is one ordinary time sweep of the threshold0 line
(:func:`gctune.analysis.tune_search.line_thresholds`) with default+freeze and freeze at a
mid threshold0, racing dropping the settings that are clearly out. It is not adaptive:
the sweep's own points are what ``recommend`` then reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

from gctune.analysis.stats import workload_stats
from gctune.analysis.tune_search import Search, Trial
from gctune.store.results import Point
from gctune.sweep.rounds import ProgressFn
from gctune.sweep.runner import run_sweep
from gctune.sweep.spec import SweepSpec

__all__ = ["search_in_time"]


def search_in_time(
    spec: Any,
    searches: Sequence[tuple[str, Search]],
    out: Path,
    progress: Optional[ProgressFn],
    *,
    resume: bool = False,
) -> tuple[dict[str, list[str]], list[Point]]:
    """One time sweep with racing over a coarse grid into ``out`` (with ``resume``, the
    one started there); each workload's trials recorded in its search (by workload id);
    the settings worth a closer look and every point. ``spec`` is a
    :class:`gctune.sweep.tune.TuneSpec`."""
    first = searches[0][1]
    line = [first.thresholds_id(t0) for t0 in first.line()]
    grid = ["default", *line[1:], "freeze", line[min(2, len(line) - 1)] + "+freeze"]
    grid = list(dict.fromkeys(grid))
    sweep = SweepSpec(
        python=spec.python,
        workloads=spec.workloads,
        settings=tuple(grid),
        size=spec.size,
        mode="normal",
        rounds=spec.rounds,
        max_point_time=spec.span_s,
        racing=True,
        timeout=min(spec.timeout, 600.0),
    )
    points = run_sweep(sweep, out, resume=resume, progress=progress)
    stats = workload_stats(points)
    finals: dict[str, list[str]] = {}
    for workload_id, search in searches:
        for ps in stats.get(workload_id, []):
            ratio = ps.rss_ratio
            feasible = ps.ok and ratio is not None and ratio <= spec.max_memory_ratio
            search.record(
                Trial(
                    ps.setting,
                    "grid (time, racing)",
                    1,
                    ps.time_ratio if ps.ok else None,  # round-paired, as recommend's
                    ps.time_ratio,
                    ratio,
                    feasible,
                    ps.reason or "",
                )
            )
        search.stop("a coarse grid in time, with racing (no valgrind: not adaptive)")
        finals[workload_id] = [t.setting for t in search.finalists(spec.confirm)]
    return finals, points
