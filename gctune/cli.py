"""The ``gctune`` command: thin typer commands that parse and call typed functions.

User mistakes end with one line on stderr and a non-zero exit, never a traceback:
every command runs inside :func:`_user_errors`, which maps gctune's error types to
``gctune: error: ...`` and exit status 2 (1 for a failed sweep or gate).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from gctune.analysis import PointStats, workload_stats
from gctune.catalog import WorkloadError, builtin_names, load_workload
from gctune.fmt import fmt_bytes, fmt_ns, fmt_ratio
from gctune.recommend import DEFAULT_MAX_MEMORY_RATIO, OBJECTIVES, RecommendError
from gctune.results import Point, ResultError
from gctune.runner import (
    DEFAULT_TIMEOUT,
    PointPlan,
    SweepError,
    SweepSpec,
    new_sweep_dir,
    parse_size,
    run_sweep,
)
from gctune.settings import (
    FULL_GRID,
    QUICK_GRID,
    SettingError,
    grid_from_toml,
    parse_settings,
    with_references,
)

__all__ = ["app", "main"]

app = typer.Typer(
    help="Measure and tune CPython's cyclic garbage collector for your workload.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])
USER_ERRORS = (SettingError, WorkloadError, SweepError, ResultError, RecommendError)


class GctuneError(Exception):
    """A user-facing error carrying its exit status."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _user_errors(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except GctuneError as exc:
            typer.echo(f"gctune: error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except USER_ERRORS as exc:
            typer.echo(f"gctune: error: {exc}", err=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


@app.command("list")
@_user_errors
def list_cmd() -> None:
    """List the built-in workloads and what each allocates."""
    table = Table(title="Built-in workloads")
    table.add_column("workload")
    table.add_column("default size", justify="right")
    table.add_column("allocation pattern")
    for name in builtin_names():
        wl = load_workload(name)
        table.add_row(name, f"{wl.default_size:,}", wl.description)
    console.print(table)


@contextmanager
def _progress_bar(label: str) -> Iterator[Callable[[int, int, PointPlan, Optional[Point]], None]]:
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )
    task = progress.add_task(label, total=None)

    def update(i: int, n: int, plan: PointPlan, point: Optional[Point]) -> None:
        if point is None:
            progress.update(
                task, total=n, completed=i - 1, description=f"{plan.workload_id} · {plan.setting}"
            )
            return
        progress.update(task, total=n, completed=i)
        if not point.ok:
            progress.console.print(
                f"[yellow]point failed[/]: {plan.workload_id} · {plan.setting}: {point.reason}",
                highlight=False,
            )

    with progress:
        yield update


SUMMARY_CAPTION = (
    "time: median per step; vs def: mean time / default's; GC %: pause total / wall time; "
    "GCs: collections; p99, max: pause; RSS: peak of the workers"
)


def _summary_tables(points: list[Point]) -> None:
    for workload, rows in workload_stats(points).items():
        table = Table(
            title=f"{workload}",
            title_justify="left",
            caption=SUMMARY_CAPTION,
            caption_justify="left",
        )
        table.add_column("setting", no_wrap=True)
        for col in ("time", "vs def", "GC %", "GCs", "p99", "max", "RSS", "RSS/def"):
            table.add_column(col, justify="right", no_wrap=True)
        for s in rows:
            table.add_row(*_summary_row(s))
        console.print(table)


def _summary_row(s: PointStats) -> list[str]:
    if not s.ok:
        return [s.setting, "[red]failed[/]", s.reason or "", "", "", "", "", "", ""]
    return [
        s.setting,
        fmt_ns(s.median_s * 1e9),
        fmt_ratio(s.time_ratio),
        f"{s.gc_share * 100:.1f}",
        f"{s.collections:,}",
        fmt_ns(s.pause_p99_ns if s.collections else None),
        fmt_ns(s.pause_max_ns if s.collections else None),
        fmt_bytes(s.peak_rss_bytes),
        fmt_ratio(s.rss_ratio),
    ]


def _mode(fast: bool, rigorous: bool, normal: bool, fallback: str) -> str:
    chosen = [m for m, on in (("fast", fast), ("rigorous", rigorous), ("normal", normal)) if on]
    if len(chosen) > 1:
        raise GctuneError("choose one of --fast, --normal, --rigorous")
    return chosen[0] if chosen else fallback


def _grid(grid: str, settings: list[str]) -> tuple[list[str], str]:
    """Setting ids of a sweep and the pyperf mode its grid implies by default."""
    if settings:
        chosen = parse_settings(settings)
        mode = "normal"
    elif grid == "quick":
        chosen, mode = parse_settings(list(QUICK_GRID)), "fast"
    elif grid == "full":
        chosen, mode = parse_settings(list(FULL_GRID)), "normal"
    elif grid.endswith(".toml"):
        chosen, mode = grid_from_toml(Path(grid)), "normal"
    else:
        raise GctuneError(f"unknown grid {grid!r}: use quick, full or a .toml sweep file")
    return [s.id for s in with_references(chosen)], mode


def _check_workloads(workloads: list[str]) -> list[str]:
    chosen = workloads or list(builtin_names())
    for spec in chosen:
        load_workload(spec)  # fail now, in one line, not in every point
    return chosen


def _sweep(spec: Optional[SweepSpec], out: Path, resume: bool) -> list[Point]:
    label = f"sweep → {out}"
    try:
        with _progress_bar(label) as update:
            points = run_sweep(spec, out, resume=resume, progress=update)
    except KeyboardInterrupt:
        err_console.print(
            f"gctune: interrupted; finished points are kept in {out}. "
            f"Resume with: gctune sweep --resume --out {out}",
            highlight=False,
        )
        raise typer.Exit(130) from None
    return points


RESULTS = Path("results")


@app.command()
@_user_errors
def sweep(
    workloads: list[str] = typer.Argument(
        None, help="Workloads: built-in names, module names or .py files (default: all built-in)."
    ),
    grid: str = typer.Option("quick", help="quick, full, or a .toml sweep file."),
    setting: list[str] = typer.Option(
        None, "--setting", "-s", help="A setting (repeatable), e.g. 50000,20,100+freeze."
    ),
    out: Optional[Path] = typer.Option(None, help="Sweep directory (default: results/<id>)."),
    resume: bool = typer.Option(False, help="Finish the sweep in --out (or the latest one)."),
    fast: bool = typer.Option(False, "--fast", help="pyperf --fast: fewer processes."),
    normal: bool = typer.Option(False, "--normal", help="pyperf's default process count."),
    rigorous: bool = typer.Option(False, "--rigorous", help="pyperf --rigorous: more processes."),
    size: Optional[int] = typer.Option(None, min=1, help="Workload size (default: each one's)."),
    timeout: float = typer.Option(DEFAULT_TIMEOUT, min=1, help="Seconds allowed per point."),
    max_memory: str = typer.Option("4G", help="Address-space cap per worker, e.g. 2G."),
    processes: Optional[int] = typer.Option(None, min=1, help="pyperf worker processes."),
    values: Optional[int] = typer.Option(None, min=1, help="pyperf values per process."),
    min_time: Optional[float] = typer.Option(None, min=0.0001, help="pyperf seconds per value."),
) -> None:
    """Measure every workload under every GC setting, each point in fresh processes.

    With no arguments: all built-in workloads on the quick grid, in pyperf's fast mode.
    """
    if resume:
        target = out if out is not None else _latest(RESULTS)
        points = _sweep(None, target, resume=True)
        _finish(points, target)
        return
    setting_ids, grid_mode = _grid(grid, setting or [])
    spec = SweepSpec(
        workloads=tuple(_check_workloads(workloads or [])),
        settings=tuple(setting_ids),
        size=size,
        mode=_mode(fast, rigorous, normal, grid_mode),
        processes=processes,
        values=values,
        min_time=min_time,
        timeout=timeout,
        max_memory=parse_size(max_memory),
    )
    target = out if out is not None else new_sweep_dir(RESULTS)
    n = len(spec.workloads) * len(spec.settings)
    err_console.print(
        f"gctune: {len(spec.workloads)} workload(s) x {len(spec.settings)} setting(s) = "
        f"{n} points, pyperf {spec.mode} mode, into {target}",
        highlight=False,
    )
    points = _sweep(spec, target, resume=False)
    _finish(points, target)


def _latest(results: Path) -> Path:
    from gctune.runner import latest_sweep

    return latest_sweep(results)


def _finish(points: list[Point], target: Path) -> None:
    _summary_tables(points)
    failed = [p for p in points if not p.ok]
    console.print(
        f"Results: {target}  ({len(points) - len(failed)} finished, {len(failed)} failed)"
    )
    console.print(f"Timing data for pyperf: python -m pyperf show {target}/points/<point>.json")
    if len(failed) == len(points):
        return
    from gctune.report import build_report  # pandas and matplotlib load only when needed

    err_console.print("gctune: writing the report…", highlight=False)
    # Plain echo: paths must not be wrapped, so that they can be copied.
    for path in build_report(target):
        typer.echo(f"Report: {path}")
    typer.echo(f"Recommendations: gctune recommend {target}")


def _sweep_dir(directory: Optional[Path]) -> Path:
    return directory if directory is not None else _latest(RESULTS)


def _check_objective(objective: str) -> str:
    if objective not in OBJECTIVES:
        raise GctuneError(f"unknown objective {objective!r}: use {', '.join(OBJECTIVES)}")
    return objective


@app.command()
@_user_errors
def report(
    directory: Optional[Path] = typer.Argument(
        None, help="Sweep directory (default: the latest under results/)."
    ),
    out: Optional[Path] = typer.Option(None, help="Report directory (default: DIR/report)."),
    fmt: list[str] = typer.Option(
        ["md", "html"], "--format", help="md or html (repeatable; default: both)."
    ),
    objective: str = typer.Option(
        "throughput", help="What recommendations optimise: throughput, latency, balanced."
    ),
    max_memory_ratio: float = typer.Option(
        DEFAULT_MAX_MEMORY_RATIO, min=0.01, help="Memory budget: peak RSS / default's."
    ),
) -> None:
    """Write the Markdown and/or self-contained HTML report of a sweep, with charts."""
    from gctune.report import FORMATS, build_report

    for name in fmt:
        if name not in FORMATS:
            raise GctuneError(f"unknown report format {name!r}: use md or html")

    paths = build_report(
        _sweep_dir(directory),
        out_dir=out,
        formats=fmt,
        objective=_check_objective(objective),
        max_memory_ratio=max_memory_ratio,
    )
    for path in paths:
        typer.echo(f"Report: {path}")


@app.command()
@_user_errors
def recommend(
    directory: Optional[Path] = typer.Argument(
        None, help="Sweep directory (default: the latest under results/)."
    ),
    workload: Optional[list[str]] = typer.Option(
        None, "--workload", "-w", help="Only this workload (repeatable)."
    ),
    max_memory_ratio: float = typer.Option(
        DEFAULT_MAX_MEMORY_RATIO, min=0.01, help="Memory budget: peak RSS / default's."
    ),
    objective: str = typer.Option(
        "throughput", help="throughput (time), latency (p99) or balanced (both)."
    ),
) -> None:
    """Recommend a GC setting per workload, with expected gains and code to apply it."""
    from gctune.frame import load
    from gctune.recommend import describe, snippet
    from gctune.recommend import recommend as choose

    objective = _check_objective(objective)
    data = load(_sweep_dir(directory))
    chosen = workload or data.workloads
    for name in chosen:
        if name not in data.stats:
            raise GctuneError(
                f"workload {name!r} is not in {data.directory}: "
                f"it has {', '.join(data.workloads) or 'no points'}"
            )
    made = 0
    for name in chosen:
        try:
            rec = choose(
                data.stats[name],
                data.points_of(name),
                objective=objective,
                max_memory_ratio=max_memory_ratio,
            )
        except RecommendError as exc:  # one workload's data; the others may still do
            typer.echo(f"{name}: no recommendation: {exc}\n")
            continue
        made += 1
        typer.echo("\n".join(describe(rec)))
        typer.echo("")
        typer.echo(snippet(rec.setting))
        typer.echo("")
    if not made:
        raise typer.Exit(1)


@app.command()
@_user_errors
def run(
    workload: str = typer.Argument(..., help="A built-in name, module name or .py file."),
    setting: str = typer.Option("default", "--setting", "-s", help="The GC setting."),
    out: Optional[Path] = typer.Option(
        None, help="Directory for the point (default: results/<id>)."
    ),
    fast: bool = typer.Option(False, "--fast", help="pyperf --fast."),
    rigorous: bool = typer.Option(False, "--rigorous", help="pyperf --rigorous."),
    size: Optional[int] = typer.Option(None, min=1, help="Workload size."),
    timeout: float = typer.Option(DEFAULT_TIMEOUT, min=1, help="Seconds allowed."),
    max_memory: str = typer.Option("4G", help="Address-space cap per worker."),
    processes: Optional[int] = typer.Option(None, min=1, help="pyperf worker processes."),
    values: Optional[int] = typer.Option(None, min=1, help="pyperf values per process."),
    min_time: Optional[float] = typer.Option(None, min=0.0001, help="pyperf seconds per value."),
) -> None:
    """Measure one workload under one GC setting and print its metrics."""
    (chosen,) = parse_settings([setting])
    spec = SweepSpec(
        workloads=tuple(_check_workloads([workload])),
        settings=(chosen.id,),
        size=size,
        mode=_mode(fast, rigorous, False, "normal"),
        processes=processes,
        values=values,
        min_time=min_time,
        timeout=timeout,
        max_memory=parse_size(max_memory),
    )
    target = out if out is not None else new_sweep_dir(RESULTS)
    points = _sweep(spec, target, resume=False)
    _point_table(points[0])
    console.print(f"Saved: {points[0].path}")
    if not points[0].ok:
        raise typer.Exit(1)


def _point_table(point: Point) -> None:
    (s,) = workload_stats([point])[point.workload]
    table = Table(title=f"{point.workload} · {point.setting}", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    if not s.ok:
        table.add_row("status", f"failed: {s.reason}")
        console.print(table)
        return
    rows = [
        ("time per step (median)", fmt_ns(s.median_s * 1e9)),
        (
            "mean, 95% interval",
            f"{fmt_ns(s.mean_s * 1e9)} [{fmt_ns(s.ci_low_s * 1e9)}, {fmt_ns(s.ci_high_s * 1e9)}]",
        ),
        ("values", str(s.n_values)),
        ("GC share of time", f"{s.gc_share:.1%}"),
        (
            "collections",
            ", ".join(f"gen{g}: {n:,}" for g, n in sorted(s.collections_by_gen.items())) or "0",
        ),
        ("objects collected", f"{s.collected:,}"),
        ("uncollectable", f"{s.uncollectable:,}"),
        (
            "pause p50 / p99 / max",
            " / ".join(
                fmt_ns(v if s.collections else None)
                for v in (s.pause_p50_ns, s.pause_p99_ns, s.pause_max_ns)
            ),
        ),
        ("peak RSS", fmt_bytes(s.peak_rss_bytes)),
    ]
    if s.request_p50_ns is not None:
        rows.append(
            (
                "request p50 / p99 / max",
                " / ".join(
                    fmt_ns(v) for v in (s.request_p50_ns, s.request_p99_ns, s.request_max_ns)
                ),
            )
        )
    for row in rows:
        table.add_row(*row)
    console.print(table)


def main(argv: Optional[list[str]] = None) -> int:
    """Run the CLI; returns the exit status."""
    try:
        app(args=argv, prog_name="gctune")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
