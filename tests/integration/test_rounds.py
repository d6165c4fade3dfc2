"""Real span workers, rounds, interleaved groups and several interpreters (tiny sizes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gctune.cli.main import app
from gctune.measure.span import MAX_SAMPLES
from gctune.store.results import load_sweep

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
PY313 = Path.home() / ".pyenv" / "versions" / "3.13.0" / "bin" / "python"


def span(tmp_path: Path, *args: str) -> dict[str, object]:
    out = tmp_path / "span.json"
    cmd = [
        sys.executable,
        "-m",
        "gctune.measure.span",
        "--workload",
        "short_cycles",
        "--out",
        str(out),
    ]
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


def test_a_span_times_its_speed_reference_around_every_chunk(tmp_path: Path) -> None:
    probe = span(tmp_path, "--size", "200", "--chunk", "2", "--budget", "30")
    values = json.loads((tmp_path / "span.json").read_text())["benchmarks"][0]["runs"][0]
    reference = probe["reference"]
    assert isinstance(reference, dict)
    assert len(reference["seconds"]) == len(values["values"]) + 1
    assert all(s > 0 for s in reference["seconds"]) and reference["ops"] > 0
    assert reference["python"].startswith(sys.executable)


def test_a_span_settles_on_a_natural_full_collection_first(tmp_path: Path) -> None:
    probe = span(tmp_path, "--size", "200", "--chunk", "2", "--budget", "30", "--settle", "1")
    settle = probe["span"]["settle"]  # type: ignore[index]
    assert settle["settled"] and settle["cycles"] == 1 and settle["steps"] > 0
    assert probe["span"]["full_collections"] >= 2  # type: ignore[index]


def test_a_span_that_cannot_settle_in_its_budget_says_so(tmp_path: Path) -> None:
    probe = span(
        tmp_path, "--size", "20", "--setting", "disabled", "--budget", "0.2", "--settle", "1"
    )
    settle = probe["span"]["settle"]  # type: ignore[index]
    assert settle["settled"] is False and settle["steps"] > 0


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


# Every step makes a few self-cycles and collects fully: one full collection a step and no
# other, whatever a span's length. (short_cycles at size 20 in 0.05 s spans made a full
# collection in some spans and not in others; a fresh-clone make test then failed the
# collections:0% gate on two identical copies: gen2 0 against 0.00015 a step.)
COLLECTING = """
import gc


def step(state):
    for _ in range(20):
        a = []
        a.append(a)
    gc.collect()
"""


def test_interleaved_workloads_share_rounds_and_gate_on_collections(tmp_path: Path) -> None:
    for side in ("base", "new"):
        (tmp_path / side).mkdir()
        (tmp_path / side / "bench.py").write_text(COLLECTING)
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
    pythons = {p.runs[0].reference["python"] for p in points if p.runs[0].reference}
    assert len(pythons) == 2  # one reference per interpreter: compared in seconds


def test_json_of_list_run_and_verify(tmp_path: Path) -> None:
    listed = json.loads(CliRunner().invoke(app, ["list", "--json"]).stdout)
    assert listed["schema"] == 1 and listed["kind"] == "workloads"
    names = [w["name"] for w in listed["workloads"]]
    assert names[:2] == ["acyclic_churn", "short_cycles"] and len(names) == 5
    assert all(w["default_size"] > 0 and w["description"] for w in listed["workloads"])

    tiny = ["--size", "20", "--rounds", "2", "--max-point-time", "0.05"]
    ran = CliRunner().invoke(app, ["run", "short_cycles", "-s", "disabled", *tiny, "--json"])
    assert ran.exit_code == 0, ran.output
    point = json.loads(ran.stdout)
    assert point["kind"] == "point" and point["status"] == "ok" and point["path"] is None
    assert point["steady"] == "collector off" and point["rounds"] == 2
    assert point["memory"]["status"] in ("bounded", "growing", "unknown")  # few samples
    assert set(point["time_per_step_s"]) == {"mean", "median", "ci95"}

    out = tmp_path / "verify"
    checked = CliRunner().invoke(
        app, ["verify", "short_cycles", "-s", "7000", *tiny, "--out", str(out), "--json"]
    )
    doc = json.loads(checked.stdout)
    assert doc["kind"] == "verification" and doc["setting"] == "t7000-10-10"
    assert doc["verdict"] in ("confirmed", "not confirmed", "unsafe")
    assert checked.exit_code == (0 if doc["verdict"] == "confirmed" else 1)
    assert doc["rounds"] == 2
    assert doc["change"] is None or set(doc["change"]) == {"ratio", "low", "high", "basis"}
