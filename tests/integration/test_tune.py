"""``gctune tune`` end to end on real interpreters (tiny sizes and budgets).

The search in counts needs valgrind (skipped without it, as the counts tests are); the
search in time and the memory probe run everywhere.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gctune.analysis.tune_search import read_tune
from gctune.sweep.tune_probe import COUNT_SLOWDOWN_FLOOR, probe_memory
from tests.programs import BUSY_CYCLE, CYCLES, SLOW_CYCLE
from tests.signals import default_sigint
from tests.valgrind import needs_valgrind

pytestmark = pytest.mark.integration

GCTUNE = [sys.executable, "-m", "gctune.cli"]


LEAK = """
    '''Keeps every step's objects: memory grows without end.'''
    def make(size):
        kept = []
        def step():
            kept.append([[i] for i in range(size)])
        return step
"""


BROKEN = """
    '''Needs a package the interpreter does not have (a benchmark needing pyperformance).'''
    def make(size=100):
        import gctune_missing_package  # noqa: F401
        return lambda: None
"""


def _file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(text))
    return f"{path}:make"


def _gctune(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*GCTUNE, *args], capture_output=True, text=True, timeout=900, check=False, env=env
    )


def test_memory_probe_sees_default_and_stops_a_leak_at_the_cap(tmp_path: Path) -> None:
    cycles, leak = _file(tmp_path, "cycles", CYCLES), _file(tmp_path, "leak", LEAK)
    seen = probe_memory(sys.executable, cycles, "default", size=300, max_steps=2000,
                        kill_bytes=0, env=None, timeout=120)  # fmt: skip
    assert seen.ended == "full-collections" and seen.cycle_steps
    assert 5 * 2**20 < seen.peak_rss_bytes < 500 * 2**20
    cap = seen.peak_rss_bytes + 30 * 2**20
    grown = probe_memory(sys.executable, leak, "disabled", size=20_000, max_steps=100_000,
                         kill_bytes=cap, env=None, timeout=120)  # fmt: skip
    assert grown.ended == "over-budget" and grown.peak_rss_bytes > cap


@needs_valgrind
def test_tune_measures_a_workload_whose_full_collections_are_thousands_of_steps_apart(
    tmp_path: Path,
) -> None:
    # default's memory probe once stopped at 2,000 steps: on request_loop it saw no two
    # full collections, and tune measured nothing (exit 3)
    slow, out = _file(tmp_path, "slow", SLOW_CYCLE), tmp_path / "tuned"
    done = _gctune(
        "tune", slow, "--size", "5", "--budget", "0.5", "--rounds", "2",
        "--max-point-time", "0.2", "--jobs", "1", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    record = read_tune(out)
    assert record is not None
    (doc,) = record["workloads"]
    assert doc["failed"] is None and doc["default_cycle_steps"] > 2000
    assert doc["trials"][0]["setting"] == "default" and doc["trials"][0]["cost_ratio"] == 1.0


@needs_valgrind
def test_a_count_point_that_cannot_fit_the_budget_is_not_started(tmp_path: Path) -> None:
    # default's count point runs at least 30x its native CPU / 2: past what is left of a
    # 0.3-min budget after the line's probes, tune counts nothing (before, the first
    # count points always ran), says how long it needs and how to go on, and ends
    busy, out = _file(tmp_path, "busy", BUSY_CYCLE), tmp_path / "tuned"
    done = _gctune(
        "tune", busy, "--size", "5", "--budget", "0.3", "--rounds", "2",
        "--max-point-time", "0.2", "--jobs", "1", "--max-memory-ratio", "1.1",
        "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    record = read_tune(out)
    assert record is not None
    (doc,) = record["workloads"]
    assert doc["count_floor_s"] == COUNT_SLOWDOWN_FLOOR * doc["default_probe_cpu_s"] / 2 > 0
    default = doc["trials"][0]
    assert default["setting"] == "default" and default["cost"] is None
    assert default["note"].startswith("not counted: its count point runs at least")
    assert not list((out / "counts").glob("*.json"))  # nothing started under valgrind
    said = " ".join(done.stdout.split())
    assert "The budget cut the search (busy-make)" in said and "tune --resume --out" in said


def test_memory_probe_reads_the_child_not_the_process_that_started_it(tmp_path: Path) -> None:
    cycles = _file(tmp_path, "cycles", CYCLES)
    ballast = b"x" * (300 * 2**20)  # resident in this process while the probe starts
    seen = probe_memory(sys.executable, cycles, "default", size=300, max_steps=2000,
                        kill_bytes=0, env=None, timeout=120)  # fmt: skip
    assert len(ballast) and seen.peak_rss_bytes < 150 * 2**20


@needs_valgrind
def test_tune_in_counts_writes_an_ordinary_sweep_with_its_search_path(tmp_path: Path) -> None:
    cycles = _file(tmp_path, "cycles", CYCLES)
    out = tmp_path / "tuned"
    done = _gctune(
        "tune", cycles, "--size", "300", "--budget", "0.4", "--rounds", "2",
        "--max-point-time", "0.3", "--jobs", "1", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = read_tune(out)
    assert record is not None and record["tier"] == "counts"
    (doc,) = record["workloads"]
    trials = doc["trials"]
    assert trials[0]["setting"] == "default" and trials[0]["cost_ratio"] == 1.0
    # the first batch: the threshold0 line, default+freeze next to default
    assert [t["stage"] for t in trials[:8]] == ["line", "freeze", *["line"] * 6]
    assert doc["stopped"].startswith("budget")  # 0.4 minutes end it in the line stage
    counted = {p.name for p in (out / "counts").glob("*.json")}
    assert "cycles-make@default.json" in counted
    assert record["worker_cpu_s"] > 0
    # the confirming sweep is a time sweep the other commands read
    assert (out / "manifest.json").exists()
    assert "tune's search path" in done.stdout
    report = (out / "report" / "report.md").read_text(encoding="utf-8")
    assert "## Tune: the search path" in report and "tune-cycles-make" in report
    rec = _gctune("recommend", str(out), "--json")
    assert rec.returncode == 0, rec.stderr
    assert json.loads(rec.stdout)["workloads"][0]["workload"] == "cycles-make"
    again = _gctune("tune", cycles, "--size", "300", "--out", str(out))
    assert again.returncode == 2 and "already holds a sweep" in again.stderr
    # a finished tune resumed: the stored search replayed, nothing measured again
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "counts").glob("*.json")}
    resumed = _gctune("tune", "--resume", "--out", str(out))
    assert resumed.returncode == 0, resumed.stderr
    after = read_tune(out)
    assert after is not None and after["resumed"] == 1
    assert after["workloads"][0]["trials"] == trials and after["decisions"] == record["decisions"]
    assert {p.name: p.stat().st_mtime_ns for p in (out / "counts").glob("*.json")} == stamps
    refused = _gctune("tune", "--resume", "--out", str(out), "--rounds", "3")
    assert refused.returncode == 2 and "takes only --out, --budget" in refused.stderr
    # the budget cut the search: tune said how to go on, and a new --budget does
    assert "The budget cut the search (cycles-make)" in done.stdout
    assert f"tune --resume --out {out} --budget" in " ".join(done.stdout.split())
    more = _gctune("tune", "--resume", "--out", str(out), "--budget", "0.5")
    assert more.returncode == 0, more.stderr
    assert "the search its budget had cut goes on" in " ".join(more.stderr.split())
    grown = read_tune(out)
    assert grown is not None and grown["resumed"] == 2 and grown["decisions"]
    before = [t for t in trials if t["cost"] is not None]
    now = grown["workloads"][0]["trials"]
    assert len([t for t in now if t["cost"] is not None]) > len(before)
    assert [t for t in now if t["setting"] in {b["setting"] for b in before}] == before
    after_more = {p.name: p.stat().st_mtime_ns for p in (out / "counts").glob("*.json")}
    assert all(after_more[name] == stamp for name, stamp in stamps.items())  # kept, not redone
    assert (out / "manifest.json").exists()
    if grown["finalists"] != record["finalists"]:  # confirmed anew; the first one kept
        assert grown["superseded"] == ["superseded/1"]
        assert (out / "superseded" / "1" / "manifest.json").exists()


@needs_valgrind
def test_an_interrupted_tune_resumes_keeping_what_it_measured(tmp_path: Path) -> None:
    cycles = _file(tmp_path, "cycles", CYCLES)
    out = tmp_path / "tuned"
    default = out / "counts" / "cycles-make@default.json"
    proc = subprocess.Popen(
        [*GCTUNE, "tune", cycles, "--size", "300", "--budget", "5", "--rounds", "2",
         "--max-point-time", "0.3", "--jobs", "1", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while not default.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert default.exists(), "default's count point never came"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert "tune --resume --out" in err and "nothing was saved" not in err
    assert not (out / "manifest.json").exists()  # stopped in the search
    stamp = default.stat().st_mtime_ns
    done = _gctune("tune", "--resume", "--out", str(out), "--budget", "0.3")
    assert done.returncode == 0, done.stderr
    assert default.stat().st_mtime_ns == stamp  # read, not counted again
    record = read_tune(out)
    assert record is not None and record["resumed"] == 1 and record["decisions"]
    (doc,) = record["workloads"]
    assert doc["trials"][0]["setting"] == "default" and doc["trials"][0]["cost_ratio"] == 1.0
    assert (out / "manifest.json").exists()


def test_tune_in_time_races_a_coarse_grid(tmp_path: Path) -> None:
    cycles = _file(tmp_path, "cycles", CYCLES)
    out = tmp_path / "timed"
    done = _gctune(
        "tune", cycles, "--measure", "time", "--size", "300", "--rounds", "2",
        "--max-point-time", "0.2", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = read_tune(out)
    assert record is not None and record["tier"] == "time"
    (doc,) = record["workloads"]
    settings = [t["setting"] for t in doc["trials"]]
    assert "default" in settings and "default+freeze" in settings and len(settings) >= 8
    assert "not adaptive" in doc["stopped"]
    finals = record["finalists"]["cycles-make"]
    assert all(t["feasible"] for t in doc["trials"] if t["setting"] in finals)
    assert (out / "points").is_dir() and "## Tune: the search path" in (
        out / "report" / "report.md"
    ).read_text(encoding="utf-8")
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "points").glob("*.json")}
    resumed = _gctune("tune", "--resume", "--out", str(out))  # finished: nothing to measure
    assert resumed.returncode == 0, resumed.stderr
    assert {p.name: p.stat().st_mtime_ns for p in (out / "points").glob("*.json")} == stamps
    again = read_tune(out)
    assert again is not None and again["resumed"] == 1 and again["finalists"] == record["finalists"]


def test_counts_without_valgrind_is_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}
    done = _gctune("tune", "acyclic_churn", "--measure", "counts", "--out",
                   str(tmp_path / "x"), env=env)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "valgrind" in done.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("tier", [pytest.param("counts", marks=needs_valgrind), "time"])
def test_a_workload_that_cannot_run_ends_tune_with_status_3_and_its_reason(
    tmp_path: Path, tier: str
) -> None:
    broken = _file(tmp_path, "broken", BROKEN)
    out = tmp_path / "tuned"
    done = _gctune("tune", broken, "--measure", tier, "--rounds", "2", "--max-point-time",
                   "0.2", "--budget", "0.3", "--out", str(out))  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "gctune_missing_package" in done.stderr and "Traceback" not in done.stderr
    assert "keep the default" not in done.stdout  # nothing measured: no advice
    record = read_tune(out)
    assert record is not None
    if tier == "counts":
        (doc,) = record["workloads"]
        assert "gctune_missing_package" in doc["failed"]
        assert not (out / "manifest.json").exists()  # nothing to confirm in time
