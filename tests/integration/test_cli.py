"""The ``gctune`` command, through typer's CliRunner and as a real installed program."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gctune.cli import app

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


def test_every_command_has_help() -> None:
    for command in ("list", "run", "sweep"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output


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
