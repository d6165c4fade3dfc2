"""The user's own code, measured for real: callables, unchanged scripts, pyperf scripts.

Every program here is written into ``tmp_path``, outside the repository and off
``sys.path``, and measured under three settings with real pyperf processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gctune.analysis.stats import workload_stats
from gctune.cli.main import app
from gctune.store.results import Point, load_sweep
from gctune.sweep.runner import run_sweep
from gctune.sweep.spec import SweepSpec

pytestmark = pytest.mark.integration
cli = CliRunner()

SETTINGS = ("default", "disabled", "2000,10,10+freeze")
# Tiny, real measurements for a command: pyperf's calibration run plus two worker runs.
COMMAND_OPTS: dict[str, object] = dict(processes=2, values=2, min_time=0.002, timeout=180)


def write(path: Path, source: str) -> Path:
    path.write_text(textwrap.dedent(source))
    return path


def check_three_settings(points: list[Point]) -> None:
    """The checks every program must pass: what each setting put in force, and stats."""
    assert [p.setting for p in points] == ["default", "disabled", "t2000-10-10+freeze"]
    assert all(p.ok for p in points), [p.reason for p in points]
    default, disabled, tuned = points
    assert sum(r.collections for r in default.runs) > 0
    assert all(not r.gc_enabled and r.collections == 0 for r in disabled.runs)
    assert all(r.thresholds == (2000, 10, 10) and r.frozen > 0 for r in tuned.runs)
    for stats in workload_stats(points)[points[0].workload]:
        assert stats.peak_rss_bytes > 0
        if stats.setting != "disabled":
            assert stats.collections > 0 and stats.pause_p99_ns > 0 and stats.pause_max_ns > 0


def processes_per_run(point: Point) -> list[int]:
    runs = json.loads(point.path.read_text())["gctune"]["runs"]
    return [int(r["processes"]) for r in runs]


def test_function_in_a_file_and_module_function(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast_args: tuple[str, ...]
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    write(
        code / "my_cycles.py",
        '''
        """Cycles, built by a factory and by a plain function."""

        def make_rings(size=100):
            def step():
                for _ in range(size):
                    a = []
                    a.append(a)
            return step

        def churn():
            for _ in range(50):
                d = {}
                d["self"] = d

        def broken_factory(size=1):
            return "not callable"
        ''',
    )
    # a file by path, measured from another directory
    spec = SweepSpec(
        workloads=(f"{code}/my_cycles.py:make_rings", f"{code}/my_cycles.py:broken_factory"),
        settings=SETTINGS,
        size=20,
        rounds=2,
        max_point_time=0.05,
        timeout=120,
        cwd=str(tmp_path),
    )
    points = run_sweep(spec, tmp_path / "files")
    check_three_settings(points[:3])
    assert points[0].workload == "my_cycles-make_rings" and points[0].size == 20
    assert [p.ok for p in points[3:]] == [False] * 3  # recorded failed, the sweep went on
    assert "must return the step" in (points[3].reason or "")

    # a module:function, run from the directory that holds it, through the CLI
    monkeypatch.chdir(code)
    out = tmp_path / "modules"
    flags = [f for s in SETTINGS[2:] for f in ("-s", s)]
    result = cli.invoke(
        app, ["sweep", "-w", "my_cycles:churn", *flags, "--out", str(out), *fast_args]
    )
    assert result.exit_code == 0, result.output
    manifest, saved = load_sweep(out)
    assert manifest.spec["cwd"] == str(code)
    check_three_settings(saved)  # file order: default, disabled, t2000-10-10+freeze


def test_plain_script_with_subprocess_fork_and_its_own_sitecustomize(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_site = tmp_path / "user_site"
    user_site.mkdir()
    # a sitecustomize the user already had: gctune's must run it first
    write(
        user_site / "sitecustomize.py",
        "import builtins, os\nbuiltins.USER_SITE_PID = os.getpid()\n",
    )
    monkeypatch.setenv("PYTHONPATH", str(user_site))
    write(
        tmp_path / "app.py",
        """
        import builtins, os, subprocess, sys

        if getattr(builtins, "USER_SITE_PID", None) != os.getpid():
            sys.exit("the user's own sitecustomize did not run")
        n = int(sys.argv[1])
        for _ in range(n):
            a = []
            a.append(a)
        subprocess.run([sys.executable, "-c", "for _ in range(3000): a = []; a.append(a)"],
                       check=True)
        pid = os.fork()
        if pid == 0:
            for _ in range(3000):
                a = []
                a.append(a)
            os._exit(0)
        os.waitpid(pid, 0)
        """,
    )
    spec = SweepSpec(
        workloads=("app",),
        command=(sys.executable, "app.py", "5000"),
        settings=SETTINGS,
        cwd=str(tmp_path),
        **COMMAND_OPTS,  # type: ignore[arg-type]
    )
    points = run_sweep(spec, tmp_path / "sweep")
    check_three_settings(points)
    check_three_settings(load_sweep(tmp_path / "sweep")[1])
    for point in points:
        assert point.size is None and point.loops is not None
        # top process, its python subprocess and its forked child, per program run
        per_run = [3 * len(r.values) * point.loops for r in point.runs]
        assert processes_per_run(point) == per_run
    shown = subprocess.run(
        [sys.executable, "-m", "pyperf", "show", str(points[0].path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Mean +- std dev" in shown.stdout


PYPERF_SCRIPT = '''
"""A benchmark that is itself a pyperf script: its workers do the allocating."""
import pyperf

def rings():
    for _ in range(3000):
        a = []
        a.append(a)

if __name__ == "__main__":
    pyperf.Runner().bench_func("rings", rings)
'''


def test_program_that_is_itself_a_pyperf_benchmark(tmp_path: Path) -> None:
    write(tmp_path / "bench_rings.py", PYPERF_SCRIPT)
    command = (sys.executable, "bench_rings.py", "-p", "1", "-n", "1", "-l", "3", "-w", "0")
    spec = SweepSpec(
        workloads=("bench_rings",),
        command=command,
        settings=SETTINGS,
        cwd=str(tmp_path),
        **{**COMMAND_OPTS, "processes": 1},  # type: ignore[arg-type]
    )
    points = run_sweep(spec, tmp_path / "sweep")
    # the disabled point has no collections anywhere: the setting reached pyperf's workers
    check_three_settings(points)
    for point in points:
        # the benchmark's manager and its one worker, per program run
        loops = point.loops or 1
        assert processes_per_run(point) == [2 * len(r.values) * loops for r in point.runs]


def test_pyperf_hook_applies_the_setting_and_adds_metadata(tmp_path: Path) -> None:
    script = write(tmp_path / "bench_rings.py", PYPERF_SCRIPT)
    out = tmp_path / "rings.json"
    args = ["--hook", "gctune", "--inherit-environ", "GCTUNE_SETTING"]
    done = subprocess.run(
        [sys.executable, str(script), *args, "-p", "2", "-n", "2", "-l", "3", "-o", str(out)],
        env={**os.environ, "GCTUNE_SETTING": "2000,10,10"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    common = data["metadata"]
    runs = [r for r in data["benchmarks"][0]["runs"] if r.get("values")]
    assert len(runs) == 2
    for run in runs:
        meta = {**common, **run["metadata"]}
        assert meta["gctune_setting"] == "t2000-10-10"
        assert json.loads(meta["gctune_probe"])["thresholds"] == [2000, 10, 10]
        assert meta["gc_collections"] > 0 and meta["gc_gen0_collections"] > 0
        assert meta["gc_pause_max_s"] >= meta["gc_pause_p99_s"] > 0


def test_failing_and_non_python_programs_are_recorded_failed(tmp_path: Path) -> None:
    write(
        tmp_path / "fail.py",
        "import sys\nprint('working', flush=True)\nraise ValueError('bad input 42')\n",
    )
    spec = SweepSpec(
        workloads=("fail",),
        command=(sys.executable, "fail.py"),
        settings=("default", "disabled"),
        cwd=str(tmp_path),
        **COMMAND_OPTS,  # type: ignore[arg-type]
    )
    points = run_sweep(spec, tmp_path / "fail")
    assert [p.reason for p in points] == [
        "program exited with status 1: ValueError: bad input 42"
    ] * 2
    (tmp_path / "tool.sh").write_text("#!/bin/sh\nexit 0\n")
    (tmp_path / "tool.sh").chmod(0o755)
    spec = SweepSpec(
        workloads=("tool",),
        command=("./tool.sh",),
        settings=("default",),
        cwd=str(tmp_path),
        **COMMAND_OPTS,  # type: ignore[arg-type]
    )
    (point,) = run_sweep(spec, tmp_path / "shell")
    assert not point.ok and "no Python process of the program" in (point.reason or "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--command", "--", "no-such-program-xyz"], "'no-such-program-xyz' not found"),
        (["run", "--command", "--", "python3", "missing.py"], "cannot open 'missing.py'"),
        (["sweep", "--command", "--size", "3", "--", "python3", "app.py"], "--size applies"),
        (["run", "my_mod:nope"], "the module has no 'nope'"),
        (["run", "notes.txt:f"], "is not a Python file"),
        (["run", "my_mod:f", "short_cycles"], "run measures one workload"),
    ],
)
def test_bad_programs_are_one_line_and_nonzero(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "my_mod.py", "def f():\n    pass\n")
    write(tmp_path / "notes.txt", "text")
    monkeypatch.chdir(tmp_path)
    result = cli.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
