"""Compare two result sets point by point: the CI gate behind ``gctune compare``.

Points are matched by (workload, setting, interpreter), settings by their id as written
today (:func:`gctune.measure.settings.canonical_id`: an older result's ``t50000`` matches
``t50000-10-10``). For each matched pair every
metric is compared on per-run samples, since the worker process is the independent unit
(see :func:`gctune.analysis.stats.run_means`):

- ``time`` (seconds per step), ``p99`` (GC pause p99 of each run, ns) and ``rss``
  (peak RSS of each run, bytes) are noisy. They are compared with
  :func:`gctune.analysis.intervals.compare_samples` (ratio of means, 95% bootstrap interval), and a
  metric regresses only when the whole interval lies above ``1 + threshold``: the slowdown
  is beyond the threshold with 97.5% one-sided confidence, not merely a point estimate
  that crossed it on a noisy day.
- ``collections`` (per generation) of points measured in spans are compared as rates per
  step with the bounds of :mod:`gctune.analysis.collection_rates` (where a span starts and ends
  in the
  collector's rhythm, and the spans' own spread); exact when every span measured the
  same number of steps.
- ``collections`` of older points (pyperf processes) and ``collected`` (objects) are
  counts that a deterministic workload repeats exactly. They are compared as rates per measured step
  (a run measures ``values x loops`` steps), because two sweeps may calibrate different
  loop counts. When every run on both sides measured the same number of steps the
  comparison is exact (``collections:0%`` fails on a single extra collection per run);
  otherwise each run's count may be off by one collection per measured span plus one at
  the edges. That allowance, and any spread between the runs of one side (objects
  collected can vary by a few between worker processes), is stated and added to the
  threshold.

Results from different Python versions or GC kinds are refused unless the caller allows
them. Times (``time``, ``cpu``, ``p99``) of result sets from different machines
(:mod:`gctune.store.machine`) are not compared unless the caller allows it: a time gate is
refused, and without one the counts and memory are compared and the times left out, with
a warning saying so. Pure functions: nothing here prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

from gctune.analysis.compare_metrics import (
    TIMED,
    beyond,
    compare_points,
    run_p99s,
)
from gctune.analysis.comparison import (
    GATES,
    CompareError,
    Comparison,
    FailedPoint,
    MetricResult,
    PointResult,
    Threshold,
    parse_threshold,
)
from gctune.analysis.stats import run_peak_rss
from gctune.measure.settings import canonical_id
from gctune.store.machine import Machine, machines_apart
from gctune.store.results import Manifest, Point, load_sweep_partial

__all__ = [
    "GATES",
    "CompareError",
    "Comparison",
    "FailedPoint",
    "MetricResult",
    "PointResult",
    "Threshold",
    "beyond",
    "busy_machine",
    "compare_points",
    "compare_sweeps",
    "interpreter_label",
    "parse_threshold",
    "run_p99s",
    "run_peak_rss",
]


def interpreter_label(info: dict[str, Any]) -> str:
    """``CPython 3.12.1 generational``: what must match for two points to be compared."""
    impl = info.get("implementation") or "Python"
    version = info.get("version") or "?"
    kind = info.get("gc_kind") or ("free-threaded" if info.get("free_threaded") else "")
    return " ".join(str(part) for part in (impl, version, kind) if part)


def busy_machine(side: str, points: Sequence[Point], manifest: Manifest) -> Optional[str]:
    """A warning when other processes competed for the CPUs while ``points`` were timed.

    pyperf records the 1-minute load average with each run; above the CPU count, the
    measured worker shared a core, and its wall time says as much about the machine's
    other work as about the workload.
    """
    cpus = manifest.environment.get("cpu_count")
    loads = [x for p in points for x in p.load_avg_1min]
    if not isinstance(cpus, int) or not loads or max(loads) <= cpus:
        return None
    return (
        f"{side}: the load average reached {max(loads):.1f} on {cpus} CPUs while it was "
        "measured; its times include waiting for the CPU, so a time gate may judge noise"
    )


Key = tuple[str, str, str]


def _index(points: Sequence[Point], manifest: Manifest, *, with_python: bool) -> dict[Key, Point]:
    fallback = dict(manifest.environment.get("python") or {})
    index: dict[Key, Point] = {}
    for point in points:
        label = interpreter_label(point.interpreter or fallback) if with_python else ""
        index[(point.workload, canonical_id(point.setting), label)] = point
    return index


def _pythons(points: Sequence[Point], manifest: Manifest) -> set[str]:
    fallback = dict(manifest.environment.get("python") or {})
    labels = {interpreter_label(p.interpreter or fallback) for p in points}
    return labels or {interpreter_label(fallback)}


def _names(index: dict[Key, Point], most: int = 12) -> str:
    """``workload@setting`` of a side's points, for a message: the first ``most`` of them."""
    labels = [f"{p.workload}@{p.setting}" for p in index.values()]
    if not labels:
        return "no point"
    more = f" and {len(labels) - most} more" if len(labels) > most else ""
    return ", ".join(labels[:most]) + more


def _labels(side: dict[Key, Point], other: dict[Key, Point]) -> list[str]:
    """``workload@setting`` of the points of ``side`` that ``other`` lacks, as written."""
    return [f"{p.workload}@{p.setting}" for k, p in side.items() if k not in other]


WITHIN_ROUNDS = ("fullspeed",)  # gate metrics that need both sides in the same rounds


def compare_sweeps(
    base_dir: Path,
    new_dir: Path,
    *,
    thresholds: Sequence[Threshold] = (),
    allow_different_python: bool = False,
    allow_missing: bool = False,
    allow_different_machine: bool = False,
) -> Comparison:
    """Compare the result set in ``new_dir`` against ``base_dir`` under ``thresholds``.

    A point of base that is missing or failed in new is a regression unless
    ``allow_missing``.

    Raises :class:`CompareError` when the interpreters differ (unless allowed) or when
    the two sets have no point in common; :class:`gctune.store.results.ResultError` when a
    directory is not a readable result set.
    """
    limits: dict[str, float] = {}
    for t in thresholds:
        if t.metric in WITHIN_ROUNDS:
            raise CompareError(
                f"{t.metric} compares spans of the same rounds: gate it with gctune gate on "
                "one interleaved sweep, not with compare"
            )
        limits[t.metric] = min(t.limit, limits.get(t.metric, t.limit))
    base_manifest, base_points, base_damaged = load_sweep_partial(base_dir)
    new_manifest, new_points, new_damaged = load_sweep_partial(new_dir)
    base_py, new_py = _pythons(base_points, base_manifest), _pythons(new_points, new_manifest)
    if base_py != new_py and not allow_different_python:
        raise CompareError(
            f"base was measured on {', '.join(sorted(base_py))} and new on "
            f"{', '.join(sorted(new_py))}: GC behaviour differs between Python versions and GC "
            "kinds; pass --allow-different-python to compare anyway"
        )
    machines = machines_apart(
        Machine.of(base_manifest.environment), Machine.of(new_manifest.environment)
    )
    timed = machines is None or allow_different_machine
    time_gates = sorted(m for m in limits if m in TIMED)
    if not timed and time_gates:
        raise CompareError(
            f"base and new were measured on different machines, {machines}: their times "
            f"differ by the machines, so a {', '.join(time_gates)} gate would judge them; "
            "pass --allow-different-machine to compare anyway"
        )
    with_python = base_py == new_py
    base_index = _index(base_points, base_manifest, with_python=with_python)
    new_index = _index(new_points, new_manifest, with_python=with_python)
    common = [k for k in base_index if k in new_index]
    if not common:
        raise CompareError(
            f"{base_dir} and {new_dir} have no (workload, setting) point in common: "
            f"{base_dir} has {_names(base_index)}; {new_dir} has {_names(new_index)}"
        )
    results: list[PointResult] = []
    failed: list[FailedPoint] = []
    for key in common:
        b, n = base_index[key], new_index[key]
        label = f"{n.workload}@{n.setting}"  # as the new side spells it
        if not (b.ok and n.ok):
            side = "both" if not (b.ok or n.ok) else ("base" if not b.ok else "new")
            reason = "; ".join(
                f"{name}: {p.reason}" for name, p in (("base", b), ("new", n)) if not p.ok
            )
            failed.append(FailedPoint(label, side, reason))
            continue
        interpreter = key[2] or (
            f"{interpreter_label(b.interpreter)} → {interpreter_label(n.interpreter)}"
        )
        results.append(
            PointResult(
                workload=n.workload,
                setting=n.setting,
                interpreter=interpreter,
                base_size=b.size,
                new_size=n.size,
                base_loops=b.loops,
                new_loops=n.loops,
                metrics=compare_points(b, n, limits, timed=timed),
            )
        )
    return Comparison(
        base=str(base_dir),
        new=str(new_dir),
        base_python=", ".join(sorted(base_py)),
        new_python=", ".join(sorted(new_py)),
        thresholds=tuple(thresholds),
        points=tuple(results),
        failed=tuple(failed),
        only_in_base=tuple(_labels(base_index, new_index)),
        only_in_new=tuple(_labels(new_index, base_index)),
        warnings=tuple(
            w
            for w in (
                busy_machine("base", base_points, base_manifest),
                busy_machine("new", new_points, new_manifest),
                None
                if timed
                else f"time, cpu and p99 not compared: measured on different machines, "
                f"{machines} (--allow-different-machine compares them)",
            )
            if w
        ),
        damaged=tuple(str(e) for e in (*base_damaged, *new_damaged)),
        allow_missing=allow_missing,
    )
