"""Both tiers' evidence read from a count frame and a synthetic time sweep with known
answers (tests/unit/synthetic.py), and the decision and tables built on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from gctune.analysis import recommend, tiers
from gctune.analysis.frame import load
from gctune.cli import tier_commands
from gctune.present.count_tables import COUNT_COLUMNS
from gctune.present.tier_tables import tier_decision, tiers_markdown, tiers_table
from tests.unit.synthetic import Synth, scaled, write_sweep


def _counts(ratios: dict[str, float]) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for setting, ratio in ratios.items():
        row: dict[str, Any] = {c: None for c in COUNT_COLUMNS}
        row.update(
            workload="w", setting=setting, status="ok", cycles_vs_default=ratio,
            instructions_vs_default=(1 + ratio) / 2, whole_cycles=setting == "default",
        )  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows, columns=list(COUNT_COLUMNS))


def _timed(tmp_path: Path) -> Path:
    def point(setting: str, mean: float, **kw: Any) -> Synth:
        return Synth("w", setting, scaled(mean, 8), spans=True, **kw)

    return write_sweep(
        tmp_path / "time",
        [
            point("default", 1e-3),
            point("t7000-10-10", 0.90e-3),  # as counts say: admitted
            point("freeze", 1.10e-3),  # 10 % slower although counts say 0.85: contradicted
            point("disabled", 0.70e-3, grow=2048.0, full=0),  # fastest, but memory grows: unsafe
        ],
    )


def test_evidence_and_decision_from_both_tiers(tmp_path: Path) -> None:
    counts = _counts(
        {"default": 1.0, "t7000-10-10": 0.91, "freeze": 0.85, "disabled": 0.70,
         "t20000-10-10": 0.88}  # not timed
    )  # fmt: skip
    evidence, decision = tier_decision(counts, "w", load(_timed(tmp_path)))
    by = {e.setting: e for e in evidence}
    t = by["t7000-10-10"].time
    assert t is not None and abs(t.ratio - 0.90) < 0.01 and t.high < 1
    assert by["t7000-10-10"].memory_ok is True and by["disabled"].memory_ok is False
    assert "grows" in by["disabled"].memory_note
    assert by["t20000-10-10"].time is None
    status = {v.setting: v.status for v in decision.verdicts}
    assert status == {
        "t7000-10-10": tiers.ADMITTED,
        "freeze": tiers.CONTRADICTED,
        "disabled": tiers.UNSAFE,
        "t20000-10-10": tiers.NO_TIME,
    }
    assert decision.chosen is not None and decision.chosen.setting == "t7000-10-10"
    text = tiers_markdown([("w", evidence, decision)], "Both tiers")
    assert "Decision rests on: counts, time consistent." in text
    assert "CHOSEN: admitted" in text and "time contradicts counts" in text
    assert "decision rests on" in str(tiers_table("w", evidence, decision).title)


def test_without_time_nothing_is_admitted() -> None:
    _, decision = tier_decision(_counts({"default": 1.0, "freeze": 0.5}), "w", None)
    assert decision.chosen is None
    assert [v.status for v in decision.verdicts] == [tiers.NO_TIME]


def test_the_command_line_defaults_are_the_analysis_defaults() -> None:
    assert tier_commands.DEFAULT_MIN_GAIN == recommend.DEFAULT_MIN_GAIN
    assert tier_commands.DEFAULT_MAX_MEMORY_RATIO == recommend.DEFAULT_MAX_MEMORY_RATIO
    assert tier_commands.CONFIRM_TOP == tiers.CONFIRM_TOP


def test_a_confirmation_of_one_workload_is_read_under_its_own_id(tmp_path: Path) -> None:
    # counted beside another file of the same name (id "a.run-main"), timed alone ("run-main")
    timed = write_sweep(
        tmp_path / "t",
        [Synth("run-main", s, scaled(m, 8), spans=True) for s, m in
         (("default", 1e-3), ("t7000-10-10", 0.9e-3))],
    )  # fmt: skip
    counts = _counts({"default": 1.0, "t7000-10-10": 0.9}).assign(workload="a.run-main")
    evidence, _ = tier_decision(counts, "a.run-main", load(timed))
    assert [e.time is not None for e in evidence] == [True, True]


def test_a_rise_over_two_full_collections_is_unsafe_but_not_called_growth(tmp_path: Path) -> None:
    timed = write_sweep(
        tmp_path / "time",
        [
            Synth("w", "default", scaled(1e-3, 8), spans=True),
            Synth("w", "t7000-10-10", scaled(0.8e-3, 8), spans=True, full=2, grow=2048.0),
        ],
    )
    evidence, _ = tier_decision(_counts({"default": 1.0, "t7000-10-10": 0.9}), "w", load(timed))
    (rise,) = [e for e in evidence if e.setting == "t7000-10-10"]
    assert rise.memory_ok is False
    assert "over spans of 2 full collections (too few to call it growth)" in rise.memory_note


def test_sweep_confirm_judges_the_points_measured_so_far(tmp_path: Path) -> None:
    # decision rounds hand the judge the confirmation's points as measured up to a round;
    # the judge decides on those, not on whatever the directory holds
    counts = _counts({"default": 1.0, "t7000-10-10": 0.91, "freeze": 0.85, "disabled": 0.70})
    timed = _timed(tmp_path)
    judge = tier_commands._judge(counts, "w", timed, 0.02, 1.25)
    points = load(timed).points
    whole = judge.decision_of(points)
    assert whole is not None and whole.chosen is not None
    assert whole.chosen.setting == "t7000-10-10"
    only_default = judge.decision_of([p for p in points if p.setting == "default"])
    assert only_default is not None and only_default.chosen is None
