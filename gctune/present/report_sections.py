"""Report sections that stand on their own: the claims behind the numbers (what was
measured how, with the evidence) and the environment (interpreters, machine)."""

from __future__ import annotations

import json
from typing import Any, Optional

from gctune.analysis.evidence import (
    CYCLIC_PER_COLLECTION,
    MIN_RSS_GROWTH,
    reclaim_evidence,
)
from gctune.analysis.fmt import fmt_bytes, fmt_ratio
from gctune.analysis.frame import SweepData
from gctune.present.render import (
    Block,
    Bullets,
    Heading,
    Para,
    Table,
)


def measured_interpreters(data: SweepData) -> list[tuple[dict[str, Any], list[str]]]:
    """The interpreters the finished points ran on, each with its workloads, in order.

    A point records the interpreter it measured: for a ``--command`` program, the one
    that ran the program's top process, which need not be the sweep's own. The
    manifest's is the fallback for points that recorded none.
    """
    own: dict[str, Any] = data.manifest.environment.get("python") or {}
    found: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for point in (p for p in data.points if p.ok):
        info = point.interpreter if point.interpreter.get("version") else own
        key = json.dumps(info, sort_keys=True, default=str)
        workloads = found.setdefault(key, (info, []))[1]
        if point.workload not in workloads:
            workloads.append(point.workload)
    return list(found.values()) or [(own, list(data.workloads))]


def python_rows(py: dict[str, Any], compiler: Optional[str]) -> list[tuple[str, str]]:
    build = "free-threaded" if py.get("free_threaded") else "with the GIL"
    if compiler:
        build += f", {compiler}"
    thresholds = py.get("default_thresholds")
    return [
        ("Python", f"{py.get('implementation', '?')} {py.get('version', '?')} ({build})"),
        ("Interpreter", str(py.get("executable", "?"))),
        (
            "GC",
            f"{py.get('gc_kind', '?')}, default thresholds "
            + (str(tuple(thresholds)) if thresholds else "?"),
        ),
    ]


def environment(data: SweepData) -> list[Block]:
    env = data.manifest.environment
    own: dict[str, Any] = env.get("python") or {}
    spec = data.manifest.spec
    measured = measured_interpreters(data)
    # pyperf's metadata describes the process pyperf timed: for a --command program,
    # pyperf's own interpreter, not the program's, so its compiler is left out there
    meta = next((p.metadata for p in data.points if p.metadata), {})
    compiler = None if data.applied_at_startup else meta.get("python_compiler")
    rows: list[tuple[str, str]] = []
    for py, workloads in measured:
        these = python_rows(py, compiler)
        if len(measured) > 1:
            these = [(f"{k} ({', '.join(workloads)})", v) for k, v in these]
        rows += these
    if any(py.get("executable") != own.get("executable") for py, _ in measured):
        rows.append(
            (
                "gctune ran on",
                f"{own.get('implementation', '?')} {own.get('version', '?')} "
                f"({own.get('executable', '?')}); the rows above are what was measured",
            )
        )
    rows += [
        ("Machine", str(env.get("machine") or env.get("hostname") or "?")),
        ("CPU", f"{env.get('cpu_model') or '?'} ({env.get('cpu_count') or '?'} logical CPUs)"),
        ("Platform", str(env.get("platform", "?"))),
        ("pyperf", f"{env.get('pyperf_version', '?')}, {spec.get('mode', '?')} mode"),
        ("gctune", str(env.get("gctune_version", "?"))),
        ("git commit", f"{env.get('git_commit') or 'unknown'} {env.get('git_date') or ''}"),
        ("Results", str(data.directory)),
    ]
    return [Heading(2, "Environment"), Table(("", "value"), tuple(rows), align="lw")]


def claims(data: SweepData) -> list[Block]:
    rows = []
    lines = []
    shown = agree = 0
    for workload in data.workloads:
        ev = reclaim_evidence(data.stats[workload])
        if ev is None:
            continue
        shown += 1
        agree += ev.consistent
        garbage = (
            f"the collector freed {ev.collected_per_collection:,.1f} objects per collection"
            if ev.cyclic
            else f"the collector found next to no garbage "
            f"({ev.collected_per_collection:.2f} objects per collection)"
        )
        if ev.rss_ratio is None:
            memory = f"with GC disabled the point failed ({ev.disabled_reason})"
        else:
            memory = (
                f"with GC disabled peak RSS is {fmt_ratio(ev.rss_ratio)} default's "
                f"({fmt_bytes(ev.disabled_rss_bytes)} vs {fmt_bytes(ev.default_rss_bytes)})"
            )
        verdict = "as the claim says" if ev.consistent else "NOT as the claim says"
        lines.append(f"{workload}: {garbage}; {memory}: {verdict}.")
        rows.append(
            (
                workload,
                f"{ev.collected_per_collection:,.2f}",
                fmt_bytes(ev.default_rss_bytes),
                fmt_bytes(ev.disabled_rss_bytes),
                fmt_ratio(ev.rss_ratio) if ev.rss_ratio is not None else "failed",
                ("cycles" if ev.cyclic else "no cycles") + ", " + ("grows" if ev.grows else "flat"),
            )
        )
    blocks: list[Block] = [
        Heading(2, "Who frees the garbage: reference counting or the collector"),
        Para(
            "The claim: reference counting frees acyclic garbage at once, so a workload "
            "without cycles keeps a flat peak RSS with the collector disabled; garbage in "
            "reference cycles is freed only by the collector, so a cyclic workload's peak "
            "RSS grows without it. Below, from this sweep's default and disabled points: "
            f"a workload counts as cyclic when its default collector freed at least "
            f"{CYCLIC_PER_COLLECTION:g} object per collection, and its memory as grown when "
            "the disabled spans' RSS trajectory is classified growing (a least-squares line "
            "through the settled samples rises by at least 1 MiB and 2%; see the memory-over-"
            "time chart); results without trajectories fall back to peak RSS significantly "
            f"above default's (95% bootstrap) by more than {MIN_RSS_GROWTH:.0%}."
        ),
    ]
    if not rows:
        return [*blocks, Para("This sweep has no workload with both default and disabled.")]
    blocks += [
        Table(
            (
                "workload",
                "objects freed per collection (default)",
                "peak RSS default",
                "peak RSS disabled",
                "disabled / default",
                "reading",
            ),
            tuple(rows),
            align="lrrrrl",
        ),
        Bullets(tuple(lines)),
        Para(
            f"The data shows the claim on {agree} of {shown} workload(s). The growth rate, not "
            "the peak, is the verdict: how high memory climbs with the collector off depends "
            "on how long the spans ran."
        ),
    ]
    return blocks
