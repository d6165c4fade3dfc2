"""Count points as a table: per step in instructions and estimated cycles, against default.

Every figure here is from the counts tier (callgrind, one fixed hash seed): exact from
run to run on one install, so ratios carry no interval. They model time; they
are not time (see :mod:`gctune.sweep.counts`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Callable, Optional

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

__all__ = [
    "COUNT_CAPTION",
    "COUNT_LIMITS",
    "COUNT_COLUMNS",
    "count_frame",
    "count_markdown",
    "count_progress",
    "count_table",
]

TIER = "counts tier (instructions under valgrind, PYTHONHASHSEED=0; exact per install; not time)"
COUNT_CAPTION = (
    "counts tier: per step at steady state, the counted steps of one span past two full "
    "collections (callgrind; exact run to run on one install; a model of time, not time). "
    "instr: instructions; est. cycles: L1 hits + 5 x LL hits + 35 x memory accesses; "
    "vs def: / default's (exact: no interval); GC instr: the collector's share of "
    "instructions (n/a: no collector symbols in this build); whole cycles: the counted "
    "steps ended on a full collection, else bounded (the steps measured and why)"
)

COUNT_LIMITS = (
    "Where counts mislead (each measured against interleaved time checks: "
    "docs/counts-validity.md, docs/tune.md): a setting counted over default's cycle "
    "(whole cycles: no) is a lower bound, its own rarer and larger collections outside the window "
    "(longlived_heap t20000-50-100: 0.920x in counts, 1.26x in time); a larger young "
    "generation costs time the cache model does not see (request_loop t20000-10-10: "
    "1.00x in counts, 1.52x in time; tree_parents threshold0 27,000-37,000: 0.94-0.95x, "
    "1.21-1.37x in time); counts measure no memory (disabled on request_loop: 0.913x in "
    "counts, its memory growing 476 KiB a step in time); and where the collector's "
    "traversal is memory-bound, time gains more than counts show (acyclic_churn: 14.6 % "
    "in counts, 34 % in time). Rank in counts, confirm in time (--confirm) before shipping"
)

COUNT_COLUMNS = (
    "workload",
    "setting",
    "status",
    "instructions_per_step",
    "cycles_per_step",
    "instructions_vs_default",
    "cycles_vs_default",
    "gc_share",
    "young_per_step",
    "middle_per_step",
    "full_per_step",
    "whole_cycles",
    "steps",
    "bound",
    "reason",
)


def count_frame(docs: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per count point (COUNT_COLUMNS); ratios against the workload's default."""
    rows: list[dict[str, Any]] = []
    for doc in docs:
        point: Optional[dict[str, Any]] = doc.get("point")
        row: dict[str, Any] = {c: None for c in COUNT_COLUMNS}
        row.update(workload=doc["workload"], setting=doc["setting"], status=doc["status"])
        row["reason"] = doc.get("reason") or ""
        row["bound"] = doc.get("bound") or ""
        if point is not None:
            per_gen = point["collections_per_step"]
            row.update(
                instructions_per_step=float(point["instructions_per_step"]),
                cycles_per_step=float(point["cycles_per_step"]),
                gc_share=point.get("gc_share"),
                young_per_step=float(per_gen[0]),
                middle_per_step=float(per_gen[1]),
                full_per_step=float(per_gen[2]),
                whole_cycles=bool(point["whole_cycles"]),
                steps=int(point["steps"]),
            )
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(COUNT_COLUMNS))
    for workload, group in frame.groupby("workload"):
        base = group[(group["setting"] == "default") & (group["status"] == "ok")]
        if base.empty:
            continue
        mask = frame["workload"] == workload
        for metric in ("instructions", "cycles"):
            reference = float(base[f"{metric}_per_step"].iloc[0])
            if reference > 0:
                frame.loc[mask, f"{metric}_vs_default"] = (
                    frame.loc[mask, f"{metric}_per_step"].astype(float) / reference
                )
    return frame


def _count(value: Any) -> str:
    if value is None or pd.isna(value):
        return "—"
    number = float(value)
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(number) >= size:
            return f"{number / size:.3g}{unit}"
    return f"{number:.3g}"


def _ratio(value: Any) -> str:
    return "—" if value is None or pd.isna(value) else f"{float(value):.3f}x"


def _share(value: Any) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{100 * float(value):.1f}%"


def count_table(frame: pd.DataFrame, workload: str) -> Table:
    """A rich table of one workload's count points."""
    table = Table(
        title=f"{workload} — {TIER}",
        title_justify="left",
    )
    for name in ("setting", "instr/step", "vs def", "est. cycles/step", "vs def", "GC instr"):
        table.add_column(name, justify="left" if name == "setting" else "right")
    table.add_column("collections/step (gen 0/1/2)", justify="right")
    table.add_column("whole cycles", justify="left")
    for _, row in frame[frame["workload"] == workload].iterrows():
        if row["status"] != "ok":
            table.add_row(str(row["setting"]), f"failed: {escape(row['reason'])}", *[""] * 6)
            continue
        table.add_row(*_cells(row))
    return table


def _cells(row: Any) -> tuple[str, ...]:
    """One measured point's cells, as both the terminal and the Markdown table show them."""
    gens = "/".join(
        f"{float(row[c]):.3g}" for c in ("young_per_step", "middle_per_step", "full_per_step")
    )
    return (
        str(row["setting"]),
        _count(row["instructions_per_step"]),
        _ratio(row["instructions_vs_default"]),
        _count(row["cycles_per_step"]),
        _ratio(row["cycles_vs_default"]),
        _share(row["gc_share"]),
        gens,
        _cycles(row),
    )


def _cycles(row: Any) -> str:
    if row["whole_cycles"]:
        return "yes"
    steps = f"{int(row['steps'])} steps"
    return f"no ({steps}: {row['bound']})" if row["bound"] else f"no ({steps})"


def count_markdown(frame: pd.DataFrame, title: str) -> str:
    """The count tables as Markdown, one per workload, with what the columns mean."""
    lines = [f"# {title}", "", f"All figures: {TIER}.", "", COUNT_CAPTION + ".", ""]
    bounded = [
        f"{row['workload']} {row['setting']}"
        for _, row in frame.iterrows()
        if row["status"] == "ok" and not row["whole_cycles"]
    ]
    if bounded:
        lines += [f"Lower bounds here (counted over default's cycle): {', '.join(bounded)}.", ""]
    lines += [COUNT_LIMITS + ".", ""]
    head = (
        "| setting | instr/step | vs def | est. cycles/step | vs def | GC instr "
        "| collections/step (gen 0/1/2) | whole cycles |"
    )
    for workload in dict.fromkeys(frame["workload"]):
        lines += [f"## {workload}", "", head, "|" + "---|" * 8]
        for _, row in frame[frame["workload"] == workload].iterrows():
            if row["status"] != "ok":
                lines.append(f"| {row['setting']} | failed: {row['reason']} |||||||")
                continue
            lines.append("| " + " | ".join(_cells(row)) + " |")
        lines.append("")
    return "\n".join(lines)


@contextmanager
def count_progress(label: str, console: Console) -> Iterator[Callable[[str, str, int, int], None]]:
    """A transient progress bar on ``console``: count points done of all; a failed point
    is named with its reason as it ends."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    task = progress.add_task(label, total=None)

    def update(point: str, reason: str, done: int, total: int) -> None:
        progress.update(task, total=total, completed=done, description=f"{label} · {point}")
        if reason:
            progress.console.print(
                f"[yellow]point failed[/]: {escape(point)}: {escape(reason)}", highlight=False
            )

    with progress:
        yield update
