"""A sweep in counts: every (workload, setting) as a count point, several side by side.

Counts do not depend on what else the machine runs, so count points need no rounds and
no interleaving: they run ``jobs`` at a time (one valgrind process each, one core each),
in any order, and a point measured on another machine with the same interpreter build
is the same point. Each finished point is written whole as
``counts/<workload>@<setting>.json`` beside a sweep's time points; a point that exists
is not measured again (resume), and a point that failed is written with its reason.

A sweep directory in counts (:func:`run_counts`) holds ``manifest.json``, whose spec says
``"measure": "counts"``, and ``counts/`` only. Each workload's ``default`` is measured
first: its span ends on full collections (at most ``max_steps`` steps), and its steps
(``fulls`` of default's full-collection cycles) bound every other setting's span. A
setting that makes no full collection in that many steps (``disabled``, or a cycle
longer than default's) is measured over default's cycle length instead of whole cycles
of its own, and its point says so
(``bound``): without the bound, ``disabled`` short_cycles at 2,000 steps ran over 10
minutes under valgrind.
"""

from __future__ import annotations

import concurrent.futures
import datetime as _dt
import os
import threading
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Optional

from gctune.measure.catalog import workload_ids
from gctune.store.atomic import atomic_write_json, read_versioned
from gctune.store.results import MANIFEST, Manifest, ResultError, read_manifest, write_manifest
from gctune.sweep.counts import (
    COUNT_HASH_SEED,
    CountPoint,
    allow_counted_spans,
    measure_point,
    stop_counted_spans,
    valgrind,
)
from gctune.sweep.environment import environment, interpreter_of, lent_to
from gctune.sweep.spec import SweepError
from gctune.sweep.sweep_dir import (
    os_errors_stop_the_sweep,
    remove_leftovers,
    sigterm_as_interrupt,
    sweep_lock,
)

__all__ = [
    "COUNTS_DIR",
    "COUNTS_FORMAT",
    "CountSpec",
    "CountTask",
    "count_path",
    "is_count_sweep",
    "parse_shard",
    "read_count_points",
    "run_count_sweep",
    "run_counts",
]

COUNTS_DIR = "counts"
# 3: counted from the last settling cycle on (2: instrumented from start-up; 1: two
# spans, differenced). Formats are not mixed: their cache simulation starts differently.
COUNTS_FORMAT = 3


@dataclass(frozen=True)
class CountTask:
    """One count point to measure."""

    python: str
    workload: str  # the spec the worker loads
    workload_id: str
    setting: str  # a setting id
    size: Optional[int] = None
    fulls: int = 1
    max_steps: int = 200
    env: Optional[dict[str, str]] = None
    bound: str = ""  # where max_steps came from, when not from the spec
    timeout: float = 3600.0


def count_path(sweep_dir: Path, workload_id: str, setting_id: str) -> Path:
    """Where a count point is stored."""
    return sweep_dir / COUNTS_DIR / f"{workload_id}@{setting_id}.json"


def _document(task: CountTask, point: Optional[CountPoint], reason: str) -> dict[str, Any]:
    return {
        "gctune_counts": COUNTS_FORMAT,
        "workload": task.workload_id,
        "spec": task.workload,
        "setting": task.setting,
        "size": task.size,
        "python": task.python,
        "hash_seed": COUNT_HASH_SEED,
        "fulls": task.fulls,
        "max_steps": task.max_steps,
        "bound": task.bound,
        "status": "ok" if point is not None else "failed",
        "reason": reason,
        "point": point.as_dict() if point is not None else None,
    }


def run_count_sweep(
    sweep_dir: Path,
    tasks: Sequence[CountTask],
    *,
    jobs: int,
    on_done: Optional[Callable[[CountTask, Optional[str]], None]] = None,
    then: Optional[Callable[[CountTask, dict[str, Any]], Sequence[CountTask]]] = None,
) -> list[dict[str, Any]]:
    """Measure every task not yet on disk, ``jobs`` at a time; the documents, in task order
    (then the follow-ups', in the order they were asked for).

    ``on_done(task, reason)`` is called as each point ends or is found stored (reason
    None when it was measured). A failed point is stored with its reason and the sweep goes
    on. ``then(task, document)``: the tasks that may start once ``task`` has ended (a
    workload's other settings after its default), queued behind what is queued already.
    """
    valgrind()  # one clear line before anything runs where it is missing
    (sweep_dir / COUNTS_DIR).mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()

    def measure(task: CountTask) -> dict[str, Any]:
        path = count_path(sweep_dir, task.workload_id, task.setting)
        if path.exists():
            stored = read_count_document(path)
            if on_done is not None:
                with lock:
                    on_done(task, stored.get("reason") or None)
            return stored
        try:
            point: Optional[CountPoint] = measure_point(
                task.python,
                task.workload,
                task.setting,
                fulls=task.fulls,
                max_steps=task.max_steps,
                size=task.size,
                env=task.env,
                timeout=task.timeout,
            )
            reason = ""
        except (RuntimeError, OSError, ValueError) as exc:
            point, reason = None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        doc = _document(task, point, reason)
        atomic_write_json(path, doc)
        if on_done is not None:
            with lock:
                on_done(task, reason or None)
        return doc

    allow_counted_spans()
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs))
    Ended = tuple[dict[str, Any], list["concurrent.futures.Future[Any]"]]

    def run(task: CountTask) -> Ended:
        doc = measure(task)
        more = [pool.submit(run, t) for t in then(task, doc)] if then is not None else []
        return doc, more

    try:
        pending = [pool.submit(run, t) for t in tasks]
        docs: list[dict[str, Any]] = []
        while pending:
            doc, more = pending.pop(0).result()
            docs.append(doc)
            pending += more
        return docs
    except BaseException:
        # Ctrl-C or SIGTERM (or a broken disk): end the valgrind spans now rather than
        # letting them count on for minutes; their points stay unmeasured for --resume
        stop_counted_spans()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def read_count_document(path: Path) -> dict[str, Any]:
    """One stored count point; ValueError (one line) for a file that is not one."""
    return read_versioned(path, "gctune_counts", COUNTS_FORMAT, "count point")


def read_count_points(sweep_dir: Path) -> list[dict[str, Any]]:
    """Every count point of a sweep directory, sorted by workload and setting."""
    folder = sweep_dir / COUNTS_DIR
    if not folder.is_dir():
        return []
    docs = [read_count_document(p) for p in sorted(folder.glob("*.json"))]
    return sorted(docs, key=lambda d: (str(d["workload"]), str(d["setting"])))


COUNT_MEASURE = "counts"
DEFAULT_FULLS = 1  # full-collection cycles in a counted span
DEFAULT_MAX_STEPS = 2000  # most steps of default's span


@dataclass(frozen=True)
class CountSpec:
    """What a sweep in counts measures; stored in its manifest (``measure: counts``)."""

    python: str
    workloads: tuple[str, ...]
    settings: tuple[str, ...]  # setting ids, default first
    size: Optional[int] = None
    fulls: int = DEFAULT_FULLS
    max_steps: int = DEFAULT_MAX_STEPS
    timeout: float = 3600.0  # per counted span
    jobs: int = 1
    shard: Optional[tuple[int, int]] = None
    """(K, N): this sweep measures every workload's default and the K-th of every N other
    points (``--shard K/N``); the shards of one build combine with ``gctune merge``."""

    def to_json(self) -> dict[str, Any]:
        """The manifest's spec."""
        doc = asdict(self)
        doc.update(measure=COUNT_MEASURE, workloads=list(self.workloads))
        doc["settings"] = list(self.settings)
        doc["shard"] = None if self.shard is None else list(self.shard)
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> CountSpec:
        """From a manifest's spec; ValueError/TypeError/KeyError for a damaged one."""
        return cls(
            python=str(doc["python"]),
            workloads=tuple(str(w) for w in doc["workloads"]),
            settings=tuple(str(s) for s in doc["settings"]),
            size=None if doc.get("size") is None else int(doc["size"]),
            fulls=int(doc["fulls"]),
            max_steps=int(doc["max_steps"]),
            timeout=float(doc["timeout"]),
            jobs=int(doc.get("jobs", 1)),
            shard=None if doc.get("shard") is None else parse_shard(doc["shard"]),
        )


def is_count_sweep(sweep_dir: Path) -> bool:
    """Whether ``sweep_dir`` holds a sweep in counts (its manifest says so)."""
    try:
        if not (sweep_dir / MANIFEST).exists():
            return False
        return read_manifest(sweep_dir).spec.get("measure") == COUNT_MEASURE
    except (OSError, ResultError):
        return False


def _default_first(settings: Sequence[str]) -> tuple[str, ...]:
    rest = [s for s in settings if s != "default"]
    return ("default", *rest)


def _tasks(
    spec: CountSpec, env: Optional[dict[str, str]]
) -> tuple[list[CountTask], list[CountTask]]:
    """Each workload's default, and every other point (bounded later by its default)."""
    ids = workload_ids(list(spec.workloads))
    defaults: list[CountTask] = []
    others: list[CountTask] = []
    for workload, wid in zip(spec.workloads, ids):
        for setting in spec.settings:
            task = CountTask(
                spec.python, workload, wid, setting, size=spec.size, fulls=spec.fulls,
                max_steps=spec.max_steps, env=env, timeout=spec.timeout,
                bound="gctune's step bound",
            )  # fmt: skip
            (defaults if setting == "default" else others).append(task)
    if spec.shard is not None:
        k, n = spec.shard
        others = [t for i, t in enumerate(others) if i % n == k - 1]
    return defaults, others


def parse_shard(value: Any) -> tuple[int, int]:
    """``"2/3"`` or ``[2, 3]`` as (2, 3); ValueError (one line) unless 1 <= K <= N."""
    try:
        if isinstance(value, str):
            k_text, n_text = value.split("/")
            k, n = int(k_text), int(n_text)
        else:
            k, n = (int(x) for x in value)
    except (TypeError, ValueError):
        raise ValueError(f"--shard {value!r}: give K/N, e.g. 1/2") from None
    if not 1 <= k <= n:
        raise ValueError(f"--shard {value!r}: K must be from 1 to N")
    return k, n


def bound_by_default(task: CountTask, default_doc: Optional[dict[str, Any]]) -> CountTask:
    """``task`` with its span bounded by its workload's default: as many steps as
    default's span ran (``fulls`` of its full-collection cycles)."""
    point = (default_doc or {}).get("point")
    if default_doc is None or default_doc.get("status") != "ok" or point is None:
        return replace(task, bound="gctune's step bound (no default)")
    cycle = int(point["spans"][0]["steps"])
    what = "default's cycle" if task.fulls == 1 else f"{task.fulls} of default's cycles"
    return replace(task, max_steps=max(1, cycle), bound=what)


def run_counts(
    spec: Optional[CountSpec],
    sweep_dir: Path,
    *,
    resume: bool = False,
    on_done: Optional[Callable[[CountTask, Optional[str], int, int], None]] = None,
) -> tuple[CountSpec, list[dict[str, Any]]]:
    """Run (or resume) a sweep in counts into ``sweep_dir``; its spec and every point.

    ``on_done(task, reason, done, total)`` is called as each point ends (reason None when
    it was measured). Points already stored are not measured again.
    """
    valgrind()  # one clear line before anything is created where it is missing
    guards = (os_errors_stop_the_sweep(sweep_dir), sweep_lock(sweep_dir), sigterm_as_interrupt())
    with ExitStack() as stack:
        for guard in guards:
            stack.enter_context(guard)
        remove_leftovers(sweep_dir)
        exists = (sweep_dir / MANIFEST).exists()
        if resume:
            if not exists:
                raise SweepError(f"{sweep_dir} holds no sweep to resume")
            manifest = read_manifest(sweep_dir)
            if manifest.spec.get("measure") != COUNT_MEASURE:
                raise SweepError(f"{sweep_dir} is a sweep in time, not in counts")
            try:
                spec = CountSpec.from_json(manifest.spec)
            except (KeyError, TypeError, ValueError) as exc:
                raise ResultError(f"{sweep_dir / MANIFEST}: damaged spec: {exc!r}") from None
            env = stack.enter_context(lent_to(spec.python))
        else:
            if spec is None:
                raise SweepError("nothing to sweep")
            if exists:
                raise SweepError(
                    f"{sweep_dir} already holds a sweep: add --resume, or choose another --out"
                )
            spec = replace(spec, settings=_default_first(spec.settings))
            env = stack.enter_context(lent_to(spec.python))
            manifest = Manifest(
                sweep_id=sweep_dir.name,
                spec=spec.to_json(),
                environment=environment(interpreter_of(spec.python, env)),
                created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            )
            write_manifest(sweep_dir, manifest)
        defaults, others = _tasks(spec, env)
        total = len(defaults) + len(others)
        done = [0]

        def counted(task: CountTask, reason: Optional[str]) -> None:
            done[0] += 1
            if on_done is not None:
                on_done(task, reason, done[0], total)

        # a workload's other points start as soon as its own default has ended (bounded
        # by it), not after every workload's default: one slow default (request_loop's
        # takes over 10 minutes of a core) no longer leaves the other cores idle
        others_of: dict[str, list[CountTask]] = {}
        for t in others:
            others_of.setdefault(t.workload_id, []).append(t)

        def bounded(task: CountTask, doc: dict[str, Any]) -> list[CountTask]:
            if task.setting != "default":
                return []
            return [bound_by_default(t, doc) for t in others_of.get(task.workload_id, [])]

        docs = run_count_sweep(
            sweep_dir, defaults, jobs=max(1, spec.jobs), on_done=counted, then=bounded
        )
        return spec, read_count_points(sweep_dir) if docs else []


def default_jobs() -> int:
    """Points measured side by side by default: one per core."""
    return max(1, os.cpu_count() or 1)
