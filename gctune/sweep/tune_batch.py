"""One batch of ``gctune tune``'s search measured: memory natively, then cost in counts.

Memory first, side by side (:mod:`gctune.sweep.tune_probe`: peak RSS over default's in a
fresh process, stopped once over the budget); a candidate over the budget costs nothing
more. The others are counted (:mod:`gctune.sweep.count_sweep`, stored in ``counts/``),
``jobs`` points side by side, each span holding one full-collection cycle of the setting
where the probe saw one within ``count_cycles`` of default's cycles, else that many of
default's cycles (a lower bound of the setting's cost, said by ``whole_cycles``).
"""

from __future__ import annotations

import concurrent.futures
import math
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

from gctune.analysis.tune_search import Candidate, Trial
from gctune.sweep.count_sweep import CountTask, run_count_sweep
from gctune.sweep.tune_probe import (
    PROBE_LIMIT_S,
    MemoryProbe,
    count_floor_s,
    minutes_or_seconds,
    probe_memory,
    probe_steps,
)
from gctune.sweep.tune_spec import TuneSpec, WorkloadSearch

__all__ = ["measure_batch", "probe_setting"]


def _probe_steps(ws: WorkloadSearch, setting: str) -> int:
    """Most steps of a setting's memory probe (:func:`probe_steps`)."""
    assert ws.default_cycle is not None
    return probe_steps(ws.default_cycle, setting, ws.search.default_thresholds)


def probe_setting(
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


def _memory_trial(
    spec: TuneSpec, cand: Candidate, number: int, probe: MemoryProbe, base: int
) -> Trial:
    """A candidate's trial from its memory probe alone (the cost comes from counts)."""
    ratio = probe.peak_rss_bytes / base if base and probe.ended != "failed" else None
    feasible = (
        probe.ended not in ("failed", "over-budget")
        and ratio is not None
        and ratio <= spec.max_memory_ratio
    )
    note = ""
    if probe.ended == "failed":
        note = f"memory probe {probe.reason}"
    elif probe.ended == "over-budget":
        note = f"over the memory budget (stopped at {ratio or 0:.2f}x default's)"
    elif probe.ended != "full-collections":
        note = "memory: a lower bound (no full collection within the probe)"
    return Trial(
        cand.setting,
        cand.stage,
        number,
        None,
        None,
        ratio,
        feasible,
        note,
        probe.ended == "full-collections",
        seconds=probe.seconds,
    )


def measure_batch(
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
                    else probe_setting(spec, ws, c.setting, env, kill, _probe_steps(ws, c.setting))
                ),
                batch,
            )
        )
    trials: dict[str, Trial] = {}
    tasks: list[CountTask] = []
    for cand, probe in zip(batch, probes):
        assert probe is not None
        trials[cand.setting] = _memory_trial(spec, cand, number, probe, base)
        if trials[cand.setting].feasible:
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
    # time, as long as the next chunk fits before the deadline: by the chunks' own time,
    # or for the first, by default's floor where it holds default (else it always runs)
    tasks.sort(key=lambda t: t.setting != "default")
    jobs = max(1, spec.jobs)
    docs: list[dict[str, Any]] = []
    chunk_s: list[float] = []
    floor = count_floor_s(ws.default_probe) if tasks and tasks[0].setting == "default" else 0.0
    for i in range(0, len(tasks), jobs):
        need = max(chunk_s) if chunk_s else floor
        if need and time.monotonic() + need > deadline:
            for task in tasks[i:]:
                trials[task.setting] = replace(
                    trials[task.setting], note="not counted: the search's budget ran out"
                )
            if not chunk_s:
                trials["default"] = replace(
                    trials["default"],
                    note=f"not counted: its count point runs at least {minutes_or_seconds(floor)} "
                    f"under valgrind (full collections {ws.default_cycle:,} steps apart), "
                    "past the search's budget",
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
