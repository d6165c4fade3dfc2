"""A sweep in counts: every (workload, setting) as a count point, several side by side.

Counts do not depend on what else the machine runs, so count points need no rounds and
no interleaving: they run ``jobs`` at a time (one valgrind process each, one core each),
in any order, and a point measured on another machine with the same interpreter build
is the same point. Each finished point is written whole as
``counts/<workload>@<setting>.json`` beside a sweep's time points; a point that exists
is not measured again (resume), and a point that failed is written with its reason.
"""

from __future__ import annotations

import concurrent.futures
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from gctune.store.atomic import atomic_write_json
from gctune.sweep.counts import COUNT_HASH_SEED, CountPoint, measure_point, valgrind

__all__ = [
    "COUNTS_DIR",
    "COUNTS_FORMAT",
    "CountTask",
    "count_path",
    "read_count_points",
    "run_count_sweep",
]

COUNTS_DIR = "counts"
COUNTS_FORMAT = 1


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
) -> list[dict[str, Any]]:
    """Measure every task not yet on disk, ``jobs`` at a time; the documents, in task order.

    ``on_done(task, reason)`` is called as each point ends (reason None when it was
    measured). A failed point is stored with its reason and the sweep goes on.
    """
    valgrind()  # one clear line before anything runs where it is missing
    (sweep_dir / COUNTS_DIR).mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()

    def measure(task: CountTask) -> dict[str, Any]:
        path = count_path(sweep_dir, task.workload_id, task.setting)
        if path.exists():
            return read_count_document(path)
        try:
            point: Optional[CountPoint] = measure_point(
                task.python,
                task.workload,
                task.setting,
                fulls=task.fulls,
                max_steps=task.max_steps,
                size=task.size,
                env=task.env,
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

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(measure, tasks))


def read_count_document(path: Path) -> dict[str, Any]:
    """One stored count point; ValueError (one line) for a file that is not one."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable count point: {exc}") from None
    if not isinstance(doc, dict) or doc.get("gctune_counts") != COUNTS_FORMAT:
        raise ValueError(f"{path}: not a gctune count point of format {COUNTS_FORMAT}")
    return doc


def read_count_points(sweep_dir: Path) -> list[dict[str, Any]]:
    """Every count point of a sweep directory, sorted by workload and setting."""
    folder = sweep_dir / COUNTS_DIR
    if not folder.is_dir():
        return []
    docs = [read_count_document(p) for p in sorted(folder.glob("*.json"))]
    return sorted(docs, key=lambda d: (str(d["workload"]), str(d["setting"])))
