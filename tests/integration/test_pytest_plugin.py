"""The pytest plugin on a scratch project, with real pytest runs and real sweeps.

The project has pytest-benchmark tests: one that benchmarks a module-level function with
a literal argument (rebuilt by import in the workers), one that benchmarks a local
function (rebuilt by running the test under pytest in the workers) which needs a yield
fixture's open resource (its points fail, with the reason: the fixture is torn down
before the first step), one that fails (not measured) and a plain test (not measured).
A local function that needs no fixture is measured the same way (docs/pytest-plugin.md
shows one); it is left out to keep the test short. Its conftest records the pytest
process's collector at start and at exit: the plugin must not touch it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gctune.store.results import load_sweep

pytestmark = pytest.mark.integration

LIBRARY = textwrap.dedent(
    """
    def churn(n):
        keep = []
        for _ in range(n):
            a = []
            b = [a]
            a.append(b)
            keep.append(a)
        return len(keep)
    """
)
TESTS = textwrap.dedent(
    """
    import pytest
    from mylib import churn

    @pytest.fixture
    def connection():
        state = {"open": True}
        yield state
        state["open"] = False

    def test_needs_open(benchmark, connection):
        def query():
            assert connection["open"], "connection closed"
            return churn(10)
        assert benchmark(query) == 10

    def test_churn(benchmark):
        assert benchmark(churn, 200) == 200

    def test_wrong(benchmark):
        assert benchmark(churn, 10) == 11

    def test_plain():
        assert churn(3) == 3
    """
)
CONFTEST = textwrap.dedent(
    """
    import gc
    import json

    START = [gc.isenabled(), list(gc.get_threshold()), gc.get_freeze_count()]

    def pytest_unconfigure(config):
        end = [gc.isenabled(), list(gc.get_threshold()), gc.get_freeze_count()]
        with open("collector.json", "w") as f:
            json.dump({"start": START, "end": end}, f)
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name, text in (("mylib.py", LIBRARY), ("test_bench.py", TESTS), ("conftest.py", CONFTEST)):
        (tmp_path / name).write_text(text)
    return tmp_path


def pytest_run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=project, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def section_rows(out: str) -> dict[str, list[list[str]]]:
    """The plugin's table per test: its settings' rows, split into words."""
    tables: dict[str, list[list[str]]] = {}
    rows: list[list[str]] = []
    for line in out.splitlines():
        if line.startswith("test_bench.py::"):
            rows = tables.setdefault(line.split("::")[1].split()[0], [])
        elif line.startswith("  ") and not line.strip().startswith("setting"):
            rows.append(line.split())
    return tables


def test_benchmark_tests_are_measured_under_two_settings(project: Path) -> None:
    done = pytest_run(
        project,
        "--benchmark-disable",
        "--gctune-setting", "default",
        "--gctune-setting", "disabled",
        "--gctune-args", "--rounds 2 --max-point-time 0.05",
        "--gctune-out", "gc",
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 1, out + done.stderr  # test_wrong fails, as without gctune
    assert "1 failed, 3 passed" in out
    assert "gctune: GC settings" in out
    assert "test_bench.py::test_churn (the call rebuilt by import)" in out
    assert "test_bench.py::test_needs_open (the call rebuilt by pytest)" in out
    assert "test_wrong (" not in out and "test_plain (" not in out
    tables = section_rows(out)
    assert list(tables) == ["test_needs_open", "test_churn"], out  # in the order they ran
    for name, rows in tables.items():
        assert [r[0] for r in rows] == ["default", "disabled"], out
        for row in rows:
            if name == "test_needs_open":
                assert row[1] == "failed:" and "connection closed" in " ".join(row), row
            else:  # a time per step
                assert row[1][0].isdigit() and row[2] in ("us", "ms", "ns"), row
    _, points = load_sweep(project / "gc")
    workloads = ("test_churn-make", "test_needs_open-make")
    assert {(p.workload, p.setting) for p in points} == {
        (w, s) for w in workloads for s in ("default", "disabled")
    }
    for point in points:
        assert point.ok == (point.workload != "test_needs_open-make"), point.reason
    default = {p.workload: p for p in points if p.setting == "default"}["test_churn-make"]
    disabled = {p.workload: p for p in points if p.setting == "disabled"}["test_churn-make"]
    assert sum(r.collections for r in default.runs) > 0
    assert sum(r.collections for r in disabled.runs) == 0
    collector = json.loads((project / "collector.json").read_text())
    assert collector["start"] == collector["end"]
    assert collector["start"][0] is True


def test_the_plugin_is_inert_without_its_options(project: Path) -> None:
    done = pytest_run(project)
    assert "1 failed, 3 passed" in done.stdout, done.stdout + done.stderr
    assert "gctune" not in done.stdout
    assert not (project / "results").exists()
