"""Commands that measure: ``list`` (the built-in workloads), ``sweep`` (every workload
under every setting, in rounds) and ``run`` (one workload or program under one setting)."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from gctune.cli import count_commands, tier_commands
from gctune.cli.app import app
from gctune.cli.errors import (
    FAILED_POINTS,
    GctuneError,
    user_errors,
    warn_damaged,
)
from gctune.cli.options import (
    COMMAND,
    DECIDE_ROUNDS,
    FAST,
    MACHINE,
    MAX_MEMORY,
    MAX_POINT_TIME,
    MIN_GAIN,
    MIN_ROUNDS,
    MIN_TIME,
    NAME,
    NO_RACING,
    NORMAL,
    PROCESSES,
    PYTHON,
    PYTHONS,
    QUICK,
    RESULTS,
    RIGOROUS,
    ROUNDS,
    SIZE,
    TIMEOUT,
    VALUES,
    WORKLOAD_OPT,
)
from gctune.cli.spec import (
    interpreter_path,
    latest_dir,
    make_spec,
    measure_sweep,
    pick_mode,
    refuse_changes_on_resume,
    settings_grid,
    sweep_dir_or_latest,
)
from gctune.measure.catalog import (
    builtin_names,
    load_workload,
)
from gctune.measure.settings import (
    parse_settings,
)
from gctune.present.next_steps import (
    pyperf_show_command,
    recommend_command,
    report_command,
)
from gctune.present.sweep_tables import (
    console,
    err_console,
    point_table,
    print_wrapped,
    summary_tables,
)
from gctune.store.machine import named_machine
from gctune.store.results import Point
from gctune.sweep.sweep_dir import new_sweep_dir


@user_errors
def list_cmd(
    json_output: bool = typer.Option(False, "--json", help="Print JSON (schema: docs/reports.md)."),
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
    workload_opt: list[str] = WORKLOAD_OPT,
    command: bool = COMMAND,
    name: Optional[str] = NAME,
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
    quick: bool = QUICK,
    fast: bool = FAST,
    normal: bool = NORMAL,
    rigorous: bool = RIGOROUS,
    size: Optional[int] = SIZE,
    timeout: float = TIMEOUT,
    max_memory: str = MAX_MEMORY,
    rounds: Optional[int] = ROUNDS,
    min_rounds: Optional[int] = MIN_ROUNDS,
    max_point_time: Optional[float] = MAX_POINT_TIME,
    min_gain: float = MIN_GAIN,
    no_racing: bool = NO_RACING,
    decide_rounds: Optional[int] = DECIDE_ROUNDS,
    processes: Optional[int] = PROCESSES,
    values: Optional[int] = VALUES,
    min_time: Optional[float] = MIN_TIME,
    python: Optional[list[str]] = PYTHONS,
    machine: Optional[str] = MACHINE,
    interleave: bool = typer.Option(
        False,
        "--interleave",
        help="Measure all workloads in shared rounds (a base and a changed workload "
        "side by side, for `gctune gate`).",
    ),
    measure: str = count_commands.MEASURE,
    jobs: Optional[int] = count_commands.JOBS,
    shard: Optional[str] = count_commands.SHARD,
    confirm: bool = tier_commands.CONFIRM,
) -> None:
    """Measure every workload under every GC setting in interleaved rounds of fresh
    worker processes, each span holding whole collector cycles.

    With no arguments: all built-in workloads on the quick grid, in quick mode (3
    rounds); other grids default to normal mode (3 to 8 rounds with racing).
    """
    if count_commands.counts_chosen(measure) or (resume and count_commands.in_counts(out)):
        count_commands.sweep_counts(
            ctx, workloads=[*(workloads or []), *(workload_opt or [])], grid=grid,
            settings=setting or [], out=out, resume=resume, size=size, timeout=timeout,
            python=python, jobs=jobs, machine=machine, shard=shard, confirm=confirm, rounds=rounds,
            max_point_time=max_point_time,
        )  # fmt: skip
        return
    tier_commands.refuse_confirm_without_counts(confirm)
    if jobs is not None:
        raise GctuneError("--jobs applies to --measure counts (time is measured one at a time)")
    if shard is not None:
        raise GctuneError("--shard applies to --measure counts (time is compared within rounds)")
    if resume:
        refuse_changes_on_resume(ctx)
        target = out if out is not None else latest_dir(RESULTS)
        points = measure_sweep(None, target, resume=True)
        _finish(points, target)
        return
    setting_ids, grid_mode = settings_grid(grid, setting or [])
    spec = make_spec(
        workloads=workloads or [],
        workload_opt=workload_opt or [],
        command=command,
        name=name,
        settings=tuple(setting_ids),
        size=size,
        mode=pick_mode(quick, fast, normal, rigorous, grid_mode),
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
        spec = replace(spec, pythons=tuple(interpreter_path(p) for p in python))
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
    print_wrapped(
        [
            f"gctune: {len(spec.workloads)} workload(s) x {len(spec.settings)} setting(s) "
            f"= {n} points, {spec.mode} mode ({how}), into {target}"
        ],
        on=err_console,
    )
    with named_machine(machine):
        points = measure_sweep(spec, target, resume=False)
    _finish(points, target)


@app.command()
@user_errors
def summary(
    directory: Optional[Path] = typer.Argument(
        None, metavar="[DIR]", help="Sweep directory (default: the latest under results/)."
    ),
) -> None:
    """Print a sweep's summary again: the tables the sweep printed at its end.

    One table per workload, each setting against default, with the doubts that concern
    its numbers underneath; laid out for the terminal's width (COLUMNS when set)."""
    from gctune.store.results import load_sweep_partial

    if count_commands.in_counts(directory):
        return count_commands.summary_counts(directory)
    target = sweep_dir_or_latest(directory)
    _, points, damaged = load_sweep_partial(target)
    warn_damaged([str(exc) for exc in damaged])
    if not points:
        raise GctuneError(f"{target} holds no measured point yet")
    summary_tables(points)
    _results_line(points, target)


def _results_line(points: list[Point], target: Path) -> None:
    failed = sum(1 for p in points if not p.ok)
    # plain echo: a path to copy is never wrapped
    typer.echo(f"Results: {target}  ({len(points) - failed} finished, {failed} failed)")


def _finish(points: list[Point], target: Path) -> None:
    """Summary and report of a finished sweep; exit status 3 when a point failed."""
    summary_tables(points)
    failed = [p for p in points if not p.ok]
    _results_line(points, target)
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


@app.command()
@user_errors
def run(
    ctx: typer.Context,
    workload: list[str] = typer.Argument(
        None,
        metavar="[WORKLOAD]",
        help="A built-in name, module, .py file, or MODULE:FUNCTION / FILE.py:FUNCTION. "
        "With --command: the program and its arguments, after --.",
    ),
    workload_opt: list[str] = WORKLOAD_OPT,
    command: bool = COMMAND,
    name: Optional[str] = NAME,
    setting: str = typer.Option(
        "default", "--setting", "-s", metavar="SETTING", help="The GC setting."
    ),
    out: Optional[Path] = typer.Option(
        None,
        metavar="DIR",
        help="Keep the point in this directory (a sweep directory, which gctune report "
        "reads). Without it, run saves nothing.",
    ),
    quick: bool = QUICK,
    fast: bool = FAST,
    normal: bool = NORMAL,
    rigorous: bool = RIGOROUS,
    size: Optional[int] = SIZE,
    timeout: float = TIMEOUT,
    max_memory: str = MAX_MEMORY,
    rounds: Optional[int] = ROUNDS,
    max_point_time: Optional[float] = MAX_POINT_TIME,
    processes: Optional[int] = PROCESSES,
    values: Optional[int] = VALUES,
    min_time: Optional[float] = MIN_TIME,
    python: Optional[str] = PYTHON,
    json_output: bool = typer.Option(False, "--json", help="Print JSON (schema: docs/reports.md)."),
    measure: str = count_commands.MEASURE,
) -> None:
    """Measure one workload, or one program (--command), under one GC setting.

    Prints the point's numbers; it is saved only with --out DIR. pyperf's normal mode
    (20 worker processes x 3 values) unless --quick, --fast or --rigorous.
    """
    if count_commands.counts_chosen(measure):
        count_commands.run_counts_cmd(
            ctx, workload=[*(workload or []), *(workload_opt or [])], setting=setting, out=out,
            size=size, timeout=timeout, python=python, json_output=json_output,
        )  # fmt: skip
        return
    (chosen,) = parse_settings([setting])
    given = [*(workload or []), *(workload_opt or [])]
    if not command and len(given) != 1:
        raise GctuneError("run measures one workload (give one, or use sweep for several)")
    spec = make_spec(
        workloads=workload or [],
        workload_opt=workload_opt or [],
        command=command,
        name=name,
        settings=(chosen.id,),
        size=size,
        mode=pick_mode(quick, fast, normal, rigorous, "normal"),
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
        point = measure_sweep(spec, out, resume=False)[0]
    else:
        # nothing is written where the user happens to be: the point lives in a
        # temporary directory for as long as it takes to print it
        with tempfile.TemporaryDirectory(prefix="gctune-run-") as tmp:
            point = measure_sweep(spec, Path(tmp) / "run", resume=False)[0]
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
