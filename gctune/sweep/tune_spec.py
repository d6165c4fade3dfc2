"""What ``gctune tune`` does (:class:`TuneSpec`) and one workload's search as it goes
(:class:`WorkloadSearch`): the data :mod:`gctune.sweep.tune` and
:mod:`gctune.sweep.tune_batch` share."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Optional

from gctune.analysis.tiers import DEFAULT_MIN_GAIN
from gctune.analysis.tune_search import Search, trial_dict
from gctune.sweep.tune_probe import MemoryProbe, count_floor_s
from gctune.sweep.tune_resume import StoredTune, spec_fields

__all__ = ["TuneSpec", "WorkloadSearch", "stored_spec"]


@dataclass(frozen=True)
class TuneSpec:
    """What ``gctune tune`` does. Times in seconds."""

    python: str
    workloads: tuple[str, ...]
    size: Optional[int] = None
    max_memory_ratio: float = 1.5
    budget_s: float = 1200.0
    jobs: int = 2
    tier: str = "counts"  # where the search runs: counts or time
    confirm: int = 3  # candidates confirmed in time
    min_gain: float = DEFAULT_MIN_GAIN
    # of the confirming time sweep: 6 left request_loop's default+freeze undecided,
    # 0.974x [0.939, 1.011] (12: 0.971x [0.953, 0.991] in its dense reference)
    rounds: int = 12
    # most decision rounds of default and a candidate time left undecided, where default
    # would stay (gctune.sweep.tier_judge); 0: none
    decide_rounds: int = 12
    span_s: float = 3.0  # a confirming span's budget
    count_cycles: float = 2.0  # a counted span's most steps, in default's cycles
    max_factor: float = 1000.0
    line_points: int = 7
    timeout: float = 3600.0
    # held (flock) while measuring in time, so that time on a shared machine is taken
    # while no other cooperating job times anything; counts need no lock
    time_lock: Optional[str] = None


def stored_spec(
    stored: StoredTune, *, budget_s: Optional[float] = None, time_lock: Optional[str] = None
) -> TuneSpec:
    """The spec an interrupted tune was started with; a new budget (counted from the
    resume) and timing lock where given."""
    spec = TuneSpec(**spec_fields(stored.spec_doc, TuneSpec))
    if budget_s is not None:
        spec = replace(spec, budget_s=budget_s)
    return replace(spec, time_lock=time_lock) if time_lock is not None else spec


@dataclass
class WorkloadSearch:
    """One workload's search as it goes: the search, default's probe, where it runs."""

    workload: str
    workload_id: str
    search: Search
    default_probe: Optional[MemoryProbe] = None
    default_cycle: Optional[int] = None  # steps of one of default's full cycles
    failed: Optional[str] = None  # why the workload could not be measured at all

    def record_doc(self) -> dict[str, Any]:
        """This workload's part of the search record."""
        s = self.search
        leader = s.leader()
        return {
            "workload": self.workload_id,
            "spec": self.workload,
            "default_thresholds": list(s.default_thresholds),
            "default_peak_rss_bytes": self.default_probe.peak_rss_bytes
            if self.default_probe
            else None,
            "default_cycle_steps": self.default_cycle,
            "default_probe_steps": self.default_probe.steps if self.default_probe else None,
            "default_probe_cpu_s": self.default_probe.cpu_s if self.default_probe else None,
            "count_floor_s": count_floor_s(self.default_probe) if self.default_probe else None,
            "stopped": s.stopped,
            "failed": self.failed,
            "edge": s.edge,
            "edge_above": s.edge_above,
            "over_by_fit": _over_by_fit(s),
            "leader": leader.setting if leader is not None else None,
            "trials": [trial_dict(t) for t in s.trials],
        }


def _over_by_fit(search: Search) -> dict[str, float]:
    """The threshold0 values the monotone fit of memory puts over the budget, with the
    fitted ratio (``tune.json``'s ``over_by_fit``)."""
    over = search.over_by_fit()
    return {str(t0): round(r, 4) for t0, r in search.memory_fit().items() if t0 in over}
