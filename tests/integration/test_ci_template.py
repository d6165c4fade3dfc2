"""The CI template (templates/ci/) run as written against a scratch repository.

GitHub Actions cannot run here; the workflow's measuring step is one script,
``ci/gctune-gate.sh``, and this test copies the template into a scratch git repository
with one library module and its factories, commits a base and a change, and runs that
script as the workflow does (gctune on PATH: this environment's, not a pip install from a
URL, which would take minutes; docs/ci.md gives the time of a full install run). The
change doubles the work of the library function the factory calls: the gate must see it
on the factory's collections, which it could not if both sides imported one checkout's
library. An identical copy passing ``collections:0%`` is test_count_gate.py's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "templates" / "ci"
BIN = Path(sys.executable).parent

# Cycles that reach the oldest generation, over a long-lived heap (as in
# test_count_gate.py): REPEAT = 2 doubles every generation's collections per step.
CORE = textwrap.dedent(
    '''
    """The library under test."""
    REPEAT = 1

    def churn(keep):
        for _ in range(REPEAT * keep.maxlen // 20):
            a = []
            b = [a]
            a.append(b)
            keep.append(a)
    '''
)
BENCH = textwrap.dedent(
    '''
    """The repository's factories, as gctune measures them."""
    from collections import deque

    from mylib import core

    def make(size=50):
        heap = [[] for _ in range(1000 * size)]
        keep = deque(maxlen=20 * size)
        return lambda: core.churn(keep) or heap
    '''
)


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=repo, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A scratch repository: the template, a library, its factories; base and change."""
    repo = tmp_path / "repo"
    (repo / "mylib").mkdir(parents=True)
    (repo / "mylib" / "__init__.py").write_text("")
    (repo / "mylib" / "core.py").write_text(CORE)
    (repo / "mylib" / "bench.py").write_text(BENCH)
    shutil.copytree(TEMPLATE, repo, dirs_exist_ok=True)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    (repo / "mylib" / "core.py").write_text(CORE.replace("REPEAT = 1", "REPEAT = 2"))
    (repo / "mylib" / "added.py").write_text(BENCH)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "change")
    return repo


def test_the_template_gates_a_scratch_repository(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "gctune-results"
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "GCTUNE_WORKLOADS": "mylib/bench.py:make mylib/added.py:make",
        "GCTUNE_SWEEP_ARGS": "-s default --rounds 2 --max-point-time 0.3 --no-racing",
        "GCTUNE_FAIL_ON": "--fail-on collections:0%",
        "GCTUNE_OUT": str(out),
    }
    done = subprocess.run(
        ["ci/gctune-gate.sh", "HEAD~1"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "mylib/added.py is new (not in HEAD~1): nothing to compare, not gated" in done.stdout
    assert "new.mylib_bench-make vs base.mylib_bench-make" in done.stdout

    def gate(name: str) -> tuple[int, dict[str, dict[str, object]]]:
        ran = subprocess.run(
            [str(BIN / "gctune"), "gate", str(out), f"base.{name}", f"new.{name}",
             "--fail-on", "collections:0%", "--json"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        rows = json.loads(ran.stdout)["rows"]
        return ran.returncode, {r["metric"]: r for r in rows if r["setting"] == "default"}

    status, rows = gate("mylib_bench-make")
    assert status == 1
    # twice the collections: had both sides imported one checkout's library, 1.00x
    assert 1.8 < float(rows["gen0 GCs"]["ratio"]) < 2.2, rows  # type: ignore[arg-type]
    # what the workflow uploads, and nothing left behind in the repository
    assert (out / "report" / "report.html").is_file()
    assert len(git(repo, "worktree", "list").splitlines()) == 1
    assert git(repo, "status", "--porcelain") == ""


def test_the_script_says_what_is_missing(repo: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("GCTUNE_WORKLOADS", None)
    done = subprocess.run(
        ["ci/gctune-gate.sh"], cwd=repo, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode != 0 and "set GCTUNE_WORKLOADS" in done.stderr
    env["GCTUNE_WORKLOADS"] = "mylib/bench.py:make"
    done = subprocess.run(
        ["ci/gctune-gate.sh", "no-such-branch"],
        cwd=repo, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "no commit no-such-branch" in done.stderr
