"""The ``gctune`` command: thin typer commands that parse and call typed functions.

User mistakes end with one line on stderr and a non-zero exit, never a traceback (see
:mod:`gctune.cli.errors`): ``gctune: error: ...`` and exit status 2; 1 for a failed gate
or recommendation, 3 for a sweep that finished with failed points, 130 when interrupted.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table

from gctune import __version__
from gctune.analysis.compare import GATES, compare_sweeps, parse_threshold
from gctune.analysis.recommend import DEFAULT_MAX_MEMORY_RATIO, OBJECTIVES, RecommendError
from gctune.cli.errors import (
    FAILED_POINTS,
    GctuneError,
    OneVoice,
    user_errors,
    warn_damaged,
)
from gctune.measure.catalog import (
    builtin_names,
    load_workload,
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
    pyperf_show_command,
    recommend_command,
    report_command,
    resume_command,
    workload_args,
)
from gctune.present.sweep_tables import (
    console,
    err_console,
    point_table,
    progress_bar,
    summary_tables,
)
from gctune.store.fields import INT64_MAX
from gctune.store.machine import MACHINE_ENV, named_machine
from gctune.store.results import Point
from gctune.sweep.environment import check_interpreter
from gctune.sweep.isolation import MAX_MEMORY_CAP, MIN_MEMORY_CAP
from gctune.sweep.program import check_command, command_id
from gctune.sweep.runner import (
    DEFAULT_TIMEOUT,
    SweepSpec,
    new_sweep_dir,
    parse_size,
    remove_unstarted,
    run_sweep,
)

__all__ = ["app", "main"]


app = typer.Typer(
    help="Measure and tune CPython's cyclic garbage collector for your workload.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=OneVoice,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"gctune {__version__}")
        raise typer.Exit()


@app.callback()
def _gctune(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print gctune's version and exit.",
    ),
) -> None:
    """Measure and tune CPython's cyclic garbage collector for your workload."""


@app.command("list")
@user_errors
def list_cmd(
    json_output: bool = typer.Option(False, "--json", help="Print JSON (schema in the README)."),
) -> None:
    """List the built-in workloads and what each allocates."""
    if json_output:
        from gctune.present.advice import ADVICE_SCHEMA

        items = []
        for name in builtin_names():
            wl = load_workload(name)
            items.append(
                {"name": name, "default_size": wl.default_size, "description": wl.description}
            )
        doc = {"schema": ADVICE_SCHEMA, "kind": "workloads", "workloads": items}
        typer.echo(json.dumps(doc, indent=1))
        return
    table = Table(title="Built-in workloads")
    table.add_column("workload")
    table.add_column("default size", justify="right")
    table.add_column("allocation pattern")
    for name in builtin_names():
        wl = load_workload(name)
        table.add_row(name, f"{wl.default_size:,}", wl.description)
    console.print(table)


def _mode(quick: bool, fast: bool, normal: bool, rigorous: bool, fallback: str) -> str:
    flags = (("quick", quick), ("fast", fast), ("normal", normal), ("rigorous", rigorous))
    chosen = [m for m, on in flags if on]
    if len(chosen) > 1:
        raise GctuneError("choose one of --quick, --fast, --normal, --rigorous")
    return chosen[0] if chosen else fallback


def _grid(grid: str, settings: list[str]) -> tuple[list[str], str]:
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


def _check_workloads(workloads: list[str], size: Optional[int]) -> list[str]:
    # fail now, in one line, not in every point; files become absolute paths
    chosen = list(dict.fromkeys(workloads or builtin_names()))  # each once, in order
    # each once as resolved too: tiny.py:make and ./tiny.py:make are one workload
    resolved = list(dict.fromkeys(resolve_specs(chosen, python=sys.executable, size=size)))
    workload_ids(resolved)  # two workloads with one id would overwrite each other's points
    return resolved


def _targets(
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
        return tuple(_check_workloads([*args, *workload_opts], size)), None
    if workload_opts:
        raise GctuneError("--workload and --command exclude each other")
    if size is not None:
        raise GctuneError("--size applies to workloads, not to --command")
    argv = tuple(args)
    check_command(argv, os.getcwd())
    return (workload_id(name) if name else command_id(argv),), argv


def _new_dirs(path: Path) -> list[Path]:
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


def _sweep(spec: Optional[SweepSpec], out: Path, resume: bool) -> list[Point]:
    label = f"sweep → {out}"
    fresh = _new_dirs(out)
    try:
        try:
            with progress_bar(label) as update:
                points = run_sweep(spec, out, resume=resume, progress=update)
        except BaseException:
            # refused or stopped before anything was saved: leave no directory behind
            if fresh and remove_unstarted(out):
                for folder in fresh[1:]:
                    with contextlib.suppress(OSError):
                        folder.rmdir()
            raise
    except KeyboardInterrupt:
        try:
            started = (out / "manifest.json").exists()
        except OSError:
            started = False
        if started:
            message = (
                f"gctune: interrupted; finished points are kept in {out}. "
                f"Resume with: {resume_command(out)}"
            )
        else:
            message = "gctune: interrupted before the sweep started; nothing was saved"
        typer.echo(message, err=True)
        raise typer.Exit(130) from None
    return points


RESULTS = Path("results")

# Options that `run` and `sweep` share, defined once.
_WORKLOAD_OPT = typer.Option(
    None, "--workload", "-w", metavar="WORKLOAD", help="A workload, as the arguments."
)
_COMMAND = typer.Option(
    False,
    "--command",
    help="Measure an unchanged program: gctune run|sweep --command -- python app.py ARGS.",
)
_NAME = typer.Option(
    None,
    metavar="NAME",
    help="Name of the --command program in results (default: its script's name).",
)
_QUICK = typer.Option(
    False, "--quick", help="3 rounds, spans of up to 1 s (the quick grid's default)."
)
_FAST = typer.Option(False, "--fast", help="3 rounds, spans of up to 0.8 s.")
_NORMAL = typer.Option(False, "--normal", help="3 to 8 rounds with racing, spans of up to 3 s.")
_RIGOROUS = typer.Option(False, "--rigorous", help="5 to 15 rounds, spans of up to 6 s.")
# a size is stored as a 64-bit count (gctune.store.fields): refuse a larger one before
# anything is measured, not after, when the sweep could no longer be read
_SIZE = typer.Option(
    None,
    min=1,
    max=INT64_MAX,
    metavar="N",
    help="Workload size (default: each workload's own).",
)
_TIMEOUT = typer.Option(
    DEFAULT_TIMEOUT, min=1, metavar="SECONDS", help="Time allowed per worker process."
)
_MAX_MEMORY = typer.Option(
    "4G", metavar="SIZE", help="Memory cap per worker process (resident), e.g. 2G."
)
_PROCESSES = typer.Option(None, min=1, metavar="N", help="--command only: pyperf worker processes.")
_VALUES = typer.Option(None, min=1, metavar="N", help="--command only: pyperf values per process.")
_MIN_TIME = typer.Option(
    None, min=0.0001, metavar="SECONDS", help="--command only: pyperf time per value."
)
_ROUNDS = typer.Option(
    None,
    min=1,
    metavar="N",
    help="Most rounds (one span of every racing setting each; default: the mode's).",
)
_MIN_ROUNDS = typer.Option(
    None, min=1, metavar="N", help="Rounds before racing may stop a setting."
)
_MAX_POINT_TIME = typer.Option(
    None,
    "--max-point-time",
    min=0.001,
    metavar="SECONDS",
    help="Seconds one span of a point may measure (default: the mode's: quick 1, fast 0.8, "
    "normal 3, rigorous 6).",
)
_MIN_GAIN = typer.Option(
    2.0,
    min=0.0,
    metavar="PERCENT",
    help="Smallest gain of interest, percent: racing stops settings slower than "
    "the leader by more.",
)
_NO_RACING = typer.Option(
    False, "--no-racing", help="Measure every setting in every round (no decision rounds)."
)
_DECIDE_ROUNDS = typer.Option(
    None,
    min=0,
    metavar="N",
    help="Most extra rounds of default and a candidate whose interval straddles the "
    "min-gain line (default: the mode's: quick 3, normal and rigorous 4, fast 0; 0 turns "
    "them off).",
)
_PYTHON = typer.Option(
    None,
    "--python",
    metavar="PATH",
    help="Interpreter to measure (path or name on PATH; default: the one running gctune). "
    "It needs nothing installed: gctune and pyperf are lent to it.",
)


_PYTHONS = typer.Option(
    None,
    "--python",
    help="Interpreter to measure (path or name on PATH; default: the one running gctune); "
    "repeat it to measure several side by side in the same rounds. It needs nothing "
    "installed: gctune and pyperf are lent to it.",
)


_MACHINE = typer.Option(
    None,
    "--machine",
    metavar="NAME",
    help=f"Name of this machine in the results (default: ${MACHINE_ENV}, else the host "
    "name); history and compare compare times only within one machine.",
)
_ALLOW_DIFFERENT_MACHINE = typer.Option(
    False,
    "--allow-different-machine",
    help="Compare times of result sets measured on different machines (name, CPU model "
    "or CPU count differ).",
)


def _interpreter_path(python: Optional[str]) -> str:
    if python is None:
        return sys.executable
    found = shutil.which(python)
    if found is None:
        raise GctuneError(f"interpreter {python!r} not found")
    return os.path.abspath(found)


def _make_spec(
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
    cap = _memory_cap(max_memory)  # the quick checks first; workloads are imported
    interpreter = _interpreter_path(python)
    if python is not None:
        check_interpreter(interpreter)  # before anything is created for the sweep
    chosen, argv = _targets(workloads, workload_opt, command=command, name=name, size=size)
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


def _memory_cap(text: str) -> int:
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


@app.command()
@user_errors
def sweep(
    ctx: typer.Context,
    workloads: list[str] = typer.Argument(
        None,
        metavar="[WORKLOAD]...",
        help="Workloads: built-in names, modules, .py files, or MODULE:FUNCTION / "
        "FILE.py:FUNCTION (default: all built-in). With --command: the program and "
        "its arguments, after --.",
    ),
    workload_opt: list[str] = _WORKLOAD_OPT,
    command: bool = _COMMAND,
    name: Optional[str] = _NAME,
    grid: str = typer.Option("quick", metavar="GRID", help="quick, full, or a .toml sweep file."),
    setting: list[str] = typer.Option(
        None,
        "--setting",
        "-s",
        metavar="SETTING",
        help="A setting (repeatable), e.g. 50000,20,100+freeze.",
    ),
    out: Optional[Path] = typer.Option(
        None, metavar="DIR", help="Sweep directory (default: results/<id>)."
    ),
    resume: bool = typer.Option(
        False, "--resume", help="Finish the sweep in --out (or the latest one)."
    ),
    quick: bool = _QUICK,
    fast: bool = _FAST,
    normal: bool = _NORMAL,
    rigorous: bool = _RIGOROUS,
    size: Optional[int] = _SIZE,
    timeout: float = _TIMEOUT,
    max_memory: str = _MAX_MEMORY,
    rounds: Optional[int] = _ROUNDS,
    min_rounds: Optional[int] = _MIN_ROUNDS,
    max_point_time: Optional[float] = _MAX_POINT_TIME,
    min_gain: float = _MIN_GAIN,
    no_racing: bool = _NO_RACING,
    decide_rounds: Optional[int] = _DECIDE_ROUNDS,
    processes: Optional[int] = _PROCESSES,
    values: Optional[int] = _VALUES,
    min_time: Optional[float] = _MIN_TIME,
    python: Optional[list[str]] = _PYTHONS,
    machine: Optional[str] = _MACHINE,
    interleave: bool = typer.Option(
        False,
        "--interleave",
        help="Measure all workloads in shared rounds (a base and a changed workload "
        "side by side, for `gctune gate`).",
    ),
) -> None:
    """Measure every workload under every GC setting in interleaved rounds of fresh
    worker processes, each span holding whole collector cycles.

    With no arguments: all built-in workloads on the quick grid, in quick mode (3
    rounds); other grids default to normal mode (3 to 8 rounds with racing).
    """
    if resume:
        _refuse_changes_on_resume(ctx)
        target = out if out is not None else _latest(RESULTS)
        points = _sweep(None, target, resume=True)
        _finish(points, target)
        return
    setting_ids, grid_mode = _grid(grid, setting or [])
    spec = _make_spec(
        workloads=workloads or [],
        workload_opt=workload_opt or [],
        command=command,
        name=name,
        settings=tuple(setting_ids),
        size=size,
        mode=_mode(quick, fast, normal, rigorous, grid_mode),
        processes=processes,
        values=values,
        min_time=min_time,
        timeout=timeout,
        max_memory=max_memory,
        python=python[0] if python else None,
        rounds=rounds,
        min_rounds=min_rounds,
        max_point_time=max_point_time,
        min_gain=min_gain,
        racing=not no_racing,
        decide_rounds=decide_rounds,
    )
    if python and len(python) > 1:
        if spec.command:
            raise GctuneError("several --python apply to workloads, not to --command")
        spec = replace(spec, pythons=tuple(_interpreter_path(p) for p in python))
    spec = replace(spec, interleave=interleave)
    target = out if out is not None else new_sweep_dir(RESULTS)
    n = len(spec.workloads) * len(spec.settings) * max(1, len(spec.pythons))
    if spec.command:
        how = f"pyperf {spec.mode} mode"
    else:
        config = spec.rounds_config(seed="")
        count = (
            f"{config.max_rounds}"
            if config.min_rounds == config.max_rounds
            else f"{config.min_rounds}-{config.max_rounds}"
        )
        how = f"{count} rounds, spans of up to {config.span_budget_s:g} s"
        if config.racing and config.decide_rounds:
            how += f", up to {config.decide_rounds} decision rounds"
    err_console.print(
        f"gctune: {len(spec.workloads)} workload(s) x {len(spec.settings)} setting(s) = "
        f"{n} points, {spec.mode} mode ({how}), into {target}",
        highlight=False,
    )
    with named_machine(machine):
        points = _sweep(spec, target, resume=False)
    _finish(points, target)


def _refuse_changes_on_resume(ctx: typer.Context) -> None:
    """``--resume`` measures what the stored sweep says; refuse arguments that would
    change it, rather than ignore them silently."""
    given = []
    for param in ctx.command.params:
        if param.name in ("resume", "out") or param.name is None:
            continue
        source = ctx.get_parameter_source(param.name)
        if source is not None and source.name != "DEFAULT":
            given.append(
                max(param.opts, key=len) if param.opts[0].startswith("-") else "workload arguments"
            )
    if given:
        raise GctuneError(
            f"--resume measures the rest of the sweep with the arguments it was started with "
            f"and takes only --out, not {', '.join(given)}; to measure with other arguments, "
            "start a new sweep with another --out"
        )


def _latest(results: Path) -> Path:
    from gctune.sweep.runner import latest_sweep

    return latest_sweep(results)


def _finish(points: list[Point], target: Path) -> None:
    """Summary and report of a finished sweep; exit status 3 when a point failed."""
    summary_tables(points)
    failed = [p for p in points if not p.ok]
    console.print(
        f"Results: {target}  ({len(points) - len(failed)} finished, {len(failed)} failed)"
    )
    finished = [p for p in points if p.ok]
    if finished:
        # plain echo, not wrapped: a command to copy (every point file reads the same way)
        typer.echo(f"Timing data for pyperf: {pyperf_show_command(finished[0].path)}")
        _write_sweep_report(target)
    if failed:
        typer.echo(
            f"gctune: {len(failed)} of {len(points)} point(s) failed (reasons above); "
            f"exit status {FAILED_POINTS}",
            err=True,
        )
        raise typer.Exit(FAILED_POINTS)


def _write_sweep_report(target: Path) -> None:
    from gctune.analysis.frame import load  # pandas and matplotlib load only when needed
    from gctune.present.report import ReportError, write_report

    err_console.print("gctune: writing the report…", highlight=False)
    rebuild = report_command(target)
    try:
        data = load(target)
        warn_damaged(data.damaged)
        paths = write_report(data)
    except ReportError as exc:
        raise GctuneError(
            f"{exc}; the points are kept in {target}: rebuild with {rebuild}"
        ) from None
    except KeyboardInterrupt:
        typer.echo(
            f"gctune: interrupted while writing the report; the points are kept in {target}. "
            f"Write the report with: {rebuild}",
            err=True,
        )
        raise typer.Exit(130) from None
    # Plain echo: paths must not be wrapped, so that they can be copied.
    for path in paths:
        typer.echo(f"Report: {path}")
    typer.echo(f"Recommendations: {recommend_command(target)}")


def _sweep_dir(directory: Optional[Path]) -> Path:
    return directory if directory is not None else _latest(RESULTS)


def _check_objective(objective: str) -> str:
    if objective not in OBJECTIVES:
        raise GctuneError(f"unknown objective {objective!r}: use {', '.join(OBJECTIVES)}")
    return objective


@app.command()
@user_errors
def report(
    directory: Optional[Path] = typer.Argument(
        None, metavar="[DIR]", help="Sweep directory (default: the latest under results/)."
    ),
    out: Optional[Path] = typer.Option(
        None, metavar="DIR", help="Report directory (default: DIR/report)."
    ),
    fmt: list[str] = typer.Option(
        ["md", "html"],
        "--format",
        metavar="FORMAT",
        help="md or html (repeatable; default: both).",
        show_default=False,
    ),
    objective: str = typer.Option(
        "throughput",
        metavar="OBJECTIVE",
        help="What recommendations optimise: throughput, latency, balanced.",
    ),
    max_memory_ratio: float = typer.Option(
        DEFAULT_MAX_MEMORY_RATIO,
        min=0.01,
        metavar="RATIO",
        help="Memory budget: peak RSS / default's.",
    ),
) -> None:
    """Write the Markdown and/or self-contained HTML report of a sweep, with charts."""
    from gctune.analysis.frame import load
    from gctune.present.report import FORMATS, ReportError, write_report

    for name in fmt:
        if name not in FORMATS:
            raise GctuneError(f"unknown report format {name!r}: use md or html")

    data = load(_sweep_dir(directory))
    warn_damaged(data.damaged)
    try:
        paths = write_report(
            data,
            out_dir=out,
            formats=fmt,
            objective=_check_objective(objective),
            max_memory_ratio=max_memory_ratio,
        )
    except ReportError as exc:
        raise GctuneError(str(exc)) from None
    for path in paths:
        typer.echo(f"Report: {path}")


@app.command()
@user_errors
def recommend(
    directory: Optional[Path] = typer.Argument(
        None, metavar="[DIR]", help="Sweep directory (default: the latest under results/)."
    ),
    workload: Optional[list[str]] = typer.Option(
        None, "--workload", "-w", metavar="WORKLOAD", help="Only this workload (repeatable)."
    ),
    max_memory_ratio: float = typer.Option(
        DEFAULT_MAX_MEMORY_RATIO,
        min=0.01,
        metavar="RATIO",
        help="Memory budget: peak RSS / default's.",
    ),
    objective: str = typer.Option(
        "throughput",
        metavar="OBJECTIVE",
        help="throughput (time), latency (longest pause) or balanced (both).",
    ),
    min_gain: float = typer.Option(
        2.0, min=0.0, help="Smallest gain worth a change, percent of default's (whole interval)."
    ),
    recycle: bool = typer.Option(
        False,
        "--recycle",
        help="Admit settings whose memory grows, with a worker-recycling interval.",
    ),
    verify_it: bool = typer.Option(
        False, "--verify", help="Check each recommended change with `gctune verify` first."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print JSON (schema in the README)."),
) -> None:
    """Recommend a GC setting per workload, with expected gains and code to apply it."""
    from gctune.analysis.frame import load
    from gctune.analysis.recommend import recommend as choose
    from gctune.analysis.recycle import recycle_snippets
    from gctune.present.advice import ADVICE_SCHEMA, describe, recommendation_json, snippet

    objective = _check_objective(objective)
    data = load(_sweep_dir(directory))
    warn_damaged(data.damaged)
    chosen = workload or data.workloads
    for name in chosen:
        if name not in data.stats:
            raise GctuneError(
                f"workload {name!r} is not in {data.directory}: "
                f"it has {', '.join(data.workloads) or 'no points'}"
            )
    made: list[dict[str, Any]] = []
    unmade: list[dict[str, str]] = []  # workloads without a recommendation, and why
    for name in chosen:
        try:
            rec = choose(
                data.stats[name],
                data.points_of(name),
                objective=objective,
                max_memory_ratio=max_memory_ratio,
                min_gain=min_gain / 100,
                recycle=recycle,
                per=data.unit,
            )
        except RecommendError as exc:  # one workload's data; the others may still do
            if not json_output:
                typer.echo(f"{name}: no recommendation: {exc}\n")
            unmade.append({"workload": name, "reason": str(exc)})
            continue
        item = recommendation_json(rec, at_startup=data.applied_at_startup)
        if verify_it and not rec.is_default:
            item["verify"] = _verify_recommended(data, name, rec, max_memory_ratio, json_output)
        made.append(item)
        if json_output:
            continue
        typer.echo("\n".join(describe(rec, target=workload_args(data.manifest.spec, name))))
        typer.echo("")
        typer.echo(snippet(rec.setting, at_startup=data.applied_at_startup))
        if rec.recycle is not None:
            typer.echo("")
            typer.echo(recycle_snippets(rec.recycle.every_steps))
        typer.echo("")
    if json_output:
        doc = {"schema": ADVICE_SCHEMA, "kind": "recommendations", "sweep": str(data.directory)}
        typer.echo(json.dumps({**doc, "workloads": made, "no_recommendation": unmade}, indent=1))
    if not made:
        raise typer.Exit(1)


def _verify_recommended(
    data: Any, workload: str, rec: Any, max_memory_ratio: float, quiet: bool
) -> dict[str, Any]:
    """Run ``gctune verify`` on a recommendation: the workload spec from the sweep."""
    spec = data.manifest.spec
    target = workload_args(spec, workload)
    if target is None:
        return {"verdict": "not run", "why": "verify runs workloads, not --command programs"}
    recycle_steps = rec.recycle.every_steps if rec.recycle is not None else None
    result = _run_verify(
        target.argv[0],
        rec.setting,
        size=spec.get("size"),
        python=spec.get("python"),
        recycle_steps=recycle_steps,
        max_memory_ratio=max_memory_ratio,
        rounds=None,
        max_point_time=None,
        out=None,
    )
    if not quiet:
        typer.echo("\n".join(result.lines()))
    verified: dict[str, Any] = result.to_json()
    return verified


@app.command()
@user_errors
def run(
    workload: list[str] = typer.Argument(
        None,
        metavar="[WORKLOAD]",
        help="A built-in name, module, .py file, or MODULE:FUNCTION / FILE.py:FUNCTION. "
        "With --command: the program and its arguments, after --.",
    ),
    workload_opt: list[str] = _WORKLOAD_OPT,
    command: bool = _COMMAND,
    name: Optional[str] = _NAME,
    setting: str = typer.Option(
        "default", "--setting", "-s", metavar="SETTING", help="The GC setting."
    ),
    out: Optional[Path] = typer.Option(
        None,
        metavar="DIR",
        help="Keep the point in this directory (a sweep directory, which gctune report "
        "reads). Without it, run saves nothing.",
    ),
    quick: bool = _QUICK,
    fast: bool = _FAST,
    normal: bool = _NORMAL,
    rigorous: bool = _RIGOROUS,
    size: Optional[int] = _SIZE,
    timeout: float = _TIMEOUT,
    max_memory: str = _MAX_MEMORY,
    rounds: Optional[int] = _ROUNDS,
    max_point_time: Optional[float] = _MAX_POINT_TIME,
    processes: Optional[int] = _PROCESSES,
    values: Optional[int] = _VALUES,
    min_time: Optional[float] = _MIN_TIME,
    python: Optional[str] = _PYTHON,
    json_output: bool = typer.Option(False, "--json", help="Print JSON (schema in the README)."),
) -> None:
    """Measure one workload, or one program (--command), under one GC setting.

    Prints the point's numbers; it is saved only with --out DIR. pyperf's normal mode
    (20 worker processes x 3 values) unless --quick, --fast or --rigorous.
    """
    (chosen,) = parse_settings([setting])
    given = [*(workload or []), *(workload_opt or [])]
    if not command and len(given) != 1:
        raise GctuneError("run measures one workload (give one, or use sweep for several)")
    spec = _make_spec(
        workloads=workload or [],
        workload_opt=workload_opt or [],
        command=command,
        name=name,
        settings=(chosen.id,),
        size=size,
        mode=_mode(quick, fast, normal, rigorous, "normal"),
        processes=processes,
        values=values,
        min_time=min_time,
        timeout=timeout,
        max_memory=max_memory,
        python=python,
        rounds=rounds,
        max_point_time=max_point_time,
    )
    if out is not None:
        point = _sweep(spec, out, resume=False)[0]
    else:
        # nothing is written where the user happens to be: the point lives in a
        # temporary directory for as long as it takes to print it
        with tempfile.TemporaryDirectory(prefix="gctune-run-") as tmp:
            point = _sweep(spec, Path(tmp) / "run", resume=False)[0]
    if json_output:
        from gctune.present.advice import ADVICE_SCHEMA, point_json

        doc = {"schema": ADVICE_SCHEMA, "kind": "point", **point_json(point)}
        doc["path"] = str(point.path) if out is not None else None
        typer.echo(json.dumps(doc, indent=1))
    else:
        point_table(point, per="run of the program" if spec.command else "step")
        if out is not None:
            typer.echo(f"Saved: {point.path}")
        else:
            typer.echo("Not saved: add --out DIR to keep the point (a pyperf-readable file).")
    if not point.ok:
        raise typer.Exit(1)


def _run_verify(
    workload: str,
    setting: str,
    *,
    size: Optional[int],
    python: Optional[str],
    recycle_steps: Optional[int],
    max_memory_ratio: float,
    rounds: Optional[int],
    max_point_time: Optional[float],
    out: Optional[Path],
) -> Any:
    from gctune.analysis.verify import VERIFY_ROUNDS, VERIFY_SPAN_S, verdict

    (chosen,) = parse_settings([setting])
    if chosen.id == "default":
        raise GctuneError("verify compares a setting with default: give another --setting")
    spec = _make_spec(
        workloads=[workload],
        workload_opt=[],
        command=False,
        name=None,
        settings=("default", chosen.id),
        size=size,
        mode="normal",
        processes=None,
        values=None,
        min_time=None,
        timeout=DEFAULT_TIMEOUT,
        max_memory="4G",
        python=python,
        rounds=rounds or VERIFY_ROUNDS,
        min_rounds=rounds or VERIFY_ROUNDS,
        max_point_time=max_point_time or VERIFY_SPAN_S,
        racing=False,
    )
    spec = replace(spec, recycle_steps=recycle_steps)
    target = out if out is not None else new_sweep_dir(RESULTS, prefix="verify-")
    err_console.print(
        f"gctune: verifying {chosen.id} against default: {spec.rounds} interleaved rounds, "
        f"spans of up to {spec.max_point_time:g} s"
        + (f", recycled every {recycle_steps:,} steps" if recycle_steps else "")
        + f", into {target}",
        highlight=False,
    )
    points = _sweep(spec, target, resume=False)
    return verdict(
        points, chosen.id, max_memory_ratio=max_memory_ratio, recycle_steps=recycle_steps
    )


@app.command()
@user_errors
def verify(
    workload: str = typer.Argument(
        ..., help="A built-in name, module, .py file, or MODULE:FUNCTION / FILE.py:FUNCTION."
    ),
    setting: str = typer.Option(..., "--setting", "-s", help="The setting to check."),
    recycle: Optional[int] = typer.Option(
        None, "--recycle", min=1, help="Recycle the worker every N steps (as recommended)."
    ),
    rounds: Optional[int] = typer.Option(None, min=2, help="Rounds (default 6)."),
    max_point_time: Optional[float] = typer.Option(
        None, "--max-point-time", min=0.001, help="Seconds a span may measure (default 3)."
    ),
    max_memory_ratio: float = typer.Option(
        DEFAULT_MAX_MEMORY_RATIO, min=0.01, help="Memory budget: peak RSS / default's."
    ),
    size: Optional[int] = _SIZE,
    python: Optional[str] = _PYTHON,
    out: Optional[Path] = typer.Option(None, help="Directory (default: results/verify-<id>)."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON (schema in the README)."),
) -> None:
    """Check one setting against default in a long interleaved run: confirmed, not
    confirmed, or unsafe (memory grows). Exit 0 only when confirmed."""
    from gctune.present.advice import ADVICE_SCHEMA

    result = _run_verify(
        workload,
        setting,
        size=size,
        python=python,
        recycle_steps=recycle,
        max_memory_ratio=max_memory_ratio,
        rounds=rounds,
        max_point_time=max_point_time,
        out=out,
    )
    if json_output:
        doc = {"schema": ADVICE_SCHEMA, "kind": "verification", **result.to_json()}
        typer.echo(json.dumps(doc, indent=1))
    else:
        typer.echo("\n".join(result.lines()))
    raise typer.Exit(result.exit_code)


@app.command()
@user_errors
def compare(
    base: Path = typer.Argument(
        ..., metavar="BASE", help="Baseline result directory, e.g. results/baseline."
    ),
    new: Path = typer.Argument(
        ..., metavar="NEW", help="Result directory to check against the baseline."
    ),
    fail_on: list[str] = typer.Option(
        None,
        "--fail-on",
        metavar="METRIC:PERCENT",
        help=f"Gate METRIC:PERCENT, repeatable, e.g. time:5% or collections:0%. "
        f"Metrics: {', '.join(GATES)}.",
    ),
    allow_different_python: bool = typer.Option(
        False,
        "--allow-different-python",
        help="Compare results measured on different Python versions or GC kinds.",
    ),
    allow_missing: bool = typer.Option(
        False,
        "--allow-missing",
        help="Pass the gate when points of BASE are missing or failed in NEW.",
    ),
    allow_different_machine: bool = _ALLOW_DIFFERENT_MACHINE,
    json_output: bool = typer.Option(
        False, "--json", help="Print a machine-readable result on stdout instead of tables."
    ),
    all_metrics: bool = typer.Option(
        False, "--all-metrics", help="Show every metric, not only the gated ones."
    ),
) -> None:
    """Compare two result sets point by point; exit 1 on a regression beyond a gate, or
    when a point of BASE is missing or failed in NEW (unless --allow-missing).

    A regression of time, p99 or rss needs its whole 95% interval beyond the threshold;
    collections and collected are compared per step, exactly when the steps per run match.
    """
    from gctune.present.ci_tables import print_comparison, wide

    thresholds = [parse_threshold(t) for t in fail_on or []]
    result = compare_sweeps(
        base,
        new,
        thresholds=thresholds,
        allow_different_python=allow_different_python,
        allow_missing=allow_missing,
        allow_different_machine=allow_different_machine,
    )
    warn_damaged(result.damaged)
    if json_output:
        typer.echo(json.dumps(result.to_json(), indent=1))
    else:
        print_comparison(wide(console), result, all_metrics=all_metrics)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


@app.command()
@user_errors
def gate(
    directory: Path = typer.Argument(..., help="A sweep measured with --interleave or --python."),
    base: str = typer.Argument(..., help="Workload id of the base, as in the sweep."),
    new: str = typer.Argument(..., help="Workload id of the change."),
    fail_on: list[str] = typer.Option(
        None, "--fail-on", help="Gate METRIC:PERCENT, repeatable: time, cpu or collections."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print JSON instead of lines."),
) -> None:
    """Compare two workloads (or interpreters) of one interleaved sweep within its rounds;
    exit 1 on a regression beyond a gate, 3 when a side's point failed (not compared)."""
    from gctune.analysis.gate import gate as run_gate

    rows = run_gate(directory, base, new, [parse_threshold(t) for t in fail_on or []])
    regressed = [r for r in rows if r.regression]
    failed = [r for r in rows if r.failed]
    if json_output:
        doc: dict[str, Any] = {"base": base, "new": new, "rows": [r.to_json() for r in rows]}
        doc.update(regressions=len(regressed), failed=len(failed))
        typer.echo(json.dumps(doc, indent=1))
    else:
        typer.echo(f"{new} vs {base}, round-paired in seconds within {directory}:")
        for row in rows:
            typer.echo("  " + row.line())
        typer.echo(f"{len(regressed)} regression(s)")
    if failed:
        typer.echo(
            f"gctune: {len(failed)} setting(s) not compared: a side's point failed "
            f"(reasons above); exit status {FAILED_POINTS}",
            err=True,
        )
    if regressed:
        raise typer.Exit(1)
    if failed:
        raise typer.Exit(FAILED_POINTS)


@app.command()
@user_errors
def history(
    dirs: list[Path] = typer.Argument(
        ...,
        metavar="DIR...",
        help="Result directories, one per commit, in any order (dated by their manifests).",
    ),
    out: Path = typer.Option(
        Path("gctune-history.png"), metavar="PNG", help="Where to write the PNG chart."
    ),
    min_effect: float = typer.Option(
        5.0, min=0.0, metavar="PERCENT", help="Smallest change, in percent, that counts as a step."
    ),
    allow_different_machine: bool = _ALLOW_DIFFERENT_MACHINE,
) -> None:
    """Chart mean time and GC pause p99 over commits; flag steps beyond their noise."""
    from gctune.analysis.history import HistoryError, load_history, nothing_to_compare, plot_history
    from gctune.present.ci_tables import print_history, wide

    result = load_history(dirs, min_effect=min_effect / 100, any_machine=allow_different_machine)
    warn_damaged(result.damaged)
    print_history(wide(console), result)
    if nothing_to_compare(result) is not None:
        # a chart of nothing would replace the last useful one
        console.print(f"No chart written ({out} is left as it was)", highlight=False)
        return
    try:
        chart = plot_history(result, out)
    except HistoryError as exc:
        raise GctuneError(str(exc)) from None
    console.print(f"Chart: {chart}")


def main(argv: Optional[list[str]] = None) -> int:
    """Run the CLI; returns the exit status."""
    try:
        app(args=argv, prog_name="gctune")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
