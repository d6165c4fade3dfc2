"""The report's per-workload tables: every setting's point (time, ratio, pauses, state,
memory) and the collections per generation."""

from __future__ import annotations

from typing import Optional

from gctune.analysis.fmt import (
    every_chunk_mark,
    fmt_bytes,
    fmt_interval,
    fmt_ns,
    fmt_pct,
    fmt_ratio,
)
from gctune.analysis.recommend import (
    gap_text,
)
from gctune.analysis.stats import PointStats
from gctune.present.render import (
    Table,
)


def ratio_cell(s: PointStats, *, bound: bool = True) -> str:
    """The time ratio to default with its interval; ``bound``: marked ``(lower bound)``
    when the point is not at steady state (the points table's state column says so)."""
    if s.time_ratio is None:
        return "-"
    ns = " n.s." if s.setting != "default" and not s.time_significant else ""
    lower = " (lower bound)" if bound and s.steady == "not steady" else ""
    interval = fmt_interval(s.time_ratio_low, s.time_ratio_high)
    every = every_chunk_mark(s.time_basis) if s.setting != "default" else ""
    return f"{fmt_ratio(s.time_ratio)}{every} {interval}{ns}{lower}"


GAP_CAPTION = (
    "gap closed: share of the time between default and disabled (the no-collector floor) "
    "a setting recovers; no gap: disabled is not significantly faster than default, so "
    "there is nothing to recover and any share would be noise; past floor: faster than "
    "disabled (noise, or disabled paying for its growing memory)."
)


def points_table(rows: list[PointStats], unit: str) -> Table:
    floor = next((s for s in rows if s.setting == "disabled"), None)
    headers = [
        "setting",
        f"time/{unit}",
        "vs default [95%]",
        "overhead vs floor",
        "gap closed",
        "GC %",
        "GCs",
        "pause p50",
        "p99",
        "max",
        "peak RSS",
        "RSS/def",
        "state",
        "memory",
        "rounds",
    ]
    body: list[tuple[str, ...]] = []
    for s in rows:
        if not s.ok:
            body.append((s.setting, f"failed: {s.reason or 'no reason recorded'}"))  # spans
            continue
        paused = s.collections > 0
        cells = [
            s.setting,
            fmt_ns(s.mean_s * 1e9),
            ratio_cell(s, bound=False),
            fmt_pct(s.overhead, signed=True),
            gap_text(s, floor),
            f"{s.gc_share * 100:.1f}",
            f"{s.collections:,}",
            fmt_ns(s.pause_p50_ns if paused else None),
            fmt_ns(s.pause_p99_ns if paused else None),
            fmt_ns(s.pause_max_ns if paused else None),
            fmt_bytes(s.peak_rss_bytes),
            fmt_ratio(s.rss_ratio),
            state_cell(s),
            memory_cell(s),
            str(s.rounds or s.n_runs),
        ]
        body.append(tuple(cells))
    return Table(
        tuple(headers),
        tuple(body),
        align="l" + "r" * 11 + "nnr",
        caption=f"time/{unit}: mean over whole spans"
        + (" (a whole run of the program, start-up included)" if unit == "run" else "")
        + "; vs default: geometric mean of the per-round ratios in seconds (not in "
        "speed-reference loops: docs/time-reference.md) with its 95% t-interval over rounds "
        "(n.s.: includes 1); overhead vs floor: (T - T_disabled) / T_disabled; "
        "GC %: pause total / measured wall time; pauses and RSS over all spans; state: "
        "steady (every span held 2 full collections), rare full GC (fewer, their cost "
        "bounded under 1%), NOT steady (time is a lower bound); memory: bounded, or growth "
        "per step ('rises' with (N fulls): read over spans of N < 4 full collections, too few to "
        "call it growth); rounds: spans measured. " + GAP_CAPTION,
    )


def requests_table(rows: list[PointStats]) -> Optional[Table]:
    """Request latency per setting, for a workload that records requests (None else): a
    table of its own, so that the points table keeps to a width a window shows."""
    ok = [s for s in rows if s.ok and s.request_p99_ns is not None]
    if not ok:
        return None
    body = [
        (s.setting, fmt_ns(s.request_p50_ns), fmt_ns(s.request_p99_ns), fmt_ns(s.request_max_ns))
        for s in ok
    ]
    return Table(
        ("setting", "request p50", "p99", "max"),
        tuple(body),
        align="lrrr",
        caption="Latency of the requests the workload recorded (record_request), over all "
        "spans; a collection that lands inside a request makes it slow.",
    )


def state_cell(s: PointStats) -> str:
    if s.steady == "not steady":
        return "NOT steady (lower bound)"
    if s.steady == "rare full GC" and s.missed_bound is not None:
        return f"rare full GC (≤{s.missed_bound:.1%})"
    return s.steady


def memory_cell(s: PointStats) -> str:
    return s.growth.words() if s.growth else "-"


def generations_table(rows: list[PointStats]) -> Table:
    body = []
    for s in rows:
        for gen, p in sorted(s.pauses_by_gen.items()):
            body.append(
                (
                    s.setting,
                    str(gen),
                    f"{p.count:,}",
                    f"{s.collections_per_s_by_gen.get(gen, 0.0):,.1f}",
                    fmt_ns(p.p50_ns),
                    fmt_ns(p.p90_ns),
                    fmt_ns(p.p99_ns),
                    fmt_ns(p.p999_ns),
                    fmt_ns(p.max_ns),
                    fmt_ns(p.total_ns),
                )
            )
    return Table(
        ("setting", "gen", "collections", "per s", "p50", "p90", "p99", "p99.9", "max", "total"),
        tuple(body),
        align="lrrrrrrrrr",
        caption="Pause durations by generation (per s: collections per second of measured "
        "time). Settings without a row had no collection while measuring.",
    )
