"""The report and recommend state what was measured, for every kind of point.

A ``--command`` sweep of a program run by another interpreter: the report shows the
measured interpreter, times per run, and a snippet that says the setting was applied at
start-up. Notes on pauses, requests and the gap closed say only what the numbers show.
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from gctune.analysis.frame import load
from gctune.analysis.recommend import recommend
from gctune.cli.main import app
from gctune.present.advice import describe
from gctune.present.report import build_report
from tests.unit.synthetic import SWEEP_PYTHON, Synth, scaled, write_sweep

PY313 = {
    **SWEEP_PYTHON,
    "version": "3.13.0",
    "executable": "/opt/python3.13/bin/python3.13",
    "default_thresholds": [2000, 10, 10],
}


def command_sweep(directory: Path) -> Path:
    return write_sweep(
        directory,
        [
            Synth("app", "default", scaled(0.5), thresholds=(2000, 10, 10)),
            Synth(
                "app", "disabled", scaled(0.3), pauses={}, gc_enabled=False, peak_rss_bytes=1 << 30
            ),
            Synth("app", "t50000-10-10+freeze", scaled(0.35), thresholds=(50000, 10, 10)),
        ],
        command=["/opt/python3.13/bin/python3.13", "app.py"],
        interpreter=PY313,
    )


def test_report_of_a_program_shows_what_was_measured(tmp_path: Path) -> None:
    sweep = command_sweep(tmp_path / "s")
    md = build_report(sweep, formats=["md"])[0].read_text(encoding="utf-8")
    environment = md.split("## Environment", 1)[1].split("\n## ", 1)[0]
    assert "| Python | CPython 3.13.0 (with the GIL) |" in environment
    assert "/opt/python3.13/bin/python3.13" in environment
    assert "default thresholds (2000, 10, 10)" in environment
    assert "(700, 10, 10)" not in environment
    assert "| gctune ran on | CPython 3.11.7 (/usr/bin/python3.11)" in environment
    # a program's point times whole runs, start-up included
    assert "| setting | time/run |" in md and "time/step" not in md
    assert "time per step" not in md
    # the setting was applied at start-up: the snippet says so, not "after the state"
    assert "As measured: first thing at start-up, before the program's imports." in md
    assert "after the long-lived state is built" not in md


def test_recommend_of_a_program_is_per_run_and_at_startup(tmp_path: Path) -> None:
    sweep = command_sweep(tmp_path / "s")
    result = CliRunner().invoke(app, ["recommend", str(sweep)])
    assert result.exit_code == 0, result.output
    assert "time per run (mean): 350 ms vs 500 ms" in result.output
    assert "first thing at start-up" in result.output
    assert "after the long-lived state is built" not in result.output


def test_longer_pauses_that_are_not_fewer_are_not_called_fewer(tmp_path: Path) -> None:
    data = load(
        write_sweep(
            tmp_path,
            [
                Synth("w", "default", scaled(1.0e-3), pauses={0: [20_000] * 10}),
                Synth(
                    "w",
                    "disabled",
                    scaled(0.5e-3),
                    pauses={},
                    gc_enabled=False,
                    peak_rss_bytes=1 << 30,
                ),
                # more collections per step than default, and longer: faster all the same
                Synth("w", "t9000-10-10", scaled(0.8e-3), pauses={0: [40_000] * 11}),
            ],
        )
    )
    rec = recommend(data.stats["w"], data.points_of("w"))
    text = "\n".join(describe(rec))
    assert rec.setting == "t9000-10-10"
    assert "fewer but longer" not in text
    assert "longer pauses, and no fewer, than default: 0.55 vs 0.5 collections per step" in text
    # the workload records no requests: nothing about requests
    assert "request" not in text


def test_fewer_longer_pauses_and_a_slower_request_say_so(tmp_path: Path) -> None:
    fast, slow = [50_000] * 100, [50_000] * 99 + [5_000_000]
    data = load(
        write_sweep(
            tmp_path,
            [
                Synth("w", "default", scaled(1.0e-3), requests=fast),
                Synth(
                    "w", "t70000-10-10", scaled(0.8e-3), pauses={0: [900_000] * 2}, requests=slow
                ),
            ],
        )
    )
    text = "\n".join(describe(recommend(data.stats["w"], data.points_of("w"))))
    assert "fewer but longer pauses than default: 0.1 vs 0.5 collections per step" in text
    assert "its longest request took 5 ms vs 50 us under default" in text


def test_gap_closed_without_a_gap_is_called_noise(tmp_path: Path) -> None:
    sweep = write_sweep(
        tmp_path / "s",
        [
            # disabled is no faster than default: no gap to close
            Synth("w", "default", scaled(1.0e-3, jitter=0.05)),
            Synth("w", "disabled", scaled(0.999e-3, jitter=0.05), pauses={}, gc_enabled=False),
            Synth("w", "t9000-10-10", scaled(0.7e-3)),
        ],
    )
    data = load(sweep)
    rec = recommend(data.stats["w"], data.points_of("w"))
    assert rec.stats.gap_recovered is not None and rec.stats.gap_recovered > 100
    text = "\n".join(describe(rec))
    assert "time gap recovered: none to recover: disabled is not significantly faster" in text
    md = build_report(sweep, formats=["md"])[0].read_text(encoding="utf-8")
    row = next(line for line in md.splitlines() if line.startswith("| t9000-10-10 |"))
    assert "| no gap |" in row and "%" not in row.split("|")[5]


def test_gap_past_the_floor_is_marked(tmp_path: Path) -> None:
    data = load(
        write_sweep(
            tmp_path,
            [
                Synth("w", "default", scaled(1.0e-3)),
                Synth("w", "disabled", scaled(0.8e-3), pauses={}, gc_enabled=False),
                Synth("w", "t9000-10-10", scaled(0.7e-3)),
            ],
        )
    )
    text = "\n".join(describe(recommend(data.stats["w"], data.points_of("w"))))
    assert "recovered: 150.0%: faster than with the collector disabled" in text
