"""``--measure counts`` on the command line, without valgrind: a stored sweep in counts
(written as the counts tier writes it) read by gate, report and recommend; the one line
where valgrind is missing; options of the time tier refused."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gctune.cli.main import app
from gctune.store.atomic import atomic_write_json
from gctune.store.results import Manifest, write_manifest
from gctune.sweep.count_sweep import COUNTS_FORMAT, CountSpec, count_path, is_count_sweep

runner = CliRunner()


def _point(workload: str, setting: str, instr: float, status: str = "ok") -> dict[str, Any]:
    point = {
        "instructions_per_step": instr,
        "cycles_per_step": 1.5 * instr,
        "gc_share": None,
        "collections_per_step": [0.5, 0.05, 0.01 if setting == "default" else 0.0],
        "whole_cycles": setting == "default",
        "steps": 40,
    }
    return {
        "gctune_counts": COUNTS_FORMAT,
        "workload": workload,
        "spec": f"{workload}.py:make",
        "setting": setting,
        "max_steps": 40,
        "bound": "" if setting == "default" else "default's cycle",
        "status": status,
        "reason": "" if status == "ok" else "boom",
        "point": point if status == "ok" else None,
    }


def _sweep(tmp_path: Path, points: list[dict[str, Any]]) -> Path:
    directory = tmp_path / "counts-sweep"
    directory.mkdir()
    spec = CountSpec(
        python=sys.executable,
        workloads=("base.py:make", "new.py:make"),
        settings=("default", "disabled"),
    )
    write_manifest(directory, Manifest("s", spec.to_json(), {"cpu_count": 2}, "2026-12-01"))
    for doc in points:
        atomic_write_json(count_path(directory, doc["workload"], doc["setting"]), doc)
    return directory


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    return _sweep(
        tmp_path,
        [
            _point("base-make", "default", 1_000_000),
            _point("base-make", "disabled", 800_000),
            _point("new-make", "default", 1_020_000),  # +2 %
            _point("new-make", "disabled", 800_000),
        ],
    )


def test_a_stored_sweep_in_counts_is_one(sweep: Path, tmp_path: Path) -> None:
    assert is_count_sweep(sweep)
    assert not is_count_sweep(tmp_path)


def test_the_gate_in_counts_fails_beyond_its_threshold_and_passes_within(sweep: Path) -> None:
    args = ["gate", str(sweep), "base-make", "new-make"]
    strict = runner.invoke(app, [*args, "--fail-on", "instructions:1%"])
    assert strict.exit_code == 1, strict.output
    assert "in counts" in strict.output and "1.0200x" in strict.output
    assert "REGRESSION" in strict.output and "1 regression(s)" in strict.output
    loose = runner.invoke(app, [*args, "--fail-on", "cycles:3%", "--json"])
    assert loose.exit_code == 0, loose.output
    doc = json.loads(loose.output)
    assert doc["tier"] == "counts" and doc["regressions"] == 0
    assert [r["metric"] for r in doc["rows"]] == ["cycles", "cycles"]


def test_a_time_metric_on_a_sweep_in_counts_is_one_line(sweep: Path) -> None:
    result = runner.invoke(
        app, ["gate", str(sweep), "base-make", "new-make", "--fail-on", "time:5%"]
    )
    assert result.exit_code == 2
    assert "not measured in a sweep in counts" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_failed_side_is_not_compared(tmp_path: Path) -> None:
    directory = _sweep(
        tmp_path,
        [_point("base-make", "default", 1e6), _point("new-make", "default", 1e6, "failed")],
    )
    result = runner.invoke(app, ["gate", str(directory), "base-make", "new-make"])
    assert result.exit_code == 3
    assert "not compared" in result.output and "boom" in result.output


def test_report_writes_the_count_tables_and_names_the_tier(sweep: Path) -> None:
    result = runner.invoke(app, ["report", str(sweep)])
    assert result.exit_code == 0, result.output
    text = (sweep / "report" / "report.md").read_text()
    assert "counts tier" in text and "## base-make" in text
    assert "| disabled | 800k | 0.800x |" in text
    assert "no (40 steps: default's cycle)" in text
    only_html = runner.invoke(app, ["report", str(sweep), "--format", "html"])
    assert only_html.exit_code == 2 and "Markdown only" in only_html.output


def test_recommend_names_the_best_in_counts_and_recommends_nothing(sweep: Path) -> None:
    result = runner.invoke(app, ["recommend", str(sweep)])
    assert result.exit_code == 1
    assert "no recommendation from counts alone" in result.output
    assert "disabled (0.800x default's" in result.output
    assert "gctune verify base.py:make -s disabled" in result.output


def test_without_valgrind_a_sweep_in_counts_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "")
    out = tmp_path / "never"
    result = runner.invoke(app, ["sweep", "--measure", "counts", "short_cycles", "--out", str(out)])
    assert result.exit_code == 2
    assert "apt-get install valgrind" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sweep", "--measure", "counts", "--rounds", "3"], "--rounds apply to measuring in time"),
        (["sweep", "--measure", "counts", "--quick"], "--quick apply to measuring in time"),
        (["run", "--measure", "counts", "short_cycles", "--rigorous"], "--rigorous apply"),
        (["sweep", "--measure", "bananas"], "unknown --measure"),
        (["sweep", "--jobs", "2"], "--jobs applies to --measure counts"),
    ],
)
def test_options_of_the_time_tier_are_refused_in_one_line(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
