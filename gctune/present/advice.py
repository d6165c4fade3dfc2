"""A recommendation in words, as code to paste, and as versioned JSON.

Numbers come from :mod:`gctune.analysis.recommend` and :mod:`gctune.analysis.stats`; this module
only
words them. ``ADVICE_SCHEMA`` versions the JSON that ``recommend --json`` prints
(documented in docs/reports.md, "Machine-readable output").
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional

from gctune.analysis.fmt import fmt_bytes, fmt_interval, fmt_ns, fmt_pct, fmt_ratio, fmt_size
from gctune.analysis.recommend import Recommendation, has_gap
from gctune.analysis.recycle import recycle_snippets
from gctune.analysis.situation import Situation
from gctune.analysis.stats import PointStats, workload_stats
from gctune.measure.settings import SettingError, parse_setting
from gctune.present.next_steps import WorkloadArgs, verify_command
from gctune.present.next_steps import program as gctune_argv
from gctune.store.results import Point

__all__ = [
    "ADVICE_SCHEMA",
    "describe",
    "headline",
    "point_json",
    "program_of",
    "recommendation_json",
    "snippet",
]

ADVICE_SCHEMA = 1


def snippet(setting_id: str, *, at_startup: bool = False) -> str:
    """Python code that applies ``setting_id`` in a program, with where to call it.

    ``at_startup``: the setting was measured applied at interpreter start-up (a
    ``--command`` program), so a freeze there freezes only what exists at start-up.
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


def headline(rec: Recommendation) -> str:
    """One line: what GC costs now, what the recommendation changes, how sure, what next."""
    d, s = rec.default, rec.stats
    now = (
        f"{rec.workload}: GC is {fmt_pct(d.gc_share)} of time, longest pause "
        f"{fmt_ns(d.pause_max_ns if d.collections else None)}, peak RSS "
        f"{fmt_bytes(d.peak_rss_bytes)} ({d.steady})"
    )
    if rec.is_default and rec.situation is not None:
        return (
            f"{now}; keep the default for now: every setting measured faster costs memory "
            "beyond the budget; see the next steps."
        )
    if rec.is_default:
        return f"{now}; keep the default: nothing beats it by {rec.min_gain:.0%} or more."
    c = rec.change
    sure = f"{fmt_ratio(c.ratio)} {fmt_interval(c.low, c.high)}" if c else "-"
    what = f"{rec.metric} {sure} of default's"
    if rec.recycle is not None:
        what += f", recycling workers every {rec.recycle.every_steps:,} {rec.per}s"
    return f"{now}; use {s.setting}: {what}; confirm with `gctune verify`."


def _check(target: Optional[WorkloadArgs], setting: str, every: Optional[int]) -> str:
    if target is None:
        return "gctune verify measures workloads, not --command programs"
    return verify_command(target, setting, every)


def describe(
    rec: Recommendation,
    *,
    target: Optional[WorkloadArgs] = None,
    program: Optional[Program] = None,
) -> list[str]:
    """The recommendation as plain lines of text: the choice, expected gains, caveats.

    ``target``: how to name the workload to ``gctune verify`` (see
    :func:`gctune.present.next_steps.workload_args`); None for a ``--command`` program,
    whose command line ``program`` gives (:func:`program_of`), when known."""
    s, d = rec.stats, rec.default
    per = rec.per
    lines = [headline(rec), f"  recommended setting {s.setting} (objective: {rec.objective})"]
    if not rec.is_default:
        every = rec.recycle.every_steps if rec.recycle is not None else None
        lines.append(f"  check: {_check(target, s.setting, every)}")
    if rec.change is not None and rec.objective != "throughput":
        c = rec.change
        lines.append(
            f"  {rec.metric}: {fmt_ratio(c.ratio)} of default's, 95% interval "
            f"{fmt_interval(c.low, c.high)}"
        )
    if not rec.is_default:
        lines.append(
            f"  time per {per} (mean): {fmt_ns(s.mean_s * 1e9)} vs {fmt_ns(d.mean_s * 1e9)} "
            f"(round-paired in seconds, {s.time_basis or 'every chunk'}: "
            f"{fmt_ratio(s.time_ratio)}, {fmt_interval(s.time_ratio_low, s.time_ratio_high)})"
        )
        if s.gap_recovered is not None:
            lines.append(f"  share of the default→disabled time gap recovered: {_gap_line(rec)}")
        lines.append(
            f"  longest GC pause: {fmt_ns(s.pause_max_ns if s.collections else None)} "
            f"vs {fmt_ns(d.pause_max_ns if d.collections else None)}; p99 "
            f"{fmt_ns(s.pause_p99_ns if s.collections else None)} vs "
            f"{fmt_ns(d.pause_p99_ns if d.collections else None)}"
        )
        if s.request_p99_ns is not None:
            lines.append(
                f"  request latency p99 / max: {fmt_ns(s.request_p99_ns)} / "
                f"{fmt_ns(s.request_max_ns)} vs {fmt_ns(d.request_p99_ns)} / "
                f"{fmt_ns(d.request_max_ns)}"
            )
        lines.append(
            f"  peak RSS: {fmt_bytes(s.peak_rss_bytes)} vs {fmt_bytes(d.peak_rss_bytes)} "
            f"({fmt_ratio(s.rss_ratio)}; budget {rec.max_memory_ratio:g}x); memory "
            + _memory_words(s)
        )
    if rec.recycle is not None:
        r = rec.recycle
        lines.append(
            f"  recycle workers every {r.every_steps:,} {per}s: memory from "
            f"{fmt_bytes(r.start_bytes)} grows {fmt_size(r.bytes_per_step)} per {per} to "
            f"{fmt_bytes(r.peak_bytes)} (budget {fmt_bytes(r.budget_bytes)}); a restart costs "
            f"{r.restart_s:.3g} s; net time {fmt_ratio(r.time_ratio)} "
            f"{fmt_interval(r.low, r.high)} of default's"
        )
    for plan in rec.recycle_plans:
        if rec.recycle is not None and plan.setting == rec.recycle.setting:
            continue
        lines.append(
            f"  with recycling every {plan.every_steps:,} {per}s, {plan.setting} stays under "
            f"{fmt_bytes(plan.peak_bytes)} (budget {fmt_bytes(plan.budget_bytes)}); net time "
            f"{fmt_ratio(plan.time_ratio)} {fmt_interval(plan.low, plan.high)} of default's "
            f"(check: {_check(target, plan.setting, plan.every_steps)})"
        )
    if rec.best_other is not None:
        other, c = rec.best_other
        verdict = (
            "worse than default"
            if c.low > 1
            else f"its interval does not beat default by {rec.min_gain:.0%}"
        )
        lines.append(
            f"  best candidate {other.setting}: {rec.metric} {fmt_ratio(c.ratio)} of "
            f"default's, 95% interval {fmt_interval(c.low, c.high)} ({verdict})"
        )
    if rec.situation is not None:
        lines += situation_lines(rec, rec.situation, target, program)
    lines.extend(f"  note: {n}" for n in rec.notes)
    if per == "run":
        lines.append(f"  note: {MODES_DIFFER}")
    lines.extend(f"  excluded {e.setting}: {e.reason}" for e in rec.excluded)
    return lines


MODES_DIFFER = (
    "a --command sweep times whole runs of the program: interpreter start-up, imports, "
    "set-up and exit, with the setting applied before the imports. A function sweep "
    "(-w FILE.py:make) times only the steps, after the factory built the long-lived "
    "state. Start-up work and a short run's few collections move the two apart, so a "
    "setting can win in one mode and not the other; for a long-running service, the "
    "function sweep measures the steady state it runs in (docs/programs.md)"
)


@dataclass(frozen=True)
class Program:
    """A ``--command`` sweep's program: its name in results, command line and directory."""

    name: str
    argv: tuple[str, ...]
    cwd: Optional[str] = None


def program_of(spec: Mapping[str, Any], workload: str) -> Optional[Program]:
    """The program a ``--command`` sweep's stored ``spec`` measured; None otherwise."""
    argv = spec.get("command")
    if not argv:
        return None
    cwd = spec.get("cwd")
    here = cwd is None or os.path.abspath(str(cwd)) == os.getcwd()
    return Program(workload, tuple(str(a) for a in argv), None if here else str(cwd))


def _sweep_command(
    target: Optional[WorkloadArgs],
    program: Optional[Program],
    settings: tuple[str, ...],
    mode: str = "--normal",
) -> str:
    """``gctune sweep`` of ``settings`` beside default; a shell line that works pasted into
    a fresh shell (gctune named as :func:`gctune.present.next_steps.program` names it)."""
    chosen = [a for s in ("default", *settings) for a in ("-s", s)]
    if target is not None:
        cwd = target.cwd
        here = gctune_argv(absolute=cwd is not None)  # after a ``cd``, a relative path fails
        line = shlex.join([*here, "sweep", *target.argv, *chosen, mode])
    elif program is not None:
        cwd = program.cwd
        here = gctune_argv(absolute=cwd is not None)
        named = ["--command", "--name", program.name]
        line = shlex.join([*here, "sweep", *named, *chosen, mode, "--", *program.argv])
    else:
        return shlex.join([*gctune_argv(), "sweep", "--command", *chosen, mode]) + " -- PROGRAM"
    return f"cd {shlex.quote(cwd)} && {line}" if cwd else line


def _longer_verify(target: Optional[WorkloadArgs], program: Optional[Program], setting: str) -> str:
    if target is None:
        return _sweep_command(None, program, (setting,), "--rigorous")
    return verify_command(target, setting) + " --rounds 12 --max-point-time 10"


def situation_lines(
    rec: Recommendation,
    sit: Situation,
    target: Optional[WorkloadArgs],
    program: Optional[Program] = None,
) -> list[str]:
    """The situation of an expensive collector with no setting to ship, and next steps."""
    per = rec.per
    costs = "; ".join(
        f"{c.setting} {fmt_ratio(c.ratio)} {fmt_interval(c.low, c.high)}, {c.memory}"
        for c in sit.costly
    )
    what = f"GC is {fmt_pct(sit.gc_share)} of default's time"
    if sit.costly:
        what += (
            f", and every setting measured faster costs memory beyond the budget "
            f"({sit.budget_ratio:g}x default's peak RSS): {costs}"
        )
    g = sit.default_growth
    if g is not None:
        rate = g.words(per_second=True)
        what += f"; default itself {rate}: not safe to run unattended either"
    lines = [f"  situation: {what}"]
    if sit.between:
        lines.append(
            f"  next: try the thresholds between default and those, not measured yet: "
            f"{_sweep_command(target, program, sit.between)}"
        )
    for plan in sit.plans:
        lines.append(
            f"  next: recycle workers every {plan.every_steps:,} {per}s and {plan.setting} "
            f"stays under {fmt_bytes(plan.peak_bytes)} (budget {fmt_bytes(plan.budget_bytes)}), "
            f"net time {fmt_ratio(plan.time_ratio)} {fmt_interval(plan.low, plan.high)} of "
            f"default's: {_check(target, plan.setting, plan.every_steps)}"
        )
    if g is not None:
        lines.append(
            "  next: a longer verify of default, to see whether its growth goes on: "
            + _longer_verify(target, program, "default")
        )
    elif sit.between:
        lines.append(
            "  next: then verify the best of them with longer spans and more rounds: "
            + _longer_verify(target, program, sit.between[0])
        )
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


def _memory_words(s: PointStats) -> str:
    return s.growth.words(unknown="trend unknown") if s.growth else "trend unknown"


def _ratio_json(s: PointStats) -> Optional[dict[str, Any]]:
    if s.time_ratio is None:
        return None
    return {
        "ratio": s.time_ratio,
        "low": s.time_ratio_low,
        "high": s.time_ratio_high,
        "basis": s.time_basis,
    }


def recommendation_json(rec: Recommendation, *, at_startup: bool = False) -> dict[str, Any]:
    """The recommendation as a JSON-ready object (schema ``ADVICE_SCHEMA``)."""
    s, d = rec.stats, rec.default
    g = s.growth
    return {
        "workload": rec.workload,
        "setting": s.setting,
        "is_default": rec.is_default,
        "objective": rec.objective,
        "metric": rec.metric,
        "min_gain": rec.min_gain,
        "max_memory_ratio": rec.max_memory_ratio,
        "change": None
        if rec.change is None
        else {"ratio": rec.change.ratio, "low": rec.change.low, "high": rec.change.high},
        "time_ratio": _ratio_json(s),
        "steady": s.steady,
        "memory": {
            "status": g.status if g else "unknown",
            "bytes_per_step": g.bytes_per_step if g else None,
            "bytes_per_s": g.bytes_per_s if g else None,
            "peak_rss_bytes": s.peak_rss_bytes,
            "rss_ratio": s.rss_ratio,
        },
        "longest_pause_ns": s.pause_max_ns if s.collections else None,
        "default": {
            "gc_share": d.gc_share,
            "longest_pause_ns": d.pause_max_ns if d.collections else None,
            "peak_rss_bytes": d.peak_rss_bytes,
        },
        "recycle": rec.recycle.to_json() if rec.recycle else None,
        "recycle_plans": [{"setting": p.setting, **p.to_json()} for p in rec.recycle_plans],
        "excluded": [{"setting": e.setting, "reason": e.reason} for e in rec.excluded],
        "notes": list(rec.notes),
        "situation": _situation_json(rec.situation) if rec.situation else None,
        "snippet": snippet(s.setting, at_startup=at_startup),
        "recycle_snippet": recycle_snippets(rec.recycle.every_steps) if rec.recycle else None,
    }


def _situation_json(sit: Situation) -> dict[str, Any]:
    g = sit.default_growth
    return {
        "gc_share": sit.gc_share,
        "costly": [
            {
                "setting": c.setting,
                "ratio": c.ratio,
                "low": c.low,
                "high": c.high,
                "memory": c.memory,
            }
            for c in sit.costly
        ],
        "default_bytes_per_s": g.bytes_per_s if g is not None else None,
        "between": list(sit.between),
        "recycle_plans": [{"setting": p.setting, **p.to_json()} for p in sit.plans],
    }


def point_json(point: Point) -> dict[str, Any]:
    """One point's statistics as a JSON-ready object (``run --json``). Seconds per step,
    nanoseconds for pauses, bytes for memory."""
    (s,) = workload_stats([point])[point.workload]
    g = s.growth
    out: dict[str, Any] = {
        "workload": s.workload,
        "setting": s.setting,
        "status": "ok" if s.ok else "failed",
        "reason": s.reason,
        "path": str(point.path),
    }
    if not s.ok:
        return out
    out.update(
        time_per_step_s={"mean": s.mean_s, "median": s.median_s, "ci95": [s.ci_low_s, s.ci_high_s]},
        rounds=s.rounds,
        steady=s.steady,
        gc_share=s.gc_share,
        collections={str(k): v for k, v in s.collections_by_gen.items()},
        collected=s.collected,
        pause_ns={
            "p50": s.pause_p50_ns if s.collections else None,
            "p99": s.pause_p99_ns if s.collections else None,
            "max": s.pause_max_ns if s.collections else None,
        },
        peak_rss_bytes=s.peak_rss_bytes,
        memory={
            "status": g.status if g else "unknown",
            "bytes_per_step": g.bytes_per_step if g else None,
            "bytes_per_s": g.bytes_per_s if g else None,
        },
    )
    return out
