"""``gctune tune``: search a workload's best GC setting, then confirm the leaders in time.

Per workload, :class:`gctune.analysis.tune_search.Search` proposes settings in batches;
each is measured here:

* **memory**, natively (:mod:`gctune.sweep.tune_probe`): peak RSS over default's, in a
  fresh process; a candidate over the budget costs nothing more;
* **cost**, in counts where valgrind is available (estimated cycles per step, exact; a
  point of :mod:`gctune.sweep.count_sweep`, stored in ``counts/``), ``jobs`` points side
  by side. Each counted span holds one full-collection cycle of the setting where the
  memory probe saw one within ``count_cycles`` of default's cycles, else that many of
  default's cycles (the count sweep's bound: a lower bound of the setting's cost, said
  by ``whole_cycles``).

The search stops when every stage is searched or when its share of the budget is spent.
Then the few best feasible candidates are measured in time, interleaved with default,
in one ordinary time sweep into the same directory (the time tier's rounds: no timer of
tune's own), and the recommendation is what time confirms. Without valgrind the search
runs in time: one sweep with racing over a coarse grid (the threshold0 line, and freeze
beside it), not adaptive.

Everything lands in one sweep directory: ``manifest.json`` and ``points/`` (the time
sweep: ``report``, ``recommend``, ``compare``, ``verify`` read it), ``counts/`` (every
count point of the search) and ``tune.json`` (the search path: every trial in order, why
it stopped, the feasible edge, the worker-process CPU time).
"""

from __future__ import annotations

import concurrent.futures
import fcntl
import math
import resource
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Optional

from gctune.analysis.tiers import DEFAULT_MIN_GAIN
from gctune.analysis.tune_decision import decision_doc, tune_candidates, tune_decision
from gctune.analysis.tune_search import Candidate, Search, Trial, trial_dict, write_tune
from gctune.measure.catalog import workload_ids
from gctune.store.results import Point
from gctune.sweep.count_sweep import CountTask, run_count_sweep
from gctune.sweep.environment import interpreter_of, lent_to
from gctune.sweep.rounds import ProgressFn
from gctune.sweep.runner import run_sweep
from gctune.sweep.spec import SweepError, SweepSpec
from gctune.sweep.sweep_dir import sigterm_as_interrupt
from gctune.sweep.tune_probe import PROBE_LIMIT_S, MemoryProbe, probe_memory, probe_steps
from gctune.sweep.tune_time import search_in_time

__all__ = ["TuneEvent", "TuneSpec", "WorkloadSearch", "run_tune"]

SEARCH_SHARE = 0.7  # of the budget, for the search; the rest confirms in time


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
    rounds: int = 6  # of the confirming time sweep
    span_s: float = 3.0  # a confirming span's budget
    count_cycles: float = 2.0  # a counted span's most steps, in default's cycles
    max_factor: float = 1000.0
    line_points: int = 7
    timeout: float = 3600.0
    # held (flock) while measuring in time, so that time on a shared machine is taken
    # while no other cooperating job times anything; counts need no lock
    time_lock: Optional[str] = None


@dataclass(frozen=True)
class TuneEvent:
    """Progress: a search's state after a trial (``trial``) or a stage's start."""

    workload: str
    stage: str
    tried: int
    leader: Optional[Trial]
    elapsed_s: float
    budget_s: float
    note: str = ""
    trial: Optional[Trial] = None


TuneProgress = Callable[[TuneEvent], None]


@dataclass
class WorkloadSearch:
    """One workload's search as it goes: the search, default's probe, where it runs."""

    workload: str
    workload_id: str
    search: Search
    default_probe: Optional[MemoryProbe] = None
    default_cycle: Optional[int] = None  # steps of one of default's full cycles

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
            "stopped": s.stopped,
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


@contextmanager
def timing_lock(path: Optional[str]) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (nothing when None)."""
    if path is None:
        yield
        return
    with open(path, "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _workers_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return float(usage.ru_utime + usage.ru_stime)


def run_tune(
    spec: TuneSpec,
    out: Path,
    *,
    progress: Optional[TuneProgress] = None,
    sweep_progress: Optional[ProgressFn] = None,
) -> tuple[list[WorkloadSearch], list[Point], dict[str, Any]]:
    """Search every workload, then confirm in time; the searches, the time points and the
    search record (also written to ``out/tune.json``)."""
    if (out / "manifest.json").exists() or (out / "tune.json").exists():
        raise SweepError(f"{out} already holds a sweep: choose another --out")
    start, cpu0 = time.monotonic(), _workers_cpu()
    out.mkdir(parents=True, exist_ok=True)
    with sigterm_as_interrupt(), lent_to(spec.python) as env:
        info = interpreter_of(spec.python, env)
        d = tuple(int(v) for v in info["default_thresholds"])
        default = (d[0], d[1] if len(d) > 1 else 10, d[2] if len(d) > 2 else 10)
        searches = [
            WorkloadSearch(
                w,
                wid,
                Search(
                    default,
                    spec.max_memory_ratio,
                    jobs=spec.jobs,
                    gc_kind=str(info.get("gc_kind", "generational")),
                    max_factor=spec.max_factor,
                    line_points=spec.line_points,
                ),
            )
            for w, wid in zip(spec.workloads, workload_ids(list(spec.workloads)))
        ]
        record: dict[str, Any] = {"tier": spec.tier, "spec": _spec_doc(spec)}

        def save(**more: Any) -> None:
            record.update(more)
            record["workloads"] = [s.record_doc() for s in searches]
            record["elapsed_s"] = time.monotonic() - start
            record["worker_cpu_s"] = _workers_cpu() - cpu0
            write_tune(out, record)

        search_s = spec.budget_s * SEARCH_SHARE
        if spec.tier == "counts":
            for n, ws in enumerate(searches):
                # each workload its share; what one leaves unspent goes to the next
                deadline = start + search_s * (n + 1) / len(searches)
                _search_counts(spec, ws, out, env, deadline, start, progress, save)
            finals = {ws.workload_id: _finalists(spec, ws) for ws in searches}
            save(search_s=time.monotonic() - start, search_cpu_s=_workers_cpu() - cpu0)
            points = _confirm(spec, out, finals, sweep_progress)
            decisions = {
                ws.workload_id: decision_doc(
                    tune_decision(ws.search.trials, points, ws.workload_id,
                                  max_memory_ratio=spec.max_memory_ratio,
                                  min_gain=spec.min_gain,
                                  order=[t.setting for t in ws.search.ranked()])
                )
                for ws in searches
            }  # fmt: skip
        else:
            with timing_lock(spec.time_lock):
                finals, points = search_in_time(
                    spec, [(ws.workload_id, ws.search) for ws in searches], out, sweep_progress
                )
            save(search_s=time.monotonic() - start, search_cpu_s=_workers_cpu() - cpu0)
            decisions = {}
        save(
            finalists=finals,
            decisions=decisions,
            confirm_s=time.monotonic() - start - float(record["search_s"]),
        )
        return searches, points, record


def _finalists(spec: TuneSpec, ws: WorkloadSearch) -> list[str]:
    """What the confirming sweep times: the rule's candidates (best in counts gaining at
    least the minimum gain, within the memory budget); with none, the search's leader,
    so that time shows how far it is from default."""
    order = [t.setting for t in ws.search.ranked()]
    chosen = tune_candidates(
        ws.search.trials, top=spec.confirm, min_gain=spec.min_gain, order=order
    )
    leader = ws.search.leader()
    if not chosen and leader is not None and leader.setting != "default":
        chosen = [leader.setting]
    return chosen


def _spec_doc(spec: TuneSpec) -> dict[str, Any]:
    from dataclasses import asdict

    doc = asdict(spec)
    doc["workloads"] = list(spec.workloads)
    return doc


def _emit(
    progress: Optional[TuneProgress],
    ws: WorkloadSearch,
    start: float,
    budget: float,
    note: str = "",
    trial: Optional[Trial] = None,
) -> None:
    if progress is not None:
        s = ws.search
        progress(
            TuneEvent(
                ws.workload_id,
                s.stage,
                len(s.trials),
                s.leader(),
                time.monotonic() - start,
                budget,
                note,
                trial,
            )
        )


def _probe_steps(ws: WorkloadSearch, setting: str) -> int:
    """Most steps of a setting's memory probe (:func:`probe_steps`)."""
    assert ws.default_cycle is not None
    return probe_steps(ws.default_cycle, setting, ws.search.default_thresholds)


def _probe(
    spec: TuneSpec, ws: WorkloadSearch, setting: str, env: Any, kill: int, steps: int
) -> MemoryProbe:
    return probe_memory(
        spec.python,
        ws.workload,
        setting,
        size=spec.size,
        max_steps=steps,
        kill_bytes=kill,
        env=env,
        timeout=PROBE_LIMIT_S,
    )


def _search_counts(
    spec: TuneSpec,
    ws: WorkloadSearch,
    out: Path,
    env: Any,
    deadline: float,
    start: float,
    progress: Optional[TuneProgress],
    save: Callable[..., None],
) -> None:
    """One workload's search in counts, until it ends or ``deadline`` (monotonic s)."""
    s = ws.search
    _emit(progress, ws, start, spec.budget_s, "memory probe of default")
    ws.default_probe = _probe(spec, ws, "default", env, 0, 2000)
    if ws.default_probe.cycle_steps is None:
        s.stop(f"default's memory probe: {ws.default_probe.reason or ws.default_probe.ended}")
        save()
        return
    ws.default_cycle = max(1, math.ceil(ws.default_probe.cycle_steps))
    save()
    while True:
        batch = s.next_batch()
        if not batch:
            break
        if time.monotonic() > deadline:
            s.stop(f"budget: the search's share ({SEARCH_SHARE:.0%} of --budget) was spent")
            break
        _emit(progress, ws, start, spec.budget_s, f"{len(batch)} settings")
        trials, cut = _measure_batch(spec, ws, out, env, batch, s.batches, deadline)
        for trial in trials:
            s.record(trial)
            _emit(progress, ws, start, spec.budget_s, trial=trial)
        if cut:
            s.stop(
                f"budget: the search's share ({SEARCH_SHARE:.0%} of --budget) ran out in "
                f"the {s.stage} stage"
            )
        save()
    _emit(progress, ws, start, spec.budget_s, f"search ended: {s.stopped}")


def _measure_batch(
    spec: TuneSpec,
    ws: WorkloadSearch,
    out: Path,
    env: Any,
    batch: Sequence[Candidate],
    number: int,
    deadline: float,
) -> tuple[list[Trial], bool]:
    """Memory first (natively, side by side), then counts of the feasible ones; the
    trials, and whether the deadline (monotonic s) left some of them uncounted."""
    assert ws.default_probe is not None and ws.default_cycle is not None
    base = ws.default_probe.peak_rss_bytes
    kill = int(base * spec.max_memory_ratio * 1.05) + 1
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, spec.jobs)) as pool:
        probes = list(
            pool.map(
                lambda c: (
                    ws.default_probe
                    if c.setting == "default"
                    else _probe(spec, ws, c.setting, env, kill, _probe_steps(ws, c.setting))
                ),
                batch,
            )
        )
    trials: dict[str, Trial] = {}
    tasks: list[CountTask] = []
    for cand, probe in zip(batch, probes):
        assert probe is not None
        ratio = probe.peak_rss_bytes / base if base else None
        whole = probe.ended == "full-collections"
        if probe.ended == "failed":
            trials[cand.setting] = Trial(
                cand.setting,
                cand.stage,
                number,
                None,
                None,
                None,
                False,
                f"memory probe {probe.reason}",
                False,
                seconds=probe.seconds,
            )
            continue
        feasible = (
            probe.ended != "over-budget" and ratio is not None and ratio <= spec.max_memory_ratio
        )
        note = "" if whole else "memory: a lower bound (no full collection within the probe)"
        if probe.ended == "over-budget":
            note = f"over the memory budget (stopped at {ratio or 0:.2f}x default's)"
        trials[cand.setting] = Trial(
            cand.setting,
            cand.stage,
            number,
            None,
            None,
            ratio,
            feasible,
            note,
            whole,
            seconds=probe.seconds,
        )
        if feasible:
            own = probe.cycle_steps
            cap = max(1, int(ws.default_cycle * spec.count_cycles))
            steps = min(cap, math.ceil(own * 1.25) + 1) if own is not None else cap
            if cand.setting == "default":
                steps = ws.default_cycle * 2
            tasks.append(
                CountTask(
                    spec.python,
                    ws.workload,
                    ws.workload_id,
                    cand.setting,
                    size=spec.size,
                    fulls=1,
                    max_steps=steps,
                    env=env,
                    timeout=spec.timeout,
                    bound=""
                    if own is not None and own * 1.25 + 1 <= cap
                    else f"{spec.count_cycles:g} of default's cycles",
                )
            )
    # default first where it is in the batch: every ratio is to it; then ``jobs`` at a
    # time, as long as the next chunk fits before the deadline (the first always runs)
    tasks.sort(key=lambda t: t.setting != "default")
    jobs = max(1, spec.jobs)
    docs: list[dict[str, Any]] = []
    chunk_s: list[float] = []
    for i in range(0, len(tasks), jobs):
        if chunk_s and time.monotonic() + max(chunk_s) > deadline:
            for task in tasks[i:]:
                trials[task.setting] = replace(
                    trials[task.setting], note="not counted: the search's budget ran out"
                )
            break
        t0 = time.monotonic()
        docs += run_count_sweep(out, tasks[i : i + jobs], jobs=jobs)
        chunk_s.append(time.monotonic() - t0)
    default_cost = _default_cost(ws, docs)
    for task, doc in zip(tasks, docs):
        trial = trials[task.setting]
        point = doc.get("point")
        if doc.get("status") != "ok" or point is None:
            trials[task.setting] = replace(
                trial, feasible=False, note=f"counts failed: {doc.get('reason')}"
            )
            continue
        cost = float(point["cycles_per_step"])
        trials[task.setting] = replace(
            trial,
            cost=cost,
            cost_ratio=cost / default_cost if default_cost else None,
            instructions=float(point["instructions_per_step"]),
            whole_cycles=bool(point["whole_cycles"]),
            collections=tuple(float(c) for c in point.get("collections_per_step") or ()) or None,
            seconds=trial.seconds + max(chunk_s),
        )
    return [trials[c.setting] for c in batch], len(docs) < len(tasks)


def _default_cost(ws: WorkloadSearch, docs: Sequence[dict[str, Any]]) -> Optional[float]:
    for doc in docs:
        if doc.get("setting") == "default" and doc.get("status") == "ok":
            return float(doc["point"]["cycles_per_step"])
    base = next((t for t in ws.search.trials if t.setting == "default"), None)
    return base.cost if base is not None else None


def _confirm(
    spec: TuneSpec, out: Path, finals: dict[str, list[str]], progress: Optional[ProgressFn]
) -> list[Point]:
    """The finalists of every workload and default, in one interleaved time sweep."""
    settings = ["default", *dict.fromkeys(s for f in finals.values() for s in f)]
    sweep = SweepSpec(
        python=spec.python,
        workloads=spec.workloads,
        settings=tuple(settings),
        size=spec.size,
        mode="normal",
        rounds=spec.rounds,
        min_rounds=spec.rounds,
        max_point_time=spec.span_s,
        racing=False,
        decide_rounds=0,
        timeout=min(spec.timeout, 600.0),
    )
    with timing_lock(spec.time_lock):
        return run_sweep(sweep, out, progress=progress)
