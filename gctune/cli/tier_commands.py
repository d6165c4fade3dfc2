"""Rank in counts, confirm in time, on the command line.

``gctune sweep --measure counts --confirm`` (or ``gctune sweep --resume --out DIR
--confirm`` on a sweep in counts) measures, after the counts, each workload's ``default``
and its best settings in counts in time (:mod:`gctune.sweep.confirm`); ``summary``,
``report`` and ``recommend`` on such a directory show both tiers side by side and decide
with the rule of :mod:`gctune.analysis.tiers`. A sweep in counts without a confirmation
reads as before: counts only, no recommendation.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from gctune.cli.errors import GctuneError, warn_damaged
from gctune.cli.spec import measure_sweep
from gctune.present.sweep_tables import console, err_console, print_wrapped
from gctune.store.results import MANIFEST, read_manifest
from gctune.sweep.confirm import (
    CONFIRM_ROUNDS,
    CONFIRM_SPAN_S,
    confirmation_dir,
    confirmation_dirs,
    confirmation_spec,
    within_memory,
)
from gctune.sweep.count_sweep import CountSpec, read_count_points

if TYPE_CHECKING:  # pandas and the analysis load only when a command needs them
    import pandas as pd

    from gctune.analysis.frame import SweepData
    from gctune.analysis.tiers import TierDecision, TierEvidence
    from gctune.store.results import Point
    from gctune.sweep.tier_judge import TierJudge

# gctune.analysis.recommend's, without importing it at start-up (a test checks they agree)
DEFAULT_MIN_GAIN = 0.02
DEFAULT_MAX_MEMORY_RATIO = 1.25
CONFIRM_TOP = 3

__all__ = [
    "CONFIRM",
    "confirm_counts",
    "has_confirmation",
    "recommend_tiers",
    "tier_sections",
    "tiers_report_text",
]

CONFIRM = typer.Option(
    False,
    "--confirm",
    help="--measure counts: then time each workload's best settings in counts against "
    "default (--rounds, default 12; spans of up to --max-point-time, default 3 s; no "
    "racing; up to 12 decision rounds where time leaves one undecided) and decide with "
    "both tiers (docs/counts.md).",
)


def has_confirmation(directory: Path) -> bool:
    """Whether a sweep in counts has (part of) a confirmation in time."""
    return bool(confirmation_dirs(directory))


def _count_frame(directory: Path) -> pd.DataFrame:
    from gctune.present.count_tables import count_frame

    return count_frame(read_count_points(directory))


def confirm_counts(
    directory: Path,
    *,
    rounds: Optional[int],
    span_s: Optional[float] = None,
    min_gain: float = DEFAULT_MIN_GAIN,
    top: int = CONFIRM_TOP,
    max_memory_ratio: float = DEFAULT_MAX_MEMORY_RATIO,
) -> None:
    """Measure in time, per workload of the sweep in counts ``directory``, ``default`` and
    its ``top`` best settings in counts gaining at least ``min_gain`` among those a native
    memory probe does not put over ``max_memory_ratio`` (:func:`within_memory`); a
    confirmation already started is resumed."""
    from gctune.analysis.tiers import confirmation_candidates
    from gctune.present.tier_tables import tier_evidence

    count = CountSpec.from_json(read_manifest(directory).spec)
    frame = _count_frame(directory)
    for workload in dict.fromkeys(frame["workload"]):
        wid = str(workload)
        target = confirmation_dir(directory, wid)
        judge = _judge(frame, wid, target, min_gain, max_memory_ratio)
        if (target / MANIFEST).exists():
            err_console.print(f"gctune: confirming {wid} in time (resumed) → {target}")
            measure_sweep(None, target, resume=True, judge=judge)
            continue
        evidence = tier_evidence(frame, wid, None)

        def choose(excluded: set[str], evidence: list[TierEvidence] = evidence) -> list[str]:
            kept = [e for e in evidence if e.setting not in excluded]
            return confirmation_candidates(kept, min_gain=min_gain, top=top)

        def skipped(setting: str, why: str, wid: str = wid) -> None:
            print_wrapped([f"gctune: {wid}: {setting} not timed: {why}"], on=err_console)

        candidates = within_memory(
            count, wid, choose, max_memory_ratio=max_memory_ratio, on_skip=skipped
        )
        if not candidates:
            print_wrapped(
                [f"gctune: {wid}: no setting gains {100 * min_gain:g}% in counts: "
                 "nothing to confirm in time"],
                on=err_console,
            )  # fmt: skip
            continue
        spec = confirmation_spec(
            count, wid, candidates, rounds=rounds or CONFIRM_ROUNDS,
            span_s=span_s or CONFIRM_SPAN_S,
        )  # fmt: skip
        print_wrapped(
            [f"gctune: confirming {wid} in time: default and {', '.join(candidates)} "
             f"(best in counts), {spec.rounds} interleaved rounds, no racing, up to "
             f"{spec.decide_rounds} decision rounds where time leaves one undecided → {target}"],
            on=err_console,
        )  # fmt: skip
        measure_sweep(spec, target, resume=False, judge=judge)


def _judge(
    frame: pd.DataFrame, wid: str, target: Path, min_gain: float, max_memory_ratio: float
) -> TierJudge:
    """The confirmation's decision rounds judge by the rule over the count sweep's
    ``frame`` and the confirming points of the sweep in ``target``, as measured so far."""
    from gctune.analysis.frame import sweep_data
    from gctune.present.tier_tables import tier_decision
    from gctune.store.results import read_manifest
    from gctune.sweep.tier_judge import TierJudge

    def decision_of(points: Sequence[Point]) -> Optional[TierDecision]:
        time = sweep_data(target, read_manifest(target), points)
        _, decision = tier_decision(
            frame, wid, time, max_memory_ratio=max_memory_ratio, min_gain=min_gain
        )
        return decision

    return TierJudge(decision_of, min_gain)


def _time_data(directory: Path, workload: str) -> Optional[SweepData]:
    from gctune.analysis.frame import load

    path = confirmation_dirs(directory).get(workload)
    if path is None:
        return None
    data = load(path)
    warn_damaged(data.damaged)
    return data


def tier_sections(
    directory: Path,
    *,
    max_memory_ratio: float = DEFAULT_MAX_MEMORY_RATIO,
    min_gain: float = DEFAULT_MIN_GAIN,
) -> list[tuple[str, list[TierEvidence], TierDecision]]:
    """Each workload of a sweep in counts: its evidence in both tiers and the decision."""
    from gctune.present.tier_tables import tier_decision

    frame = _count_frame(directory)
    sections = []
    for workload in dict.fromkeys(frame["workload"]):
        wid = str(workload)
        evidence, decision = tier_decision(
            frame, wid, _time_data(directory, wid),
            max_memory_ratio=max_memory_ratio, min_gain=min_gain,
        )  # fmt: skip
        sections.append((wid, evidence, decision))
    return sections


def print_tiers(directory: Path) -> None:
    """Both tiers' tables of a confirmed sweep in counts, on the terminal."""
    from gctune.present.tier_tables import TIERS_CAPTION, tiers_table

    for workload, evidence, decision in tier_sections(directory):
        console.print(tiers_table(workload, evidence, decision))
    console.print(TIERS_CAPTION, highlight=False)


def tiers_report_text(directory: Path) -> str:
    """The Markdown section of both tiers (empty without a confirmation)."""
    from gctune.present.tier_tables import tiers_markdown

    if not has_confirmation(directory):
        return ""
    return tiers_markdown(tier_sections(directory), "Both tiers: rank in counts, confirm in time")


def recommend_tiers(
    directory: Path,
    *,
    max_memory_ratio: float,
    min_gain: float,
    json_output: bool,
) -> None:
    """``gctune recommend`` on a confirmed sweep in counts: per workload, the setting the
    rule admits (lowest in counts) or default, with what it rests on; exit 0 when one
    workload has a recommendation, else 1."""
    from gctune.present.advice import snippet
    from gctune.present.next_steps import verify_command, workload_args

    spec = read_manifest(directory).spec
    made: list[dict[str, Any]] = []
    for workload, _, decision in tier_sections(
        directory, max_memory_ratio=max_memory_ratio, min_gain=min_gain
    ):
        chosen = decision.chosen
        item: dict[str, Any] = {
            "workload": workload,
            "setting": chosen.setting if chosen else "default",
            "rests_on": decision.rests_on,
            "verdicts": [
                {"setting": v.setting, "status": v.status, "reason": v.reason}
                for v in decision.verdicts
            ],
        }
        args = workload_args(spec, workload)
        if chosen is not None and args is not None:
            item["verify"] = verify_command(args, chosen.setting)
        if chosen is not None:
            made.append(item)
        if json_output:
            if chosen is None:
                made.append(item)
            continue
        if chosen is None:
            lines = [f"{workload}: keep the default: no setting admitted by both tiers."]
            lines += [f"  {v.setting}: {v.status}: {v.reason}" for v in decision.verdicts]
            print_wrapped([*lines, ""])
            continue
        print_wrapped(
            [f"{workload}: recommended {chosen.setting}, resting on counts, time "
             f"consistent: {chosen.reason}."]
        )  # fmt: skip
        if "verify" in item:
            typer.echo(f"Check it again in time: {item['verify']}")
        typer.echo("")
        typer.echo(snippet(chosen.setting))
        typer.echo("")
    if json_output:
        doc = {"kind": "recommendations", "tier": "both", "sweep": str(directory)}
        typer.echo(json.dumps({**doc, "workloads": made}, indent=1))
        if not any(w["setting"] != "default" for w in made):
            raise typer.Exit(1)
        return
    if not made:
        raise typer.Exit(1)


def refuse_confirm_without_counts(confirm: bool) -> None:
    """``--confirm`` belongs to ``--measure counts``."""
    if confirm:
        raise GctuneError("--confirm applies to --measure counts (a sweep in time is timed)")
