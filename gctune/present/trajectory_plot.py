"""The memory-over-time chart of one workload: RSS through each setting's spans.

One line per setting: the RSS samples of its first measured span (every span of a point
follows the same plan), against steps; full collections are marked on the line. A
bounded setting plateaus across full collections; a growing one climbs. The verdict and
rate next to each name come from :mod:`gctune.analysis.growth`, through the point's statistics.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gctune.analysis.fmt import fmt_size
from gctune.analysis.stats import PointStats
from gctune.present.plots import MIB, Chart, _color, _new, _save
from gctune.store.results import Point

__all__ = ["trajectory_chart"]


def _label(s: PointStats) -> str:
    g = s.growth
    if g is None or g.status == "unknown":
        return s.setting
    if g.status == "bounded":
        return f"{s.setting} (bounded)"
    return f"{s.setting} (+{fmt_size(g.bytes_per_step)}/step)"


def trajectory_chart(
    points: Sequence[Point], stats: Sequence[PointStats], path: Path, workload: str
) -> Chart:
    """Draw RSS over steps per setting, full collections marked; skipped without samples."""
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
    for i, (point, s) in enumerate(drawn):
        run = min((r for r in point.runs if r.memory), key=lambda r: r.round or 0)
        steps = [m[0] for m in run.memory]
        rss = [m[1] / MIB for m in run.memory]
        color = _color(point.setting, i)
        ax.plot(steps, rss, color=color, linewidth=1.3, label=_label(s))
        full_at = [int(x) for x in (run.span or {}).get("full_at", [])]
        marks = [(x, rss[min(range(len(steps)), key=lambda k: abs(steps[k] - x))]) for x in full_at]
        if marks:
            ax.scatter([m[0] for m in marks], [m[1] for m in marks], marker="|", s=120, color=color)
    ax.set_xlabel("steps into the measured span")
    ax.set_ylabel("resident memory (MiB)")
    ax.set_title(f"{workload}: memory over time")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return Chart(
        "trajectory",
        "Memory over time",
        _save(fig, path),
        "RSS sampled after every timed chunk of each setting's first span (|: a full "
        "collection). Bounded settings plateau across full collections; growing ones "
        "climb, at the rate in the legend (median over the point's spans, after the first "
        "full collection or the first quarter of the span).",
    )
