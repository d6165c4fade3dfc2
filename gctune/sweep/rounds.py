"""Measuring one workload's settings in interleaved rounds of steady-state spans.

For each workload: a pilot under ``default`` learns its rhythm (see
:mod:`gctune.sweep.horizon`) and is saved in ``pilots/<workload>.json``; then each round runs
one worker span (:mod:`gctune.measure.span`) of every setting still in the race — of every
workload of the group, when several are interleaved — in an order shuffled afresh for
every round (seeded by the sweep, the workload and the round, so a
resumed sweep runs the same order). Each span is appended to its point file as one more
run the moment it ends, so an interrupted sweep resumes at the span where it stopped.
After ``min_rounds`` rounds, racing (:mod:`gctune.sweep.racing`) stops settings that are
clearly out; the race ends when the leader is separated or at ``max_rounds``.

A span that crashes, times out or exceeds the memory cap fails its point with the reason
(the runs measured before are kept) and the point leaves the race.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import random
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Optional

from gctune.analysis.steady import FULL_TARGET
from gctune.store.atomic import atomic_write_json
from gctune.store.documents import span_point_document
from gctune.store.race import DECIDED, ROUND_CAP, Stop, race_stop
from gctune.store.results import Point, load_point, point_path, read_point_document
from gctune.sweep.decide import Judge, RecommendJudge
from gctune.sweep.horizon import SpanPlan, plan_span
from gctune.sweep.isolation import PROCESS_RECORD, cut_bytes, log_since, run_isolated
from gctune.sweep.racing import DEFAULT_MIN_GAIN, race_decisions
from gctune.sweep.worker_failure import failure_reason

__all__ = ["Counter", "RoundsConfig", "SpanEvent", "Target", "run_group"]


@dataclass(frozen=True)
class RoundsConfig:
    """How many rounds, how long a span may measure (seconds), when racing stops one."""

    min_rounds: int
    max_rounds: int
    span_budget_s: float
    min_gain: float = DEFAULT_MIN_GAIN
    racing: bool = True
    seed: str = "gctune"
    # verify --recycle: every span of a setting other than default runs exactly this many
    # steps (one recycled worker's life), whatever its budget
    recycle_steps: Optional[int] = None
    # decision rounds (gctune.sweep.decide): after the last round, at most this many more
    # rounds of only default and a candidate whose interval straddles the min-gain line
    # (with racing), or that ``judge`` finds undecided (racing or not)
    decide_rounds: int = 0
    judge: Optional[Judge] = None


@dataclass(frozen=True)
class SpanEvent:
    """Progress of a sweep: a span about to run (``point`` None) or just finished."""

    workload: str
    setting: str
    round: int
    max_rounds: int
    racing: int
    done: int
    total: int
    point: Optional[Point]
    note: Optional[str] = None


ProgressFn = Callable[[SpanEvent], None]


@dataclass
class Counter:
    """Spans done and expected across the whole sweep (for the progress bar's ETA)."""

    done: int
    total: int


@dataclass(frozen=True)
class Target:
    """Where and how one workload's spans run."""

    python: str
    workload: str
    workload_id: str
    size: Optional[int]
    cwd: Optional[str]
    env: Optional[dict[str, str]]
    timeout: float
    max_memory: int
    interpreter: dict[str, Any]


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _span_command(target: Target, setting: str, out: Path, extra: Sequence[str]) -> list[str]:
    cmd = [target.python, "-m", "gctune.measure.span", "--workload", target.workload]
    # absolute: a step may change the worker's working directory before it writes
    cmd += ["--setting", setting, "--out", str(out.absolute())]
    cmd += ["--max-memory", str(target.max_memory)]
    cmd += ["--parent-pid", str(os.getpid())]  # the worker ends if this sweep is killed
    if target.size is not None:
        cmd += ["--size", str(target.size)]
    return cmd + list(extra)


def round_hash_seed(seed: str, round_number: int) -> str:
    """The ``PYTHONHASHSEED`` of every span of a round (0 for the pilot: none).

    String hashing — and so every dict and set layout — changes with the hash seed, and
    with it a process's speed by a few percent. Every span of a round shares one seed, so
    the within-round ratios cancel it; each round draws another, so the intervals over
    rounds average over layouts as pyperf does over its worker processes.
    """
    digest = hashlib.sha256(f"{seed}/{round_number}".encode()).digest()
    return str(1 + int.from_bytes(digest[:4], "big") % 4_294_967_294)


def _run_worker(
    target: Target,
    setting: str,
    log_path: Path,
    extra: Sequence[str],
    sweep_dir: Path,
    *,
    hash_seed: Optional[str] = None,
) -> tuple[Optional[dict[str, Any]], Optional[str]]:
    """Run one worker process; its JSON output, or the reason it has none."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".point-", dir=sweep_dir) as tmp:
        out = Path(tmp) / "span.json"
        cmd = _span_command(target, setting, out, extra)
        cut_before = cut_bytes(log_path)
        with log_path.open("a", encoding="utf-8") as log:
            log.write("$ " + " ".join(cmd) + "\n")
            log.flush()
            start = log.tell()
            returncode, timed_out = run_isolated(
                cmd,
                log,
                target.timeout,
                cwd=target.cwd,
                max_memory=target.max_memory,
                env=_with_hash_seed(target.env, hash_seed),
                record=Path(tmp) / PROCESS_RECORD,
            )
        if timed_out:
            return None, f"timed out after {target.timeout:g} s"
        text = log_since(log_path, start, cut_before)
        if returncode != 0:
            return None, failure_reason(returncode, text, target.max_memory)
        try:
            return json.loads(out.read_text(encoding="utf-8")), None
        except FileNotFoundError:
            return None, "worker exited without a result (status 0)"
        except (OSError, json.JSONDecodeError) as exc:
            return None, f"worker wrote no readable result: {exc}"


def _with_hash_seed(
    env: Optional[dict[str, str]], hash_seed: Optional[str]
) -> Optional[dict[str, str]]:
    if hash_seed is None:
        return env
    return {**(env if env is not None else os.environ), "PYTHONHASHSEED": hash_seed}


def _pilot(
    target: Target, sweep_dir: Path, budget_s: float
) -> tuple[Optional[dict[str, Any]], Optional[str]]:
    path = sweep_dir / "pilots" / f"{target.workload_id}.json"
    if path.exists():
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return data, None
        except (OSError, json.JSONDecodeError):
            path.unlink()
    extra = ["--pilot", "--budget", str(budget_s), "--full-target", str(FULL_TARGET)]
    log = sweep_dir / "logs" / f"{target.workload_id}@pilot.log"
    data_or_none, reason = _run_worker(target, "default", log, extra, sweep_dir)
    if data_or_none is not None:
        atomic_write_json(path, data_or_none)
    return data_or_none, reason


def _span_args(plan: SpanPlan, round_number: int) -> list[str]:
    return [
        "--warmup", str(plan.warmup),
        "--chunk", str(plan.chunk),
        "--min-steps", str(plan.min_steps),
        "--max-steps", str(plan.max_steps),
        "--budget", str(plan.budget_s),
        "--full-target", str(FULL_TARGET),
        "--settle", str(plan.settle),
        "--round", str(round_number),
    ]  # fmt: skip


def _write_round(
    target: Target,
    setting: str,
    sweep_dir: Path,
    round_number: int,
    *,
    horizon: Optional[dict[str, Any]],
    output: Optional[dict[str, Any]],
    failure: Optional[str],
    duration_s: float,
) -> Point:
    path = point_path(sweep_dir, target.workload_id, setting)
    previous = read_point_document(path) if path.exists() else None
    doc = span_point_document(
        previous=previous,
        worker_output=output,
        workload=target.workload_id,
        setting=setting,
        round_number=round_number,
        interpreter=target.interpreter,
        horizon=horizon,
        started=_now(),
        duration_s=duration_s,
        failure=failure,
    )
    atomic_write_json(path, doc)
    return load_point(path)


def _stop(path: Path, stop: Stop, *, replace_reason: bool = False) -> None:
    """Mark a point as out of the race, with why (``replace_reason``: even if it was)."""
    doc = read_point_document(path)
    race = dict(doc["gctune"].get("race") or {})
    if race.get("stopped") and not replace_reason:
        return
    race.pop("twin", None)
    race.update(stop.fields())
    doc["gctune"]["race"] = race
    atomic_write_json(path, doc)


def _racing(point: Optional[Point]) -> bool:
    if point is None:
        return True
    if any(r.round is None for r in point.runs):
        return False  # measured before rounds existed (format 1): finished as it is
    return point.ok and not (point.race or {}).get("stopped")


def _measured_in(point: Optional[Point], round_number: int) -> bool:
    return point is not None and any(r.round == round_number for r in point.runs)


def _plans(
    target: Target, settings: Sequence[str], sweep_dir: Path, config: RoundsConfig
) -> tuple[Optional[dict[str, SpanPlan]], Optional[str]]:
    """Each setting's span for ``target`` from its pilot; None and why when it failed."""
    pilot, reason = _pilot(target, sweep_dir, config.span_budget_s)
    if pilot is None:
        return None, reason
    plans = {s: plan_span(pilot, s, budget_s=config.span_budget_s) for s in settings}
    if config.recycle_steps is not None:
        n = config.recycle_steps
        for s in settings:
            if s != "default":
                plans[s] = replace(plans[s], min_steps=n, max_steps=n, budget_s=1e9, settle=0)
    return plans, None


def run_group(
    targets: Sequence[Target],
    settings: Sequence[str],
    sweep_dir: Path,
    config: RoundsConfig,
    *,
    counter: Counter,
    progress: Optional[ProgressFn] = None,
) -> list[Point]:
    """Measure every setting of ``targets`` in shared rounds (resuming what is saved).

    The targets of a group are interleaved: each round runs one span of every racing
    (target, setting) in one shuffled order — a workload's settings, or the same
    workload under several interpreters, or a base and a changed workload side by side.
    Racing decides per target. Returns the group's points.
    """
    arms = [(t, s) for t in targets for s in settings]

    def path(arm: tuple[Target, str]) -> Path:
        return point_path(sweep_dir, arm[0].workload_id, arm[1])

    def current(arm: tuple[Target, str]) -> Optional[Point]:
        return load_point(path(arm)) if path(arm).exists() else None

    plans: dict[str, dict[str, SpanPlan]] = {}
    for target in targets:
        if not any(_racing(current((target, s))) for s in settings):
            continue  # nothing left to measure: no pilot
        planned, reason = _plans(target, settings, sweep_dir, config)
        if planned is None:
            for setting in settings:
                if not path((target, setting)).exists():
                    _write_round(
                        target,
                        setting,
                        sweep_dir,
                        0,
                        horizon=None,
                        output=None,
                        failure=reason,
                        duration_s=0.0,
                    )
            counter.total -= len(settings) * config.max_rounds
        else:
            plans[target.workload_id] = planned
    key = "/".join(t.workload_id for t in targets)
    for round_number in range(1, config.max_rounds + 1):
        racing = [a for a in arms if a[0].workload_id in plans and _racing(current(a))]
        if not racing:
            break
        order = list(racing)
        random.Random(f"{config.seed}/{key}/{round_number}").shuffle(order)
        for target, setting in order:
            if not _measured_in(current((target, setting)), round_number):
                plan = plans[target.workload_id][setting]
                shown = (config.max_rounds, len(racing))
                _measure(target, setting, plan, round_number, sweep_dir, config, counter,
                         progress, shown)  # fmt: skip
        for target in targets:
            if target.workload_id in plans:
                paths = {s: path((target, s)) for s in settings}
                _after_round(settings, paths, config, round_number, counter)
    for target in targets:
        if config.decide_rounds > 0 and (config.racing or config.judge is not None):
            _decide(target, settings, sweep_dir, config, counter, progress, plans)
    return [p for p in (current(a) for a in arms) if p is not None]


def _measure(
    target: Target,
    setting: str,
    plan: SpanPlan,
    round_number: int,
    sweep_dir: Path,
    config: RoundsConfig,
    counter: Counter,
    progress: Optional[ProgressFn],
    shown: tuple[int, int],
) -> Point:
    """Run one span of ``setting`` in ``round_number`` and append it to its point file.

    ``shown`` is what the progress bar shows: (the rounds of this phase, settings racing).
    """
    _tell(progress, target, setting, round_number, shown, counter, None)
    t0 = time.monotonic()
    output, failure = _run_worker(
        target,
        setting,
        sweep_dir / "logs" / f"{target.workload_id}@{setting}.log",
        _span_args(plan, round_number),
        sweep_dir,
        hash_seed=round_hash_seed(config.seed, round_number),
    )
    point = _write_round(
        target, setting, sweep_dir, round_number,
        horizon=plan.to_json(), output=output, failure=failure,
        duration_s=round(time.monotonic() - t0, 3),
    )  # fmt: skip
    counter.done += 1
    _tell(progress, target, setting, round_number, shown, counter, point)
    return point


def _decide(
    target: Target,
    settings: Sequence[str],
    sweep_dir: Path,
    config: RoundsConfig,
    counter: Counter,
    progress: Optional[ProgressFn],
    plans: dict[str, dict[str, SpanPlan]],
) -> None:
    """Decision rounds (:mod:`gctune.sweep.decide`) for one target after its last round."""
    paths = {s: point_path(sweep_dir, target.workload_id, s) for s in settings}
    if "default" not in paths or not paths["default"].exists():
        return
    stop = race_stop(load_point(paths["default"]).race)
    if stop is not None and stop.end == DECIDED:
        return  # a resumed sweep whose decision rounds had ended
    last = config.max_rounds + config.decide_rounds
    judge = config.judge if config.judge is not None else RecommendJudge(config.min_gain)
    candidate: Optional[str] = None
    why: Optional[Stop] = None
    done = config.max_rounds  # the last round measured
    for round_number in range(config.max_rounds + 1, last + 1):
        points = [load_point(p) for p in paths.values() if p.exists()]
        left = last - round_number + 1
        found = judge.undecided(points, rounds_left=left)
        if found is None or (candidate is not None and found.setting != candidate):
            break
        if not found.reachable:
            why = judge.futile(found, rounds=done, rounds_left=left)
            candidate = found.setting
            break
        if candidate is None:
            if target.workload_id not in plans:  # a resumed sweep: plans from the pilot
                planned, _ = _plans(target, settings, sweep_dir, config)
                if planned is None:
                    return
                plans[target.workload_id] = planned
            candidate = found.setting
            counter.total += 2 * left
        pair = ["default", candidate]
        random.Random(f"{config.seed}/{target.workload_id}/{round_number}").shuffle(pair)
        for setting in pair:
            if _measured_in(load_point(paths[setting]), round_number):
                counter.total -= 1
                continue
            plan = plans[target.workload_id][setting]
            point = _measure(target, setting, plan, round_number, sweep_dir, config, counter,
                             progress, (last, 2))  # fmt: skip
            if not point.ok:
                return
        done = round_number
    if candidate is None:
        return
    if why is None:
        counter.total -= 2 * (last - done)
        points = [load_point(p) for p in paths.values() if p.exists()]
        why = judge.outcome(points, candidate, rounds=done)
    elif done > config.max_rounds:
        counter.total -= 2 * (last - done)
    for setting in ("default", candidate):
        _stop(paths[setting], why, replace_reason=True)


def _tell(
    progress: Optional[ProgressFn],
    target: Target,
    setting: str,
    round_number: int,
    shown: tuple[int, int],
    counter: Counter,
    point: Optional[Point],
) -> None:
    """Report a span about to run (``point`` None) or just saved."""
    if progress:
        event = SpanEvent(target.workload_id, setting, round_number, shown[0], shown[1],
                          counter.done, counter.total, point)  # fmt: skip
        progress(event)


def _after_round(
    settings: Sequence[str],
    paths: dict[str, Path],
    config: RoundsConfig,
    round_number: int,
    counter: Counter,
) -> None:
    """Racing decisions after a round, saved in the point files; the ETA follows them."""
    live = {s: load_point(paths[s]) for s in settings if paths[s].exists()}
    racing = {s: p for s, p in live.items() if _racing(p)}
    left_rounds = config.max_rounds - round_number
    if left_rounds <= 0:
        for s in racing:
            _stop(paths[s], Stop(ROUND_CAP, f"round cap ({config.max_rounds} rounds)"))
        return
    if not config.racing or round_number < config.min_rounds:
        return
    decision = race_decisions(racing, round_number=round_number, min_gain=config.min_gain)
    for setting, why in decision.stopped.items():
        _stop(paths[setting], why)
        counter.total -= left_rounds
    if decision.over is not None:
        for setting in racing:
            if setting not in decision.stopped:
                _stop(paths[setting], decision.over)
                counter.total -= left_rounds
