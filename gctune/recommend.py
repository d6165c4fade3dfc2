"""Which GC setting to use for a workload, under a memory budget, and how sure we are.

Rules (documented in the README, "Reports and recommendations"):

1. Candidates are the workload's finished points whose peak RSS is at most
   ``max_memory_ratio`` × default's. Failed points and points over the budget are
   excluded, each with its reason.
2. Each candidate is compared with ``default`` on the objective's per-worker-run samples
   (bootstrap ratio of means, 95% interval): ``throughput`` — mean time per step;
   ``latency`` — p99 request latency when the workload records requests, else p99 GC
   pause; ``balanced`` — sqrt(time × p99 latency) per run, the geometric mean of the two
   ratios, so a 10% gain in one pays for a 10% loss in the other.
3. Among candidates that beat default significantly (interval entirely below 1), the
   lowest ratio wins. If none does, default is recommended, and the report says so.
4. ``disabled`` leaks every reference cycle. When it wins but an enabled setting is not
   significantly worse than it on the objective, the enabled one is recommended.

Times are per step of a workload, or per whole run of a ``--command`` program (``per``).
Every note states what the numbers show: "fewer" pauses means fewer collections per
step; "longer" means a p99 pause (or longest request) more than 10% above default's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Callable, Optional

from gctune.analysis import Change, PointStats, compare_samples, run_latency_p99, run_means
from gctune.fmt import fmt_bytes, fmt_interval, fmt_ns, fmt_pct, fmt_ratio
from gctune.results import Point
from gctune.settings import SettingError, parse_setting

__all__ = [
    "DEFAULT_MAX_MEMORY_RATIO",
    "OBJECTIVES",
    "Excluded",
    "RecommendError",
    "Recommendation",
    "describe",
    "gap_text",
    "has_gap",
    "recommend",
    "snippet",
]

OBJECTIVES = ("throughput", "latency", "balanced")
DEFAULT_MAX_MEMORY_RATIO = 1.25
# A pause (or request) is called longer than default's only beyond this ratio: the
# histogram's quantiles are within 1%, and tails move by a few percent between runs.
LONGER = 1.10


class RecommendError(ValueError):
    """A recommendation that cannot be made from the data; one line for the user."""


@dataclass(frozen=True)
class Excluded:
    """A setting left out of the choice, and why."""

    setting: str
    reason: str


@dataclass(frozen=True)
class Recommendation:
    """The recommended setting of one workload and the evidence for it.

    ``change`` is the recommended setting's objective metric relative to default (None
    when default itself is recommended); ``best_other`` is the best candidate that was
    not recommended because it did not beat default significantly, if any.
    """

    workload: str
    objective: str
    metric: str
    max_memory_ratio: float
    stats: PointStats
    default: PointStats
    change: Optional[Change]
    best_other: Optional[tuple[PointStats, Change]]
    excluded: tuple[Excluded, ...]
    notes: tuple[str, ...]
    floor: Optional[PointStats] = None
    """The workload's ``disabled`` point, when it has one (for the gap closed)."""
    per: str = "step"
    """What a time is per: ``"step"`` of a workload or ``"run"`` of a program."""

    @property
    def setting(self) -> str:
        """The recommended setting's id."""
        return self.stats.setting

    @property
    def is_default(self) -> bool:
        """True when no setting beat default significantly."""
        return self.stats.setting == "default"


Samples = Callable[[Point], list[float]]


def _objective(objective: str, requests: bool, per: str) -> tuple[str, Samples]:
    if objective == "throughput":
        return f"time per {per}", run_means
    if objective == "latency":
        name = "p99 request latency" if requests else "p99 GC pause"
        return name, lambda p: run_latency_p99(p, requests=requests)
    if objective == "balanced":

        def combined(p: Point) -> list[float]:
            lat = run_latency_p99(p, requests=requests)
            return [math.sqrt(t * q) for t, q in zip(run_means(p), lat)]

        name = "sqrt(time × p99 " + ("request latency)" if requests else "GC pause)")
        return name, combined
    raise RecommendError(f"unknown objective {objective!r}: use {', '.join(OBJECTIVES)}")


def _compare(base: list[float], new: list[float]) -> Optional[Change]:
    """``compare_samples``, or None when a reference of zeros makes a ratio meaningless."""
    if not base or not new or sum(base) <= 0:
        return None
    return compare_samples(base, new)


def recommend(
    stats: Sequence[PointStats],
    points: Sequence[Point],
    *,
    objective: str = "throughput",
    max_memory_ratio: float = DEFAULT_MAX_MEMORY_RATIO,
    per: str = "step",
) -> Recommendation:
    """Recommend a setting for one workload from its points' statistics and samples.

    ``per`` names what a time is per: ``"step"``, or ``"run"`` for a ``--command`` program.
    """
    if max_memory_ratio <= 0:
        raise RecommendError(f"--max-memory-ratio must be positive, not {max_memory_ratio}")
    by_setting = {p.setting: p for p in points}
    default = next((s for s in stats if s.setting == "default"), None)
    if default is None or not default.ok:
        workload = stats[0].workload if stats else "?"
        raise RecommendError(f"workload {workload!r} has no finished default point to compare")
    requests = default.request_p99_ns is not None
    metric, samples = _objective(objective, requests, per)
    budget = max_memory_ratio * default.peak_rss_bytes
    base = samples(by_setting["default"])

    excluded: list[Excluded] = []
    scored: list[tuple[PointStats, Change]] = []
    for s in stats:
        if s.setting == "default":
            continue
        if not s.ok:
            excluded.append(Excluded(s.setting, f"failed: {s.reason}"))
        elif s.peak_rss_bytes > budget:
            excluded.append(
                Excluded(
                    s.setting,
                    f"peak RSS {fmt_bytes(s.peak_rss_bytes)} is {fmt_ratio(s.rss_ratio)} "
                    f"default's, over the {max_memory_ratio:g}x memory budget",
                )
            )
        else:
            compared = _compare(base, samples(by_setting[s.setting]))
            if compared is None:
                excluded.append(Excluded(s.setting, f"default has no {metric} to compare with"))
            else:
                scored.append((s, compared))
    # On ties (e.g. no pauses at all), an enabled setting ranks before disabled.
    scored.sort(key=lambda sc: (sc[1].ratio, sc[0].setting == "disabled"))
    winners = [sc for sc in scored if sc[1].significant and sc[1].ratio < 1.0]
    notes: list[str] = []
    if winners and winners[0][0].setting == "disabled":
        floor = samples(by_setting["disabled"])
        for s, c in winners[1:]:
            versus = _compare(floor, samples(by_setting[s.setting]))
            if versus is not None and not versus.significant:
                notes.append(
                    f"disabled was best, but {s.setting} is within noise of it "
                    f"({metric} {fmt_ratio(versus.ratio)} of disabled's, 95% interval "
                    f"{fmt_interval(versus.low, versus.high)}) and still frees cycles"
                )
                winners = [(s, c)]
                break
    best_other = None
    change: Optional[Change] = None
    if winners:
        chosen, change = winners[0]
        notes += _tail_notes(chosen, default, by_setting, per)
    else:
        chosen = default
        best_other = scored[0] if scored else None
        notes.append(
            f"no setting beats default significantly on {metric}: keep the default"
            if scored
            else "no other setting is within the memory budget: keep the default"
        )
    return Recommendation(
        workload=default.workload,
        objective=objective,
        metric=metric,
        max_memory_ratio=max_memory_ratio,
        stats=chosen,
        default=default,
        change=change,
        best_other=best_other,
        excluded=tuple(excluded),
        notes=tuple(notes),
        floor=next((s for s in stats if s.setting == "disabled"), None),
        per=per,
    )


def _collections_per_step(point: Point) -> float:
    """Collections per measured step (or program run): each run measures values x loops."""
    steps = sum(len(run.values) for run in point.runs) * (point.loops or 1)
    return sum(run.collections for run in point.runs) / steps if steps else 0.0


def _tail_notes(s: PointStats, d: PointStats, by_setting: dict[str, Point], per: str) -> list[str]:
    """What the chosen setting does to pauses and to the slowest request, as measured."""
    notes = []
    if s.collections and d.collections and s.pause_p99_ns > LONGER * d.pause_p99_ns:
        rate = _collections_per_step(by_setting[s.setting])
        base = _collections_per_step(by_setting[d.setting])
        how = "fewer but longer pauses" if rate < base else "longer pauses, and no fewer,"
        notes.append(
            f"{how} than default: {rate:.3g} vs {base:.3g} collections per {per}, p99 GC "
            f"pause {fmt_ns(s.pause_p99_ns)} vs {fmt_ns(d.pause_p99_ns)}: check them "
            "against your latency needs"
        )
    if (
        s.request_max_ns is not None
        and d.request_max_ns is not None
        and s.request_max_ns > LONGER * d.request_max_ns
    ):
        notes.append(
            f"its longest request took {fmt_ns(s.request_max_ns)} vs "
            f"{fmt_ns(d.request_max_ns)} under default: check it against your latency needs"
        )
    return notes


def has_gap(floor: Optional[PointStats]) -> bool:
    """True when ``disabled`` (the floor) is significantly faster than default: only then
    is there a default→disabled gap whose share a setting can close."""
    return (
        floor is not None
        and floor.ok
        and floor.time_significant
        and floor.time_ratio is not None
        and floor.time_ratio < 1.0
    )


def gap_text(s: PointStats, floor: Optional[PointStats]) -> str:
    """``gap closed`` as a table cell: a percentage, ``no gap`` when disabled is not
    significantly faster than default (any share would be noise), and a percentage
    marked ``past floor`` above 100% (faster than with the collector disabled)."""
    if s.gap_recovered is None or s.gap_recovered != s.gap_recovered:
        return "-"
    if not has_gap(floor):
        return "no gap"
    text = fmt_pct(s.gap_recovered)
    return f"{text} (past floor)" if s.gap_recovered > 1.0 else text


def snippet(setting_id: str, *, at_startup: bool = False) -> str:
    """Python code that applies ``setting_id`` in a program, with where to call it.

    ``at_startup``: the setting was measured applied at interpreter start-up (a
    ``--command`` program), before the program built anything; the snippet says so.
    """
    try:
        setting = parse_setting(setting_id)
    except SettingError:
        return f"# {setting_id}: not a setting gctune knows how to write as code"
    if setting.mode == "default" and not setting.freeze:
        return "# Keep the interpreter's default GC settings: nothing to change."
    lines = ["import gc", ""]
    if at_startup:
        lines.append("# As measured: first thing at start-up, before the program's imports.")
        if setting.freeze:
            lines.append("# Freezing later, once the long-lived state is built, freezes more;")
            lines.append("# that was not measured.")
    elif setting.freeze:
        lines.append("# Once, at start-up: after imports and after the long-lived state is built,")
        lines.append("# before serving work.")
    else:
        lines.append("# Once, at start-up (before the work starts):")
    if setting.freeze:
        lines.append("gc.collect()  # free start-up garbage so it is not frozen")
        lines.append("gc.freeze()   # objects alive now are never scanned again")
    if setting.mode == "thresholds":
        args = ", ".join(str(t) for t in setting.thresholds)
        lines.append(f"gc.set_threshold({args})")
    elif setting.mode == "disabled":
        lines.append("gc.disable()  # reference cycles are never freed from here on")
    return "\n".join(lines)


def describe(rec: Recommendation) -> list[str]:
    """The recommendation as plain lines of text: the choice, expected gains, caveats."""
    s, d = rec.stats, rec.default
    lines = [f"{rec.workload}: recommended setting {s.setting} (objective: {rec.objective})"]
    if rec.change is not None and rec.objective != "throughput":
        c = rec.change
        lines.append(
            f"  {rec.metric}: {fmt_ratio(c.ratio)} of default's, 95% interval "
            f"{fmt_interval(c.low, c.high)}"
        )
    if not rec.is_default:
        lines.append(
            f"  time per {rec.per} (mean): {fmt_ns(s.mean_s * 1e9)} vs {fmt_ns(d.mean_s * 1e9)} "
            f"({fmt_ratio(s.time_ratio)}, {fmt_interval(s.time_ratio_low, s.time_ratio_high)})"
        )
        if s.gap_recovered is not None:
            lines.append(f"  share of the default→disabled time gap recovered: {_gap_line(rec)}")
        lines.append(
            f"  p99 GC pause: {fmt_ns(s.pause_p99_ns if s.collections else None)} "
            f"vs {fmt_ns(d.pause_p99_ns if d.collections else None)}"
        )
        if s.request_p99_ns is not None:
            lines.append(
                f"  request latency p99 / max: {fmt_ns(s.request_p99_ns)} / "
                f"{fmt_ns(s.request_max_ns)} vs {fmt_ns(d.request_p99_ns)} / "
                f"{fmt_ns(d.request_max_ns)}"
            )
        lines.append(
            f"  peak RSS: {fmt_bytes(s.peak_rss_bytes)} vs {fmt_bytes(d.peak_rss_bytes)} "
            f"({fmt_ratio(s.rss_ratio)}; budget {rec.max_memory_ratio:g}x)"
        )
    if rec.best_other is not None:
        other, c = rec.best_other
        verdict = "worse than default" if c.significant else "includes 1: not a significant gain"
        lines.append(
            f"  best candidate {other.setting}: {rec.metric} {fmt_ratio(c.ratio)} of "
            f"default's, 95% interval {fmt_interval(c.low, c.high)} ({verdict})"
        )
    if not rec.is_default and s.collections == 0 and s.setting != "disabled":
        lines.append(
            "  note: no collection ran while measuring it: either it never collects on this "
            "workload or the runs were too short to reach threshold0 (compare its peak RSS; "
            "measure longer to be sure)"
        )
    lines.extend(f"  note: {n}" for n in rec.notes)
    lines.extend(f"  excluded {e.setting}: {e.reason}" for e in rec.excluded)
    return lines


def _gap_line(rec: Recommendation) -> str:
    gap = rec.stats.gap_recovered
    assert gap is not None
    if not has_gap(rec.floor):
        return (
            "none to recover: disabled is not significantly faster than default, so the "
            f"share ({fmt_pct(gap)}) is noise"
        )
    if gap > 1.0:
        return (
            f"{fmt_pct(gap)}: faster than with the collector disabled (noise, or disabled "
            "paying for its growing memory)"
        )
    return fmt_pct(gap)
