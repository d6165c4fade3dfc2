"""The compare gate on result sets whose truth is known (see tests/synthetic.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gctune.analysis.compare import compare_sweeps
from gctune.analysis.comparison import CompareError, Threshold, parse_threshold
from gctune.cli.main import app
from tests.synthetic import PY311, Spec, make_sweep

runner = CliRunner()
TIME5 = (Threshold("time", 0.05),)
COUNTS0 = (Threshold("collections", 0.0), Threshold("collected", 0.0))


def pair(tmp_path: Path, base: list[Spec], new: list[Spec], **new_kw: object) -> tuple[Path, Path]:
    return (
        make_sweep(tmp_path / "base", base, seed=1),
        make_sweep(tmp_path / "new", new, seed=2, **new_kw),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("text", "metric", "limit"),
    [("time:5%", "time", 0.05), ("collections:0%", "collections", 0.0), ("P99: 20", "p99", 0.2)],
)
def test_parse_threshold(text: str, metric: str, limit: float) -> None:
    assert parse_threshold(text) == Threshold(metric, pytest.approx(limit))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "message"),
    [("speed:5%", "unknown metric 'speed'"), ("time", "METRIC:PERCENT"), ("time:-1%", "PERCENT")],
)
def test_parse_threshold_refuses(text: str, message: str) -> None:
    with pytest.raises(CompareError, match=message):
        parse_threshold(text)


def test_same_distribution_passes(tmp_path: Path) -> None:
    specs = [Spec(setting="default"), Spec(setting="disabled", collections={}, collected=0)]
    result = compare_sweeps(*pair(tmp_path, specs, specs), thresholds=TIME5 + COUNTS0)
    assert result.exit_code == 0 and result.regressions == []
    assert [p.label for p in result.points] == ["w@default", "w@disabled"]
    counts = [m for m in result.points[0].metrics if m.gate == "collections"]
    assert [m.metric for m in counts] == [
        "collections gen0",
        "collections gen1",
        "collections gen2",
    ]
    assert all(m.ratio == 1.0 and m.note == "exact" for m in counts)


def test_fifteen_percent_slowdown_fails_five_percent_gate(tmp_path: Path) -> None:
    base, new = pair(tmp_path, [Spec()], [Spec(mean_s=1.15e-3)])
    result = compare_sweeps(base, new, thresholds=TIME5)
    (time,) = [m for m in result.points[0].metrics if m.metric == "time"]
    assert time.regression and time.significant and 1.05 < time.low < time.ratio
    assert result.exit_code == 1
    assert result.regressions[0].startswith("w@default: time +1")
    # the same slowdown is within a 20% gate
    assert compare_sweeps(base, new, thresholds=(Threshold("time", 0.20),)).exit_code == 0


def test_cpu_gate_sees_work_not_waiting(tmp_path: Path) -> None:
    # NEW waited for a busy core (wall time doubled) but did the same work per step
    base, new = pair(tmp_path, [Spec()], [Spec(mean_s=2e-3, cpu_s=1e-3)])
    cpu5 = (Threshold("cpu", 0.05),)
    result = compare_sweeps(base, new, thresholds=cpu5)
    (cpu,) = [m for m in result.points[0].metrics if m.metric == "cpu"]
    assert 0.97 < cpu.ratio < 1.03 and not cpu.regression and result.exit_code == 0
    # 15% more work per step is more CPU time, caught whatever the wall clock says
    base, new = pair(tmp_path / "more", [Spec()], [Spec(mean_s=1e-3, cpu_s=1.15e-3)])
    assert compare_sweeps(base, new, thresholds=cpu5).exit_code == 1


def test_small_or_noisy_slowdown_is_not_a_regression(tmp_path: Path) -> None:
    # 4% slower: significant, but not beyond 5%
    base, new = pair(tmp_path, [Spec(noise=0.01)], [Spec(mean_s=1.04e-3, noise=0.01)])
    assert compare_sweeps(base, new, thresholds=TIME5).exit_code == 0
    # 8% slower point estimate, but the runs scatter by 30%: the interval reaches below 5%
    base, new = pair(tmp_path / "noisy", [Spec(noise=0.3)], [Spec(mean_s=1.08e-3, noise=0.3)])
    result = compare_sweeps(base, new, thresholds=TIME5)
    (time,) = [m for m in result.points[0].metrics if m.metric == "time"]
    assert time.low < 1.05 and not time.regression


def test_an_extra_collection_per_run_fails_collections_zero(tmp_path: Path) -> None:
    base, new = pair(tmp_path, [Spec()], [Spec(collections={0: 101, 1: 9, 2: 1})])
    result = compare_sweeps(base, new, thresholds=COUNTS0)
    assert result.exit_code == 1
    assert result.regressions == [
        "w@default: collections gen0 +1.0% [+1.0%, +1.0%] beyond collections:0%"
    ]
    # fewer collections is never a regression
    base, new = pair(tmp_path / "fewer", [Spec()], [Spec(collections={0: 90, 1: 9, 2: 1})])
    assert compare_sweeps(base, new, thresholds=COUNTS0).exit_code == 0


def test_counts_compare_per_step_when_loops_differ(tmp_path: Path) -> None:
    # twice the loops, twice the collections: the same rate per step
    doubled = Spec(loops=128, collections={0: 200, 1: 18, 2: 2}, collected=2000)
    base, new = pair(tmp_path, [Spec()], [doubled])
    result = compare_sweeps(base, new, thresholds=COUNTS0)
    assert result.exit_code == 0
    (gen0,) = [m for m in result.points[0].metrics if m.metric == "collections gen0"]
    assert gen0.metric == "collections gen0" and "steps per run differ (128 vs 256)" in gen0.note
    # one collection more per run is within the quantisation allowance at unequal loops
    off_by_one = replace(doubled, collections={0: 201, 1: 18, 2: 2})
    assert (
        compare_sweeps(*pair(tmp_path / "q", [Spec()], [off_by_one]), thresholds=COUNTS0).exit_code
        == 0
    )
    # 15% more collections per step is not
    more = replace(doubled, collections={0: 230, 1: 18, 2: 2})
    assert (
        compare_sweeps(*pair(tmp_path / "m", [Spec()], [more]), thresholds=COUNTS0).exit_code == 1
    )


def test_different_python_is_refused_unless_allowed(tmp_path: Path) -> None:
    py312 = {**PY311, "version": "3.12.1", "version_info": [3, 12, 1]}
    base, new = pair(tmp_path, [Spec()], [Spec()], python=py312)
    with pytest.raises(CompareError, match=r"3\.11\.7.*3\.12\.1.*--allow-different-python"):
        compare_sweeps(base, new, thresholds=TIME5)
    result = compare_sweeps(base, new, thresholds=TIME5, allow_different_python=True)
    assert (
        result.points[0].interpreter == "CPython 3.11.7 generational → CPython 3.12.1 generational"
    )


def test_different_gc_kind_is_refused(tmp_path: Path) -> None:
    free = {**PY311, "free_threaded": True, "gc_kind": "free-threaded"}
    with pytest.raises(CompareError, match="GC kinds"):
        compare_sweeps(*pair(tmp_path, [Spec()], [Spec()], python=free))


def test_short_ids_of_older_results_match_full_ones(tmp_path: Path) -> None:
    # results written before ids were spelled in full hold t50000 for 50000,10,10
    base = [Spec(setting="default"), Spec(setting="t50000"), Spec(setting="t9000-20+freeze")]
    new = [Spec(setting="default"), Spec(setting="t50000-10-10")]
    new.append(Spec(setting="t9000-20-10+freeze"))
    result = compare_sweeps(*pair(tmp_path, base, new), thresholds=TIME5)
    assert [p.label for p in result.points] == [
        "w@default",
        "w@t50000-10-10",
        "w@t9000-20-10+freeze",
    ]
    assert result.only_in_base == () and result.only_in_new == ()


def test_missing_and_failed_points_are_listed(tmp_path: Path) -> None:
    base_specs = [Spec(setting=s) for s in ("default", "disabled", "t5000", "t9000")]
    new_specs = [
        Spec(setting="default"),
        Spec(setting="disabled", status="failed"),
        Spec(setting="t5000"),
        Spec(setting="t20000"),
    ]
    base_specs[2] = replace(base_specs[2], status="failed")
    result = compare_sweeps(*pair(tmp_path, base_specs, new_specs), thresholds=TIME5)
    assert result.only_in_base == ("w@t9000",) and result.only_in_new == ("w@t20000",)
    assert [(f.label, f.side, f.regression) for f in result.failed] == [
        ("w@disabled", "new", True),
        ("w@t5000", "base", False),
    ]
    # a point that finished on main and fails on the branch fails the gate, and so does a
    # point of main the branch did not measure
    assert result.exit_code == 1
    assert result.regressions == [
        "w@disabled: failed on the new side: new: timed out after 5 s",
        "w@t9000: missing on the new side",
    ]
    allowed = compare_sweeps(
        *pair(tmp_path / "allowed", base_specs, new_specs), thresholds=TIME5, allow_missing=True
    )
    assert allowed.exit_code == 0 and allowed.regressions == []


def test_a_workload_missing_in_new_fails_the_gate_unless_allowed(tmp_path: Path) -> None:
    # a change that breaks a workload outright leaves no point of it to compare
    base, new = pair(
        tmp_path,
        [Spec(workload="a"), Spec(workload="b"), Spec(workload="b", setting="disabled")],
        [Spec(workload="a")],
    )
    gate = ["compare", str(base), str(new), "--fail-on", "collections:0%"]
    failed = runner.invoke(app, gate, env={"COLUMNS": "200"})
    assert failed.exit_code == 1, failed.output
    assert "missing in new (not compared): b@default, b@disabled" in failed.output
    assert "b@default: missing on the new side" in failed.output
    data = json.loads(runner.invoke(app, [*gate, "--json"]).stdout)
    assert data["exit_code"] == 1 and data["only_in_base"] == ["b@default", "b@disabled"]
    allowed = runner.invoke(app, [*gate, "--allow-missing"])
    assert allowed.exit_code == 0, allowed.output


def test_no_common_point_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CompareError, match="no \\(workload, setting\\) point in common"):
        compare_sweeps(*pair(tmp_path, [Spec(workload="a")], [Spec(workload="b")]))


def test_no_common_point_names_what_each_side_has(tmp_path: Path) -> None:
    base, new = pair(
        tmp_path,
        [Spec(workload="a"), Spec(workload="a", setting="t9000-10-10")],
        [Spec(workload="b", setting="disabled")],
    )
    result = runner.invoke(app, ["compare", str(base), str(new)])
    assert result.exit_code == 2
    line = result.output.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert f"{base} has a@default, a@t9000-10-10; {new} has b@disabled" in line


def test_cli_exit_codes_and_json(tmp_path: Path) -> None:
    base, new = pair(tmp_path, [Spec()], [Spec(mean_s=1.3e-3)])
    ok = runner.invoke(app, ["compare", str(base), str(base), "--fail-on", "time:5%"])
    assert ok.exit_code == 0, ok.output
    assert "no regression beyond time:5%" in ok.output
    bad = runner.invoke(app, ["compare", str(base), str(new), "--fail-on", "time:5%", "--json"])
    assert bad.exit_code == 1
    data = json.loads(bad.stdout)
    assert data["regression"] is True and data["exit_code"] == 1
    assert data["thresholds"] == {"time": 0.05}
    (time,) = [m for m in data["points"][0]["metrics"] if m["metric"] == "time"]
    assert time["regression"] and time["ratio"] == pytest.approx(1.3, rel=0.05)


@pytest.mark.parametrize(
    ("new", "gate", "message"),
    [
        ("base", "speed:5%", "unknown metric 'speed'"),
        ("nowhere", "time:5%", "not a gctune sweep directory"),
    ],
)
def test_cli_user_errors_are_one_line(tmp_path: Path, new: str, gate: str, message: str) -> None:
    base = make_sweep(tmp_path / "base", [Spec()])
    result = runner.invoke(app, ["compare", str(base), str(tmp_path / new), "--fail-on", gate])
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_busy_machine_is_warned_about(tmp_path: Path) -> None:
    quiet = compare_sweeps(*pair(tmp_path, [Spec()], [Spec()]), thresholds=TIME5)
    assert quiet.warnings == ()
    busy = compare_sweeps(*pair(tmp_path / "b", [Spec()], [Spec(load_avg=3.5)]), thresholds=TIME5)
    (warning,) = busy.warnings
    assert warning.startswith("new: the load average reached 3.5 on 2 CPUs")
    assert busy.to_json()["warnings"] == [warning]


def test_a_count_that_was_zero_reads_from_0_not_inf(tmp_path: Path) -> None:
    # gen2 never ran in the base: its change has no percentage
    base, new = pair(
        tmp_path,
        [Spec(collections={0: 100, 1: 9})],
        [Spec(collections={0: 100, 1: 9, 2: 1})],
    )
    shown = runner.invoke(app, ["compare", str(base), str(new), "--all-metrics"])
    assert shown.exit_code == 0, shown.output
    row = next(line for line in shown.output.splitlines() if "collections gen2" in line)
    assert "from 0" in row and "inf" not in row
    gated = runner.invoke(app, ["compare", str(base), str(new), "--fail-on", "collections:0%"])
    assert gated.exit_code == 1
    assert "collections gen2 from 0" in gated.output and "inf" not in gated.output
