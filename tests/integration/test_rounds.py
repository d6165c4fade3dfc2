"""Real span workers, rounds, interleaved groups and several interpreters (tiny sizes)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gctune.cli import app
from gctune.results import load_sweep
from gctune.span import MAX_SAMPLES

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
PY313 = Path.home() / ".pyenv" / "versions" / "3.13.0" / "bin" / "python"


def span(tmp_path: Path, *args: str) -> dict[str, object]:
    out = tmp_path / "span.json"
    cmd = [sys.executable, "-m", "gctune.span", "--workload", "short_cycles", "--out", str(out)]
    subprocess.run([*cmd, *args], check=True, cwd=REPO)
    doc = json.loads(out.read_text())
    bench = doc["benchmarks"][0]
    meta = {**doc.get("metadata", {}), **bench.get("metadata", {})}
    meta.update(bench["runs"][0].get("metadata", {}))
    probe: dict[str, object] = json.loads(meta["gctune_probe"])
    return probe


def test_a_span_stops_after_whole_cycles(tmp_path: Path) -> None:
    probe = span(tmp_path, "--size", "200", "--chunk", "2", "--budget", "30")
    s = probe["span"]
    assert isinstance(s, dict)
    assert s["stop"] == "full-collections" and s["full_collections"] >= 2
    assert s["full_at"][-1] == s["steps"]  # it stopped with the chunk that held the 2nd
    assert probe["pauses"]["2"]["count"] >= 2  # type: ignore[index]


def test_a_span_out_of_budget_says_so_and_keeps_its_samples_bounded(tmp_path: Path) -> None:
    probe = span(
        tmp_path, "--size", "20", "--setting", "disabled", "--chunk", "1", "--budget", "0.5"
    )
    s, memory = probe["span"], probe["memory"]
    assert isinstance(s, dict) and isinstance(memory, dict)
    assert s["stop"] == "budget" and s["full_collections"] == 0
    assert 0 < len(memory["samples"]) < MAX_SAMPLES
    steps = [sample[0] for sample in memory["samples"]]
    assert steps == sorted(steps) and steps[-1] <= s["steps"]


def test_interleaved_workloads_share_rounds_and_gate_on_collections(tmp_path: Path) -> None:
    for side in ("base", "new"):
        (tmp_path / side).mkdir()
        shutil.copy(REPO / "workloads" / "short_cycles.py", tmp_path / side / "bench.py")
    out = tmp_path / "sweep"
    args = ["sweep", str(tmp_path / "base" / "bench.py"), str(tmp_path / "new" / "bench.py")]
    args += ["-s", "default", "--interleave", "--rounds", "2", "--max-point-time", "0.05"]
    result = CliRunner().invoke(app, [*args, "--size", "20", "--out", str(out)])
    assert result.exit_code == 0, result.output
    _, points = load_sweep(out)
    ids = sorted({p.workload for p in points})
    assert ids == ["base.bench", "new.bench"]
    assert all(sorted(r.round or 0 for r in p.runs) == [1, 2] for p in points)
    gated = CliRunner().invoke(
        app, ["gate", str(out), "base.bench", "new.bench", "--fail-on", "collections:0%"]
    )
    assert gated.exit_code == 0, gated.output  # identical code: identical collections
    assert "0 regression(s)" in gated.output
    unknown = CliRunner().invoke(app, ["gate", str(out), "base.bench", "nope"])
    assert unknown.exit_code == 2 and "it has base.bench, new.bench" in unknown.output


@pytest.mark.skipif(not PY313.exists(), reason="pyenv's CPython 3.13.0 is not installed")
def test_two_interpreters_in_the_same_rounds(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    args = ["sweep", "short_cycles", "-s", "default", "--python", sys.executable]
    args += ["--python", str(PY313), "--rounds", "2", "--max-point-time", "0.05"]
    result = CliRunner().invoke(app, [*args, "--size", "20", "--out", str(out)])
    assert result.exit_code == 0, result.output
    _, points = load_sweep(out)
    versions = {p.workload: p.interpreter["version"] for p in points}
    tag = f"short_cycles[py{'.'.join(map(str, sys.version_info[:3]))}]"
    assert versions == {tag: versions[tag], "short_cycles[py3.13.0]": "3.13.0"}
    thresholds = {p.workload: p.runs[0].thresholds for p in points if p.setting == "default"}
    assert thresholds["short_cycles[py3.13.0]"] == (2000, 10, 10)
