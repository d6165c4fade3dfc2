"""The counts tier on real interpreters under valgrind (tiny spans; skipped without it)."""

from __future__ import annotations

import concurrent.futures
import os
import sys
import textwrap
from pathlib import Path
from typing import Optional

import pytest

from gctune.analysis.callgrind import read_profile
from gctune.present.count_tables import count_frame
from gctune.store.results import read_manifest
from gctune.sweep.count_sweep import CountTask, count_path, read_count_points, run_count_sweep
from gctune.sweep.counts import (
    CountsUnavailable,
    measure_point,
    prepare,
    run_counted_span,
    valgrind,
    vgdb,
)
from tests.programs import CYCLES
from tests.valgrind import needs_valgrind

pytestmark = [pytest.mark.integration, needs_valgrind]


@pytest.fixture
def cycles(tmp_path: Path) -> str:
    path = tmp_path / "cycles.py"
    path.write_text(textwrap.dedent(CYCLES))
    return f"{path}:make"


def test_the_same_counted_span_counts_the_same_every_time(cycles: str, tmp_path: Path) -> None:
    workdir = tmp_path / "span"
    workdir.mkdir()
    prepare(sys.executable, cycles, "default", workdir=workdir, size=300)
    runs = [
        run_counted_span(
            sys.executable, cycles, "default", workdir=workdir, fulls=1, max_steps=40, size=300
        )
        for _ in range(2)
    ]
    # Instructions are exact; the cache simulation's misses depend on addresses, which
    # can differ by a few lines between two processes (2 of 631,816 D1 write misses seen).
    assert runs[0].events["Ir"] == runs[1].events["Ir"]
    assert runs[0].events.keys() == runs[1].events.keys()
    for event, count in runs[0].events.items():
        assert abs(count - runs[1].events[event]) <= max(10, count * 1e-4), event
    assert runs[0].events["Ir"] > 0 and "DLmr" in runs[0].events
    assert runs[0].collections == runs[1].collections
    assert runs[0].steps == runs[1].steps
    # callgrind counted from the last settling cycle on: the part before the marked steps
    # holds that cycle, not start-up, imports and setup (tens of millions of instructions
    # more), so it is about the measured part's size per step
    before = read_profile(workdir / "callgrind.out.1", ()).events["Ir"]
    last = runs[1]
    assert 0 < before < 1.5 * last.events["Ir"] * max(last.settle_steps, 1) / last.steps


def test_without_vgdb_the_error_names_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lone = tmp_path / "valgrind"  # a valgrind with no vgdb beside it, none on PATH
    lone.write_text("#!/bin/sh\n")
    lone.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CountsUnavailable, match=r"vgdb.*apt-get install valgrind"):
        vgdb(str(lone))


REAPING = """
    '''A server's shape: a SIGCHLD handler reaps every child that ends (vgdb's too).'''
    import os
    import signal

    class Node:
        def __init__(self, parent):
            self.parent = parent
            self.children = []

    def reap(signum, frame):
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass

    def make(size):
        signal.signal(signal.SIGCHLD, signal.SIG_IGN if os.environ.get("IGNORE") else reap)

        def step():
            root = Node(None)
            for _ in range(size):
                root.children.append(Node(root))
        return step
"""


@pytest.mark.parametrize("ignore", ["", "1"], ids=["handler-reaps", "sigchld-ignored"])
def test_a_program_that_reaps_its_children_is_counted_the_same_every_time(
    tmp_path: Path, ignore: str
) -> None:
    # The span waits for vgdb (which switches callgrind on) with os.waitid; a program that
    # reaps it first, or ignores SIGCHLD (children reaped by the kernel), ends that wait
    # with ChildProcessError once vgdb has ended: counted from the last settling cycle on,
    # the same every run
    path = tmp_path / "reaping.py"
    path.write_text(textwrap.dedent(REAPING))
    workdir = tmp_path / "span"
    workdir.mkdir()
    program = f"{path}:make"
    prepare(sys.executable, program, "default", workdir=workdir, size=300)
    env = {**os.environ, "IGNORE": ignore}
    runs = [
        run_counted_span(
            sys.executable, program, "default", workdir=workdir, fulls=1, max_steps=40, size=300,
            env=env,
        )
        for _ in range(2)
    ]
    assert runs[0].events["Ir"] == runs[1].events["Ir"] > 0
    assert runs[0].collections == runs[1].collections and runs[0].steps == runs[1].steps
    before = read_profile(workdir / "callgrind.out.1", ()).events["Ir"]
    last = runs[1]
    assert 0.5 * last.events["Ir"] * last.settle_steps / last.steps < before
    assert before < 1.5 * last.events["Ir"] * max(last.settle_steps, 1) / last.steps


def test_a_count_point_counts_the_steps_between_its_marks(cycles: str) -> None:
    # the two points side by side, one valgrind process each (counts do not depend on load)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        default, disabled = pool.map(
            lambda setting: measure_point(
                sys.executable, cycles, setting, fulls=1, max_steps=40, size=300
            ),
            ("default", "disabled"),
        )
    assert default.steps > 0 and default.instructions_per_step > 0
    # one span, counted from right after settling to its full collection or its bound
    assert default.steps == default.span.steps
    assert [c * default.steps for c in default.collections_per_step] == pytest.approx(
        list(default.span.collections)
    )
    assert default.cycles_per_step >= default.instructions_per_step
    assert default.collections_per_step[0] > 0
    assert disabled.collections_per_step == (0.0, 0.0, 0.0)
    assert not disabled.whole_cycles  # no full collection ends a disabled span
    if default.gc_instructions_per_step is None:
        pytest.skip("this interpreter has no collector symbols: GC cost not attributed")
    assert default.gc_instructions_per_step > 0
    assert disabled.gc_instructions_per_step == 0
    share = default.gc_share
    assert share is not None and 0 < share < 1


def test_a_program_that_calls_sched_yield_itself_fails_rather_than_miscounts(
    tmp_path: Path,
) -> None:
    # os.sched_yield() marks where the measured steps begin and end; a step that calls it
    # too would cut the counts elsewhere (before: counts silently restarted mid-span)
    path = tmp_path / "yielding.py"
    path.write_text("import os\n\ndef make(size=1):\n    return os.sched_yield\n")
    with pytest.raises(RuntimeError, match=r"calls sched_yield\(\) itself"):
        measure_point(sys.executable, f"{path}:make", "default", fulls=1, max_steps=3)


def test_a_counted_span_is_bounded_by_cpu_time_not_by_the_clock(
    cycles: str, tmp_path: Path
) -> None:
    # a span that needs more than 1 s of CPU (thousands of steps under valgrind) is
    # stopped by its CPU limit, and the reason says it is CPU time, not load
    workdir = tmp_path / "span"
    workdir.mkdir()
    with pytest.raises(RuntimeError, match=r"used its 1 s of CPU time"):
        run_counted_span(
            sys.executable, cycles, "default", workdir=workdir, fulls=10_000,
            max_steps=100_000, size=300, timeout=1,
        )  # fmt: skip


def test_without_valgrind_the_error_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(CountsUnavailable, match=r"apt-get install valgrind"):
        valgrind()


def test_a_count_sweep_runs_side_by_side_keeps_failures_and_resumes(
    cycles: str, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("def make(size):\n    raise RuntimeError('no state for you')\n")
    tasks = [
        CountTask(sys.executable, cycles, "cycles", s, size=300, max_steps=40)
        for s in ("default", "disabled")
    ] + [CountTask(sys.executable, f"{broken}:make", "broken", "default", size=1)]
    seen: list[tuple[str, Optional[str]]] = []
    docs = run_count_sweep(
        tmp_path / "sweep", tasks, jobs=2, on_done=lambda t, r: seen.append((t.setting, r))
    )
    assert [d["status"] for d in docs] == ["ok", "ok", "failed"]
    assert "no state for you" in docs[2]["reason"]
    assert len(seen) == 3
    frame = count_frame(read_count_points(tmp_path / "sweep"))
    cyc = frame[frame["workload"] == "cycles"].set_index("setting")
    assert cyc.loc["default", "instructions_vs_default"] == 1.0
    assert cyc.loc["disabled", "full_per_step"] == 0.0
    stored = count_path(tmp_path / "sweep", "cycles", "default")
    before = stored.stat().st_mtime_ns
    again = run_count_sweep(tmp_path / "sweep", tasks[:1], jobs=1)
    assert again[0] == docs[0] and stored.stat().st_mtime_ns == before  # not measured again


def test_an_interpreter_given_by_a_relative_path_is_found(
    cycles: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(Path(sys.executable).parent)
    workdir = tmp_path / "span"
    workdir.mkdir()
    prepare(f".{os.sep}{Path(sys.executable).name}", cycles, "default", workdir=workdir, size=3)


COLLECTING = """
    '''Each step makes {n} self-cycles and collects fully: a whole cycle per step.'''
    import gc

    def make(size=1):
        def step():
            for _ in range({n}):
                a = []
                a.append(a)
            gc.collect()
        return step
"""


def test_a_sweep_in_counts_from_the_command_line_resumes_and_gates(tmp_path: Path) -> None:
    # One workload (default and disabled): the gate's rules are tested on stored points
    # (tests/unit/test_count_cli.py); here the real sweep, its resume and an A/A gate.
    from typer.testing import CliRunner

    from gctune.cli.main import app

    (tmp_path / "base.py").write_text(textwrap.dedent(COLLECTING.format(n=100)))
    out = tmp_path / "sweep"
    runner = CliRunner()
    args = ["sweep", "--measure", "counts", "--jobs", "2", "--out", str(out), "-s", "default"]
    result = runner.invoke(app, [*args, f"{tmp_path}/base.py:make"])
    assert result.exit_code == 0, result.output
    assert "counts tier" in result.output and "Report:" in result.output
    docs = read_count_points(out)
    assert [(d["workload"], d["setting"], d["status"]) for d in docs] == [
        ("base-make", "default", "ok"),
        ("base-make", "disabled", "ok"),
    ]
    assert docs[0]["point"]["whole_cycles"] and docs[0]["point"]["steps"] == 1
    # without --timeout a counted span gets an hour of CPU, not a time worker's 600 s
    # (request_loop's default takes 12.5-13.5 minutes of it)
    assert read_manifest(out).spec["timeout"] == 3600.0
    # disabled: no automatic collection, only the step's own full one
    assert docs[1]["point"]["collections_per_step"] == [0.0, 0.0, 1.0]
    stored = count_path(out, "base-make", "default").stat().st_mtime_ns
    again = runner.invoke(app, ["sweep", "--resume", "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert count_path(out, "base-make", "default").stat().st_mtime_ns == stored
    same = runner.invoke(
        app, ["gate", str(out), "base-make", "base-make", "--fail-on", "instructions:0%"]
    )
    assert same.exit_code == 0 and "1.0000x" in same.output


def _running(marker: str) -> list[int]:
    """Processes whose command line holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_a_terminated_sweep_in_counts_ends_its_valgrind_spans(tmp_path: Path) -> None:
    # SIGTERM (as Ctrl-C) ends the sweep and its counted spans at once; the point being
    # counted is not stored as failed, so --resume measures it
    import signal
    import subprocess
    import time

    program = tmp_path / "slow_to_count.py"
    program.write_text(textwrap.dedent(CYCLES))
    out = tmp_path / "sweep"
    sweep = subprocess.Popen(
        [sys.executable, "-m", "gctune.cli", "sweep", "--measure", "counts", "--jobs", "1",
         "-s", "default", "--size", "3000", "--out", str(out), f"{program}:make"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not any("valgrind" in _cmdline(p) for p in _running(str(program))):
        assert sweep.poll() is None, sweep.communicate()[0]
        assert time.monotonic() < deadline, "no counted span started"
        time.sleep(0.1)
    sweep.send_signal(signal.SIGTERM)
    said, _ = sweep.communicate(timeout=60)
    assert sweep.returncode != 0, said
    assert "interrupted" in said and "Traceback" not in said
    time.sleep(0.5)
    assert _running(str(program)) == [], "a counted span outlived its sweep"
    assert not count_path(out, "slow_to_count-make", "default").exists()


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""

def test_a_workload_file_given_by_a_relative_path_is_found(
    cycles: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # spans run in their own folder; a file named from where gctune was called still loads
    path, factory = cycles.rsplit(":", 1)
    monkeypatch.chdir(Path(path).parent)
    workdir = tmp_path / "span"
    workdir.mkdir()
    prepare(sys.executable, f"{Path(path).name}:{factory}", "default", workdir=workdir, size=3)
