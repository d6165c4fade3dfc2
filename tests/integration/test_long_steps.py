"""Programs whose one step outlasts a span's budget, measured for real in quick mode.

A span measures at least one whole step, whatever its budget: before, a step longer than
the planned span (here 0.12 s steps against spans of 0.05 s, the shape of 1-3 s steps
against quick mode's 1 s) left the span without a value, and the sweep stopped with a
KeyError while saving it, on every ``--resume`` too.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gctune.cli.main import app
from gctune.store.results import load_sweep

pytestmark = pytest.mark.integration

SLOW_CYCLES = '''
"""Steps of about 0.12 s, each full of reference cycles (a full collection every step)."""
import time

def make(size=1):
    def step():
        began = time.perf_counter()
        keep = []
        while time.perf_counter() - began < 0.12 * size:
            for _ in range(200):
                a = []
                a.append(a)
                keep.append(a)
        keep.clear()
    return step
'''


def test_a_step_longer_than_the_span_is_measured_whole(tmp_path: Path) -> None:
    program = tmp_path / "slow_cycles.py"
    program.write_text(textwrap.dedent(SLOW_CYCLES))
    out = tmp_path / "sweep"
    args = ["sweep", "-w", f"{program}:make", "--quick", "-s", "2000,10,10", "--rounds", "1"]
    result = CliRunner().invoke(app, [*args, "--max-point-time", "0.05", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    _, points = load_sweep(out)
    assert {p.setting for p in points} == {"default", "disabled", "t2000-10-10"}
    for point in points:
        assert point.ok, point.reason
        (run,) = point.runs
        assert run.values and (run.steps or 0) >= 1  # at least one whole step
