"""The program zoo (tests/zoo.py), measured for real: every shape ends as a finished
point or a failed point with a one-line reason, never a traceback or a stopped sweep.

What runs, and why this combination (the zoo must stay within a few minutes of
``make test``):

* quick mode: one sweep of every shape together (but those with options of their own,
  swept alone) (so each shape's neighbours are measured whatever it does), killed with
  SIGKILL while it runs and finished with ``--resume``; its detached child must be gone
  after the resume;
* normal mode: a second sweep of every shape, of one round (and its decision rounds), left
  to finish;
* ``report`` and ``recommend --json`` on both sweeps (they read every shape's points);
* ``run`` on a long step and on a refused async step, ``verify`` on a long step: not
  every shape, since their spans, pilots and failure reasons are the sweep's code.

The two sweeps are not timing measurements: they run side by side, one core each. The
quick sweep runs in the test's own thread; everything else (the normal sweep, its
``report``, the shapes swept alone, ``run`` and ``verify``) runs one command after
another in a second thread (``Lane``), started before the quick sweep, and each test
waits for the command it checks. Each lane has its own copy of the zoo, so that the
detached child of one sweep is never taken for the other's.

Sizes are tiny and spans short (``SPAN_S``), with the step times scaled to match.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from gctune.store.results import load_sweep
from tests.zoo import SPAN_S, ZOO, Shape, write_zoo

pytestmark = pytest.mark.integration

GCTUNE = str(Path(sys.executable).with_name("gctune"))
COMMON = ["-s", "2000,10,10", "--rounds", "2", "--max-point-time", str(SPAN_S)]
COMMON += ["--timeout", "60"]
SETTINGS = {"default", "disabled", "t2000-10-10"}
BY_NAME = {shape.name: shape for shape in ZOO}
SHARED = [shape for shape in ZOO if not shape.args]  # swept together
OWN = [shape for shape in ZOO if shape.args]  # swept alone, with their options
RUNS = [("long_steps", 0), ("async_def_step", 1)]  # gctune run: (shape, exit status)
VERIFIED = ["long_steps"]  # gctune verify


def gctune(cwd: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GCTUNE, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def processes_mentioning(text: str) -> list[int]:
    """Processes with ``text`` as one whole argument: the detached child has the shape's
    path as its last one, while a worker of the shape names ``PATH:make``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if text in cmdline.split("\0"):
                found.append(int(entry))
    return found


def wait_for(condition: object, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def workload_args() -> list[str]:
    return [arg for shape in SHARED for arg in ("-w", shape.spec)]


class Lane:
    """gctune commands run one after another in a thread of their own, in ``cwd``; a test
    waits for the one it checks by name."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zoo-lane")
        self._jobs: dict[str, Future[subprocess.CompletedProcess[str]]] = {}

    def submit(self, name: str, *args: str) -> None:
        self._jobs[name] = self._pool.submit(gctune, self.cwd, *args)

    def result(self, name: str) -> subprocess.CompletedProcess[str]:
        return self._jobs[name].result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="module")
def lane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lane]:
    """The zoo's commands but the quick sweep, started at once, in their order."""
    directory = tmp_path_factory.mktemp("zoo")
    write_zoo(directory)
    lane = Lane(directory)
    # normal mode: one round (and its decision rounds), for the time of make test
    options = [*COMMON[:2], "--rounds", "1", *COMMON[4:]]
    lane.submit("normal", "sweep", *workload_args(), "--normal", *options, "--out", "normal")
    lane.submit("report", "report", "normal", "--out", "normal-report")
    for shape in OWN:
        args = ["-w", shape.spec, "--quick", *COMMON, *shape.args]
        lane.submit(shape.name, "sweep", *args, "--out", f"own-{shape.name}")
    for name, _ in RUNS:
        args = ["--quick", "--rounds", "1", "--max-point-time", str(SPAN_S), "--timeout", "60"]
        lane.submit(f"run-{name}", "run", BY_NAME[name].spec, *args, "--json")
    for name in VERIFIED:
        args = ["-s", "2000,10,10", "--rounds", "2", "--max-point-time", str(SPAN_S)]
        args += ["--out", f"verify-{name}", "--json"]
        lane.submit(f"verify-{name}", "verify", BY_NAME[name].spec, *args)
    try:
        yield lane
    finally:
        lane.close()


@pytest.fixture(scope="module")
def quick(lane: Lane, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The zoo in quick mode, SIGKILLed after its detached child started, then resumed.

    ``--out`` is relative to the directory the sweep runs in, which a shape's steps leave.
    It runs while the lane's commands do (``lane`` starts them first), in a copy of the
    zoo of its own.
    """
    zoo = tmp_path_factory.mktemp("zoo-quick")
    write_zoo(zoo)
    detached = str(zoo / "detached_child.py")
    # The shape's first step waits while this file exists: the sweep is killed while the
    # child is alive (the sweep itself ends a point's detached children when it ends).
    hold = zoo / "hold"
    hold.touch()
    args = [GCTUNE, "sweep", *workload_args(), "--quick", *COMMON, "--out", "quick"]
    proc = subprocess.Popen(
        args, cwd=zoo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    manifest = zoo / "quick" / "manifest.json"
    wait_for(
        lambda: manifest.exists() and processes_mentioning(detached),
        "the sweep's manifest and the detached child",
    )
    proc.kill()
    _, stderr = proc.communicate(timeout=60)
    hold.unlink()
    assert "Traceback" not in stderr
    assert processes_mentioning(detached), "a detached child outlives a killed sweep"
    resumed = gctune(zoo, "sweep", "--resume", "--out", "quick")
    assert "Traceback" not in resumed.stdout + resumed.stderr
    assert resumed.returncode == 3, resumed.stderr  # some shapes fail, as they should
    assert "point(s) failed" in resumed.stderr
    wait_for(lambda: not processes_mentioning(detached), "the detached child to end", 10)
    return zoo / "quick"


@pytest.fixture(scope="module")
def normal(lane: Lane) -> Path:
    """The zoo in normal mode, one round, left to finish."""
    done = lane.result("normal")
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode == 3, done.stderr
    assert not processes_mentioning(str(lane.cwd / "detached_child.py"))
    return lane.cwd / "normal"


def check_shape(sweep: Path, shape: Shape) -> None:
    _, points = load_sweep(sweep)
    mine = [p for p in points if p.workload == shape.workload_id]
    assert {p.setting for p in mine} == SETTINGS, shape.name
    for point in mine:
        if shape.reason is None:
            assert point.ok, (shape.name, point.setting, point.reason)
            assert point.runs and all(r.values for r in point.runs)
            if shape.check is not None:
                shape.check(point)
        else:
            assert not point.ok, (shape.name, point.setting)
            reason = point.reason or ""
            assert shape.reason in reason and "\n" not in reason, reason
    if shape.check_sweep is not None:
        shape.check_sweep(sweep)


@pytest.mark.parametrize("shape", SHARED, ids=[s.name for s in SHARED])
def test_quick_mode_after_a_kill_and_resume(quick: Path, shape: Shape) -> None:
    check_shape(quick, shape)


@pytest.mark.parametrize("shape", SHARED, ids=[s.name for s in SHARED])
def test_normal_mode(normal: Path, shape: Shape) -> None:
    check_shape(normal, shape)


@pytest.mark.parametrize("shape", OWN, ids=[s.name for s in OWN])
def test_shape_with_options_of_its_own(lane: Lane, shape: Shape) -> None:
    done = lane.result(shape.name)
    assert "Traceback" not in done.stdout + done.stderr
    if shape.refused is not None:
        (line,) = done.stderr.strip().splitlines()
        assert done.returncode == 2 and shape.refused in line, done.stderr
        return
    assert done.returncode == (0 if shape.reason is None else 3), done.stderr
    check_shape(lane.cwd / f"own-{shape.name}", shape)


def check_report(summary: str) -> None:
    assert "one step took" in summary and "--max-point-time" in summary
    assert "the setting gctune applied was changed under it" in summary


def test_the_report_reads_every_shape_and_says_what_measures_a_long_step(
    lane: Lane, quick: Path, normal: Path
) -> None:
    # the report the resumed quick sweep wrote, and `gctune report` of the normal sweep
    check_report((quick / "report" / "report.md").read_text())
    report = lane.result("report")
    assert report.returncode == 0 and "Traceback" not in report.stderr, report.stderr
    summary = lane.cwd / "normal-report" / "report.md"
    assert f"Report: {summary.relative_to(lane.cwd)}" in report.stdout, report.stdout
    check_report(summary.read_text())


@pytest.mark.parametrize("mode", ["quick", "normal"])
def test_recommend_reads_every_shape(quick: Path, normal: Path, mode: str) -> None:
    sweep = quick if mode == "quick" else normal
    rec = gctune(sweep.parent, "recommend", str(sweep), "--json")
    assert rec.returncode == 0 and "Traceback" not in rec.stderr, rec.stderr
    found = {w["workload"]: w for w in json.loads(rec.stdout)["workloads"]}
    finished = {s.workload_id for s in SHARED if s.reason is None}
    assert finished <= set(found), finished - set(found)
    # a program that sets the collector itself: said, and nothing recommended over it
    for name in ("sets_threshold", "disables_gc", "freezes"):
        advice = found[BY_NAME[name].workload_id]
        assert advice["is_default"], name
        assert any("changed under it" in n for n in advice["notes"]), advice["notes"]
    collects = found[BY_NAME["calls_collect"].workload_id]
    assert any("gc.collect()" in n for n in collects["notes"]), collects["notes"]
    text = gctune(sweep.parent, "recommend", str(sweep))
    assert text.returncode == 0, text.stderr
    words = " ".join(text.stdout.split())  # the prose wraps to the output's width
    assert "the setting gctune applied was changed under it" in words


@pytest.mark.parametrize(("name", "status"), RUNS)
def test_run(lane: Lane, name: str, status: int) -> None:
    shape = BY_NAME[name]
    done = lane.result(f"run-{name}")
    assert "Traceback" not in done.stderr and done.returncode == status, done.stderr
    point = json.loads(done.stdout)
    if shape.reason is None:
        assert point["status"] == "ok", point
    else:
        assert point["status"] == "failed" and shape.reason in point["reason"], point


@pytest.mark.parametrize("name", VERIFIED)
def test_verify(lane: Lane, name: str) -> None:
    done = lane.result(f"verify-{name}")
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode in (0, 1), done.stderr  # confirmed or not: an answer either way
    assert json.loads(done.stdout)["setting"] == "t2000-10-10"
