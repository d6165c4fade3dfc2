"""Real sweeps: pyperf manager and worker processes, tiny sizes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gctune.store.results import load_point, load_sweep
from gctune.sweep.runner import run_sweep
from gctune.sweep.spec import SweepSpec

pytestmark = pytest.mark.integration


def spec(workloads: tuple[str, ...], settings: tuple[str, ...], **kw: object) -> SweepSpec:
    opts: dict[str, object] = dict(
        size=20, rounds=2, max_point_time=0.05, timeout=120, decide_rounds=0
    )
    opts.update(kw)
    return SweepSpec(workloads=workloads, settings=settings, **opts)  # type: ignore[arg-type]


def test_sweep_two_workloads_three_settings(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    points = run_sweep(
        spec(("acyclic_churn", "short_cycles"), ("default", "disabled", "5000,10,10+freeze")), out
    )
    assert [(p.workload, p.setting) for p in points] == [
        ("acyclic_churn", "default"),
        ("acyclic_churn", "disabled"),
        ("acyclic_churn", "t5000-10-10+freeze"),
        ("short_cycles", "default"),
        ("short_cycles", "disabled"),
        ("short_cycles", "t5000-10-10+freeze"),
    ]
    assert all(p.ok for p in points), [p.reason for p in points]
    manifest, saved = load_sweep(out)
    assert len(saved) == 6
    assert manifest.environment["python"]["version"].startswith(f"{sys.version_info[0]}.")
    by_setting = {p.setting: p for p in points if p.workload == "short_cycles"}
    # what each worker had in force, recorded by the probe
    assert all(not r.gc_enabled for r in by_setting["disabled"].runs)
    assert all(r.thresholds == (5000, 10, 10) for r in by_setting["t5000-10-10+freeze"].runs)
    assert all(r.frozen > 0 for r in by_setting["t5000-10-10+freeze"].runs)
    # with the collector off nothing is collected; with it on, the cycles are
    assert sum(r.collections for r in by_setting["disabled"].runs) == 0
    assert sum(sum(r.collected.values()) for r in by_setting["default"].runs) > 0
    # one span per round, each with its steps, full collections and memory samples
    for p in points:
        assert sorted(r.round or 0 for r in p.runs) == [1, 2]
        assert all(r.span is not None and r.steps and r.memory for r in p.runs)
        assert p.horizon is not None and p.race is not None and p.race["stopped"]
    # pyperf itself reads the timing part
    shown = subprocess.run(
        [sys.executable, "-m", "pyperf", "show", str(by_setting["default"].path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Mean +- std dev" in shown.stdout


def test_resume_skips_finished_points(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    first = run_sweep(spec(("acyclic_churn",), ("default", "disabled")), out)
    stamps = {p.setting: p.path.stat().st_mtime_ns for p in first}
    # as if a third point had been interrupted: drop it from the spec's file list
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["gctune"]["spec"]["settings"].append("t9000")
    manifest_path.write_text(json.dumps(manifest))
    seen: list[str] = []
    resumed = run_sweep(
        None,
        out,
        resume=True,
        progress=lambda event: seen.append(event.setting) if event.point is None else None,
    )
    assert seen == ["t9000", "t9000"]  # only the missing point was measured, both rounds
    assert [p.setting for p in resumed] == ["default", "disabled", "t9000"]
    for p in resumed[:2]:
        assert p.path.stat().st_mtime_ns == stamps[p.setting]


def test_crash_hang_and_failing_step_recorded_as_failed(
    tmp_path: Path, faulty_workloads: dict[str, Path]
) -> None:
    out = tmp_path / "sweep"
    workloads = tuple(str(faulty_workloads[n]) for n in ("crash", "hang", "fails_later"))
    points = run_sweep(spec((*workloads, "acyclic_churn"), ("default",), timeout=5), out)
    reasons = {p.workload: p.reason for p in points}
    assert not any(p.ok for p in points[:3])
    assert reasons["crash"] == "worker crashed: killed by SIGABRT"
    assert reasons["hang"] == "timed out after 5 s"
    assert "step 5 failed on purpose" in (reasons["fails_later"] or "")
    assert points[3].ok  # the sweep went on
    for p in points:
        assert load_point(p.path).status == p.status


def test_memory_cap_recorded_as_failed(tmp_path: Path, faulty_workloads: dict[str, Path]) -> None:
    points = run_sweep(
        spec((str(faulty_workloads["hog"]),), ("default",), max_memory=256 * 1024**2),
        tmp_path / "sweep",
    )
    assert not points[0].ok
    assert "memory cap" in (points[0].reason or "")


def test_another_interpreter_needs_nothing_installed(tmp_path: Path) -> None:
    # the interpreter this virtualenv was made from: it has neither gctune nor pyperf
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    bare = subprocess.run([str(base), "-c", "import pyperf"], capture_output=True)
    assert bare.returncode != 0, "the base interpreter already has pyperf"
    points = run_sweep(
        spec(("short_cycles",), ("default", "20000"), python=str(base)), tmp_path / "s"
    )
    assert all(p.ok for p in points), [p.reason for p in points]
    assert points[0].interpreter["executable"] == str(base)
    assert points[1].runs[0].thresholds == (20000, 10, 10)


def test_a_sweep_with_failed_points_exits_3(
    tmp_path: Path, faulty_workloads: dict[str, Path], fast_args: tuple[str, ...]
) -> None:
    from typer.testing import CliRunner

    from gctune.cli.main import app

    runner = CliRunner()
    out = tmp_path / "sweep"
    crash = str(faulty_workloads["crash"])
    args = ["sweep", "acyclic_churn", crash, "-s", "default", "--out", str(out), *fast_args]
    result = runner.invoke(app, args, env={"COLUMNS": "400"})
    # finished, with the report written, but CI must be able to tell points failed
    assert result.exit_code == 3, result.output
    assert result.stderr.strip().splitlines()[-1] == (
        "gctune: 2 of 4 point(s) failed (reasons above); exit status 3"
    )
    assert (out / "report" / "report.md").exists()
    # every point failed: no report, the same status
    only = runner.invoke(
        app, ["sweep", crash, "-s", "default", "--out", str(tmp_path / "c"), *fast_args]
    )
    assert only.exit_code == 3, only.output
    # a resume of a sweep whose points all finished exits 0
    fine = tmp_path / "fine"
    ok = runner.invoke(
        app, ["sweep", "acyclic_churn", "-s", "default", "--out", str(fine), *fast_args]
    )
    assert ok.exit_code == 0, ok.output
    assert runner.invoke(app, ["sweep", "--resume", "--out", str(fine)]).exit_code == 0
