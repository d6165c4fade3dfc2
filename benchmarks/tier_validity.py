"""Do counts rank GC settings as time does? The validity table of docs/counts-validity.md.

Reads sweeps in counts (``gctune sweep --measure counts``) and long interleaved time
checks of the same settings (``gctune sweep --rounds 8 --min-rounds 8 --no-racing``, one
directory per workload or several workloads in one), and prints per workload, in
Markdown:

* each setting's counts ratios to default (instructions, estimated cycles) beside its
  round-paired time ratio with its 95% interval and its memory verdict;
* the rank agreement (Spearman's rho of estimated cycles and of instructions against
  time, over the settings measured in both);
* whether the counts' best setting is within 3% in time of time's best (both among the
  settings the time check finds safe in memory; paired ratio of the two);
* "seeing what time misses": where the long check confirms a safe gain of 5% or more,
  what the documented way (the rule of gctune.analysis.tiers, with the long check as
  its time evidence for the top 3 in counts) chooses, whether that is within 3% of the
  check's best, and whether the check finds it slower than default.

    .venv/bin/python benchmarks/tier_validity.py --counts DIR... --time DIR...
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Optional

import pandas as pd

from gctune.analysis.frame import SweepData, load
from gctune.analysis.tiers import TierEvidence, confirmation_candidates, decide
from gctune.analysis.time_basis import FULL_SPEED, time_change
from gctune.present.count_tables import count_frame
from gctune.present.tier_tables import tier_evidence
from gctune.sweep.count_sweep import read_count_points

WITHIN = 0.03  # the issue's "within 3 % of time's best"
CONFIRMED_GAIN = 0.05  # "a safe gain of 5 % or more"


def ranks(values: Sequence[float]) -> list[float]:
    """Ranks from 1, ties given their average rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(xs: Sequence[float], ys: Sequence[float]) -> Optional[float]:
    """Spearman's rank correlation (Pearson's on ranks); None for fewer than 3 pairs."""
    if len(xs) < 3:
        return None
    rx, ry = ranks(xs), ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else None


def _fmt(x: Optional[float], spec: str = ".3f", unit: str = "") -> str:
    return "—" if x is None else format(x, spec) + unit


def _mark(change: object) -> str:
    """° where a ratio was taken over every chunk (too few rounds had full-speed ones)."""
    return "°" if getattr(change, "basis", FULL_SPEED) != FULL_SPEED else ""


def _versus(data: SweepData, workload: str, base: str, new: str) -> str:
    """``new`` / ``base`` in time, round-paired on the shipped basis, with its interval."""
    if base == new:
        return "same setting"
    points = {p.setting: p for p in data.points_of(workload)}
    c = time_change(points[base], points[new])
    return "—" if c is None else f"{c.ratio:.3f}x [{c.low:.3f}, {c.high:.3f}] ({c.basis})"


def merged_counts(dirs: Sequence[Path], workload: str) -> tuple[pd.DataFrame, dict[str, int]]:
    """One workload's count rows from several sweeps in counts, each setting from the first
    sweep (in the order given) that measured it and its default; its ratios are to that
    sweep's own default. Also which sweep (index into ``dirs``) each setting came from."""
    rows, source = [], {}
    for i, d in enumerate(dirs):
        frame = count_frame(read_count_points(d))
        frame = frame[(frame["workload"] == workload) & (frame["status"] == "ok")]
        if "default" not in set(frame["setting"]):
            continue
        for _, row in frame.iterrows():
            if row["setting"] not in source:
                source[str(row["setting"])] = i
                rows.append(row)
    columns = list(count_frame([]).columns)
    return pd.DataFrame(rows, columns=columns).reset_index(drop=True), source


def workload_section(counts_dirs: Sequence[Path], time_dir: Path, workload: str) -> list[str]:
    """The Markdown of one workload."""
    frame, source = merged_counts(counts_dirs, workload)
    data = load(time_dir)
    missing = [s.setting for s in data.stats.get(workload, []) if s.setting not in source]
    extra = pd.DataFrame(
        [{"workload": workload, "setting": s, "status": "not counted"} for s in missing],
        columns=frame.columns,
    )
    frame = pd.concat([frame, extra], ignore_index=True) if missing else frame
    evidence = tier_evidence(frame, workload, data)
    timed = [e for e in evidence if e.cycles is not None and e.time is not None]
    lines = [
        f"### {workload}",
        "",
        "counts: "
        + ", ".join(f"[{i}] `{d}`" for i, d in enumerate(counts_dirs))
        + f"; time: `{time_dir}` "
        f"({max((s.rounds for s in data.stats.get(workload, [])), default=0)} rounds)",
        "",
        "| setting | counts from | instr | est. cycles | time [95%] | memory (time tier) |",
        "|---|---|---|---|---|---|",
    ]
    for e in evidence:
        t = e.time
        memory = {True: "safe", False: f"UNSAFE: {e.memory_note}", None: e.memory_note or "—"}
        lines.append(
            f"| {e.setting} | {source.get(e.setting, '—')} | {_fmt(e.instructions, '.3f', 'x')} | "
            f"{_fmt(e.cycles, '.3f', 'x')} | "
            + ("—" if t is None else f"{t.ratio:.3f}x [{t.low:.3f}, {t.high:.3f}]{_mark(t)}")
            + f" | {memory[e.memory_ok] if e.setting != 'default' else 'reference'} |"
        )
    rho_c = spearman([e.cycles or 0.0 for e in timed], [e.time.ratio for e in timed if e.time])
    rho_i = spearman(
        [e.instructions or 0.0 for e in timed], [e.time.ratio for e in timed if e.time]
    )
    lines += ["", f"- rank agreement with time (Spearman, {len(timed)} settings): est. cycles "
              f"{_fmt(rho_c, '.2f')}, instructions {_fmt(rho_i, '.2f')}"]  # fmt: skip
    safe = [e for e in timed if e.memory_ok is True or e.setting == "default"]
    if safe:
        time_best = min(safe, key=lambda e: e.time.ratio if e.time else 1.0)
        counts_best = min(safe, key=lambda e: e.cycles or 1.0)
        counts_best_any = min(timed, key=lambda e: e.cycles or 1.0)
        tb, cb = time_best.time, counts_best.time
        gap = None if tb is None or cb is None else cb.ratio / tb.ratio - 1
        lines.append(
            f"- time's best (safe): {time_best.setting} {_fmt(tb.ratio if tb else None)}x; "
            f"counts' best (safe): {counts_best.setting} ({_fmt(counts_best.cycles)}x est. "
            f"cycles), in time {_fmt(cb.ratio if cb else None)}x: "
            f"{_fmt(None if gap is None else 100 * gap, '+.1f')}% from time's best "
            f"({'within' if gap is not None and gap <= WITHIN else 'NOT within'} 3%; paired "
            f"{_versus(data, workload, time_best.setting, counts_best.setting)})"
        )
        whole = [e for e in safe if e.whole_cycles and e.setting != "default"]
        whole_best = min(whole, key=lambda e: e.cycles or 1.0, default=None)
        if whole_best is not None and whole_best.setting != counts_best.setting:
            wb = whole_best.time
            wgap = None if tb is None or wb is None else wb.ratio / tb.ratio - 1
            lines.append(
                f"- counts' best (safe) among those counted over whole cycles of their own: "
                f"{whole_best.setting} ({_fmt(whole_best.cycles)}x est. cycles), in time "
                f"{_fmt(wb.ratio if wb else None)}x: "
                f"{_fmt(None if wgap is None else 100 * wgap, '+.1f')}% from time's best"
            )
        if counts_best_any.setting != counts_best.setting:
            t_any = counts_best_any.time
            lines.append(
                f"- counts' best over all settings: {counts_best_any.setting} "
                f"({_fmt(counts_best_any.cycles)}x est. cycles; time "
                f"{_fmt(t_any.ratio if t_any else None)}x), unsafe in memory: "
                f"{counts_best_any.memory_note}"
            )
    lines += _misses(evidence, workload)
    return [*lines, ""]


def _misses(evidence: list[TierEvidence], workload: str) -> list[str]:
    """The documented way (rule, top 3 in counts timed) against the long check."""
    confirmed = [
        e for e in evidence
        if e.setting != "default" and e.memory_ok is True and e.time is not None
        and e.time.high <= 1 - CONFIRMED_GAIN
    ]  # fmt: skip
    candidates = set(confirmation_candidates(evidence))
    # the confirmation times only the candidates: the others have no time evidence
    seen = [e if e.setting in candidates else replace(e, time=None) for e in evidence]
    decision = decide(seen)
    chosen = decision.chosen
    check_best = min(
        (e for e in evidence if e.memory_ok is True and e.time is not None),
        key=lambda e: e.time.ratio if e.time else 1.0,
        default=None,
    )
    words = "no setting" if chosen is None else chosen.setting
    line = (
        f"- the documented way (top 3 in counts: {', '.join(sorted(candidates)) or 'none'}; "
        f"timed by the long check): chooses {words}"
    )
    if chosen is not None and chosen.evidence.time is not None:
        t = chosen.evidence.time
        line += f", in time {t.ratio:.3f}x [{t.low:.3f}, {t.high:.3f}]"
        if t.low > 1:
            line += " — SLOWER than default in the long check"
    if confirmed and check_best is not None and check_best.time is not None:
        best = check_best.time.ratio
        line += f". The long check confirms a safe gain >= 5% ({check_best.setting} {best:.3f}x)"
        if chosen is not None and chosen.evidence.time is not None:
            gap = chosen.evidence.time.ratio / best - 1
            near = "within" if gap <= WITHIN else "NOT within"
            line += f": chosen {100 * gap:+.1f}% from it ({near} 3%)"
        else:
            line += ": nothing chosen (a miss)"
    else:
        line += ". The long check confirms no safe gain >= 5%"
    verdicts = "; ".join(
        f"{v.setting}: {v.status}" for v in decision.verdicts if v.setting in candidates
    )
    return [line, f"  - verdicts on the candidates: {verdicts or 'none'}"]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=Path, nargs="+", required=True)
    parser.add_argument("--time", type=Path, nargs="+", required=True)
    args = parser.parse_args(argv)
    for d in args.time:
        for workload in load(d).workloads:
            print("\n".join(workload_section(args.counts, d, workload)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
