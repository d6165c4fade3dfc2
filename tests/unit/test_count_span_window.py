"""The counted span's window, run natively (the program under valgrind is the same; what is
tested is where its measured steps start and stop, which valgrind does not change)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from tests.programs import CYCLES


def _span(tmp_path: Path, *args: str) -> dict[str, Any]:
    program = tmp_path / "cycles.py"
    program.write_text(textwrap.dedent(CYCLES))
    out = tmp_path / "span.json"
    subprocess.run(
        [sys.executable, "-m", "gctune.measure.count_span", "--workload", f"{program}:make",
         "--size", "300", "--out", str(out), *args],
        check=True, timeout=120,
    )  # fmt: skip
    doc: dict[str, Any] = json.loads(out.read_text())
    return doc


def test_a_settled_span_ends_on_its_full_collection(tmp_path: Path) -> None:
    doc = _span(tmp_path, "--settle", "2", "--settle-steps", "400", "--fulls", "1",
                "--max-steps", "400")  # fmt: skip
    assert doc["settled"] and doc["ended"] == "full-collections"
    assert doc["collections"][2] == 1 and doc["steps"] < 400


def test_an_unsettled_span_runs_its_whole_bound(tmp_path: Path) -> None:
    # settling stopped by its step bound before two full collections: a window ending on
    # the next full collection would start at an arbitrary phase of the cycle (tree_parents
    # with freeze: 2 steps holding a full collection, 1.4x every other setting's count)
    doc = _span(tmp_path, "--settle", "2", "--settle-steps", "1", "--fulls", "1",
                "--max-steps", "400")  # fmt: skip
    assert not doc["settled"]
    assert doc["ended"] == "max-steps" and doc["steps"] == 400
    assert doc["collections"][2] >= 1  # it passed full collections and did not stop there
