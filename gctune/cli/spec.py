"""From command-line values to what the lower stages take: the mode, the grid, the
workloads and interpreters checked, the sweep spec, the memory cap, and the sweep
directory to read or write."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import Optional

import typer

from gctune.analysis.recommend import OBJECTIVES
from gctune.cli.errors import (
    GctuneError,
)
from gctune.cli.options import (
    RESULTS,
)
from gctune.cli.outcome import end_interrupted
from gctune.measure.catalog import (
    builtin_names,
    resolve_specs,
    workload_id,
    workload_ids,
)
from gctune.measure.settings import (
    FULL_GRID,
    QUICK_GRID,
    grid_from_toml,
    parse_settings,
    with_references,
)
from gctune.present.next_steps import (
    program,
)
from gctune.present.sweep_tables import (
    progress_bar,
)
from gctune.store.results import Point
from gctune.sweep.decide import Judge
from gctune.sweep.environment import check_interpreter
from gctune.sweep.isolation import MAX_MEMORY_CAP, MIN_MEMORY_CAP
from gctune.sweep.program import check_command, command_id
from gctune.sweep.runner import run_sweep
from gctune.sweep.spec import SweepSpec, parse_size
from gctune.sweep.sweep_dir import remove_unstarted


def pick_mode(quick: bool, fast: bool, normal: bool, rigorous: bool, fallback: str) -> str:
    flags = (("quick", quick), ("fast", fast), ("normal", normal), ("rigorous", rigorous))
    chosen = [m for m, on in flags if on]
    if len(chosen) > 1:
        raise GctuneError("choose one of --quick, --fast, --normal, --rigorous")
    return chosen[0] if chosen else fallback


def settings_grid(grid: str, settings: list[str]) -> tuple[list[str], str]:
    """Setting ids of a sweep and the pyperf mode its grid implies by default."""
    if settings:
        chosen = parse_settings(settings)
        mode = "normal"
    elif grid == "quick":
        chosen, mode = parse_settings(list(QUICK_GRID)), "quick"
    elif grid == "full":
        chosen, mode = parse_settings(list(FULL_GRID)), "normal"
    elif grid.endswith(".toml"):
        chosen, mode = grid_from_toml(Path(grid)), "normal"
    else:
        raise GctuneError(f"unknown grid {grid!r}: use quick, full or a .toml sweep file")
    return [s.id for s in with_references(chosen)], mode


def check_workloads(workloads: list[str], size: Optional[int]) -> list[str]:
    # fail now, in one line, not in every point; files become absolute paths
    chosen = list(dict.fromkeys(workloads or builtin_names()))  # each once, in order
    # each once as resolved too: tiny.py:make and ./tiny.py:make are one workload
    resolved = list(dict.fromkeys(resolve_specs(chosen, python=sys.executable, size=size)))
    workload_ids(resolved)  # two workloads with one id would overwrite each other's points
    return resolved


def targets(
    args: list[str],
    workload_opts: list[str],
    *,
    command: bool,
    name: Optional[str],
    size: Optional[int],
) -> tuple[tuple[str, ...], Optional[tuple[str, ...]]]:
    """The workloads of a run or sweep, or the one name and argv of ``--command``."""
    if not command:
        if name is not None:
            raise GctuneError("--name names a --command program")
        return tuple(check_workloads([*args, *workload_opts], size)), None
    if workload_opts:
        raise GctuneError("--workload and --command exclude each other")
    if size is not None:
        raise GctuneError("--size applies to workloads, not to --command")
    argv = tuple(args)
    check_command(argv, os.getcwd())
    return (workload_id(name) if name else command_id(argv),), argv


def new_dirs(path: Path) -> list[Path]:
    """``path`` and those of its parents that do not exist yet, deepest first."""
    fresh = []
    for folder in (path, *path.parents):
        try:
            if folder.exists():
                break
        except OSError:  # cannot be searched: it exists, and is not ours to remove
            break
        fresh.append(folder)
    return fresh


def measure_sweep(
    spec: Optional[SweepSpec], out: Path, resume: bool, *, judge: Optional[Judge] = None
) -> list[Point]:
    """Run (or resume) ``spec`` into ``out`` with a progress bar (``judge``: what its
    decision rounds settle, :func:`gctune.sweep.runner.run_sweep`)."""
    label = f"sweep → {out}"
    fresh = new_dirs(out)
    try:
        try:
            with progress_bar(label) as update:
                points = run_sweep(spec, out, resume=resume, progress=update, judge=judge)
        except BaseException:
            # refused or stopped before anything was saved: leave no directory behind
            if fresh and remove_unstarted(out):
                for folder in fresh[1:]:
                    with contextlib.suppress(OSError):
                        folder.rmdir()
            raise
    except KeyboardInterrupt:
        end_interrupted(out)
    return points


def interpreter_path(python: Optional[str]) -> str:
    if python is None:
        return sys.executable
    found = shutil.which(python)
    if found is None:
        raise GctuneError(f"interpreter {python!r} not found")
    return os.path.abspath(found)


def make_spec(
    *,
    workloads: list[str],
    workload_opt: list[str],
    command: bool,
    name: Optional[str],
    settings: tuple[str, ...],
    size: Optional[int],
    mode: str,
    processes: Optional[int],
    values: Optional[int],
    min_time: Optional[float],
    timeout: float,
    max_memory: str,
    python: Optional[str],
    rounds: Optional[int] = None,
    min_rounds: Optional[int] = None,
    max_point_time: Optional[float] = None,
    min_gain: float = 2.0,
    racing: bool = True,
    decide_rounds: Optional[int] = None,
) -> SweepSpec:
    cap = memory_cap(max_memory)  # the quick checks first; workloads are imported
    interpreter = interpreter_path(python)
    if python is not None:
        check_interpreter(interpreter)  # before anything is created for the sweep
    chosen, argv = targets(workloads, workload_opt, command=command, name=name, size=size)
    if not command:
        for flag, value in (
            ("--processes", processes),
            ("--values", values),
            ("--min-time", min_time),
        ):
            if value is not None:
                raise GctuneError(
                    f"{flag} applies to --command programs; workloads are measured in rounds "
                    "of spans: use --rounds and --max-point-time"
                )
    elif any(v is not None for v in (rounds, min_rounds, max_point_time)):
        raise GctuneError(
            "--rounds, --min-rounds and --max-point-time apply to workloads; a --command "
            "program is timed by pyperf: use --processes, --values, --min-time"
        )
    return SweepSpec(
        python=interpreter,
        workloads=chosen,
        command=argv,
        cwd=os.getcwd(),
        settings=settings,
        size=size,
        mode=mode,
        processes=processes,
        values=values,
        min_time=min_time,
        timeout=timeout,
        max_memory=cap,
        rounds=rounds,
        min_rounds=min_rounds,
        max_point_time=max_point_time,
        min_gain=min_gain / 100,
        racing=racing,
        decide_rounds=decide_rounds,
    )


def memory_cap(text: str) -> int:
    """``--max-memory`` in bytes, within what a worker can run under."""
    try:
        cap = parse_size(text)
    except (OverflowError, ValueError):  # inf or nan
        raise GctuneError(f"cannot read memory size {text!r}; try 512M or 4G") from None
    if cap < MIN_MEMORY_CAP:
        raise GctuneError(
            f"--max-memory {text} is below the smallest usable cap, "
            f"{MIN_MEMORY_CAP // 1024**2}M: a worker's interpreter alone holds about 20 MiB"
        )
    if cap > MAX_MEMORY_CAP:
        raise GctuneError(f"--max-memory {text} is beyond any machine's memory")
    return cap


def refuse_changes_on_resume(
    ctx: typer.Context, allowed: tuple[str, ...] = (), what: str = "sweep"
) -> None:
    """``--resume`` measures what the stored sweep says; refuse arguments that would
    change it, rather than ignore them silently (``allowed``: parameters that do not)."""
    given = []
    for param in ctx.command.params:
        if param.name in ("resume", "out", *allowed) or param.name is None:
            continue
        source = ctx.get_parameter_source(param.name)
        if source is not None and source.name != "DEFAULT":
            given.append(
                max(param.opts, key=len) if param.opts[0].startswith("-") else "workload arguments"
            )
    if given:
        takes = ", ".join(["--out", *(f"--{a.replace('_', '-')}" for a in allowed)])
        raise GctuneError(
            f"--resume measures the rest of the {what} with the arguments it was started "
            f"with and takes only {takes}, not {', '.join(given)}; to measure with other "
            f"arguments, start a new {what} with another --out"
        )


def latest_dir(results: Path) -> Path:
    from gctune.sweep.sweep_dir import latest_sweep

    if not any(results.glob("*/manifest.json")):
        # the hint names gctune as a fresh shell finds it (.venv/bin/gctune)
        raise GctuneError(f"no sweep found under {results}; run `{program_name()} sweep` first")
    return latest_sweep(results)


def latest_tune_dir(results: Path) -> Path:
    """The tune directory under ``results`` written last (its ``tune.json``)."""
    records = list(results.glob("*/tune.json"))
    if not records:
        raise GctuneError(f"no tune found under {results}; run `{program_name()} tune` first")
    return max(records, key=lambda p: p.stat().st_mtime).parent


def program_name() -> str:
    """gctune as a printed command calls it (:func:`gctune.present.next_steps.program`)."""
    return shlex.join(program())


def sweep_dir_or_latest(directory: Optional[Path]) -> Path:
    """``directory``, or the latest sweep under results/, named in one line on stderr
    (which sweep a command read is never a guess)."""
    if directory is not None:
        return directory
    latest = latest_dir(RESULTS)
    typer.echo(
        f"gctune: reading {latest}, the latest sweep under {RESULTS}/ "
        "(give a directory to read another)",
        err=True,
    )
    return latest


def check_objective(objective: str) -> str:
    if objective not in OBJECTIVES:
        raise GctuneError(f"unknown objective {objective!r}: use {', '.join(OBJECTIVES)}")
    return objective
