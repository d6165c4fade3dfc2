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

import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

from gctune.analysis.collection_rates import compare_rates
from gctune.analysis.intervals import Change, compare_samples
from gctune.analysis.stats import run_cpu_per_step, run_latency_p99, run_means, run_peak_rss
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

# The metrics a gate can name, with their unit and how they are compared.
GATES: dict[str, str] = {
    "time": "time per step (s); bootstrap interval of the ratio of run means",
    "cpu": "process CPU time per step (s) of each run; bootstrap interval of the ratio",
    "p99": "GC pause p99 of each run (ns); bootstrap interval of the ratio of means",
    "rss": "peak RSS of each run (bytes); bootstrap interval of the ratio of means",
    "collections": "collections per step, each generation; exact at equal steps per run",
    "collected": "objects collected per step; exact at equal steps per run",
}
RULE = (
    "time, cpu, p99, rss: regression when the 95% bootstrap interval of new/base lies wholly "
    "above 1 + threshold; collections: regression when new's lower bound per step exceeds "
    "base's upper bound x (1 + threshold) (bounds: where spans start and end in the "
    "collector's rhythm, and their spread; exact at equal steps); collected: when the rate "
    "per step exceeds base x (1 + threshold) + the stated quantisation allowance"
)


class CompareError(ValueError):
    """Two result sets that cannot be compared, or a gate that cannot be read."""


@dataclass(frozen=True)
class Threshold:
    """``--fail-on METRIC:PERCENT``: ``limit`` is a fraction (0.05 for 5%)."""

    metric: str
    limit: float

    def __str__(self) -> str:
        return f"{self.metric}:{self.limit * 100:g}%"


_THRESHOLD = re.compile(r"^\s*([a-z0-9]+)\s*:\s*([0-9]*\.?[0-9]+)\s*%?\s*$")


def parse_threshold(text: str) -> Threshold:
    """Parse ``time:5%`` (a percent; the ``%`` is optional) into a :class:`Threshold`."""
    match = _THRESHOLD.match(text.lower())
    if not match:
        raise CompareError(f"cannot read gate {text!r}: write METRIC:PERCENT, e.g. time:5%")
    metric, number = match.group(1), float(match.group(2))
    if metric not in GATES:
        raise CompareError(f"unknown metric {metric!r} in {text!r}: choose from {', '.join(GATES)}")
    return Threshold(metric, number / 100)


@dataclass(frozen=True)
class MetricResult:
    """One metric of one matched point. ``base``/``new`` in the metric's unit."""

    metric: str
    gate: str
    base: float
    new: float
    ratio: float
    low: float
    high: float
    significant: bool
    limit: Optional[float]
    regression: bool
    note: str = ""


@dataclass(frozen=True)
class PointResult:
    """A point present and finished on both sides, with its compared metrics."""

    workload: str
    setting: str
    interpreter: str
    base_size: Optional[int]
    new_size: Optional[int]
    base_loops: Optional[int]
    new_loops: Optional[int]
    metrics: tuple[MetricResult, ...]

    @property
    def label(self) -> str:
        """``workload@setting``."""
        return f"{self.workload}@{self.setting}"

    @property
    def regression(self) -> bool:
        """True when any gated metric regressed."""
        return any(m.regression for m in self.metrics)


@dataclass(frozen=True)
class FailedPoint:
    """A matched point that did not finish on one side or both; not compared."""

    label: str
    side: str
    reason: str

    @property
    def regression(self) -> bool:
        """A point that finished on the base side and fails on the new side is a regression
        (unless the comparison allows missing points)."""
        return self.side == "new"


@dataclass(frozen=True)
class Comparison:
    """Everything ``gctune compare`` reports; ``exit_code`` is the gate's verdict."""

    base: str
    new: str
    base_python: str
    new_python: str
    thresholds: tuple[Threshold, ...]
    points: tuple[PointResult, ...]
    failed: tuple[FailedPoint, ...] = ()
    only_in_base: tuple[str, ...] = ()
    only_in_new: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    rule: str = field(default=RULE)
    damaged: tuple[str, ...] = ()
    """Point files of either side that could not be read and were left out, one line each."""
    allow_missing: bool = False
    """When False, a point of base missing from new (not measured, or its file damaged)
    or failed in new fails the gate: a change that breaks a workload outright must not
    pass for lack of numbers."""

    @property
    def regressions(self) -> list[str]:
        """One line per regression: ``workload@setting: metric +12.3% [...]``."""
        lines = [
            f"{p.label}: {m.metric} {_pct(m.ratio)} [{_pct(m.low)}, {_pct(m.high)}] "
            f"beyond {m.gate}:{(m.limit or 0) * 100:g}%"
            for p in self.points
            for m in p.metrics
            if m.regression
        ]
        if not self.allow_missing:
            lines += [
                f"{f.label}: failed on the new side: {f.reason}"
                for f in self.failed
                if f.regression
            ]
            lines += [f"{label}: missing on the new side" for label in self.only_in_base]
        return lines

    @property
    def exit_code(self) -> int:
        """0 when no gate failed, 1 on a regression."""
        return 1 if self.regressions else 0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary; ratios that are infinite or undefined become ``null``."""
        data = asdict(self)
        data["thresholds"] = {t.metric: t.limit for t in self.thresholds}
        for point, out in zip(self.points, data["points"]):
            out["regression"] = point.regression
        for failed, out in zip(self.failed, data["failed"]):
            out["regression"] = failed.regression and not self.allow_missing
        data.update(
            regression=bool(self.regressions),
            regressions=self.regressions,
            exit_code=self.exit_code,
        )
        return _jsonable(data)  # type: ignore[no-any-return]


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _pct(ratio: float) -> str:
    return "from 0" if math.isinf(ratio) else f"{(ratio - 1) * 100:+.1f}%"


def interpreter_label(info: dict[str, Any]) -> str:
    """``CPython 3.12.1 generational``: what must match for two points to be compared."""
    impl = info.get("implementation") or "Python"
    version = info.get("version") or "?"
    kind = info.get("gc_kind") or ("free-threaded" if info.get("free_threaded") else "")
    return " ".join(str(part) for part in (impl, version, kind) if part)


def run_p99s(point: Point) -> list[float]:
    """GC pause p99 of each run that collected at least once, nanoseconds.

    A run without collections has no pause to regress, so it is not a sample here.
    """
    p99s = run_latency_p99(point, requests=False)
    return [p99 for p99, run in zip(p99s, point.runs) if run.collections]


def _steps(point: Point) -> list[int]:
    """Steps measured in each run: its span's, else values x loops (format 1)."""
    loops = point.loops or 1
    return [run.steps or len(run.values) * loops for run in point.runs]


def _count_samples(point: Point, metric: str, generation: Optional[int]) -> list[int]:
    if metric == "collected":
        return [sum(run.collected.values()) for run in point.runs]
    assert generation is not None
    return [run.pauses[generation].count if generation in run.pauses else 0 for run in point.runs]


def beyond(change: Change, limit: float) -> bool:
    """True when ``change`` is an increase beyond ``limit`` (a fraction) with confidence.

    The whole 95% interval must lie above ``1 + limit``; a point estimate past the
    limit with an interval reaching below it is noise as far as the gate is concerned.
    """
    return change.significant and change.low > 1.0 + limit


def _sampled(
    metric: str, base: Sequence[float], new: Sequence[float], limit: Optional[float]
) -> MetricResult:
    if not base or not new:
        side = "base" if not base else "new"
        return MetricResult(
            metric,
            metric,
            math.nan,
            math.nan,
            math.nan,
            math.nan,
            math.nan,
            False,
            limit,
            False,
            f"no sample on the {side} side",
        )
    change = compare_samples(base, new)
    note = "" if min(len(base), len(new)) >= 2 else "one run: no interval, never significant"
    regression = limit is not None and beyond(change, limit)
    return MetricResult(
        metric,
        metric,
        statistics.fmean(base),
        statistics.fmean(new),
        change.ratio,
        change.low,
        change.high,
        change.significant,
        limit,
        regression,
        note,
    )


def _counted(
    name: str,
    gate: str,
    base_point: Point,
    new_point: Point,
    generation: Optional[int],
    limit: Optional[float],
) -> MetricResult:
    """Compare a count as a rate per measured step (see the module docstring)."""
    if gate == "collections" and generation is not None and _all_spans(base_point, new_point):
        return _span_rates(name, base_point, new_point, generation, limit)
    sides = []
    for point in (base_point, new_point):
        counts = _count_samples(point, gate, generation)
        steps = _steps(point)
        rates = [c / s for c, s in zip(counts, steps)]
        # one event's worth of this count, for the quantisation allowance
        events = sum(run.collections for run in point.runs)
        worth = sum(counts) / events if gate == "collected" and events else 1.0
        spans = statistics.fmean(len(run.values) for run in point.runs)
        quantum = (spans + 1) * worth / statistics.fmean(steps)
        sides.append((sum(counts) / sum(steps), set(steps), max(rates) - min(rates), quantum))
    (base_rate, base_steps, base_spread, base_q), (new_rate, new_steps, new_spread, new_q) = sides
    same_steps = len(base_steps | new_steps) == 1
    allowance = base_spread + new_spread + (0.0 if same_steps else base_q + new_q)
    ratio = _ratio(new_rate, base_rate)
    low = _ratio(max(0.0, new_rate - allowance), base_rate)
    high = _ratio(new_rate + allowance, base_rate)
    significant = abs(new_rate - base_rate) > allowance
    regression = limit is not None and new_rate > base_rate * (1.0 + limit) + allowance
    notes = []
    if not same_steps:
        notes.append(f"steps per run differ ({_span(base_steps)} vs {_span(new_steps)})")
    if base_spread or new_spread:
        notes.append("runs disagree")
    note = "exact" if allowance == 0 else f"allowance ±{allowance:.3g}/step: " + ", ".join(notes)
    return MetricResult(
        name, gate, base_rate, new_rate, ratio, low, high, significant, limit, regression, note
    )


def _all_spans(*points: Point) -> bool:
    return all(run.span and run.steps for p in points for run in p.runs)


def _span_rates(
    name: str, base: Point, new: Point, generation: int, limit: Optional[float]
) -> MetricResult:
    """Collections per step of points measured in spans (format 2).

    Bounds from :mod:`gctune.analysis.collection_rates`.
    """
    c = compare_rates(base.runs, new.runs, generation, limit)
    significant = c.new.low > c.base.high or c.new.high < c.base.low
    return MetricResult(
        name,
        "collections",
        c.base.rate,
        c.new.rate,
        c.ratio,
        c.low,
        c.high,
        significant,
        limit,
        c.regression,
        "exact" if c.exact else c.note(),
    )


def _ratio(new: float, base: float) -> float:
    if base:
        return new / base
    return 1.0 if new == 0 else math.inf


def _span(steps: set[int]) -> str:
    return str(min(steps)) if len(steps) == 1 else f"{min(steps)}-{max(steps)}"


TIMED = ("time", "cpu", "p99")
"""The metrics that are durations: they depend on the machine that measured them."""


def _not_timed(metric: str) -> MetricResult:
    nan = math.nan
    note = "not compared: measured on different machines"
    return MetricResult(metric, metric, nan, nan, nan, nan, nan, False, None, False, note)


def compare_points(
    base: Point, new: Point, limits: dict[str, float], *, timed: bool = True
) -> tuple[MetricResult, ...]:
    """Every metric of two finished points; ``limits`` maps a gate to its fraction.

    Without ``timed`` (two machines), the durations of :data:`TIMED` are not compared."""
    out = [
        _sampled("time", run_means(base), run_means(new), limits.get("time")),
        _sampled("cpu", run_cpu_per_step(base), run_cpu_per_step(new), limits.get("cpu")),
        _sampled("p99", run_p99s(base), run_p99s(new), limits.get("p99")),
        _sampled("rss", run_peak_rss(base), run_peak_rss(new), limits.get("rss")),
    ]
    if not timed:
        out = [_not_timed(m.metric) if m.metric in TIMED else m for m in out]
    generations = sorted({g for p in (base, new) for run in p.runs for g in run.pauses})
    for gen in generations:
        name = f"collections gen{gen}"
        out.append(_counted(name, "collections", base, new, gen, limits.get("collections")))
    out.append(_counted("collected", "collected", base, new, None, limits.get("collected")))
    return tuple(out)


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
