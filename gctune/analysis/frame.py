"""A sweep directory as tidy pandas DataFrames: one row per worker run, one per point.

The point frame's columns are :class:`gctune.analysis.stats.PointStats`'s fields (per-generation
maps spread into ``<field>_gen<g>`` columns), plus the setting's parts (``mode``, ``t0``,
``t1``, ``t2`` in force, ``freeze``) — so pandas users, charts and reports read the same
named statistics. Pure: nothing here prints or plots.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

import pandas as pd

from gctune.analysis.stats import PointStats, workload_stats
from gctune.measure.settings import SettingError, parse_setting
from gctune.store.results import Manifest, Point, load_sweep_partial

__all__ = ["RUN_COLUMNS", "SweepData", "load", "points_frame", "runs_frame", "sweep_data"]

RUN_COLUMNS = (
    "workload",
    "setting",
    "run",
    "n_values",
    "mean_s",
    "wall_ns",
    "collections",
    "pause_total_ns",
    "gc_share",
    "peak_rss_bytes",
    "requests",
    "frozen",
    "gc_enabled",
)


@dataclass(frozen=True)
class SweepData:
    """A loaded sweep: its manifest, points and their statistics grouped by workload.

    ``damaged`` names each point file that could not be read and was left out, one line
    each (the file and the field).
    """

    directory: Path
    manifest: Manifest
    points: tuple[Point, ...]
    stats: dict[str, list[PointStats]]
    damaged: tuple[str, ...] = ()

    @property
    def unit(self) -> str:
        """What one timing value covers: a ``"step"`` of a workload, or a whole ``"run"``
        of a ``--command`` program (its start-up included)."""
        return "run" if self.manifest.spec.get("command") else "step"

    @property
    def applied_at_startup(self) -> bool:
        """True when the settings were applied at interpreter start-up (``--command``
        programs), before the program built anything, rather than after a workload's setup."""
        return bool(self.manifest.spec.get("command"))

    @property
    def workloads(self) -> list[str]:
        """Workload ids in the order the sweep measured them."""
        return list(self.stats)

    def points_of(self, workload: str) -> list[Point]:
        """The points of one workload, in sweep order."""
        return [p for p in self.points if p.workload == workload]

    def frame(self) -> pd.DataFrame:
        """One row per point of every workload (see :func:`points_frame`)."""
        return points_frame([s for rows in self.stats.values() for s in rows])


def load(directory: Union[str, os.PathLike[str]]) -> SweepData:
    """Read a sweep directory (a path or a str, validated); compute every point's statistics.

    A damaged point file is left out and named in ``damaged``; a damaged manifest raises
    :class:`gctune.store.results.ResultError`.
    """
    directory = Path(directory)
    manifest, points, damaged = load_sweep_partial(directory)
    return sweep_data(directory, manifest, points, tuple(map(str, damaged)))


def sweep_data(
    directory: Path, manifest: Manifest, points: Sequence[Point], damaged: tuple[str, ...] = ()
) -> SweepData:
    """A sweep from points already in hand (a running sweep's), with their statistics."""
    # The sweep's order (default, disabled, then as the user listed them), not file order.
    listed = {s: i for i, s in enumerate(manifest.spec.get("settings", []))}
    first = {"default": 0, "disabled": 1}
    ordered = sorted(
        points, key=lambda p: (first.get(p.setting, 2), listed.get(p.setting, len(listed)))
    )
    return SweepData(directory, manifest, tuple(ordered), workload_stats(ordered), damaged)


def runs_frame(points: list[Point]) -> pd.DataFrame:
    """One row per measured worker run (columns :data:`RUN_COLUMNS`; ns, bytes, s)."""
    rows = []
    for point in points:
        for i, run in enumerate(point.runs):
            rows.append(
                {
                    "workload": point.workload,
                    "setting": point.setting,
                    "run": i,
                    "n_values": len(run.values),
                    "mean_s": sum(run.values) / len(run.values) if run.values else float("nan"),
                    "wall_ns": run.wall_ns,
                    "collections": run.collections,
                    "pause_total_ns": run.pause_total_ns,
                    "gc_share": run.pause_total_ns / run.wall_ns if run.wall_ns else 0.0,
                    "peak_rss_bytes": run.peak_rss_bytes,
                    "requests": run.requests.count if run.requests else 0,
                    "frozen": run.frozen,
                    "gc_enabled": run.gc_enabled,
                }
            )
    return pd.DataFrame(rows, columns=list(RUN_COLUMNS))


def _setting_parts(s: PointStats) -> dict[str, Any]:
    """The setting's mode and freeze flag, and the thresholds that were in force."""
    mode: Optional[str]
    try:
        setting = parse_setting(s.setting)
        mode, freeze = setting.mode, setting.freeze
    except SettingError:  # a point file written by hand or another tool
        mode, freeze = None, False
    t = list(s.thresholds) + [None] * (3 - len(s.thresholds))
    return {"mode": mode, "freeze": freeze, "t0": t[0], "t1": t[1], "t2": t[2]}


def points_frame(stats: list[PointStats]) -> pd.DataFrame:
    """One row per point: every :class:`PointStats` field, per-generation maps spread out."""
    rows = []
    for s in stats:
        row: dict[str, Any] = {}
        for f in dataclasses.fields(PointStats):
            value = getattr(s, f.name)
            if f.name == "pauses_by_gen":
                for gen, summary in value.items():
                    for key, v in dataclasses.asdict(summary).items():
                        row[f"pause_gen{gen}_{key}"] = v
            elif f.name == "rss_change":
                for key in ("ratio", "low", "high", "significant"):
                    row[f"rss_change_{key}"] = getattr(value, key) if value else None
            elif isinstance(value, dict):
                for gen, v in value.items():
                    row[f"{f.name.removesuffix('_by_gen')}_gen{gen}"] = v
            elif isinstance(value, tuple):
                row[f.name] = "; ".join(str(v) for v in value)
            else:
                row[f.name] = value
        row["latency_p99_ns"] = s.latency_p99_ns
        row.update(_setting_parts(s))
        rows.append(row)
    return pd.DataFrame(rows)
