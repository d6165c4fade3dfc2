"""The ``gctune`` command, through typer's CliRunner and as a real installed program."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gctune import __version__
from gctune.cli.main import app

pytestmark = pytest.mark.integration
runner = CliRunner()


def test_list_shows_every_builtin_workload() -> None:
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0
    for name in ("acyclic_churn", "short_cycles", "longlived_heap", "tree_parents", "request_loop"):
        assert name in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sweep", "-s", "700,-1"], "negative"),
        (["sweep", "-s", "banana"], "unknown GC setting"),
        (["sweep", "no_such_workload"], "unknown workload"),
        (["sweep", "--grid", "huge"], "unknown grid"),
        (["sweep", "--max-memory", "lots"], "memory size"),
        (["sweep", "--fast", "--rigorous"], "choose one"),
        (["sweep", "--quick", "--normal"], "choose one"),
        (["run", "acyclic_churn", "-s", "0"], "disabled"),
        (["sweep", "--resume", "--out", "/nonexistent/gctune"], "no sweep to resume"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


COMMANDS = ("list", "run", "sweep", "report", "recommend", "compare", "history")


def test_every_command_has_help_without_type_names() -> None:
    for command in ("", *COMMANDS):
        result = runner.invoke(app, [command, "--help"] if command else ["--help"])
        assert result.exit_code == 0 and "Usage" in result.output
        # values are named for what they are (N, DIR, SETTING), not by Python type
        assert not re.search(r"<(bool|str|int|float|path|list)", result.output), result.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"gctune {__version__}"


def test_run_and_sweep_take_the_same_modes() -> None:
    flags = ("--quick", "--fast", "--normal", "--rigorous")
    for command in ("run", "sweep"):
        text = runner.invoke(app, [command, "--help"]).output
        assert all(flag in text for flag in flags), command
    sweep_help = " ".join(runner.invoke(app, ["sweep", "--help"]).output.split())
    assert "in quick mode (3 rounds)" in sweep_help
    assert "fast mode" not in sweep_help.split("--fast")[0]  # the default is quick, not fast


def test_run_saves_nothing_unless_given_out(
    tmp_path: Path, fast_args: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    here = tmp_path / "anywhere"
    here.mkdir()
    monkeypatch.chdir(here)
    result = runner.invoke(app, ["run", "acyclic_churn", "--quick", *fast_args])
    assert result.exit_code == 0, result.output
    assert "Not saved: add --out DIR" in result.output
    # one statistic, named: the mean, as every other command shows
    assert "time per step (mean)" in result.output and "median" not in result.output
    assert list(here.iterdir()) == []  # no ./results/ where the user happened to be
    kept = runner.invoke(app, ["run", "acyclic_churn", "--quick", "--out", "kept", *fast_args])
    assert kept.exit_code == 0, kept.output
    assert "Saved: kept/points/acyclic_churn@default.json" in kept.output
    manifest = json.loads((here / "kept" / "manifest.json").read_text())
    assert manifest["gctune"]["spec"]["mode"] == "quick"


def test_sweep_prints_summary_and_saves(tmp_path: Path, fast_args: tuple[str, ...]) -> None:
    out = tmp_path / "s"
    result = runner.invoke(
        app, ["sweep", "short_cycles", "-s", "9000", "--out", str(out), *fast_args]
    )
    assert result.exit_code == 0, result.output
    # -s 9000 is 9000,10,10: one setting, spelled in full
    assert "short_cycles" in result.output and "t9000-10-10" in result.output
    assert sorted(p.name for p in (out / "points").iterdir()) == [
        "short_cycles@default.json",
        "short_cycles@disabled.json",
        "short_cycles@t9000-10-10.json",
    ]
    again = runner.invoke(app, ["sweep", "short_cycles", "--out", str(out), *fast_args])
    assert again.exit_code == 2 and "--resume" in again.output


def test_installed_program_runs_a_point(tmp_path: Path, fast_args: tuple[str, ...]) -> None:
    # the console script pip installed beside this interpreter
    exe = str(Path(sys.executable).with_name("gctune"))
    assert Path(exe).exists(), "gctune is not installed in this environment"
    done = subprocess.run(
        [
            exe,
            "run",
            "request_loop",
            "-s",
            "default+freeze",
            "--out",
            str(tmp_path / "r"),
            *fast_args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "request p50 / p99 / max" in done.stdout
    bad = subprocess.run([exe, "run", "nope"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert bad.stderr.strip().startswith("gctune: error: unknown workload 'nope'")
