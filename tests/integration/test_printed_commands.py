"""Every command gctune prints for the user to run is run here, as printed, in a fresh
shell (a bare PATH, without gctune's virtualenv): a command that names a result id instead
of the workload's spec, a file that does not exist, or a bare ``gctune`` that only an
activated virtualenv would find, fails these tests."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from gctune.store.results import read_manifest, write_manifest
from tests.unit.synthetic import Synth, scaled, write_sweep

GCTUNE = str(Path(sys.executable).with_name("gctune"))
# what a printed verify command is given here so that it measures for a second, not a minute
SHORT_VERIFY = ("--rounds", "2", "--max-point-time", "0.05")
FACTORY = "def make(size=20):\n    return lambda: [[i] for i in range(size)]\n"


def gctune(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GCTUNE, *args], capture_output=True, text=True, timeout=300, cwd=cwd, check=False
    )


# what a new terminal has: no virtualenv on PATH, nothing else of this process's environment
FRESH_PATH = "/usr/local/bin:/usr/bin:/bin"


def fresh_env() -> dict[str, str]:
    return {"PATH": FRESH_PATH, "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}


def run_printed(line: str, *extra: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a command line exactly as gctune printed it (plus ``extra`` options), pasted
    into a fresh shell in ``cwd``."""
    command = " ".join([line, *map(shlex.quote, extra)])
    return subprocess.run(
        ["/bin/sh", "-c", command],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=fresh_env(),
        check=False,
    )


def printed(text: str, marker: str) -> list[str]:
    """The commands following ``marker`` in gctune's output, one per line."""
    found = []
    for line in text.splitlines():
        if marker in line:
            command = line.split(marker, 1)[1].strip()
            found.append(command.removesuffix(")"))
    return found


def test_recommend_recycle_prints_verify_commands_that_run_on_user_files(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    for name in ("vary", "flat"):
        (code / f"{name}.py").write_text(FACTORY)
    specs = {f"{name}-make": str(code / f"{name}.py") + ":make" for name in ("vary", "flat")}
    sweep = tmp_path / "sweep"
    no_gc: dict[int, list[int]] = {}
    grows = dict(spans=True, collected=500, pauses=no_gc, gc_enabled=False, full=0, grow=10_000)
    write_sweep(
        sweep,
        [
            Synth("vary-make", "default", scaled(1.0e-3), spans=True, collected=500),
            Synth("vary-make", "disabled", scaled(0.6e-3), **grows),  # type: ignore[arg-type]
            Synth("flat-make", "default", scaled(1.0e-3), spans=True, collected=500),
            Synth("flat-make", "disabled", scaled(0.99e-3), **grows),  # type: ignore[arg-type]
        ],
    )
    manifest = read_manifest(sweep)
    write_manifest(sweep, replace(manifest, spec={**manifest.spec, "workloads": [*specs.values()]}))

    elsewhere = tmp_path / "elsewhere"  # the user runs the printed commands from anywhere
    elsewhere.mkdir()
    shown = gctune("recommend", str(sweep), "--recycle", "--max-memory-ratio", "2", cwd=elsewhere)
    assert shown.returncode == 0, shown.stderr
    commands = printed(shown.stdout, "check: ")
    # the recommended recycled setting of vary-make, and flat-make's recycling plan
    assert len(commands) == 2, shown.stdout
    for command in commands:
        assert shlex.split(command)[1] == "verify" and "-make " not in command, command
        assert any(spec in command for spec in specs.values())
        assert "--recycle" in command
        done = run_printed(command, *SHORT_VERIFY, "--out", str(tmp_path / "v"), cwd=elsewhere)
        assert done.returncode in (0, 1), done.stderr  # confirmed or not: measured, no error
        assert "gctune: verifying disabled against default" in done.stderr
        assert "not found" not in done.stderr and "unknown workload" not in done.stderr
        (tmp_path / "v").rename(tmp_path / f"v{commands.index(command)}")


def test_a_sweep_prints_commands_that_run(tmp_path: Path, fast_args: tuple[str, ...]) -> None:
    (tmp_path / "tiny.py").write_text(FACTORY)
    out = tmp_path / "results dir" / "s"  # a space: printed paths must be quoted
    swept = gctune("sweep", "tiny.py:make", "-s", "disabled", "--out", str(out), *fast_args,
                   cwd=tmp_path)  # fmt: skip
    assert swept.returncode == 0, swept.stderr
    (show,) = printed(swept.stdout, "Timing data for pyperf: ")
    shown = run_printed(show, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "Mean +- std dev" in shown.stdout or "mean" in shown.stdout.lower()
    (recommend,) = printed(swept.stdout, "Recommendations: ")
    advice = run_printed(recommend, cwd=tmp_path / "results dir")
    assert advice.returncode in (0, 1), advice.stderr
    assert "tiny-make" in advice.stdout
    for check in printed(advice.stdout, "check: "):
        done = run_printed(check, *SHORT_VERIFY, "--out", str(tmp_path / "v"), cwd=tmp_path)
        assert done.returncode in (0, 1), done.stderr


def test_no_pyperf_command_when_no_point_finished(
    tmp_path: Path, fast_args: tuple[str, ...]
) -> None:
    (tmp_path / "broken.py").write_text("def make(size=20):\n    return lambda: 1 / 0\n")
    swept = gctune("sweep", "broken.py:make", "-s", "disabled", "--out", str(tmp_path / "s"),
                   *fast_args, cwd=tmp_path)  # fmt: skip
    assert swept.returncode == 3, swept.stderr
    assert "0 finished, 2 failed" in swept.stdout
    assert "Timing data for pyperf" not in swept.stdout
    assert "Recommendations:" not in swept.stdout


def test_a_sweep_in_a_repository_prints_commands_a_fresh_shell_runs(
    tmp_path: Path, fast_args: tuple[str, ...]
) -> None:
    """As a new user: gctune run as ``.venv/bin/gctune`` (as ``make sweep`` runs it) from a
    repository whose virtualenv is not activated; every command it prints next, pasted into
    a fresh shell there, works, and names gctune the way that shell finds it."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".venv").symlink_to(Path(sys.prefix))  # this virtualenv, as the repository's
    (repo / "tiny.py").write_text(FACTORY)
    args = shlex.join(["tiny.py:make", "-s", "disabled", *fast_args])
    swept = run_printed(f".venv/bin/gctune sweep {args}", cwd=repo)
    assert swept.returncode == 0, swept.stderr
    (recommend,) = printed(swept.stdout, "Recommendations: ")
    assert recommend.startswith(".venv/bin/gctune recommend results/"), recommend
    (show,) = printed(swept.stdout, "Timing data for pyperf: ")
    shown = run_printed(show, cwd=repo)
    assert shown.returncode == 0, shown.stderr
    reports = printed(swept.stdout, "Report: ")
    assert reports and all((repo / path).is_file() for path in reports), reports
    (results,) = printed(swept.stdout, "Results: ")
    sweep_dir = results.split()[0]

    advice = run_printed(recommend, cwd=repo)
    assert advice.returncode in (0, 1), advice.stderr
    assert "tiny-make" in advice.stdout
    # a sweep whose data recommends a change (the tiny one's seldom does): its check
    saved = repo / "results" / "saved"
    no_gc: dict[int, list[int]] = {}
    write_sweep(
        saved,
        [
            Synth("tiny-make", "default", scaled(1.0e-3), spans=True),
            Synth("tiny-make", "disabled", scaled(0.6e-3), spans=True, pauses=no_gc,  # type: ignore[arg-type]
                  gc_enabled=False, full=0),
        ],
    )  # fmt: skip
    manifest = read_manifest(saved)
    spec = {**manifest.spec, "workloads": [str(repo / "tiny.py") + ":make"]}
    write_manifest(saved, replace(manifest, spec=spec))
    advice = run_printed(".venv/bin/gctune recommend results/saved", cwd=repo)
    (check,) = printed(advice.stdout, "check: ")
    assert check.startswith(".venv/bin/gctune verify "), check
    done = run_printed(check, *SHORT_VERIFY, "--out", str(tmp_path / "v"), cwd=repo)
    assert done.returncode in (0, 1), done.stderr
    assert "gctune: verifying disabled against default" in done.stderr
    os.utime(repo / sweep_dir / "manifest.json")  # the measured sweep is the latest again

    # with no directory, recommend and summary read the latest sweep and say which
    for command in ("recommend", "summary"):
        latest = run_printed(f".venv/bin/gctune {command}", cwd=repo)
        assert latest.returncode in (0, 1), latest.stderr
        assert f"gctune: reading {sweep_dir}, the latest sweep" in latest.stderr
    again = run_printed(f".venv/bin/gctune summary {sweep_dir}", cwd=repo)
    assert again.returncode == 0, again.stderr
    assert "tiny-make" in again.stdout and f"Results: {sweep_dir}" in again.stdout
