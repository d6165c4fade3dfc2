"""The sweep's terminal summary shows doubt next to the numbers it concerns."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gctune.present.sweep_tables import console, summary_tables
from gctune.store.results import load_sweep
from tests.unit.synthetic import Synth, scaled, write_sweep


def test_summary_shows_intervals_states_and_the_workloads_doubts(tmp_path: Path) -> None:
    no_gc: dict[int, Sequence[int]] = {}
    sweep = write_sweep(
        tmp_path,
        [
            Synth(
                "w",
                "default",
                scaled(1.0e-3, n=4),
                spans=True,
                collected=500,
                pauses={0: [20_000] * 100, 2: [50_000_000] * 2},
            ),
            Synth("w", "t7000-10-10", scaled(0.8e-3, n=4), spans=True),
            Synth("w", "t9000-10-10", scaled(0.99e-3, n=4, jitter=0.2), spans=True),
            Synth(
                "w",
                "disabled",
                scaled(0.6e-3, n=4),
                spans=True,
                pauses=no_gc,
                gc_enabled=False,
                full=0,
                grow=200_000,
            ),
            Synth(
                "w",
                "t70000-10-10",
                scaled(0.7e-3, n=4),
                spans=True,
                full=0,
                pauses={0: [20_000] * 100, 1: [20_000] * 10},
            ),
        ],
    )
    _, points = load_sweep(sweep)
    with console.capture() as captured:
        summary_tables(points)
    text = captured.get()
    assert "0.80x° [0.80, 0.80]" in text  # significant; ° every chunk (no reference)
    assert "0.97x° n.s." in text  # an interval that includes 1
    assert "NOT steady" in text and "off" in text
    assert "grows 318 MiB/s" in text  # the rate per second, at the measured speed
    after = text[text.index("  ! ") :]  # the doubts, under the table and its caption
    assert "disabled: memory grows 195 KiB per step" in after
    assert "t70000-10-10: not at steady state" in after
