"""History and compare take time differences only within one machine (tests/synthetic.py
sets whose manifests are given machine names, as ``--machine`` records them)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

import pytest
from typer.testing import CliRunner

from gctune.analysis.compare import compare_sweeps
from gctune.analysis.comparison import CompareError, Threshold
from gctune.analysis.history import load_history
from gctune.cli.main import app
from gctune.store.machine import Machine
from gctune.store.results import ResultError, read_manifest, write_manifest
from tests.synthetic import Spec, make_sweep

runner = CliRunner()


def on_machine(directory: Path, **fields: Any) -> Path:
    """Record ``fields`` (machine, cpu_model, ...) in the environment of a set's manifest."""
    manifest = read_manifest(directory)
    write_manifest(directory, replace(manifest, environment={**manifest.environment, **fields}))
    return directory


def two_sets(tmp_path: Path, machine_b: Optional[str] = "laptop") -> list[Path]:
    """A set at commit a on ci-box, then one at commit b twice as slow on ``machine_b``."""
    a = make_sweep(tmp_path / "a", [Spec(mean_s=1e-3)], commit="a" * 40,
                   date="2026-03-01T10:00:00+00:00", seed=1)  # fmt: skip
    b = make_sweep(tmp_path / "b", [Spec(mean_s=2e-3)], commit="b" * 40,
                   date="2026-03-02T10:00:00+00:00", seed=2)  # fmt: skip
    on_machine(a, machine="ci-box", cpu_model="Test CPU")
    if machine_b is not None:
        on_machine(b, machine=machine_b, cpu_model="Test CPU")
    return [a, b]


def test_history_of_two_machines_reports_no_step(tmp_path: Path) -> None:
    dirs = two_sets(tmp_path)
    history = load_history(dirs)
    assert history.steps == ()
    (apart,) = history.apart
    assert apart.startswith("aaaaaaa → bbbbbbb (ci-box (Test CPU, 2 CPUs) and laptop")
    entries = history.series[0].entries
    assert [e.time_change for e in entries] == [None, None]
    # the same sets, declared comparable: the +100% is a step
    anyway = load_history(dirs, any_machine=True)
    assert [s.metric for s in anyway.steps] == ["time"] and anyway.apart == ()


def test_history_compares_each_set_with_the_last_of_its_machine(tmp_path: Path) -> None:
    a, b = two_sets(tmp_path)  # a on ci-box, b (twice as slow) on laptop
    c = make_sweep(tmp_path / "c", [Spec(mean_s=1.3e-3)], commit="c" * 40,
                   date="2026-03-03T10:00:00+00:00", seed=3)  # fmt: skip
    on_machine(c, machine="ci-box", cpu_model="Test CPU")
    history = load_history([a, b, c])
    (step,) = history.steps  # c against a, both on ci-box: +30%
    assert (step.before, step.after, step.metric) == ("aaaaaaa", "ccccccc", "time")
    assert step.change.ratio == pytest.approx(1.3, rel=0.05)
    assert [line.split(" (")[0] for line in history.apart] == [
        "aaaaaaa → bbbbbbb",
        "bbbbbbb → ccccccc",
    ]


def test_history_cli_says_so_in_one_line(tmp_path: Path) -> None:
    dirs = [str(d) for d in two_sets(tmp_path)]
    out = runner.invoke(app, ["history", *dirs, "--out", str(tmp_path / "h.png")])
    assert out.exit_code == 0, out.output
    assert "step(s) beyond noise" not in out.output
    (line,) = [x for x in out.output.splitlines() if "different machines" in x]
    assert "--allow-different-machine" in line and "ci-box" in line and "laptop" in line
    anyway = runner.invoke(
        app, ["history", *dirs, "--out", str(tmp_path / "h.png"), "--allow-different-machine"]
    )
    assert "1 step(s) beyond noise" in anyway.output and "time +" in anyway.output


def test_one_machine_and_older_sets_are_compared(tmp_path: Path) -> None:
    # one machine by name; and a set written before machines were recorded (no name)
    for sub, other in (("same", "ci-box"), ("old", None)):
        history = load_history(two_sets(tmp_path / sub, machine_b=other))
        assert [s.metric for s in history.steps] == ["time"] and history.apart == ()


def test_a_cpu_model_tells_machines_apart() -> None:
    env = {"hostname": "runner", "cpu_model": "EPYC 7763", "cpu_count": 4}
    assert Machine.of(env) == Machine("runner", "EPYC 7763", 4)  # older sets: the host name
    assert Machine.of(env).differs_from(Machine.of({**env, "cpu_model": "Xeon 8272CL"}))
    assert not Machine.of(env).differs_from(Machine.of({"cpu_count": 4}))


def test_compare_of_two_machines_refuses_a_time_gate(tmp_path: Path) -> None:
    base, new = two_sets(tmp_path)
    with pytest.raises(CompareError, match="different machines"):
        compare_sweeps(base, new, thresholds=(Threshold("time", 0.05),))
    result = runner.invoke(app, ["compare", str(base), str(new), "--fail-on", "time:5%"])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "--allow-different-machine" in result.output
    # counts are compared, times are not, and the warning says why
    counts = compare_sweeps(base, new, thresholds=(Threshold("collections", 0.0),))
    assert counts.exit_code == 0
    metrics = {m.metric: m for m in counts.points[0].metrics}
    assert metrics["time"].note == "not compared: measured on different machines"
    assert metrics["collections gen0"].note == "exact"
    assert any("time, cpu and p99 not compared" in w for w in counts.warnings)
    doc = json.loads(
        runner.invoke(app, ["compare", str(base), str(new), "--json"]).stdout  # strict JSON
    )
    assert doc["points"][0]["metrics"][0]["ratio"] is None
    anyway = runner.invoke(
        app,
        ["compare", str(base), str(new), "--fail-on", "time:5%", "--allow-different-machine"],
    )
    assert anyway.exit_code == 1  # the +100% is a regression when declared comparable


def test_a_machine_name_that_is_not_text_is_refused(tmp_path: Path) -> None:
    (a, _) = two_sets(tmp_path)
    on_machine(a, machine=5)
    with pytest.raises(ResultError, match=r"environment\.machine is 5, not a string"):
        read_manifest(a)


def test_a_machine_name_on_two_lines_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sweep", "short_cycles", "--machine", "a\nb", "--out",
                                 str(tmp_path / "s")])  # fmt: skip
    assert result.exit_code == 2 and "give a name on one line" in result.output
    assert not (tmp_path / "s").exists()
