"""The sweep's terminal output: progress bar, summary tables, one point's table.

Numbers come from :mod:`gctune.analysis` and are only formatted here.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Callable, Optional

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
from gctune.fmt import fmt_bytes, fmt_ns, fmt_ratio
from gctune.results import Point
from gctune.runner import PointPlan

__all__ = ["console", "err_console", "point_table", "progress_bar", "summary_tables"]

# Piped output (CI logs, make) gets room for the summary's nine columns.
console = Console(width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True)


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int, PointPlan, Optional[Point]], None]]:
    """A transient progress bar on stderr: point i of N, workload, setting, ETA."""
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
    "time: mean per step; vs def: time / default's; GC %: pause total / wall time; "
    "GCs: collections; p99, max: pause; RSS: peak of the workers"
)


def summary_tables(points: list[Point]) -> None:
    """One table per workload: each setting against the workload's default."""
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
        fmt_ns(s.mean_s * 1e9),
        fmt_ratio(s.time_ratio),
        f"{s.gc_share * 100:.1f}",
        f"{s.collections:,}",
        fmt_ns(s.pause_p99_ns if s.collections else None),
        fmt_ns(s.pause_max_ns if s.collections else None),
        fmt_bytes(s.peak_rss_bytes),
        fmt_ratio(s.rss_ratio),
    ]


def point_table(point: Point, *, per: str = "step") -> None:
    """Every metric of one point, a row each."""
    (s,) = workload_stats([point])[point.workload]
    table = Table(title=f"{point.workload} · {point.setting}", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    if not s.ok:
        table.add_row("status", f"failed: {s.reason}")
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
