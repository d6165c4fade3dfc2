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

import fcntl
import math
import resource
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Optional

from gctune.analysis.tune_decision import (
    decision_doc,
    decision_rounds_note,
    tune_candidates,
    tune_decision,
)
from gctune.analysis.tune_search import Search, Trial, write_tune
from gctune.measure.catalog import workload_ids
from gctune.store.results import Point
from gctune.sweep.environment import interpreter_of, lent_to
from gctune.sweep.rounds import ProgressFn
from gctune.sweep.runner import run_sweep
from gctune.sweep.spec import SweepError, SweepSpec
from gctune.sweep.sweep_dir import sigterm_as_interrupt
from gctune.sweep.tier_judge import TierJudge, tune_judge
from gctune.sweep.tune_batch import measure_batch, probe_setting
from gctune.sweep.tune_probe import DEFAULT_PROBE_STEPS
from gctune.sweep.tune_resume import StoredTune, StoredWorkload, set_aside
from gctune.sweep.tune_spec import TuneSpec, WorkloadSearch, stored_spec
from gctune.sweep.tune_time import search_in_time

__all__ = ["TuneEvent", "TuneSpec", "WorkloadSearch", "run_tune", "stored_spec"]

SEARCH_SHARE = 0.7  # of the budget, for the search; the rest confirms in time


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
    stored: Optional[StoredTune] = None,
    extend: bool = False,
) -> tuple[list[WorkloadSearch], list[Point], dict[str, Any]]:
    """Search every workload, then confirm in time; the searches, the time points and the
    search record (also written to ``out/tune.json``). With ``stored`` (what an
    interrupted tune in ``out`` left: :mod:`gctune.sweep.tune_resume`), finish it; with
    ``extend`` too, go on with a search its budget had cut, though it was confirmed."""
    if stored is None and ((out / "manifest.json").exists() or (out / "tune.json").exists()):
        raise SweepError(f"{out} already holds a sweep: choose another --out (or --resume a tune)")
    start, cpu0 = time.monotonic(), _workers_cpu()
    # a resumed tune's cost figures add the earlier runs' to its own
    prior_s = stored.prior("elapsed_s") if stored else 0.0
    prior_cpu = stored.prior("worker_cpu_s") if stored else 0.0
    confirmed = stored is not None and stored.confirm_started
    frozen, extending = confirmed and not extend, confirmed and extend
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
        if stored is not None:
            record["resumed"] = int(stored.record.get("resumed") or 0) + 1
            if stored.record.get("superseded"):
                record["superseded"] = list(stored.record["superseded"])

        def save(**more: Any) -> None:
            record.update(more)
            record["workloads"] = [s.record_doc() for s in searches]
            record["elapsed_s"] = prior_s + time.monotonic() - start
            record["worker_cpu_s"] = prior_cpu + _workers_cpu() - cpu0
            write_tune(out, record)

        save()  # from here on an interrupted tune can be resumed (--resume)
        search_s = spec.budget_s * SEARCH_SHARE
        if spec.tier == "counts":
            for n, ws in enumerate(searches):
                # each workload its share; what one leaves unspent goes to the next
                deadline = start + search_s * (n + 1) / len(searches)
                known = stored.workload(ws.workload_id) if stored else StoredWorkload()
                _search_counts(spec, ws, out, env, deadline, start, progress, save,
                               known=known, frozen=frozen)  # fmt: skip
            finals = {ws.workload_id: _finalists(spec, ws) for ws in searches}
            searched = (prior_s + time.monotonic() - start, prior_cpu + _workers_cpu() - cpu0)
            resume_confirm = frozen
            if frozen and stored is not None:  # the search had ended: its figures stand
                finals = stored.finalists() or finals  # what the confirming sweep times
                searched = (stored.prior("search_s"), stored.prior("search_cpu_s"))
            elif extending and stored is not None:  # its search went on from its trials
                searched = (stored.prior("search_s") + time.monotonic() - start,
                            stored.prior("search_cpu_s") + _workers_cpu() - cpu0)  # fmt: skip
                resume_confirm = finals == stored.finalists()
                if not resume_confirm:  # other finalists: a new confirmation, the old kept
                    aside = [*stored.record.get("superseded", []), set_aside(out)]
                    record["superseded"] = aside
            save(finalists=finals, search_s=searched[0], search_cpu_s=searched[1])
            # a workload that could not run under default has nothing to confirm
            measured = tuple(ws.workload for ws in searches if ws.failed is None)
            orders = {ws.workload_id: [t.setting for t in ws.search.ranked()] for ws in searches}
            judge = tune_judge(
                {ws.workload_id: ws.search.trials for ws in searches},
                orders,
                max_memory_ratio=spec.max_memory_ratio,
                min_gain=spec.min_gain,
            )
            points = (
                _confirm(replace(spec, workloads=measured), out, finals, sweep_progress,
                         judge, resume=resume_confirm)
                if measured or resume_confirm
                else []
            )  # fmt: skip
            decisions = {
                ws.workload_id: decision_doc(
                    tune_decision(ws.search.trials, points, ws.workload_id,
                                  max_memory_ratio=spec.max_memory_ratio,
                                  min_gain=spec.min_gain,
                                  order=orders[ws.workload_id]),
                    decision_rounds_note(points, ws.workload_id),
                )
                for ws in searches
                if ws.failed is None
            }  # fmt: skip
        else:
            with timing_lock(spec.time_lock):
                finals, points = search_in_time(
                    spec,
                    [(ws.workload_id, ws.search) for ws in searches],
                    out,
                    sweep_progress,
                    resume=frozen,
                )
            save(
                search_s=prior_s + time.monotonic() - start,
                search_cpu_s=prior_cpu + _workers_cpu() - cpu0,
            )
            decisions = {}
        save(
            finalists=finals,
            decisions=decisions,
            confirm_s=prior_s + time.monotonic() - start - float(record["search_s"]),
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


def _search_counts(
    spec: TuneSpec,
    ws: WorkloadSearch,
    out: Path,
    env: Any,
    deadline: float,
    start: float,
    progress: Optional[TuneProgress],
    save: Callable[..., None],
    *,
    known: StoredWorkload,
    frozen: bool = False,
) -> None:
    """One workload's search in counts, until it ends or ``deadline`` (monotonic s).

    ``known``: the stored trials of an interrupted tune, recorded as the search asks for
    them, not measured again; ``frozen``: its search had ended (the confirmation had
    started), so where the stored trials end, the search ends, as it did then."""
    s = ws.search
    stored = known.replayed(frozen)
    if known.default_probe is not None:
        ws.default_probe = known.default_probe
    else:
        _emit(progress, ws, start, spec.budget_s, "memory probe of default")
        ws.default_probe = probe_setting(spec, ws, "default", env, 0, DEFAULT_PROBE_STEPS)
    if ws.default_probe.cycle_steps is None:
        ws.failed = f"default's memory probe: {ws.default_probe.reason or ws.default_probe.ended}"
        s.stop(ws.failed)
        save()
        return
    ws.default_cycle = max(1, math.ceil(ws.default_probe.cycle_steps))
    save()
    while True:
        batch = s.next_batch()
        if not batch:
            break
        for trial in (stored[c.setting] for c in batch if c.setting in stored):
            s.record(trial)  # stored: replayed, not measured again
        batch = [c for c in batch if c.setting not in stored]
        if not batch:
            continue
        if frozen:
            s.stop(known.stopped or "the search had ended before the confirmation")
            break
        if time.monotonic() > deadline:
            s.stop(f"budget: the search's share ({SEARCH_SHARE:.0%} of --budget) was spent")
            break
        _emit(progress, ws, start, spec.budget_s, f"{len(batch)} settings")
        trials, cut = measure_batch(spec, ws, out, env, batch, s.batches, deadline)
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


def _confirm(
    spec: TuneSpec,
    out: Path,
    finals: dict[str, list[str]],
    progress: Optional[ProgressFn],
    judge: TierJudge,
    *,
    resume: bool = False,
) -> list[Point]:
    """The finalists of every workload and default, in one interleaved time sweep (with
    ``resume``, the one started in ``out``: its stored spec, what is missing of it), and
    decision rounds where ``judge`` finds a candidate undecided."""
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
        decide_rounds=spec.decide_rounds,
        timeout=min(spec.timeout, 600.0),
    )
    with timing_lock(spec.time_lock):
        return run_sweep(sweep, out, resume=resume, progress=progress, judge=judge)
