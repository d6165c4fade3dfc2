"""Charts of one workload's points, drawn from saved statistics as PNG files.

Figures are built with matplotlib's object API and rendered by the Agg canvas: no
pyplot, no global backend state, so a report can be built in any process. Every number
drawn comes from :mod:`gctune.analysis.stats` (through :mod:`gctune.analysis.frame`); nothing is
computed here beyond arranging it.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import matplotlib
import numpy
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from gctune.analysis.fmt import fmt_size
from gctune.analysis.frame import SweepData, points_frame
from gctune.analysis.stats import PointStats, pareto_front, pause_cdf
from gctune.store.results import Point

__all__ = ["CHART_KINDS", "Chart", "chart_stem", "workload_charts"]

CHART_KINDS = (
    "time", "heatmap", "pauses", "memory", "trajectory", "collections", "requests"
)  # fmt: skip
DPI = 110
MIB = 1024**2
DEFAULT_COLOR = "black"
DISABLED_COLOR = "#d62728"
PLAIN = FuncFormatter(lambda v, _: f"{v:g}")  # 0.1 and 10 rather than 10^-1 and 10^1


def _plain_log(axis: Any) -> None:
    """Label a log-scale axis in plain numbers (``0.06``, not ``6x10^-2``).

    Major ticks (powers of ten) always; minor ticks (2 to 9 times them) only when the axis
    spans less than a decade and so may hold no major tick. matplotlib's own minor labels
    are mathtext, which the charts print as written (user names must not be parsed).
    """

    def minor(value: float, _pos: Optional[int]) -> str:
        low, high = sorted(axis.get_view_interval())
        return f"{value:g}" if low > 0 and high / low < 10 else ""

    axis.set_major_formatter(PLAIN)
    axis.set_minor_formatter(FuncFormatter(minor))


@dataclass(frozen=True)
class Chart:
    """One chart of a workload: its PNG (None when skipped) and a caption or skip note."""

    kind: str
    title: str
    path: Optional[Path]
    caption: str


def chart_stem(workload: str) -> str:
    """A file-name-safe stem for a workload id (user-chosen names may hold anything)."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", workload).strip("._") or "workload"
    return f"{slug[:40]}-{hashlib.sha1(workload.encode()).hexdigest()[:6]}"


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    try:
        fig.savefig(path, dpi=DPI)
    except OSError as exc:
        if exc.filename is None:  # a full disk, as the PNG writer reports it, names no file
            exc.filename = str(path)
        raise
    return path


def _new(width: float = 8.0, height: float = 4.6) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def _color(setting: str, i: int) -> Any:
    if setting == "default":
        return DEFAULT_COLOR
    if setting == "disabled":
        return DISABLED_COLOR
    palette = [
        "#1f77b4",
        "#2ca02c",
        "#9467bd",
        "#8c564b",
        "#e377c2",
        "#17becf",
        "#bcbd22",
        "#ff7f0e",
        "#7f7f7f",
        "#aec7e8",
        "#98df8a",
        "#c5b0d5",
    ]
    return palette[i % len(palette)]


def _time_chart(ok: list[PointStats], path: Path, workload: str, unit: str) -> Chart:
    rows = [s for s in ok if s.time_ratio is not None]
    fig = _new(8.0, 0.9 + 0.38 * max(3, len(rows)))
    ax = fig.add_subplot()
    labels = [s.setting for s in rows]
    ratios = [s.time_ratio or 0.0 for s in rows]
    err = [
        [r - (s.time_ratio_low or r) for r, s in zip(ratios, rows)],
        [(s.time_ratio_high or r) - r for r, s in zip(ratios, rows)],
    ]
    colors = [_color(s.setting, i) for i, s in enumerate(rows)]
    ax.barh(range(len(rows)), ratios, xerr=err, color=colors, alpha=0.8, capsize=3)
    ax.set_yticks(range(len(rows)), labels)
    ax.invert_yaxis()
    ax.axvline(1.0, color=DEFAULT_COLOR, linewidth=1, linestyle="--")
    for i, (r, s) in enumerate(zip(ratios, rows)):
        mark = "" if s.time_significant or s.setting == "default" else " (n.s.)"
        ax.text(max(r, s.time_ratio_high or r), i, f"  {r:.2f}x{mark}", va="center", fontsize=8)
    ax.set_xlabel(f"mean time per {unit} / default's (lower is faster; bars: 95% interval)")
    ax.set_xlim(0, max([*ratios, *(s.time_ratio_high or 0.0 for s in rows), 1.0]) * 1.2)
    ax.set_title(f"{workload}: time per {unit} relative to default")
    return Chart(
        "time",
        f"Time per {unit} vs default",
        _save(fig, path),
        f"Mean time per {unit} of each setting divided by default's: the geometric mean of "
        "the per-round ratios, with its 95% t-interval over rounds (round-paired); n.s. = "
        "interval includes 1 (not significant).",
    )


def _heatmap(ok: list[PointStats], path: Path, workload: str, unit: str) -> Chart:
    title = "Time vs default over threshold0 × threshold1"
    frame = points_frame(ok)
    grid = frame[(~frame["freeze"]) & frame["mode"].isin(["thresholds", "default"])]
    grid = grid.dropna(subset=["t0", "t1", "time_ratio"])
    records = [{str(k): v for k, v in r.items()} for r in grid.to_dict("records")]
    t0s = sorted({int(r["t0"]) for r in records})
    t1s = sorted({int(r["t1"]) for r in records})
    if len(t0s) < 2 or len(t1s) < 2:
        return Chart(
            "heatmap",
            title,
            None,
            f"Skipped: the sweep has {len(t0s)} threshold0 value(s) and {len(t1s)} "
            "threshold1 value(s) without freeze; a heatmap needs at least 2 of each.",
        )
    # Several threshold2 values for one cell: show the fastest and say which.
    cells: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for r in records:
        cells.setdefault((int(r["t0"]), int(r["t1"])), []).append(r)
    values = numpy.full((len(t1s), len(t0s)), numpy.nan)
    for (t0, t1), group in cells.items():
        values[t1s.index(t1), t0s.index(t0)] = min(float(r["time_ratio"]) for r in group)
    fig = _new(1.6 + 1.25 * len(t0s), 1.4 + 0.9 * len(t1s))
    ax = fig.add_subplot()
    finite = values[~numpy.isnan(values)]
    # Each side of 1 gets its own scale: green for faster, red for slower.
    norm = TwoSlopeNorm(
        vcenter=1.0, vmin=min(float(finite.min()), 0.95), vmax=max(float(finite.max()), 1.05)
    )
    ax.set_facecolor("#dddddd")
    image = ax.imshow(values, cmap="RdYlGn_r", norm=norm, aspect="auto", origin="lower")
    for (t0, t1), group in cells.items():
        r = min(group, key=lambda r: float(r["time_ratio"]))
        text = f"{float(r['time_ratio']):.2f}x"
        if len(group) > 1:
            text += f"\nt2={int(r['t2'])}"
        if r["setting"] == "default":
            text += "\n(default)"
        ax.text(t0s.index(t0), t1s.index(t1), text, ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(t0s)), [f"{int(t):,}" for t in t0s])
    ax.set_yticks(range(len(t1s)), [str(int(t)) for t in t1s])
    ax.set_xlabel("threshold0 (net container allocations before a young collection)")
    ax.set_ylabel("threshold1 (young collections\nper older collection)")
    ax.set_title(f"{workload}: time per {unit} / default's (grey: not measured)")
    fig.colorbar(image, ax=ax, label="time / default (< 1 is faster)")
    return Chart(
        "heatmap",
        title,
        _save(fig, path),
        f"Mean time per {unit} relative to default for each threshold0 × threshold1 pair "
        "measured without freeze (thresholds in force; default sits at the interpreter's "
        "own). Where several threshold2 values were measured, the fastest is shown.",
    )


def _pause_cdf(data: SweepData, ok: list[PointStats], path: Path, workload: str) -> Chart:
    points = {p.setting: p for p in data.points_of(workload) if p.ok}
    fig = _new(9.5, 4.6)
    ax = fig.add_subplot()
    silent = []
    for i, s in enumerate(ok):
        curve = pause_cdf(points[s.setting])
        if not curve:
            silent.append(s.setting)
            continue
        xs = [max(x, 1.0) / 1e6 for x, _ in curve]
        ys = [y for _, y in curve]
        ax.step(
            [xs[0], *xs],
            [0.0, *ys],
            where="post",
            color=_color(s.setting, i),
            linewidth=2.2 if s.setting == "default" else 1.4,
            linestyle="--" if "freeze" in s.setting else "-",
            label=f"{s.setting} ({s.collections:,})",
        )
    ax.set_xscale("log")
    _plain_log(ax.xaxis)
    ax.set_xlabel("GC pause duration (ms, log scale)")
    ax.set_ylabel("fraction of pauses ≤ duration")
    ax.set_ylim(0, 1.02)
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(f"{workload}: GC pause distribution per setting")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(
            title="setting (collections)", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0)
        )
    caption = "Cumulative distribution of every collection's duration, all generations."
    if silent:
        caption += " No collection while measuring: " + ", ".join(silent) + "."
    return Chart("pauses", "GC pause distribution (CDF)", _save(fig, path), caption)


def _memory_chart(
    ok: list[PointStats], path: Path, workload: str, max_memory_ratio: float, unit: str
) -> Chart:
    front = {s.setting for s in pareto_front(ok, keys=("mean_s", "peak_rss_bytes"))}
    fig = _new(9.5, 5.0)
    ax = fig.add_subplot()
    markers = ["o", "^", "v", "D", "P", "*", "<", ">", "h", "p"]
    for i, s in enumerate(ok):
        x, y = s.peak_rss_bytes / MIB, s.mean_s * 1e3
        yerr = [[y - s.ci_low_s * 1e3], [s.ci_high_s * 1e3 - y]]
        marker, size = (markers[i % len(markers)], 55)
        if s.setting == "default":
            marker, size = ("s", 90)
        elif s.setting == "disabled":
            marker, size = ("X", 110)
        ax.errorbar(x, y, yerr=yerr, fmt="none", ecolor="#999999", elinewidth=1)
        # Settings often share a memory footprint: a legend stays readable where
        # labels beside the points would overlap.
        ax.scatter(
            x,
            y,
            marker=marker,
            s=size,
            color=_color(s.setting, i),
            edgecolors="black" if s.setting in front else "none",
            linewidths=1.2,
            zorder=3,
            label=s.setting + (" (front)" if s.setting in front else ""),
        )
    on_front = sorted((s for s in ok if s.setting in front), key=lambda s: s.peak_rss_bytes)
    ax.step(
        [s.peak_rss_bytes / MIB for s in on_front],
        [s.mean_s * 1e3 for s in on_front],
        where="post",
        color="#555555",
        linestyle=":",
        linewidth=1.2,
        label="Pareto front",
    )
    default = next((s for s in ok if s.setting == "default"), None)
    if default is not None:
        ax.axvline(
            max_memory_ratio * default.peak_rss_bytes / MIB,
            color="#ff7f0e",
            linestyle="--",
            linewidth=1,
            label=f"memory budget ({max_memory_ratio:g}x default)",
        )
    ax.set_xlabel("peak RSS of the worker processes (MiB, from 0)")
    ax.set_xlim(left=0)  # from 0: settings a few KiB apart do not look far apart
    ax.set_ylabel(f"mean time per {unit} (ms)")
    ax.set_title(f"{workload}: time vs peak memory")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return Chart(
        "memory",
        "Time vs peak memory, Pareto front",
        _save(fig, path),
        f"Each setting's mean time per {unit} (bars: 95% interval) against its peak RSS; "
        "square: default, cross: disabled. Outlined points, marked (front), are on the "
        "Pareto front of (time, peak RSS): no other setting is both faster and smaller. "
        "The dashed line is the recommendation's memory budget.",
    )


def _collections_chart(ok: list[PointStats], path: Path, workload: str) -> Chart:
    gens = sorted({g for s in ok for g in s.collections_per_s_by_gen})
    fig = _new(8.0, 4.6)
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(gens))
    shades = ["#6baed6", "#3182bd", "#08519c", "#08306b"]
    for j, gen in enumerate(gens):
        rates = [s.collections_per_s_by_gen.get(gen, 0.0) for s in ok]
        xs = [i + (j - (len(gens) - 1) / 2) * width for i in range(len(ok))]
        ax.bar(
            xs,
            [r if r > 0 else math.nan for r in rates],
            width,
            label=f"generation {gen}",
            color=shades[j % len(shades)],
        )
    for i, s in enumerate(ok):
        if not s.collections:
            ax.text(
                i,
                0.02,
                "no collections",
                ha="center",
                va="bottom",
                fontsize=8,
                rotation=90,
                transform=ax.get_xaxis_transform(),
            )
    ax.set_xticks(range(len(ok)), [s.setting for s in ok], rotation=30, ha="right")
    ax.set_xlim(-0.6, len(ok) - 0.4)  # room for every setting, with or without bars
    ax.set_yscale("log")
    ax.set_ylabel("collections per second of measured time\n(log scale)")
    _plain_log(ax.yaxis)
    ax.set_title(f"{workload}: collections per generation")
    ax.grid(True, axis="y", which="both", alpha=0.3)
    if gens:
        ax.legend(fontsize=8, loc="upper right")
    return Chart(
        "collections",
        "Collections per generation",
        _save(fig, path),
        "How often each generation was collected: collections / measured wall time.",
    )


def _request_chart(ok: list[PointStats], path: Path, workload: str) -> Chart:
    rows = [s for s in ok if s.request_p50_ns is not None]
    fig = _new(8.0, 4.6)
    ax = fig.add_subplot()
    width = 0.27
    for j, (name, attr, color) in enumerate(
        (
            ("p50", "request_p50_ns", "#9ecae1"),
            ("p99", "request_p99_ns", "#3182bd"),
            ("max", "request_max_ns", "#08306b"),
        )
    ):
        ax.bar(
            [i + (j - 1) * width for i in range(len(rows))],
            [(getattr(s, attr) or math.nan) / 1e6 for s in rows],
            width,
            label=name,
            color=color,
        )
    ax.set_xticks(range(len(rows)), [s.setting for s in rows], rotation=30, ha="right")
    ax.set_yscale("log")
    ax.set_ylabel("request latency (ms, log scale)")
    _plain_log(ax.yaxis)
    ax.set_title(f"{workload}: request latency per setting")
    ax.grid(True, axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return Chart(
        "requests",
        "Request latency percentiles",
        _save(fig, path),
        "Latency of each request the workload served (collections landing inside a "
        "request included): p50, p99 and maximum.",
    )


def workload_charts(
    data: SweepData, workload: str, out_dir: Path, *, max_memory_ratio: float
) -> list[Chart]:
    """Draw every chart of ``workload`` into ``out_dir``; skipped ones carry a note."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = chart_stem(workload)
    ok = [s for s in data.stats[workload] if s.ok]
    if not ok:
        return [Chart("time", "Charts", None, "Skipped: no point of this workload finished.")]
    # Names come from users: "$x$" must print as written, not as mathtext.
    with matplotlib.rc_context({"text.parse_math": False}):
        unit = data.unit
        charts = [
            _time_chart(ok, out_dir / f"{stem}-time.png", workload, unit),
            _heatmap(ok, out_dir / f"{stem}-heatmap.png", workload, unit),
            _pause_cdf(data, ok, out_dir / f"{stem}-pauses.png", workload),
            _memory_chart(ok, out_dir / f"{stem}-memory.png", workload, max_memory_ratio, unit),
            _collections_chart(ok, out_dir / f"{stem}-collections.png", workload),
        ]
        if any(s.request_p50_ns is not None for s in ok):
            charts.append(_request_chart(ok, out_dir / f"{stem}-requests.png", workload))
    return charts


def _label(s: PointStats) -> str:
    g = s.growth
    if g is None or g.status == "unknown":
        return s.setting
    if g.status == "bounded":
        return f"{s.setting} (bounded)"
    return f"{s.setting} (+{fmt_size(g.bytes_per_step)}/step)"


def trajectory_chart(
    points: Sequence[Point],
    stats: Sequence[PointStats],
    path: Path,
    workload: str,
    *,
    max_memory_ratio: Optional[float] = None,
) -> Chart:
    """Draw RSS over steps per setting, full collections marked; skipped without samples.

    The memory axis starts at 0: zoomed to the lines' own span (17.36 to 17.46 MiB), a
    bounded line's allocator jitter looks like a climb. From 0, a line looks as steep as
    it is against the level it sits on; the rates are in the legend, the span of the
    samples in the caption, and the memory budget (``max_memory_ratio`` × default's peak
    RSS) is drawn when given."""
    by_setting = {s.setting: s for s in stats if s.ok}
    drawn = [(p, by_setting[p.setting]) for p in points if p.ok and p.setting in by_setting]
    drawn = [(p, s) for p, s in drawn if any(r.memory for r in p.runs)]
    if not drawn:
        return Chart(
            "trajectory",
            "Memory over time",
            None,
            "Skipped: the points hold no memory samples (results of an older gctune).",
        )
    fig = _new(9.5, 5.0)
    ax = fig.add_subplot()
    shown: list[float] = []
    for i, (point, s) in enumerate(drawn):
        run = min((r for r in point.runs if r.memory), key=lambda r: r.round or 0)
        steps = [m[0] for m in run.memory]
        rss = [m[1] / MIB for m in run.memory]
        shown += rss
        color = _color(point.setting, i)
        ax.plot(steps, rss, color=color, linewidth=1.3, label=_label(s))
        full_at = [int(x) for x in (run.span or {}).get("full_at", [])]
        marks = [(x, rss[min(range(len(steps)), key=lambda k: abs(steps[k] - x))]) for x in full_at]
        if marks:
            ax.scatter([m[0] for m in marks], [m[1] for m in marks], marker="|", s=120, color=color)
    default = by_setting.get("default")
    if max_memory_ratio is not None and default is not None:
        ax.axhline(
            max_memory_ratio * default.peak_rss_bytes / MIB,
            color="#ff7f0e",
            linestyle="--",
            linewidth=1,
            label=f"memory budget ({max_memory_ratio:g}x default's peak)",
        )
    ax.set_ylim(bottom=0)
    ax.set_xlabel("steps into the measured span")
    ax.set_ylabel("resident memory (MiB, from 0)")
    ax.set_title(f"{workload}: memory over time")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    low, high = min(shown), max(shown)
    return Chart(
        "trajectory",
        "Memory over time",
        _save(fig, path),
        "RSS sampled after every timed chunk of each setting's first span (|: a full "
        "collection). Bounded settings plateau across full collections; growing ones "
        "climb, at the rate in the legend (median over the point's spans, after the first "
        "full collection or the first quarter of the span). The axis starts at 0, so a "
        f"line is as steep as it is against its level; the samples span {low:,.2f} to "
        f"{high:,.2f} MiB. The dashed line is the memory budget.",
    )
