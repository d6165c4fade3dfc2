"""gctune's pytest plugin: a project's benchmark tests measured under GC settings.

Registered through the ``pytest11`` entry point and inert until asked:

    pytest --gctune-setting default --gctune-setting 50000,20,100+freeze

runs the tests as usual; then every test that passed and used a benchmark fixture
(pytest-benchmark's ``benchmark``, or this plugin's ``gctune_benchmark`` without it) is
measured by ``gctune sweep``, in a subprocess: the call the test handed to the fixture is
recorded here, and a generated factory rebuilds it in each fresh worker interpreter — by
import when the function has a module-level name and its arguments are literals, else by
running the test there under pytest
(:mod:`gctune.integrations.pytest_worker`) — for gctune to time under each setting. The
pytest process never changes its own collector. A table per test closes the run; the
results are a sweep directory (``gctune report DIR`` for the full report).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

from gctune.integrations.pytest_worker import (
    benchmarked_call,
    patch_pytest_benchmark,
    portable,
    recording,
)

__all__ = ["gctune_benchmark", "pytest_addoption", "pytest_configure"]

FIXTURES = ("benchmark", "gctune_benchmark")
PLUGIN_NAME = "gctune-measure"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gctune", "gctune: benchmark tests measured under GC settings")
    group.addoption(
        "--gctune",
        action="store_true",
        help="After the tests, measure each benchmark test that passed under GC settings "
        "(gctune sweep; without --gctune-setting: gctune's quick grid).",
    )
    group.addoption(
        "--gctune-setting",
        action="append",
        default=[],
        metavar="SETTING",
        help="A GC setting to measure (repeatable; implies --gctune): default, disabled, "
        "freeze, T0[,T1[,T2]][+freeze]. default and disabled are always measured.",
    )
    group.addoption(
        "--gctune-args",
        default="--quick",
        metavar="ARGS",
        help="More arguments of gctune sweep, as one string (default: --quick).",
    )
    group.addoption(
        "--gctune-out",
        default=None,
        metavar="DIR",
        help="The sweep directory (default: results/pytest-<date>-<time>).",
    )


def pytest_configure(config: pytest.Config) -> None:
    if not (config.getoption("gctune") or config.getoption("gctune_setting")):
        return
    # an xdist worker measures nothing (the sweep would run once per worker); the
    # controller sees no items either: the plugin needs pytest without -n
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(_Measure(config), PLUGIN_NAME)


@pytest.fixture
def gctune_benchmark() -> Callable[..., Any]:
    """``gctune_benchmark(function, *args, **kwargs)``: for projects without
    pytest-benchmark. Calls the function once and returns its result; with ``--gctune``,
    gctune measures that call under each GC setting."""
    return benchmarked_call


@dataclass(frozen=True)
class _Test:
    """A benchmark test that passed: its node id, the arguments that run it alone, and
    its recorded call as a literal (None: not by import, the worker runs the test)."""

    nodeid: str
    pytest_args: tuple[str, ...]
    call: Optional[str] = None

    @property
    def way(self) -> str:
        return "import" if self.call is not None else "pytest"


class _Measure:
    """The plugin while enabled: collects the benchmark tests, sweeps them, reports."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.candidates: dict[str, _Test] = {}
        self.calls: dict[str, Optional[str]] = {}
        self.passed: list[_Test] = []
        self.lines: list[str] = []
        self.failed = False
        patch_pytest_benchmark(keep_timing=True)

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        rootdir = str(self.config.rootpath)
        config_args = ["--rootdir", rootdir]
        if self.config.inipath is not None:
            config_args += ["-c", str(self.config.inipath)]
        for item in items:
            if not any(name in getattr(item, "fixturenames", ()) for name in FIXTURES):
                continue
            # the test file by absolute path: the workers need not start in the rootdir
            _, _, rest = item.nodeid.partition("::")
            target = f"{item.path}::{rest}" if rest else str(item.path)
            self.candidates[item.nodeid] = _Test(item.nodeid, (target, *config_args))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Any:
        if item.nodeid not in self.candidates:
            return (yield)
        with recording() as calls:
            try:
                return (yield)
            finally:
                self.calls[item.nodeid] = portable(calls[-1]) if calls else None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" and report.passed and report.nodeid in self.candidates:
            test = self.candidates[report.nodeid]
            self.passed.append(_Test(test.nodeid, test.pytest_args, self.calls.get(test.nodeid)))

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.passed or session.shouldstop:
            return
        out = self._out_dir()
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"gctune: measuring {len(self.passed)} benchmark test(s) in fresh "
                f"interpreters, into {out} ..."
            )
        with tempfile.TemporaryDirectory(prefix="gctune-pytest-") as folder:
            names = write_factories(self.passed, Path(folder))
            command = [
                sys.executable, "-m", "gctune.cli", "sweep",
                *(f"{path}:make" for path in names.values()),
                *(a for s in self.config.getoption("gctune_setting") for a in ("-s", s)),
                *shlex.split(self.config.getoption("gctune_args")),
                "--out", str(out),
            ]  # fmt: skip
            started = time.monotonic()
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                cwd=self.config.invocation_params.dir,
                check=False,
            )
            seconds = time.monotonic() - started
        if done.returncode not in (0, 3):
            errors = done.stderr.strip().splitlines() or ["no output"]
            self.lines = [f"gctune sweep failed (exit {done.returncode}): {errors[-1]}"]
            self.failed = True
        else:
            ids = {test: f"{path.stem}-make" for test, path in names.items()}
            self.lines = result_lines(out, ids)
            self.lines.append(f"{seconds:.0f} s; results: {out} (gctune report {out})")
        if self.failed and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.lines:
            terminalreporter.section("gctune: GC settings", red=self.failed, bold=True)
            for line in self.lines:
                terminalreporter.write_line(line)

    def _out_dir(self) -> Path:
        given = self.config.getoption("gctune_out")
        base = Path(self.config.invocation_params.dir)
        if given:
            return base / Path(given)
        return base / "results" / time.strftime("pytest-%Y%m%d-%H%M%S")


def write_factories(tests: list[_Test], folder: Path) -> dict[_Test, Path]:
    """One factory file per test, named after it (unique, a Python identifier)."""
    paths: dict[_Test, Path] = {}
    for test in tests:
        name = re.sub(r"\W+", "_", test.nodeid.rpartition("::")[2]).strip("_") or "test"
        stem, n = name, 1
        while (folder / f"{stem}.py").exists():
            n += 1
            stem = f"{name}_{n}"
        path = folder / f"{stem}.py"
        path.write_text(
            f'"""gctune workload: {test.nodeid}, the call its benchmark fixture times."""\n'
            "from gctune.integrations.pytest_worker import factory\n\n"
            f"PYTEST_ARGS = {list(test.pytest_args)!r}\n"
            f"CALL = {test.call or 'None'}  # (module, function, args, kwargs): by import\n"
            f"SYS_PATH = {sys.path!r}\n\n\n"
            "def make(size=1):\n"
            "    return factory(PYTEST_ARGS, CALL, SYS_PATH)\n"
        )
        paths[test] = path
    return paths


def result_lines(sweep_dir: Path, ids: dict[_Test, str]) -> list[str]:
    """A table per test: each setting's time per step, ratio to default, GC share and
    pauses, peak memory (times and pauses in ns, formatted)."""
    # imported here: an inert plugin loads nothing of gctune's analysis (pandas)
    from gctune.analysis.fmt import fmt_bytes, fmt_interval, fmt_ns, fmt_ratio
    from gctune.analysis.stats import workload_stats
    from gctune.store.results import load_sweep

    _, points = load_sweep(sweep_dir)
    stats = workload_stats(points)
    header = (
        f"  {'setting':<24} {'time/step':>10} {'vs default [95%]':>27} {'GC %':>6} "
        f"{'p99 pause':>10} {'max pause':>10} {'peak RSS':>10}"
    )
    lines = []
    for test, workload in ids.items():
        lines += [f"{test.nodeid} (the call rebuilt by {test.way})", header]
        for s in stats.get(workload, []):
            if not s.ok:
                lines.append(f"  {s.setting:<24} failed: {s.reason}")
                continue
            ratio = fmt_ratio(s.time_ratio)
            if s.setting != "default":
                interval = fmt_interval(s.time_ratio_low, s.time_ratio_high)
                ratio += f" {interval}" if s.time_significant else f" {interval} n.s."
            lines.append(
                f"  {s.setting:<24} {fmt_ns(s.mean_s * 1e9):>10} {ratio:>27} "
                f"{s.gc_share * 100:>6.1f} {fmt_ns(s.pause_p99_ns):>10} "
                f"{fmt_ns(s.pause_max_ns):>10} {fmt_bytes(s.peak_rss_bytes):>10}"
            )
    lines.append(
        "time/step: the benchmarked call, mean over whole spans; vs default: round-paired "
        "ratio (n.s.: the interval includes 1); GC %: pause total / wall time; by "
        "import: the worker imported the function, by pytest: it ran the test (its heap "
        "holds pytest)"
    )
    return lines
