"""A mode means one thing everywhere: the sweep's rounds and span budget, its decision
rounds, a program's pyperf options and the help all come from gctune.sweep.modes."""

from __future__ import annotations

from typer.testing import CliRunner

from gctune.cli.main import app
from gctune.sweep.command_points import pyperf_options
from gctune.sweep.modes import MODES, mode
from gctune.sweep.spec import SweepSpec


def test_a_specs_rounds_are_its_modes() -> None:
    for name, m in MODES.items():
        config = SweepSpec(("short_cycles",), ("default",), mode=name).rounds_config("seed")
        assert (config.min_rounds, config.max_rounds) == (m.min_rounds, m.max_rounds)
        assert config.span_budget_s == m.span_budget_s
        assert config.decide_rounds == m.decide_rounds
    assert mode("no such mode") is MODES["normal"]  # an older manifest's unknown name


def test_a_programs_pyperf_options_are_its_modes() -> None:
    spec = SweepSpec(("p",), ("default",), mode="quick", command=("python", "p.py"))
    assert pyperf_options(spec) == ["--processes", "6", "--values", "3"]
    rigorous = SweepSpec(("p",), ("default",), mode="rigorous", values=5, command=("p",))
    assert pyperf_options(rigorous) == ["--rigorous", "--values", "5"]  # explicit counts last


def test_the_help_says_what_each_mode_does() -> None:
    shown = CliRunner().invoke(app, ["sweep", "--help"], env={"COLUMNS": "300"}).output
    for name, m in MODES.items():
        assert f"--{name}" in shown and m.help() in shown
    assert "5 to 15 rounds with racing, spans of up to 6 s." in shown
