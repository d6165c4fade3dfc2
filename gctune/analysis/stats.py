"""Statistics of saved points: named once here, reused by every table, chart and report.

Pure functions over :class:`gctune.store.results.Point`; nothing here prints or plots.
Times in seconds per step, pauses in nanoseconds, memory in bytes.

Two references per workload: ``default`` (what users run today; ``*_ratio`` fields) and
``disabled`` (the no-collector floor; ``overhead`` and ``gap_recovered``). Time
comparisons use the mean of each worker process's values (:func:`run_means`), the
independent samples, resampled by :func:`compare_samples`.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

from gctune.analysis.fmt import fmt_ns
from gctune.analysis.growth import Growth, point_growth
from gctune.analysis.interference import interference
from gctune.analysis.intervals import Change, compare_samples, t95, t_interval
from gctune.analysis.steady import (
    _steady_warnings,
    steady_state,
)
from gctune.measure.histogram import GAMMA, Histogram
from gctune.store.race import Stop, race_stop
from gctune.store.results import Point

__all__ = [
    "FRONT_KEYS",
    "Change",
    "PauseSummary",
    "PointStats",
    "compare_samples",
    "pareto_front",
    "pause_cdf",
    "point_stats",
    "run_cpu_per_step",
    "run_latency_p99",
    "run_means",
    "run_peak_rss",
    "steady_state",
    "t95",
    "t_interval",
    "workload_stats",
]

PAUSE_QUANTILES = (("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("p999", 0.999))
# pyperf check's thresholds: stdev ≥ 10% of the mean, min or max ≥ 50% away from it,
# raw values (one value's loops together) under 1 ms; fewer than 3 processes is too few
# independent samples for an interval.
NOISY_STDEV = 0.10
OUTLIER = 0.50
MIN_RAW_S = 1e-3
MIN_RUNS = 3


@dataclass(frozen=True)
class PauseSummary:
    """Collections of one generation (or all): count, total and quantiles, nanoseconds."""

    count: int
    total_ns: int
    p50_ns: float
    p90_ns: float
    p99_ns: float
    p999_ns: float
    max_ns: float


@dataclass(frozen=True)
class PointStats:
    """The statistics of one point; every table, chart and recommendation reads these.

    ``time_ratio`` is T / T_default with T the mean of the run means, and
    ``time_ratio_low``/``_high`` its 95% bootstrap interval (``time_significant``: the
    interval excludes 1). ``overhead`` is (T − T_disabled) / T_disabled with its interval;
    ``gap_recovered`` is (T_default − T) / (T_default − T_disabled), the share of the
    default→disabled gap this setting closes. ``rss_ratio`` is peak RSS / default's
    (largest of the workers: the memory a deployment must provision); ``rss_change`` the
    bootstrap comparison of the workers' peak RSS with default's (``significant``: the
    interval excludes 1), which tells growth from allocator noise.
    """

    workload: str
    setting: str
    ok: bool
    reason: Optional[str]
    n_runs: int
    n_values: int
    mean_s: float
    median_s: float
    stdev_s: float
    ci_low_s: float
    ci_high_s: float
    time_ratio: Optional[float]
    time_ratio_low: Optional[float]
    time_ratio_high: Optional[float]
    time_significant: bool
    overhead: Optional[float]
    overhead_low: Optional[float]
    overhead_high: Optional[float]
    gap_recovered: Optional[float]
    gc_share: float
    collections: int
    collections_by_gen: dict[int, int]
    collections_per_s_by_gen: dict[int, float]
    collected: int
    uncollectable: int
    pause_total_ns: int
    pause_p50_ns: float
    pause_p90_ns: float
    pause_p99_ns: float
    pause_p999_ns: float
    pause_max_ns: float
    pauses_by_gen: dict[int, PauseSummary]
    peak_rss_bytes: int
    rss_ratio: Optional[float]
    rss_change: Optional[Change]
    request_p50_ns: Optional[float]
    request_p99_ns: Optional[float]
    request_max_ns: Optional[float]
    thresholds: tuple[int, ...]
    frozen: int
    warnings: tuple[str, ...]
    rounds: int = 0
    steady: str = "unknown"
    """``steady`` (every span held ≥ 2 full collections), ``not steady`` (a span ran out
    of budget first: its time is a lower bound on its cost), ``collector off``,
    ``no full collections`` (none predicted nor seen) or ``unknown`` (format 1)."""
    full_collections_min: Optional[int] = None
    missed_bound: Optional[float] = None
    """At most this share of time is full-collection work the spans did not see."""
    predicted_period: Optional[float] = None
    observed_period: Optional[float] = None
    growth: Optional[Growth] = None
    race: Optional[Stop] = None
    """Why the point's measuring stopped (its race record), None while it raced to the end."""
    paired: bool = False
    """True when ratios come from round-paired samples (see :mod:`gctune.analysis.paired`)."""
    gc_interference: Optional[str] = None
    """One line when the program called gc functions itself (see
    :mod:`gctune.analysis.interference`)."""
    gc_changed: bool = False
    """True when the program changed the setting under gctune: the point is not its setting."""
    span_steps_min: Optional[int] = None
    """Fewest measured steps in one span (None: runs without a span)."""
    span_budget_s: Optional[float] = None
    """The largest time budget of its spans, seconds."""
    time_basis: Optional[str] = None
    """The chunks ``time_ratio`` was taken over: ``full speed, 18 of 20 rounds`` or
    ``every chunk`` (:mod:`gctune.analysis.time_basis`); None without a ratio."""

    @property
    def latency_p99_ns(self) -> float:
        """The tail latency users feel: request p99 when recorded, else pause p99."""
        return self.request_p99_ns if self.request_p99_ns is not None else self.pause_p99_ns


def _merged(hists: Sequence[Histogram]) -> Histogram:
    total = Histogram()
    for h in hists:
        total.merge(h)
    return total


def _summary(hist: Histogram) -> PauseSummary:
    q = {name: hist.quantile(p) for name, p in PAUSE_QUANTILES}
    return PauseSummary(
        count=hist.count,
        total_ns=hist.total,
        p50_ns=q["p50"],
        p90_ns=q["p90"],
        p99_ns=q["p99"],
        p999_ns=q["p999"],
        max_ns=float(hist.max),
    )


def _failed(point: Point) -> PointStats:
    nan = math.nan
    return PointStats(
        workload=point.workload,
        setting=point.setting,
        ok=False,
        reason=point.reason,
        n_runs=0,
        n_values=0,
        mean_s=nan,
        median_s=nan,
        stdev_s=nan,
        ci_low_s=nan,
        ci_high_s=nan,
        time_ratio=None,
        time_ratio_low=None,
        time_ratio_high=None,
        time_significant=False,
        overhead=None,
        overhead_low=None,
        overhead_high=None,
        gap_recovered=None,
        gc_share=nan,
        collections=0,
        collections_by_gen={},
        collections_per_s_by_gen={},
        collected=0,
        uncollectable=0,
        pause_total_ns=0,
        pause_p50_ns=nan,
        pause_p90_ns=nan,
        pause_p99_ns=nan,
        pause_p999_ns=nan,
        pause_max_ns=nan,
        pauses_by_gen={},
        peak_rss_bytes=0,
        rss_ratio=None,
        rss_change=None,
        request_p50_ns=None,
        request_p99_ns=None,
        request_max_ns=None,
        thresholds=(),
        frozen=0,
        warnings=(),
    )


def _warnings(point: Point, mean: float, stdev: float) -> tuple[str, ...]:
    """Why a point's numbers may be doubtful, in the spirit of ``pyperf check``."""
    values = point.values
    out: list[str] = []
    if len(values) >= 2 and mean > 0 and stdev / mean >= NOISY_STDEV:
        out.append(
            f"the standard deviation ({fmt_ns(stdev * 1e9)}) is {stdev / mean:.0%} of the "
            f"mean ({fmt_ns(mean * 1e9)})"
        )
    for name, value in (("minimum", min(values)), ("maximum", max(values))):
        if mean > 0 and abs(value - mean) / mean >= OUTLIER:
            side = "greater" if value > mean else "smaller"
            out.append(
                f"outlier: the {name} ({fmt_ns(value * 1e9)}) is "
                f"{abs(value - mean) / mean:.0%} {side} than the mean"
            )
    if len(point.runs) < MIN_RUNS:
        out.append(
            f"too few samples: {len(point.runs)} worker span(s) (rounds), "
            f"at least {MIN_RUNS} are needed for an interval"
        )
    if all(run.gc_enabled for run in point.runs) and not any(r.collections for r in point.runs):
        out.append(
            "no collection ran while measuring: this setting's pauses are unmeasured "
            "(measure longer spans: --max-point-time; a --command program: more values "
            "or a larger --min-time)"
        )
    if point.loops and min(values) * point.loops < MIN_RAW_S:
        out.append(
            f"the shortest raw value is only {fmt_ns(min(values) * point.loops * 1e9)} "
            "(timer noise dominates under 1 ms)"
        )
    return tuple(out)


def point_stats(
    point: Point, default: Optional[Point] = None, disabled: Optional[Point] = None
) -> PointStats:
    """Statistics of ``point``, relative to ``default`` and ``disabled`` when finished."""
    if not point.ok:
        return _failed(point)
    values = point.values
    pauses = _merged([h for run in point.runs for h in run.pauses.values()])
    gens = sorted({g for run in point.runs for g in run.pauses})
    by_gen = {g: _merged([r.pauses[g] for r in point.runs if g in r.pauses]) for g in gens}
    wall = sum(run.wall_ns for run in point.runs)
    requests = _merged([run.requests for run in point.runs if run.requests is not None])
    low, high = t_interval(values)
    mean = statistics.fmean(values)
    stdev = statistics.stdev(values) if len(values) > 1 else 0.0
    peak = max(run.peak_rss_bytes for run in point.runs)
    means = run_means(point)
    t_point = statistics.fmean(means)

    time_change = overhead = None
    rss_ratio = gap = rss_change = None
    if default is not None and default.ok:
        time_change = _time_change(default, point)
        rss_ratio = peak / max(run.peak_rss_bytes for run in default.runs)
        rss_change = compare_samples(run_peak_rss(default), run_peak_rss(point))
    if disabled is not None and disabled.ok:
        overhead = _time_change(disabled, point)
        if time_change is not None:
            # both ratios paired within rounds: floor / default = (point / default) /
            # (point / floor), so drift and speed changes cancel as in the ratios
            floor = time_change.ratio / overhead.ratio
            if floor < 1.0:
                gap = (1.0 - time_change.ratio) / (1.0 - floor)
    overall = _summary(pauses)
    steadiness = steady_state(point, _full_pause(default))
    own = interference(point)
    spans = [r.span for r in point.runs if r.span is not None]
    steps = [int(sp["steps"]) for sp in spans]
    budgets = [float(sp["budget_s"]) for sp in spans if sp.get("budget_s")]
    return PointStats(
        workload=point.workload,
        setting=point.setting,
        ok=True,
        reason=None,
        n_runs=len(point.runs),
        n_values=len(values),
        mean_s=mean,
        median_s=statistics.median(values),
        stdev_s=stdev,
        ci_low_s=low,
        ci_high_s=high,
        time_ratio=time_change.ratio if time_change else None,
        time_ratio_low=time_change.low if time_change else None,
        time_ratio_high=time_change.high if time_change else None,
        time_significant=time_change.significant if time_change else False,
        overhead=overhead.ratio - 1.0 if overhead else None,
        overhead_low=overhead.low - 1.0 if overhead else None,
        overhead_high=overhead.high - 1.0 if overhead else None,
        gap_recovered=gap,
        gc_share=pauses.total / wall if wall else 0.0,
        collections=pauses.count,
        collections_by_gen={g: h.count for g, h in by_gen.items()},
        collections_per_s_by_gen={g: h.count * 1e9 / wall for g, h in by_gen.items() if wall},
        collected=sum(n for run in point.runs for n in run.collected.values()),
        uncollectable=sum(n for run in point.runs for n in run.uncollectable.values()),
        pause_total_ns=overall.total_ns,
        pause_p50_ns=overall.p50_ns,
        pause_p90_ns=overall.p90_ns,
        pause_p99_ns=overall.p99_ns,
        pause_p999_ns=overall.p999_ns,
        pause_max_ns=overall.max_ns,
        pauses_by_gen={g: _summary(h) for g, h in by_gen.items()},
        peak_rss_bytes=peak,
        rss_ratio=rss_ratio,
        rss_change=rss_change,
        request_p50_ns=requests.quantile(0.5) if requests.count else None,
        request_p99_ns=requests.quantile(0.99) if requests.count else None,
        request_max_ns=float(requests.max) if requests.count else None,
        thresholds=point.runs[0].thresholds,
        frozen=max(run.frozen for run in point.runs),
        warnings=_warnings(point, mean, stdev) + _steady_warnings(point, steadiness),
        rounds=len({r.round for r in point.runs if r.round is not None}),
        steady=steadiness.status,
        full_collections_min=steadiness.full_min,
        missed_bound=steadiness.missed_bound,
        predicted_period=steadiness.predicted,
        observed_period=steadiness.observed,
        growth=point_growth(point, t_point),
        race=race_stop(point.race),
        time_basis=_basis_text(time_change),
        paired=_has_rounds(point) and default is not None and _has_rounds(default),
        gc_interference=own.line if own else None,
        gc_changed=own.changed if own else False,
        span_steps_min=min(steps) if steps else None,
        span_budget_s=max(budgets) if budgets else None,
    )


def run_peak_rss(point: Point) -> list[float]:
    """Peak RSS of each worker run, bytes: the independent memory samples."""
    return [float(run.peak_rss_bytes) for run in point.runs]


def workload_stats(points: Sequence[Point]) -> dict[str, list[PointStats]]:
    """Statistics of every point, grouped by workload, against its default and disabled."""
    grouped: dict[str, list[Point]] = {}
    for point in points:
        grouped.setdefault(point.workload, []).append(point)
    out: dict[str, list[PointStats]] = {}
    for workload, group in grouped.items():
        default = next((p for p in group if p.setting == "default"), None)
        disabled = next((p for p in group if p.setting == "disabled"), None)
        out[workload] = [point_stats(p, default, disabled) for p in group]
    return out


# The front is over what a user trades: time per step, peak memory, tail pause.
FRONT_KEYS = ("mean_s", "peak_rss_bytes", "pause_p99_ns")


def pareto_front(
    stats: Sequence[PointStats],
    keys: Sequence[str] = FRONT_KEYS,
    tolerance: Optional[Sequence[float]] = None,
) -> list[PointStats]:
    """Finished points no other point beats on every key (lower is better), in input order.

    A point is dominated when another is no worse on every key and better on one.
    ``tolerance`` (one relative margin per key) makes "no worse" practical: another
    point whose value exceeds this one's by at most that margin still counts as no
    worse, so an advantage smaller than the margin keeps nobody on the front.
    """
    ok = [s for s in stats if s.ok]
    vectors = [tuple(float(getattr(s, k)) for k in keys) for s in ok]
    margins = tuple(tolerance) if tolerance is not None else (0.0,) * len(keys)

    def dominated(v: tuple[float, ...]) -> bool:
        return any(
            all(a <= b * (1 + m) for a, b, m in zip(w, v, margins))
            and any(a < b for a, b in zip(w, v))
            for w in vectors
        )

    return [s for s, v in zip(ok, vectors) if not dominated(v)]


def pause_cdf(point: Point) -> list[tuple[float, float]]:
    """Cumulative distribution of a point's pauses: (duration ns, fraction ≤ it) steps.

    Each histogram bucket contributes its upper edge (clamped to the exact maximum), so
    the curve is within the histogram's relative error of the exact one.
    """
    hist = _merged([h for run in point.runs for h in run.pauses.values()])
    if hist.count == 0:
        return []
    out: list[tuple[float, float]] = []
    seen = hist.zeros
    if seen:
        out.append((float(max(hist.min, 0)), seen / hist.count))
    for index in sorted(hist.buckets):
        seen += hist.buckets[index]
        edge = min(max(GAMMA ** (index + 1), float(hist.min)), float(hist.max))
        out.append((edge, seen / hist.count))
    return out


def run_means(point: Point) -> list[float]:
    """Mean time per step of each worker run (seconds): the independent samples.

    Values within one worker process share its hash seed and memory layout, so the
    process, not the value, is the unit of resampling.
    """
    return [statistics.fmean(run.values) for run in point.runs if run.values]


def run_cpu_per_step(point: Point) -> list[float]:
    """Process CPU seconds per step of each worker run that recorded CPU time.

    A run covers its span's steps (format 1: ``len(values) * loops``).
    """
    loops = point.loops or 1
    return [
        run.cpu_ns / 1e9 / (run.steps or len(run.values) * loops)
        for run in point.runs
        if run.cpu_ns is not None and run.values
    ]


def run_latency_p99(point: Point, *, requests: bool) -> list[float]:
    """Each worker run's p99 latency (nanoseconds): request latency when ``requests``,
    else GC pause (0 for a run without collections). The independent latency samples.
    """
    out: list[float] = []
    for run in point.runs:
        if requests:
            if run.requests is not None and run.requests.count:
                out.append(run.requests.quantile(0.99))
        else:
            out.append(_merged(list(run.pauses.values())).quantile(0.99))
    return out


def _full_pause(default: Optional[Point]) -> Optional[float]:
    """Default's longest full collection (ns): the size of one full collection."""
    if default is None or not default.ok:
        return None
    fulls = [
        h.max
        for r in default.runs
        for g, h in r.pauses.items()
        if h.count and g >= int((r.span or {}).get("full_generation", 2))
    ]
    return float(max(fulls)) if fulls else None


def _has_rounds(point: Point) -> bool:
    return bool(point.runs) and all(r.round is not None for r in point.runs)


def _basis_text(change: Optional[Change]) -> Optional[str]:
    from gctune.analysis.time_basis import basis_text

    return basis_text(change)


def _time_change(base: Point, new: Point) -> Change:
    """Time per step of ``new`` relative to ``base``: round-paired when both were
    measured in rounds, else the bootstrap over worker processes."""
    from gctune.analysis.time_basis import time_change

    if _has_rounds(base) and _has_rounds(new):
        change = time_change(base, new)
        if change is not None:
            return change
    return compare_samples(run_means(base), run_means(new))
