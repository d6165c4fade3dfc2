"""Worker recycling for a setting whose memory grows: how often, and what it costs.

Services that run with the collector off (or with thresholds that let garbage pile up)
restart their worker processes before memory runs out: gunicorn's ``max_requests``,
uWSGI's ``max-requests``, Celery's ``worker_max_tasks_per_child``. From a growing
point's measured rate (bytes per step, median over its spans), its footprint when a span
starts (the first RSS sample of each span, median) and the memory budget, the interval
is the number of steps after which memory would reach ``HEADROOM`` of the budget. A
restart costs a fresh process and the workload's set-up (measured in every span worker:
seconds from process start to the end of set-up); spread over the interval, that cost is
added to each step, and the time ratio to default is recomputed within each round.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any, Optional

from gctune.analysis.intervals import Change
from gctune.analysis.paired import by_round, ratio_change, run_mean
from gctune.analysis.stats import PointStats
from gctune.store.results import Point

__all__ = [
    "HEADROOM",
    "Recycle",
    "recycle_plan",
    "recycle_snippets",
    "recycled_change",
    "restart_seconds",
]

HEADROOM = 0.9
MIN_INTERVAL_STEPS = 10


@dataclass(frozen=True)
class Recycle:
    """Recycle every ``every_steps`` steps; the net time ratio to default with it.

    Sizes in bytes, times in seconds. ``time_ratio`` (``low``, ``high``: 95% interval over
    rounds) includes ``restart_s`` spread over the interval.
    """

    setting: str
    every_steps: int
    start_bytes: float
    bytes_per_step: float
    budget_bytes: float
    restart_s: float
    time_ratio: float
    low: float
    high: float

    @property
    def peak_bytes(self) -> float:
        """Projected memory when a worker is recycled."""
        return self.start_bytes + self.bytes_per_step * self.every_steps

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (``recommend --json``)."""
        return {
            "every_steps": self.every_steps,
            "start_bytes": self.start_bytes,
            "bytes_per_step": self.bytes_per_step,
            "budget_bytes": self.budget_bytes,
            "projected_peak_bytes": self.peak_bytes,
            "restart_s": self.restart_s,
            "time_ratio": self.time_ratio,
            "time_ratio_low": self.low,
            "time_ratio_high": self.high,
        }


def restart_seconds(point: Point) -> Optional[float]:
    """Median seconds from a span worker's start to the end of the workload's set-up."""
    costs = [
        float(r.startup.get("process_s") or 0.0)
        for r in point.runs
        if r.startup is not None and r.startup.get("process_s") is not None
    ]
    return statistics.median(costs) if costs else None


def recycled_change(
    default: Point, point: Point, every_steps: int, restart_s: float
) -> Optional[Change]:
    """``point``'s time per step, with a restart every ``every_steps`` steps, relative to
    default's: round-paired (None for fewer than two shared rounds)."""
    base, new = by_round(default, run_mean), by_round(point, run_mean)
    return ratio_change(
        [(new[r] + restart_s / every_steps) / base[r] for r in sorted(set(base) & set(new))]
    )


def recycle_plan(
    stats: PointStats, default: Point, point: Point, budget_bytes: float
) -> Optional[Recycle]:
    """The recycling interval of a growing ``point``, or None when none fits the budget."""
    growth = stats.growth
    if growth is None or not growth.bytes_per_step or growth.bytes_per_step <= 0:
        return None
    starts = [float(r.memory[0][1]) for r in point.runs if r.memory]
    restart = restart_seconds(point)
    if not starts or restart is None:
        return None
    start = statistics.median(starts)
    room = HEADROOM * budget_bytes - start
    every = int(room / growth.bytes_per_step)
    if every < MIN_INTERVAL_STEPS:
        return None
    change = recycled_change(default, point, every, restart)
    if change is None:
        return None
    return Recycle(
        setting=stats.setting,
        every_steps=every,
        start_bytes=start,
        bytes_per_step=growth.bytes_per_step,
        budget_bytes=budget_bytes,
        restart_s=restart,
        time_ratio=change.ratio,
        low=change.low,
        high=change.high,
    )


def recycle_snippets(every_steps: int) -> str:
    """How to recycle workers every ``every_steps`` units of work, per server."""
    n = every_steps
    return "\n".join(
        [
            f"# Recycle each worker process after {n:,} units of work (steps of the measured",
            "# workload; divide by the steps one request or task does).",
            "# gunicorn (gunicorn.conf.py): jitter so workers do not restart together",
            f"max_requests = {n}",
            f"max_requests_jitter = {max(1, n // 10)}",
            "# uWSGI (uwsgi.ini):  max-requests = " + str(n),
            f"# Celery:  app.conf.worker_max_tasks_per_child = {n}",
        ]
    )
