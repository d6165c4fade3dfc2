"""``gctune gate`` when a side's point failed: which side, no ratio, the failed status."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from gctune.cli.errors import FAILED_POINTS
from gctune.cli.main import app
from tests.unit.synthetic import Synth, write_sweep

RUNS = [1e-3] * 3


def _sweep(tmp_path: Path, *, base_fails: bool, new_fails: bool = False) -> Path:
    return write_sweep(
        tmp_path,
        [
            Synth("base", "default", RUNS, spans=True, reason="exit 1" if base_fails else None),
            Synth("new", "default", RUNS, spans=True, reason="timeout" if new_fails else None),
            Synth("base", "disabled", RUNS, spans=True, pauses={}),
            Synth("new", "disabled", RUNS, spans=True, pauses={}),
        ],
    )


def test_a_failed_base_is_named_and_exits_with_the_failed_status(tmp_path: Path) -> None:
    sweep = _sweep(tmp_path, base_fails=True)
    result = CliRunner().invoke(app, ["gate", str(sweep), "base", "new", "--fail-on", "time:5%"])
    assert result.exit_code == FAILED_POINTS, result.output
    (line,) = [x for x in result.stdout.splitlines() if x.strip().startswith("default")]
    assert "not compared" in line and "base (base) failed: exit 1" in line
    assert "0.00x" not in result.stdout and "REGRESSION" not in result.stdout
    assert "new" not in line.split("base (base) failed")[1]  # the side that ran is not blamed
    # the setting both sides measured is still compared
    assert any(x.strip().startswith("disabled") and "ok" in x for x in result.stdout.splitlines())


def test_a_failed_side_in_json_has_no_ratio(tmp_path: Path) -> None:
    sweep = _sweep(tmp_path, base_fails=False, new_fails=True)
    result = CliRunner().invoke(
        app, ["gate", str(sweep), "base", "new", "--fail-on", "time:5%", "--json"]
    )
    assert result.exit_code == FAILED_POINTS
    doc = json.loads(result.stdout)
    (row,) = [r for r in doc["rows"] if r["setting"] == "default"]
    assert row["failed"] == "new" and row["ratio"] is None and not row["regression"]
    assert doc["regressions"] == 0 and doc["failed"] == 1
