"""Keeping the default where the collector is expensive: the situation in numbers, the
settings between, and, for a --command program, why its sweep differs from a function's."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path

from gctune.analysis.frame import load
from gctune.analysis.recommend import recommend
from gctune.analysis.situation import Costly, between_settings
from gctune.present.advice import Program, describe
from gctune.present.next_steps import program as program_argv
from tests.unit.synthetic import Synth, scaled, write_sweep

# default collects often and long: spans of 100 steps of 10 ms, half of it in pauses
COSTLY_GC: dict[int, Sequence[int]] = {0: [5_000_000] * 80, 2: [50_000_000] * 2}


def sweep(tmp_path: Path) -> list[Synth]:
    return [
        Synth(
            "w", "default", scaled(10e-3), spans=True, collected=5000, pauses=COSTLY_GC, steps=100
        ),
        Synth(
            "w", "t20000-10-10", scaled(6e-3), spans=True, collected=5000,
            thresholds=(20000, 10, 10), peak_rss_bytes=300 * 2**20, steps=100,
        ),
    ]  # fmt: skip


def test_every_faster_setting_over_the_budget_gets_the_situation(tmp_path: Path) -> None:
    data = load(write_sweep(tmp_path, sweep(tmp_path)))
    rec = recommend(data.stats["w"], data.points_of("w"))
    assert rec.is_default and rec.situation is not None
    (costly,) = rec.situation.costly
    assert costly.setting == "t20000-10-10" and costly.memory == "peak RSS 3x default's"
    assert rec.situation.between == ("t2100-10-10", "t6500-10-10")
    text = "\n".join(describe(rec))
    assert "keep the default for now" in text
    assert "situation: GC is" in text and "t20000-10-10 0.60x" in text
    (line,) = [x for x in text.splitlines() if "next: try the thresholds" in x]
    assert "sweep --command -s default -s t2100-10-10" in line  # no target: a program


def test_a_command_sweep_says_why_it_differs_and_names_its_program(tmp_path: Path) -> None:
    data = load(write_sweep(tmp_path, sweep(tmp_path)))
    rec = recommend(data.stats["w"], data.points_of("w"), per="run")
    program = Program("app", ("python", "app.py", "--in", "a b.json"))
    text = "\n".join(describe(rec, program=program))
    assert "a --command sweep times whole runs of the program" in text
    assert "-w FILE.py:make" in text
    (line,) = [x for x in text.splitlines() if "next: try the thresholds" in x]
    argv = shlex.split(line.split("not measured yet: ", 1)[1])
    here = program_argv()  # gctune as a fresh shell finds it (see next_steps.program)
    assert argv[: len(here) + 4] == [*here, "sweep", "--command", "--name", "app"]
    assert argv[argv.index("--") + 1 :] == ["python", "app.py", "--in", "a b.json"]


def test_the_settings_between_start_above_the_largest_that_fits(tmp_path: Path) -> None:
    fits = Synth(
        "w", "t5000-10-10", scaled(9.9e-3), spans=True, collected=5000,
        thresholds=(5000, 10, 10), steps=100,
    )  # fmt: skip
    points = [*sweep(tmp_path), fits]
    data = load(write_sweep(tmp_path, points))
    costly = [Costly("t20000-10-10", 0.6, 0.55, 0.65, "peak RSS 3x default's")]
    assert between_settings(data.stats["w"], costly, [700, 10, 10]) == (
        "t7900-10-10",
        "t13000-10-10",
    )
    # only disabled excluded: up to 100 x default's threshold0
    disabled = [Costly("disabled", 0.5, 0.4, 0.6, "never frees a cycle again")]
    assert between_settings(data.stats["w"][:1], disabled, [700, 10, 10]) == (
        "t3200-10-10",
        "t15000-10-10",
    )
