"""The counts table from stored count points (synthetic documents)."""

from __future__ import annotations

from typing import Any, Optional

from rich.console import Console

from gctune.present.count_tables import count_frame, count_markdown, count_table


def doc(setting: str, instr: float, gc: Optional[float], full: float) -> dict[str, Any]:
    return {
        "workload": "w",
        "setting": setting,
        "status": "ok",
        "reason": "",
        "point": {
            "instructions_per_step": instr,
            "cycles_per_step": 1.5 * instr,
            "gc_share": gc,
            "collections_per_step": [0.5, 0.05, full],
            "whole_cycles": full > 0,
            "steps": 40,
        },
    }


def test_ratios_are_against_the_workloads_default() -> None:
    frame = count_frame(
        [
            doc("default", 2e6, 0.25, 0.01),
            doc("disabled", 1.5e6, 0.0, 0.0),
            {"workload": "w", "setting": "t9-9-9", "status": "failed", "reason": "boom"},
        ]
    ).set_index("setting")
    assert frame.loc["disabled", "instructions_vs_default"] == 0.75
    assert frame.loc["disabled", "cycles_vs_default"] == 0.75
    assert frame.loc["default", "gc_share"] == 0.25


def test_the_table_shows_every_point_and_says_its_tier() -> None:
    frame = count_frame([doc("default", 2e6, None, 0.01), doc("disabled", 1.5e6, 0.0, 0.0)])
    console = Console(record=True, width=160)
    console.print(count_table(frame, "w"))
    text = console.export_text()
    assert "counts tier" in text and "0.750x" in text
    assert "n/a" in text  # no collector symbols: not a number
    assert "no (40 steps)" in text


def test_the_report_names_the_lower_bounds_and_where_counts_mislead() -> None:
    frame = count_frame([doc("default", 2e6, None, 0.01), doc("disabled", 1.5e6, 0.0, 0.0)])
    text = count_markdown(frame, "t")
    assert "Lower bounds here (counted over default's cycle): w disabled." in text
    assert "Where counts mislead" in text and "1.52x in time" in text
    whole = count_markdown(count_frame([doc("default", 2e6, None, 0.01)]), "t")
    assert "Lower bounds here" not in whole and "Where counts mislead" in whole
