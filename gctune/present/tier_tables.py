"""Both tiers side by side: a sweep in counts and its confirmation in time, one table and
one decision per workload (the rule: :mod:`gctune.analysis.tiers`).

Every row says its tier: counts ratios (exact, no interval), the round-paired time ratio
with its 95% interval, memory as the time tier measured it, and the rule's verdict.
"""

from __future__ import annotations

from typing import Any, Optional

import pandas as pd
from rich.markup import escape
from rich.table import Table

from gctune.analysis.fmt import fmt_bytes, fmt_ratio, fmt_size
from gctune.analysis.frame import SweepData
from gctune.analysis.recommend import DEFAULT_MAX_MEMORY_RATIO, DEFAULT_MIN_GAIN
from gctune.analysis.stats import PointStats
from gctune.analysis.tiers import TierDecision, TierEvidence, decide
from gctune.analysis.time_basis import time_change
from gctune.measure.settings import canonical_id

__all__ = [
    "TIERS_CAPTION",
    "tier_decision",
    "tier_evidence",
    "tiers_markdown",
    "tiers_table",
]

TIERS_CAPTION = (
    "both tiers: instr and est. cycles are the counts tier's ratios to default (valgrind, "
    "exact per install); time is the time tier's round-paired ratio to default with its 95% "
    "interval (—: not timed); memory as the time tier measured it; verdict: the rule of "
    "docs/counts.md (rank in counts, confirm in time)"
)


def _memory(s: PointStats, default: PointStats, ratio: float) -> tuple[Optional[bool], str]:
    """Whether ``s`` keeps memory within ``ratio`` x default's peak RSS, and why not."""
    g = s.growth
    if g is not None and g.status == "growing":
        if g.few_cycles:
            return False, (
                f"rose {fmt_size(g.bytes_per_step)} per step over spans of {g.fulls_words}"
                " (too few to call it growth)"
            )
        return False, f"grows {fmt_size(g.bytes_per_step)} per step"
    budget = ratio * default.peak_rss_bytes
    if s.peak_rss_bytes > budget:
        return False, (
            f"peak RSS {fmt_bytes(s.peak_rss_bytes)}, {fmt_ratio(s.rss_ratio)} default's: "
            f"over the {ratio:g}x budget"
        )
    if s.steady == "not steady":
        return None, (
            "not at steady state in time: its full collections and their peak memory "
            "were not measured"
        )
    if g is None or g.status == "unknown":
        return None, "memory growth unknown"
    return True, ""


def tier_evidence(
    counts: pd.DataFrame,
    workload: str,
    time: Optional[SweepData],
    *,
    max_memory_ratio: float = DEFAULT_MAX_MEMORY_RATIO,
) -> list[TierEvidence]:
    """Each setting of ``workload`` measured in counts (a count frame's rows), with its
    time evidence from ``time`` (the workload's confirmation) where it was timed."""
    rows = counts[counts["workload"] == workload]
    timed = workload
    if time is not None and workload not in time.stats and len(time.stats) == 1:
        # a confirmation holds one workload; alone, a file that shared its name with
        # another workload of the count sweep has the shorter id
        (timed,) = time.stats
    # both sides by setting id: a count sweep's "freeze" is a time sweep's "default+freeze"
    stats = {canonical_id(s.setting): s for s in (time.stats.get(timed, []) if time else [])}
    points = {canonical_id(p.setting): p for p in (time.points_of(timed) if time else [])}
    default = stats.get("default")
    evidence = []
    for _, row in rows.iterrows():
        setting = str(row["setting"])
        ok = row["status"] == "ok"
        cycles = _float(row["cycles_vs_default"]) if ok else None
        instructions = _float(row["instructions_vs_default"]) if ok else None
        key = canonical_id(setting)
        s = stats.get(key)
        change, memory_ok, note = None, None, ""
        if s is not None and default is not None and default.ok:
            if s.ok:
                change = time_change(points["default"], points[key])
                memory_ok, note = _memory(s, default, max_memory_ratio)
            else:
                note = f"failed in time: {s.reason}"
        evidence.append(
            TierEvidence(
                setting, cycles, instructions=instructions, time=change,
                memory_ok=memory_ok, memory_note=note,
                whole_cycles=bool(row["whole_cycles"]) if ok else True,
            )
        )  # fmt: skip
    return evidence


def _float(value: Any) -> Optional[float]:
    return None if value is None or pd.isna(value) else float(value)


def tier_decision(
    counts: pd.DataFrame,
    workload: str,
    time: Optional[SweepData],
    *,
    max_memory_ratio: float = DEFAULT_MAX_MEMORY_RATIO,
    min_gain: float = DEFAULT_MIN_GAIN,
) -> tuple[list[TierEvidence], TierDecision]:
    """The evidence of ``workload`` and the rule's decision on it."""
    evidence = tier_evidence(counts, workload, time, max_memory_ratio=max_memory_ratio)
    return evidence, decide(evidence, min_gain=min_gain)


def _cells(evidence: list[TierEvidence], decision: TierDecision) -> list[tuple[str, ...]]:
    verdicts = {v.setting: v for v in decision.verdicts}
    chosen = decision.chosen.setting if decision.chosen else None
    rows: list[tuple[str, ...]] = []
    for e in evidence:
        t = e.time
        time = "—" if t is None else f"{t.ratio:.3f}x [{t.low:.3f}, {t.high:.3f}]"
        memory = {True: "within budget", False: "UNSAFE", None: "—"}[e.memory_ok]
        v = verdicts.get(e.setting)
        if e.setting == "default":
            verdict = "reference"
        elif v is None:
            verdict = ""
        else:
            verdict = ("CHOSEN: " if e.setting == chosen else "") + f"{v.status}: {v.reason}"
        rows.append(
            (
                e.setting,
                "—" if e.instructions is None else f"{e.instructions:.3f}x",
                "—" if e.cycles is None else f"{e.cycles:.3f}x",
                time,
                memory,
                verdict,
            )
        )
    return rows


_HEAD = ("setting", "instr", "est. cycles", "time [95%]", "memory", "verdict")


def tiers_table(workload: str, evidence: list[TierEvidence], decision: TierDecision) -> Table:
    """A rich table of one workload in both tiers, titled with what the decision rests on."""
    table = Table(
        title=f"{workload} — both tiers; decision rests on: {decision.rests_on}",
        title_justify="left",
    )
    for name in _HEAD:
        table.add_column(name, justify="right" if name in _HEAD[1:4] else "left")
    for cells in _cells(evidence, decision):
        table.add_row(*(escape(c) for c in cells))
    return table


def tiers_markdown(sections: list[tuple[str, list[TierEvidence], TierDecision]], title: str) -> str:
    """Both tiers as Markdown: one table per workload, what its decision rests on."""
    lines = [f"# {title}", "", TIERS_CAPTION + ".", ""]
    for workload, evidence, decision in sections:
        lines += [
            f"## {workload}",
            "",
            f"Decision rests on: {decision.rests_on}.",
            "",
            "| " + " | ".join(_HEAD) + " |",
            "|" + "---|" * len(_HEAD),
        ]
        for cells in _cells(evidence, decision):
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        lines.append("")
    return "\n".join(lines)
