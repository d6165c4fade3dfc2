"""Commands: names, the start-up setting parser, and pairing snapshots with pyperf runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import pytest

from gctune.measure.collector import setting_from_id
from gctune.measure.histogram import Histogram
from gctune.measure.settings import FULL_GRID, QUICK_GRID, parse_setting
from gctune.sweep.program import ProgramError, attach_snapshots, check_command, command_id


@pytest.mark.parametrize(
    ("command", "name"),
    [
        (["python", "app.py", "--n", "3"], "app"),
        (["/usr/bin/python3.12", "-X", "dev", "-u", "tools/run_it.py"], "run_it"),
        (["python3", "-m", "json.tool", "f.json"], "json.tool"),
        (["python", "-mtimeit", "1+1"], "timeit"),
        (["python", "-c", "pass"], "python-c"),
        (["./serve", "--port", "8000"], "serve"),
        (["pypy3", "bench.py"], "bench"),
    ],
)
def test_command_names(command: list[str], name: str) -> None:
    assert command_id(command) == name


def test_start_up_parser_agrees_with_parse_setting() -> None:
    for text in (*QUICK_GRID, *FULL_GRID, "disabled+freeze", "5", "5,6"):
        setting = parse_setting(text)
        assert setting_from_id(setting.id) == (setting.mode, setting.thresholds, setting.freeze)
    for bad in ("t0", "t1-2-3-4", "t-5", "t05", "banana", "default+thaw", "7000,10"):
        with pytest.raises(ValueError):
            setting_from_id(bad)


def test_commands_that_cannot_start(tmp_path: Path) -> None:
    with pytest.raises(ProgramError, match="needs a program"):
        check_command([], str(tmp_path))
    with pytest.raises(ProgramError, match="'no-such-program-xyz' not found"):
        check_command(["no-such-program-xyz"], str(tmp_path))
    with pytest.raises(ProgramError, match=r"cannot open 'missing\.py'"):
        check_command(["python3", "-u", "missing.py"], str(tmp_path))
    check_command(["python3", "-m", "json.tool"], str(tmp_path))


# --- pairing ------------------------------------------------------------------------

_clock = [1_000]


def snapshot(
    snap_dir: Path,
    pid: int,
    ppid: int,
    *,
    pauses: int,
    root: Optional[str] = None,
    rss: int = 10,
    inside: Optional[dict[str, Any]] = None,
) -> dict[str, Any]:
    """One process's snapshot file; ``inside``: start within that (parent) process."""
    hist = Histogram()
    for _ in range(pauses):
        hist.add(1000)
    if inside is None:
        _clock[0] += 1000
        start = _clock[0]
    else:
        start = inside["started_ns"] + 1
    snap = {
        "pid": pid,
        "ppid": ppid,
        "root": root,
        "started_ns": start,
        "ended_ns": start + 500,
        "wall_ns": 500,
        "cpu_ns": 100,
        "spans": 1,
        "pauses": {"0": hist.to_json()} if pauses else {},
        "collected": {"0": pauses},
        "uncollectable": {"0": 0},
        "requests": None,
        "peak_rss_bytes": rss,
        "thresholds": [700, 10, 10],
        "gc_enabled": True,
        "frozen": 0,
    }
    (snap_dir / f"{pid}-{start}.json").write_text(json.dumps(snap))
    return snap


def pyperf_doc() -> dict[str, Any]:
    """A calibration run (2 warmups) then two runs of 1 warmup + 2 values, loops = 2."""
    return {
        "metadata": {"loops": 2},
        "benchmarks": [
            {
                "runs": [
                    {"metadata": {"calibrate_loops": 2}, "warmups": [[1, 0.1], [2, 0.1]]},
                    {"metadata": {}, "warmups": [[2, 0.1]], "values": [0.1, 0.2]},
                    {"metadata": {}, "warmups": [[2, 0.1]], "values": [0.3, 0.4]},
                ]
            }
        ],
    }


def test_snapshots_pair_with_the_measured_values_of_each_run(tmp_path: Path) -> None:
    pid = 100
    # calibration: 1 + 2 program runs; then per run: 2 warmup runs, 2 values x 2 loops
    plan = [("cal", 3), ("w", 2), ("r1", 4), ("w", 2), ("r2", 4)]
    for label, count in plan:
        for i in range(count):
            pid += 1
            top = snapshot(tmp_path, pid, 1, pauses={"r1": 1, "r2": 10}.get(label, 100))
            if label == "r2" and i == 0:
                # a child started through a shell (found by GCTUNE_ROOT) and a direct child
                key = f"{pid}-{top['started_ns']}"
                snapshot(tmp_path, 5000, 4999, pauses=5, root=key, rss=99, inside=top)
                snapshot(tmp_path, 6000, pid, pauses=7, inside=top)
    doc = pyperf_doc()
    assert attach_snapshots(doc, tmp_path) is None
    runs = doc["benchmarks"][0]["runs"]
    assert "gctune_probe" not in runs[0]["metadata"]  # calibration carries no values
    first, second = (json.loads(r["metadata"]["gctune_probe"]) for r in runs[1:])
    assert first["pauses"]["0"]["count"] == 4  # 4 measured runs x 1, warmups left out
    assert first["processes"] == 4 and first["peak_rss_bytes"] == 10
    assert second["pauses"]["0"]["count"] == 4 * 10 + 5 + 7
    assert second["processes"] == 6 and second["peak_rss_bytes"] == 99
    assert second["wall_ns"] == 4 * 500  # top processes only
    assert second["cpu_ns"] == 6 * 100  # every process


def test_missing_snapshots_fail_the_point_instead_of_mispairing(tmp_path: Path) -> None:
    doc = pyperf_doc()
    assert "no Python process" in (attach_snapshots(doc, tmp_path) or "")
    for pid in range(10):
        snapshot(tmp_path, 200 + pid, 1, pauses=1)
    assert "pyperf ran the program 15 times but 10" in (attach_snapshots(doc, tmp_path) or "")


def test_a_command_sweep_spec_survives_the_manifest() -> None:
    from gctune.sweep.spec import SweepSpec, plan_points

    spec = SweepSpec(
        workloads=("app",),
        settings=("default", "disabled"),
        command=("python", "app.py", "--n", "3"),
        cwd="/srv/app",
    )
    again = SweepSpec.from_json(json.loads(json.dumps(spec.to_json())))
    assert again == spec
    assert [(p.workload_id, p.setting) for p in plan_points(again)] == [
        ("app", "default"),
        ("app", "disabled"),
    ]


def test_a_programs_interpreter_is_asked_as_a_sweeps_is() -> None:
    """The program's interpreter answers in full (a wrong path to gctune's modules once
    left only its version and executable, silently)."""
    from gctune.sweep.program import _interpreter_of

    info = _interpreter_of(sys.executable, "0.0")
    assert info["executable"] == sys.executable
    assert {"version", "gc_kind", "default_thresholds"} <= set(info)
