"""The commands gctune prints for the user to run next, built in one place.

Each is a shell line the user can paste as printed, in a fresh shell where gctune's
virtualenv is not activated: the program as :func:`program` names it (``gctune`` only when
that is on PATH outside a virtualenv, else ``.venv/bin/gctune`` or an absolute path),
arguments quoted, a workload named by the spec the sweep measured (a file as its absolute
path, ``/home/me/bench.py:make``), never by its result id (``bench-make``), which no
command accepts as a workload. The integration tests run each printed command.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from gctune.measure.catalog import builtin_names, split_spec, workload_ids

__all__ = [
    "WorkloadArgs",
    "confirm_command",
    "program",
    "pyperf_show_command",
    "recommend_command",
    "report_command",
    "resume_command",
    "summary_command",
    "tune_resume_command",
    "verify_command",
    "workload_args",
]


def _shell(argv: Sequence[str]) -> str:
    return shlex.join(argv)


def _shown(path: str, *, absolute: bool = False) -> str:
    """``path`` as a user types it: relative to the current directory when under it
    (``.venv/bin/gctune``; always with a ``/``, so that no shell searches PATH), else
    absolute."""
    full = os.path.abspath(path)
    if absolute:
        return full
    try:
        relative = os.path.relpath(full)
    except ValueError:  # another drive
        return full
    if relative.startswith(os.pardir):
        return full
    return relative if os.sep in relative else os.path.join(os.curdir, relative)


def _in_virtualenv(path: str) -> bool:
    """Whether ``path`` lies in the virtualenv this interpreter runs from (a directory
    that a fresh shell does not have on PATH)."""
    if sys.prefix == sys.base_prefix:
        return False
    prefix = os.path.abspath(sys.prefix)
    return os.path.commonpath([prefix, os.path.abspath(path)]) == prefix


def _script() -> Optional[str]:
    """The ``gctune`` console script running now, or the one beside this interpreter."""
    argv0 = sys.argv[0] if sys.argv else ""
    if os.path.basename(argv0) in ("gctune", "gctune.exe"):
        found = argv0 if os.sep in argv0 else shutil.which(argv0)
        if found and os.path.isfile(found):
            return found
    beside = os.path.join(os.path.dirname(sys.executable), "gctune")
    return beside if os.path.isfile(beside) else None


def program(*, absolute: bool = False) -> list[str]:
    """How a printed command calls gctune so that it works pasted into a fresh shell:
    ``gctune`` when the script on PATH is this one and not inside an activated virtualenv
    (pipx, a system install); else the script's path, relative to the current directory
    when under it (``.venv/bin/gctune``, as ``make sweep`` runs it) and absolute
    otherwise (or always, with ``absolute``); ``python -m gctune`` when there is no
    script."""
    script = _script()
    if script is None:
        return [_shown(sys.executable, absolute=absolute), "-m", "gctune"]
    on_path = shutil.which("gctune")
    if on_path and os.path.samefile(on_path, script) and not _in_virtualenv(on_path):
        return ["gctune"]
    return [_shown(script, absolute=absolute)]


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


def verify_command(
    target: WorkloadArgs,
    setting: str,
    recycle_steps: Optional[int] = None,
    rounds: Optional[int] = None,
) -> str:
    """``gctune verify`` of ``setting`` on ``target``, recycled every ``recycle_steps``
    steps and over ``rounds`` rounds when given; a shell line."""
    extra = ["--recycle", str(recycle_steps)] if recycle_steps is not None else []
    extra += ["--rounds", str(rounds)] if rounds is not None else []
    here = program(absolute=target.cwd is not None)  # after a ``cd``, a relative path fails
    line = _shell([*here, "verify", *target.argv, "-s", setting, *extra])
    return f"cd {shlex.quote(target.cwd)} && {line}" if target.cwd else line


def resume_command(sweep_dir: Path) -> str:
    """Finish an interrupted sweep."""
    return _shell([*program(), "sweep", "--resume", "--out", str(sweep_dir)])


def tune_resume_command(tune_dir: Path, budget_min: Optional[int] = None) -> str:
    """Finish an interrupted tune (with ``budget_min``: go on with a search it cut)."""
    more = ["--budget", str(budget_min)] if budget_min is not None else []
    return _shell([*program(), "tune", "--resume", "--out", str(tune_dir), *more])


def confirm_command(sweep_dir: Path) -> str:
    """Confirm a sweep in counts in time (its best settings against default)."""
    return _shell([*program(), "sweep", "--resume", "--out", str(sweep_dir), "--confirm"])


def report_command(sweep_dir: Path) -> str:
    """Write a sweep's report again."""
    return _shell([*program(), "report", str(sweep_dir)])


def recommend_command(sweep_dir: Path) -> str:
    """A sweep's recommendations."""
    return _shell([*program(), "recommend", str(sweep_dir)])


def summary_command(sweep_dir: Path) -> str:
    """A sweep's summary tables again."""
    return _shell([*program(), "summary", str(sweep_dir)])


def pyperf_show_command(point_file: Path) -> str:
    """pyperf's own view of one point file (a pyperf JSON file)."""
    return _shell([_shown(sys.executable), "-m", "pyperf", "show", str(point_file)])
