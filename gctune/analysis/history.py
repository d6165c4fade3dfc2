"""GC metrics over many result sets (one per commit): series, step detection, a chart.

Each result set is labelled with the git commit and date its manifest recorded
(``environment.git_commit``, ``environment.git_date``; the sweep id and creation time
when there is no git), and the sets are ordered by that date. For every (workload,
setting) the mean time per step (the statistic every table of gctune shows) and the GC
pause p99 form a series; between two
consecutive sets a metric has *stepped* when the 95% bootstrap interval of its
new/old ratio (per-run samples, as in :mod:`gctune.analysis.compare`) lies wholly beyond
``1 ± min_effect``: beyond its noise and larger than the smallest effect worth a look.

Times are compared only between result sets of one machine (:mod:`gctune.store.machine`),
unless ``any_machine``: a step from one machine to another is the machines' difference
as much as the code's. Such consecutive pairs are listed in ``History.apart``; a set is
compared with the latest earlier set of its own machine instead, when there is one.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Optional

from gctune.analysis.compare import interpreter_label
from gctune.analysis.compare_metrics import beyond, run_p99s
from gctune.analysis.intervals import Change, compare_samples
from gctune.analysis.stats import point_stats, run_means
from gctune.errors import UserError
from gctune.measure.settings import canonical_id
from gctune.store.machine import Machine, machines_apart
from gctune.store.results import Point, ResultError, load_sweep_partial

__all__ = [
    "DEFAULT_MIN_EFFECT",
    "Entry",
    "History",
    "HistoryError",
    "ResultSet",
    "Series",
    "Step",
    "load_history",
    "nothing_to_compare",
]

DEFAULT_MIN_EFFECT = 0.05


class HistoryError(UserError):
    """A history chart that cannot be written; one line naming the file."""


@dataclass(frozen=True)
class ResultSet:
    """One result directory and what it was measured on."""

    path: Path
    label: str
    commit: Optional[str]
    date: str
    python: str
    machine: Machine


@dataclass(frozen=True)
class Step:
    """A metric that moved beyond its noise between two consecutive result sets."""

    workload: str
    setting: str
    metric: str
    before: str
    after: str
    change: Change
    note: str = ""

    def __str__(self) -> str:
        pct = (self.change.ratio - 1) * 100
        low, high = ((x - 1) * 100 for x in (self.change.low, self.change.high))
        text = (
            f"{self.workload}@{self.setting}: {self.metric} {pct:+.1f}% "
            f"[{low:+.1f}%, {high:+.1f}%] from {self.before} to {self.after}"
        )
        return f"{text} ({self.note})" if self.note else text


@dataclass(frozen=True)
class Entry:
    """One finished point of a series. Time in seconds per step, pause in nanoseconds."""

    set_index: int
    label: str
    date: str
    python: str
    mean_s: float
    p99_ns: float
    time_change: Optional[Change]
    p99_change: Optional[Change]
    steps: tuple[str, ...]


@dataclass(frozen=True)
class Series:
    """A (workload, setting) across result sets, oldest first."""

    workload: str
    setting: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class History:
    """Result sets in date order, a series per (workload, setting), and every step found."""

    sets: tuple[ResultSet, ...]
    series: tuple[Series, ...]
    steps: tuple[Step, ...]
    min_effect: float
    damaged: tuple[str, ...] = ()
    """Point files that could not be read and were left out, one line each."""
    apart: tuple[str, ...] = ()
    """Consecutive result sets from different machines whose times were not compared:
    ``aaaaaaa → bbbbbbb (host-a (...) and host-b (...))``, one each."""


def _sort_key(date: str) -> tuple[int, float, str]:
    try:
        parsed = _dt.datetime.fromisoformat(date)
    except ValueError:
        return (1, 0.0, date)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.timezone.utc)
    return (0, parsed.timestamp(), date)


def _load_sets(dirs: Sequence[Path], damaged: list[str]) -> list[tuple[ResultSet, list[Point]]]:
    loaded: list[tuple[Any, ResultSet, list[Point]]] = []
    for path in dirs:
        manifest, points, unreadable = load_sweep_partial(path)
        damaged += map(str, unreadable)
        env = manifest.environment
        recorded = env.get("git_commit")
        commit = recorded if isinstance(recorded, str) and recorded else None  # a damaged one: none
        date = str(env.get("git_date") or manifest.created)
        label = commit[:7] if commit else manifest.sweep_id
        python = interpreter_label(dict(env.get("python") or {}))
        order = (_sort_key(date), _sort_key(manifest.created))
        machine = Machine.of(env)
        loaded.append((order, ResultSet(path, label, commit, date, python, machine), points))
    # sets made at one commit keep their creation order
    loaded.sort(key=lambda item: item[0])
    seen: dict[str, int] = {}
    out = []
    for _, rs, points in loaded:
        seen[rs.label] = seen.get(rs.label, 0) + 1
        if seen[rs.label] > 1:
            rs = replace(rs, label=f"{rs.label}#{seen[rs.label]}")
        out.append((rs, points))
    return out


def _step(
    metric: str, before: Sequence[float], after: Sequence[float], min_effect: float
) -> tuple[Optional[Change], bool]:
    if not before or not after:
        return None, False
    change = compare_samples(before, after)
    up = beyond(change, min_effect)
    down = change.significant and change.high < 1.0 - min_effect
    return change, up or down


def load_history(
    dirs: Sequence[Path], *, min_effect: float = DEFAULT_MIN_EFFECT, any_machine: bool = False
) -> History:
    """Read result sets, order them by commit date, and find the steps in each series.

    Times of consecutive sets from different machines are compared only with
    ``any_machine``."""
    if not dirs:
        raise ResultError("history needs at least one result directory")
    damaged: list[str] = []
    sets = _load_sets(dirs, damaged)
    by_key: dict[tuple[str, str], list[tuple[int, ResultSet, Point]]] = {}
    for index, (rs, points) in enumerate(sets):
        for point in points:
            if point.ok:
                key = (point.workload, canonical_id(point.setting))
                by_key.setdefault(key, []).append((index, rs, point))
    all_series: list[Series] = []
    all_steps: list[Step] = []
    apart: dict[str, None] = {}  # ordered, each pair once
    for (workload, setting), items in sorted(by_key.items()):
        entries: list[Entry] = []
        previous: Optional[tuple[ResultSet, Point]] = None
        seen: list[tuple[ResultSet, Point]] = []
        for index, rs, point in items:
            stats = point_stats(point)
            time_change = p99_change = None
            stepped: list[str] = []
            machines = (
                machines_apart(previous[0].machine, rs.machine) if previous is not None else None
            )
            if previous is not None and machines is not None and not any_machine:
                apart[f"{previous[0].label} → {rs.label} ({machines})"] = None
                # the latest earlier set of this machine, if any, is its previous one
                previous = next(
                    (e for e in reversed(seen) if not e[0].machine.differs_from(rs.machine)), None
                )
            if previous is not None:
                prev_rs, prev = previous
                note = f"{prev_rs.python} → {rs.python}" if prev_rs.python != rs.python else ""
                for metric, before, after in (
                    ("time", run_means(prev), run_means(point)),
                    ("p99", run_p99s(prev), run_p99s(point)),
                ):
                    change, moved = _step(metric, before, after, min_effect)
                    if metric == "time":
                        time_change = change
                    else:
                        p99_change = change
                    if moved and change is not None:
                        stepped.append(metric)
                        all_steps.append(
                            Step(workload, setting, metric, prev_rs.label, rs.label, change, note)
                        )
            entries.append(
                Entry(
                    set_index=index,
                    label=rs.label,
                    date=rs.date,
                    python=rs.python,
                    mean_s=stats.mean_s,
                    p99_ns=stats.pause_p99_ns if stats.collections else math.nan,
                    time_change=time_change,
                    p99_change=p99_change,
                    steps=tuple(stepped),
                )
            )
            previous = (rs, point)
            seen.append(previous)
        all_series.append(Series(workload, setting, tuple(entries)))
    return History(
        sets=tuple(rs for rs, _ in sets),
        series=tuple(all_series),
        steps=tuple(all_steps),
        min_effect=min_effect,
        damaged=tuple(damaged),
        apart=tuple(apart),
    )


def nothing_to_compare(history: History) -> Optional[str]:
    """Why ``history`` holds no change to look at, or None when it does."""
    if len(history.sets) < 2:
        return (
            f"only {len(history.sets)} result set: nothing to compare "
            "(give the result directories of two or more commits)"
        )
    if not any(len(series.entries) > 1 for series in history.series):
        return (
            f"no finished (workload, setting) point is in two of the {len(history.sets)} "
            "result sets: nothing to compare"
        )
    return None
