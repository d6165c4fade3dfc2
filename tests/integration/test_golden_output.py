"""The summary, ``recommend`` (text and ``--json``) and the Markdown report of a fixed saved
sweep (tests/data/golden/sweep: three workloads, four settings, three rounds, measured
once by ``gctune sweep``) are exactly the stored expected output, modulo the directory the
sweep was copied to, the interpreter that runs the test (the sweep measured the
interpreter at ``RECORDED``; the copy names this one, as a sweep measured here would) and
the path of its ``gctune`` script (printed commands name it: ``<GCTUNE> verify ...``).

A change that alters what a user reads of a saved sweep fails here; when the change is
meant, rewrite the expected files with ``GCTUNE_WRITE_GOLDEN=1 pytest`` this file and
review their diff.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden"
GCTUNE = str(Path(sys.executable).with_name("gctune"))
RECORDED = "/work/main/.venv/bin/python"
# The summary as the end of a sweep prints it, at a fixed terminal width
SUMMARY = """
import sys
from pathlib import Path
from gctune.store.results import load_sweep
from gctune.present.sweep_tables import summary_tables
summary_tables(load_sweep(Path(sys.argv[1]))[1])
"""


def _run(args: list[str], cwd: Path) -> str:
    env = {**os.environ, "COLUMNS": "160", "NO_COLOR": "1", "TERM": "dumb"}
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    return _normal(done.stdout, cwd)


def _normal(text: str, cwd: Path) -> str:
    text = text.replace(str(cwd), "<DIR>").replace(GCTUNE, "<GCTUNE>")
    return text.replace(sys.executable, "<PYTHON>")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    cwd = tmp_path_factory.mktemp("golden")
    shutil.copytree(GOLDEN / "sweep", cwd / "sweep")
    for path in (cwd / "sweep").rglob("*.json"):
        path.write_text(path.read_text(encoding="utf-8").replace(RECORDED, sys.executable))
    produced = {
        "summary.txt": _run([sys.executable, "-c", SUMMARY, "sweep"], cwd),
        "recommend.txt": _run([GCTUNE, "recommend", "sweep"], cwd),
        "recommend.json": _run([GCTUNE, "recommend", "sweep", "--json"], cwd),
    }
    _run([GCTUNE, "report", "sweep", "--out", "report", "--format", "md"], cwd)
    report = (cwd / "report" / "report.md").read_text(encoding="utf-8")
    produced["report.md"] = _normal(report, cwd)
    return produced


@pytest.mark.parametrize("name", ["summary.txt", "recommend.txt", "recommend.json", "report.md"])
def test_a_saved_sweep_reads_as_before(outputs: dict[str, str], name: str) -> None:
    expected = GOLDEN / "expected" / name
    if os.environ.get("GCTUNE_WRITE_GOLDEN") == "1":
        expected.parent.mkdir(exist_ok=True)
        expected.write_text(outputs[name], encoding="utf-8")
    assert outputs[name] == expected.read_text(encoding="utf-8")
