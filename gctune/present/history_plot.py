"""The history chart: mean time and GC pause p99 per workload over commits, steps
beyond their noise marked (the numbers come from :mod:`gctune.analysis.history`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gctune.analysis.history import History, HistoryError, ResultSet
from gctune.store.atomic import write_whole

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _commit_label(rs: ResultSet) -> str:
    """A tick of the commit axis: short commit and date (the sweep id only without git)."""
    commit = rs.commit[:7] if rs.commit else f"no git: {rs.label}"
    return f"{commit}\n{rs.date[:10]}"


def history_figure(history: History) -> Figure:
    """Mean time per step and p99 pause per workload (ms) over commits, as a figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    workloads = sorted({s.workload for s in history.series})
    rows = max(1, len(workloads))
    fig = Figure(figsize=(12, 3.2 * rows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, 2, squeeze=False)
    labels = [_commit_label(rs) for rs in history.sets]
    for row, workload in enumerate(workloads):
        ax_time, ax_p99 = axes[row]
        for series in (s for s in history.series if s.workload == workload):
            xs = [e.set_index for e in series.entries]
            for ax, ys, metric in (
                (ax_time, [e.mean_s * 1e3 for e in series.entries], "time"),
                (ax_p99, [e.p99_ns / 1e6 for e in series.entries], "p99"),
            ):
                ax.plot(xs, ys, marker="o", label=series.setting)
                jumps = [(x, y) for x, y, e in zip(xs, ys, series.entries) if metric in e.steps]
                if jumps:
                    ax.scatter(
                        [x for x, _ in jumps],
                        [y for _, y in jumps],
                        s=160,
                        facecolors="none",
                        edgecolors="red",
                        linewidths=2,
                        zorder=3,
                    )
        ax_time.set_title(f"{workload}: mean time per step")
        ax_time.set_ylabel("time per step (ms)")
        ax_p99.set_title(f"{workload}: GC pause p99")
        ax_p99.set_ylabel("GC pause p99 (ms)")
        for ax in (ax_time, ax_p99):
            ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
            ax.set_xlabel("commit (oldest first)")
            ax.grid(alpha=0.3)
        ax_time.legend(fontsize=7, loc="best")
    fig.suptitle(
        f"GC metrics over commits (red circle: step beyond noise and ±{history.min_effect:.0%})"
    )
    return fig


def plot_history(history: History, out: Path) -> Path:
    """Draw :func:`history_figure` into a PNG file at ``out``, whole or not at all."""
    fig = history_figure(history)
    _save_whole(fig, out)
    return out


def _save_whole(fig: Any, out: Path) -> None:
    """Save the PNG whole or not at all (:func:`gctune.store.atomic.write_whole`): ``out``
    is the whole chart or untouched. A failure raises :class:`HistoryError` naming ``out``."""
    if out.is_dir():
        raise HistoryError(f"{out}: cannot write the chart: it is a directory; name a PNG file")
    try:
        write_whole(out, lambda tmp: fig.savefig(tmp, dpi=100, format="png"), readable=True)
    except OSError as exc:
        failed = Path(os.fsdecode(exc.filename)) if exc.filename else out
        # the temporary file is the chart itself, as far as the user is concerned
        ours = failed == out or (
            failed.parent == out.parent and failed.name.startswith(f".{out.name}.")
        )
        where = "" if ours else f"{failed}: "
        # mkdir of a folder that exists as a file says "File exists"
        reason = "not a directory" if isinstance(exc, FileExistsError) else exc.strerror
        raise HistoryError(f"{out}: cannot write the chart: {where}{reason or exc}") from None
