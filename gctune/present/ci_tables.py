"""Rich tables for ``gctune compare`` and ``gctune history``: formatting only.

Every number comes from :mod:`gctune.analysis.compare` or :mod:`gctune.analysis.history`; nothing
here
computes a statistic.
"""

from __future__ import annotations

import math

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gctune.analysis.comparison import Comparison, MetricResult
from gctune.analysis.history import History, nothing_to_compare

__all__ = ["print_comparison", "print_history", "wide"]

WIDTH = 160


def wide(console: Console) -> Console:
    """``console``, or a wider one on the same file when output is not a terminal (CI logs)."""
    if console.is_terminal:
        return console
    return Console(file=console.file, width=WIDTH, no_color=console.no_color)


def _ns(ns: float) -> str:
    if not math.isfinite(ns):
        return "-"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if abs(ns) >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.0f} ns"


def _value(m: MetricResult, x: float) -> str:
    if not math.isfinite(x):
        return "-"
    if m.gate == "time":
        return _ns(x * 1e9)
    if m.gate == "p99":
        return _ns(x)
    if m.gate == "rss":
        return f"{x / 1024**2:.1f} MiB"
    return f"{x:.4g}/step"


def _pct(ratio: float) -> str:
    if math.isnan(ratio):
        return "-"
    # a count that was 0 in the base has no percentage change: say so rather than +inf%
    return "from 0" if math.isinf(ratio) else f"{(ratio - 1) * 100:+.1f}%"


def _interval(m: MetricResult) -> str:
    if math.isinf(m.ratio) or math.isnan(m.low) or math.isnan(m.high):
        return "-"
    return f"[{_pct(m.low)}, {_pct(m.high)}]"


def _verdict(m: MetricResult) -> str:
    if m.regression:
        return "[bold red]REGRESSION[/]"
    if m.limit is None:
        return "-"
    return f"ok (≤ {m.limit * 100:g}%)"


def print_comparison(console: Console, result: Comparison, *, all_metrics: bool) -> None:
    """Print the comparison: one table, then missing and failed points, then the verdict."""
    gated = {t.metric for t in result.thresholds}
    table = Table(
        title=f"{result.new} vs {result.base}  ({result.new_python})",
        title_justify="left",
        caption=result.rule,
        caption_justify="left",
    )
    for col in ("point", "metric", "base", "new", "change", "95% interval", "signif.", "gate"):
        table.add_column(col, justify="left" if col in ("point", "metric") else "right")
    table.add_column("note")
    for point in result.points:
        label = point.label
        if point.base_size != point.new_size:
            label += f" (size {point.base_size} → {point.new_size})"
        shown = [m for m in point.metrics if all_metrics or not gated or m.gate in gated]
        for i, m in enumerate(shown):
            table.add_row(
                label if i == 0 else "",
                m.metric,
                _value(m, m.base),
                _value(m, m.new),
                _pct(m.ratio),
                _interval(m),
                "yes" if m.significant else "no",
                _verdict(m),
                m.note,
            )
        table.add_section()
    console.print(table)
    missing = "yellow" if result.allow_missing else "red"
    for title, labels, colour in (
        ("missing in new (not compared)", result.only_in_base, missing),
        ("only in new (not compared)", result.only_in_new, "yellow"),
    ):
        if labels:
            console.print(f"[{colour}]{title}:[/] {escape(', '.join(labels))}")
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    for f in result.failed:
        colour = "red" if f.regression and not result.allow_missing else "yellow"
        console.print(f"[{colour}]failed point ({f.side}):[/] {f.label}: {f.reason}")
    if result.regressions:
        console.print(f"[bold red]{len(result.regressions)} regression(s):[/]")
        for line in result.regressions:
            console.print(f"  {line}", highlight=False)
    elif result.thresholds:
        gates = " ".join(str(t) for t in result.thresholds)
        console.print(f"[green]no regression[/] beyond {gates} in {len(result.points)} point(s)")


def print_history(console: Console, history: History) -> None:
    """Print mean time and p99 pause per result set, and the steps detected."""
    table = Table(title="GC metrics over commits", title_justify="left")
    for col in (
        "workload",
        "setting",
        "commit",
        "date",
        "time/step (mean)",
        "Δ",
        "p99 pause",
        "Δ",
    ):
        table.add_column(col, justify="left" if col in ("workload", "setting") else "right")
    table.add_column("step")
    for series in history.series:
        for i, entry in enumerate(series.entries):
            table.add_row(
                series.workload if i == 0 else "",
                series.setting if i == 0 else "",
                entry.label,
                entry.date[:10],
                _ns(entry.mean_s * 1e9),
                _pct(entry.time_change.ratio) if entry.time_change else "",
                _ns(entry.p99_ns),
                _pct(entry.p99_change.ratio) if entry.p99_change else "",
                ", ".join(f"[bold red]{s}[/]" for s in entry.steps),
            )
        table.add_section()
    console.print(table)
    nothing = nothing_to_compare(history)
    if history.apart:
        console.print(
            "[yellow]time not compared between result sets of different machines[/] "
            f"(--allow-different-machine compares them): {escape('; '.join(history.apart))}",
            highlight=False,
            soft_wrap=True,  # one line in a CI log, however long
        )
    if nothing is not None:
        console.print(nothing)
    elif history.steps:
        console.print(f"[bold]{len(history.steps)} step(s) beyond noise:[/]")
        for step in history.steps:
            console.print(f"  {step}", highlight=False)
    else:
        console.print("no step beyond noise")
