"""Time ratios of identical sleep-bound code, from real worker processes (tiny spans).

Dividing by the speed reference (a few reference passes per span of a step that mostly
sleeps) once made two identical settings of such a step differ "significantly"
(1.26x [1.14, 1.40]); in seconds they are the same time.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gctune.analysis.paired import paired_change
from gctune.cli.main import app
from gctune.store.results import load_sweep

pytestmark = pytest.mark.integration

SLEEPY = '''"""Sleep-bound: sleep, then build 1,000 small lists."""
import time

DEFAULT_SIZE = 5_000


def setup(size):
    return size


def step(micros):
    time.sleep(micros / 1e6)
    return [[i] for i in range(1000)]
'''


def test_identical_sleep_bound_code_is_not_a_time_difference(tmp_path: Path) -> None:
    for side in ("base", "new"):
        (tmp_path / side).mkdir()
        (tmp_path / side / "sleepy.py").write_text(SLEEPY, encoding="utf-8")
    out = tmp_path / "sweep"
    args = ["sweep", str(tmp_path / "base" / "sleepy.py"), str(tmp_path / "new" / "sleepy.py")]
    args += ["-s", "default", "--interleave", "--rounds", "5", "--no-racing"]
    result = CliRunner().invoke(app, [*args, "--max-point-time", "0.2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    _, points = load_sweep(out)
    by = {(p.workload, p.setting): p for p in points}
    change = paired_change(by["base.sleepy", "default"], by["new.sleepy", "default"])
    assert change is not None
    # The same sleep. A bare "includes 1" would fail one identical pair in twenty by
    # design, more under load (a preempted sleep overshoots by milliseconds), so: the
    # ratio within 5% of 1, and its 95% interval within 2% of it
    assert 0.95 <= change.ratio <= 1.05, change
    assert change.low <= 1.02 and change.high >= 0.98, change
    gated = CliRunner().invoke(app, ["gate", str(out), "base.sleepy", "new.sleepy"])
    assert gated.exit_code == 0, gated.output
    assert "round-paired in seconds" in gated.output
