"""The commands gctune prints for the user to run next, built in one place.

Each is a shell line the user can paste as printed: arguments quoted, a workload named by
the spec the sweep measured (a file as its absolute path, ``/home/me/bench.py:make``),
never by its result id (``bench-make``), which no command accepts as a workload. The
integration tests run each printed command.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from gctune.measure.catalog import builtin_names, split_spec, workload_ids

__all__ = [
    "WorkloadArgs",
    "pyperf_show_command",
    "recommend_command",
    "report_command",
    "resume_command",
    "verify_command",
    "workload_args",
]


def _shell(argv: Sequence[str]) -> str:
    return shlex.join(argv)


@dataclass(frozen=True)
class WorkloadArgs:
    """How to name one workload of a sweep on gctune's command line."""

    argv: tuple[str, ...]
    """The spec as measured, with ``--size`` and ``--python`` when not the defaults."""
    cwd: Optional[str] = None
    """Where to run the command (a module spec resolves there); None: anywhere."""


def workload_args(spec: Mapping[str, Any], workload: str) -> Optional[WorkloadArgs]:
    """The arguments that name ``workload`` (a result id) of a sweep whose stored spec is
    ``spec``, for ``gctune verify`` or ``gctune run``. None for a ``--command`` program or
    a workload the spec does not list."""
    if spec.get("command"):
        return None
    specs = [str(s) for s in spec.get("workloads") or []]
    try:
        by_id = dict(zip(workload_ids(specs), specs))
    except ValueError:  # ids that clash: a hand-made spec
        return None
    if workload not in by_id:
        return None
    argv = [by_id[workload]]
    if spec.get("size") is not None:
        argv += ["--size", str(spec["size"])]
    python = spec.get("python")
    if python and os.path.abspath(str(python)) != os.path.abspath(sys.executable):
        argv += ["--python", str(python)]
    target, _ = split_spec(by_id[workload])
    cwd = spec.get("cwd")
    module = target not in builtin_names() and not Path(target).is_absolute()
    here = module and cwd and os.path.abspath(str(cwd)) != os.getcwd()
    return WorkloadArgs(tuple(argv), str(cwd) if here else None)


def verify_command(target: WorkloadArgs, setting: str, recycle_steps: Optional[int] = None) -> str:
    """``gctune verify`` of ``setting`` on ``target``, recycled every ``recycle_steps``
    steps when given; a shell line."""
    recycle = ["--recycle", str(recycle_steps)] if recycle_steps is not None else []
    line = _shell(["gctune", "verify", *target.argv, "-s", setting, *recycle])
    return f"cd {shlex.quote(target.cwd)} && {line}" if target.cwd else line


def resume_command(sweep_dir: Path) -> str:
    """Finish an interrupted sweep."""
    return _shell(["gctune", "sweep", "--resume", "--out", str(sweep_dir)])


def report_command(sweep_dir: Path) -> str:
    """Write a sweep's report again."""
    return _shell(["gctune", "report", str(sweep_dir)])


def recommend_command(sweep_dir: Path) -> str:
    """A sweep's recommendations."""
    return _shell(["gctune", "recommend", str(sweep_dir)])


def pyperf_show_command(point_file: Path) -> str:
    """pyperf's own view of one point file (a pyperf JSON file)."""
    return _shell([sys.executable, "-m", "pyperf", "show", str(point_file)])
