"""The sweep's terminal output: progress bar, summary tables, one point's table.

Numbers come from :mod:`gctune.analysis.stats` and are only formatted here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Callable

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from gctune.analysis.evidence import workload_warnings
from gctune.analysis.fmt import every_chunk_mark, fmt_bytes, fmt_interval, fmt_ns, fmt_ratio
from gctune.analysis.stats import PointStats, workload_stats
from gctune.analysis.time_basis import round_spread
from gctune.present.fit import Column, fit_tables, output_width, wrap
from gctune.present.next_steps import program
from gctune.store.race import IDENTICAL, OUT
from gctune.store.results import Point
from gctune.sweep.rounds import SpanEvent

__all__ = [
    "console",
    "err_console",
    "point_table",
    "print_wrapped",
    "progress_bar",
    "summary_tables",
]

# COLUMNS when set, else the terminal's width, else (a CI log) 120: see output_width.
console = Console(width=output_width())
err_console = Console(stderr=True)


def print_wrapped(
    lines: list[str], *, on: Console = console, style: str = "", hang: int = 2
) -> None:
    """Prose lines wrapped to ``on``'s width without splitting a figure from its unit or a
    command to copy (:func:`gctune.present.fit.wrap`; continuation lines indented ``hang``
    more); printed as they are, no markup."""
    for line in lines:
        for part in wrap(line, on.width, programs=[" ".join(program())], hang=hang):
            on.print(part, style=style or None, markup=False, highlight=False, soft_wrap=True)


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[SpanEvent], None]]:
    """A transient progress bar on stderr: spans done of expected (racing shortens the
    sweep), workload, setting, round, settings still racing, ETA."""
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

    def update(event: SpanEvent) -> None:
        where = (
            f"{event.workload} · round {event.round}/{event.max_rounds} · "
            f"{event.racing} racing · {event.setting}"
        )
        progress.update(task, total=event.total, completed=event.done, description=where)
        point = event.point
        if point is not None and not point.ok:
            # escaped: a workload measured under several interpreters is named
            # ``w[py3.13.0]``, which rich would take for markup and drop
            where = escape(f"{event.workload} · {event.setting}: {point.reason}")
            progress.console.print(f"[yellow]point failed[/]: {where}", highlight=False)

    with progress:
        yield update


SUMMARY_CAPTION = (
    "time: mean per step over whole spans; vs def: time / default's, round-paired in "
    "seconds over the chunks run at the machine's full speed (the speed reference selects "
    "them; ° over every chunk, where too few rounds ran at full speed), the geometric mean "
    "of the per-round ratios: it can differ from the two time cells' quotient; 95% "
    "interval (n.s.: includes 1); GC %: "
    "pause total / wall time; p99, max: pause; state: "
    "steady = every span held ≥ 2 full collections (rare full: fewer, but their cost is "
    "under 1%; NOT steady: time is a lower bound); "
    "memory: bounded, or growth rate ('rises' with (N fulls): read over spans of N < 4 full "
    "collections, too few to call it growth); RSS/def: peak RSS / default's; rounds: spans "
    "measured (out: stopped by racing)"
)


SUMMARY_COLUMNS = (
    Column("setting", justify="left"),
    *(Column(h) for h in ("time", "vs def [95%]", "GC %", "p99", "max")),
    Column("state", breaks=True),
    Column("memory"),
    Column("RSS/def"),
    Column("rounds"),
)


def summary_tables(points: list[Point]) -> None:
    """One table per workload: each setting against the workload's default, then the
    warnings that concern its numbers.

    Every figure is printed whole at any width from 80 columns: a table too wide for the
    console is split into two (time and pauses; state and memory), each naming the
    setting, and the prose under it wraps between words, never between a figure and its
    unit."""
    for workload, rows in workload_stats(points).items():
        cells = [_summary_row(s) for s in rows]
        for table in fit_tables(SUMMARY_COLUMNS, cells, console.width, title=escape(workload)):
            console.print(table)
        print_wrapped([SUMMARY_CAPTION], style="dim", hang=0)
        failed = [f"! {s.setting}: failed: {s.reason or ''}" for s in rows if not s.ok]
        warnings = [f"! {line}" for line in workload_warnings(rows)]
        print_wrapped([f"  {line}" for line in (*failed, *warnings)])
        spread = round_spread([p for p in points if p.workload == workload])
        if spread is not None:
            print_wrapped([f"  {spread.line()}"])


def _vs_default(s: PointStats) -> str:
    if s.setting == "default" or s.time_ratio is None:
        return fmt_ratio(s.time_ratio)
    if s.time_ratio_low is None or s.time_ratio_high is None:
        return fmt_ratio(s.time_ratio)
    every = every_chunk_mark(s.time_basis)
    if not s.time_significant:
        return f"{fmt_ratio(s.time_ratio)}{every} n.s."
    return f"{fmt_ratio(s.time_ratio)}{every} {fmt_interval(s.time_ratio_low, s.time_ratio_high)}"


def _state(s: PointStats) -> str:
    return {
        "steady": "steady",
        "not steady": "[yellow]NOT steady[/]",
        "rare full GC": "rare full",
        "collector off": "off",
        "no full collections": "no full GC",
    }.get(s.steady, s.steady)


def _memory(s: PointStats) -> str:
    if s.growth is None:
        return "-"
    text = s.growth.words(per_second=True)
    return f"[red]{text}[/]" if s.growth.status == "growing" else text


def _summary_row(s: PointStats) -> list[str]:
    if not s.ok:  # the reason, prose, goes under the table
        return [escape(s.setting), "[red]failed[/]", *[""] * 8]
    out = s.race is not None and s.race.end in (OUT, IDENTICAL)
    rounds = f"{s.rounds}" + (" out" if out else "")
    return [
        escape(s.setting),
        fmt_ns(s.mean_s * 1e9),
        _vs_default(s),
        f"{s.gc_share * 100:.1f}",
        fmt_ns(s.pause_p99_ns if s.collections else None),
        fmt_ns(s.pause_max_ns if s.collections else None),
        _state(s),
        _memory(s),
        fmt_ratio(s.rss_ratio),
        rounds,
    ]


def point_table(point: Point, *, per: str = "step") -> None:
    """Every metric of one point, a row each."""
    (s,) = workload_stats([point])[point.workload]
    table = Table(title=escape(f"{point.workload} · {point.setting}"), title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    if not s.ok:
        table.add_row("status", escape(f"failed: {s.reason}"))
        console.print(table)
        return
    # the mean, as in the sweep's summary, the report, recommend, compare and history
    rows = [
        (f"time per {per} (mean)", fmt_ns(s.mean_s * 1e9)),
        ("95% interval of the mean", f"[{fmt_ns(s.ci_low_s * 1e9)}, {fmt_ns(s.ci_high_s * 1e9)}]"),
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
