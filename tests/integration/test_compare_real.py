"""The compare gate on real tiny sweeps: A/A passes, a workload that allocates more fails.

Time is not gated here: tiny sweeps on a shared machine are noise (tests never assert on
wall time). Collections per step are deterministic, so they are.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gctune.cli.main import app
from gctune.sweep.runner import run_sweep
from gctune.sweep.spec import SweepSpec

pytestmark = pytest.mark.integration
SETTINGS = ("default", "400,10,10")


def tiny(out: Path, size: int) -> Path:
    # the batch must hold more containers than threshold0 at once, or nothing is collected
    spec = SweepSpec(
        workloads=("acyclic_churn",),
        settings=SETTINGS,
        size=size,
        rounds=2,
        max_point_time=2.0,  # spans end at their full collections, not at a time budget
        timeout=120,
    )
    points = run_sweep(spec, out)
    assert all(p.ok for p in points), [p.reason for p in points]
    return out


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("compare")
    return {
        "a": tiny(root / "a", 500),
        "a2": tiny(root / "a2", 500),
        # twice the records per step: twice the containers, so more collections per step
        "more": tiny(root / "more", 1000),
    }


def test_same_sweep_twice_passes_the_collections_gate(sweeps: dict[str, Path]) -> None:
    exe = str(Path(sys.executable).with_name("gctune"))
    done = subprocess.run(
        [
            exe,
            "compare",
            str(sweeps["a"]),
            str(sweeps["a2"]),
            "--fail-on",
            "collections:0%",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(done.stdout)
    assert [p["setting"] for p in data["points"]] == ["default", "t400-10-10"]
    gen0 = [m for p in data["points"] for m in p["metrics"] if m["metric"] == "collections gen0"]
    assert len(gen0) == 2 and all(m["base"] > 0 and not m["regression"] for m in gen0)


def test_more_allocation_per_step_fails_the_collections_gate(sweeps: dict[str, Path]) -> None:
    args = ["compare", str(sweeps["a"]), str(sweeps["more"]), "--fail-on", "collections:0%"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    # from the JSON: the table's wrapping depends on the terminal's width
    data = json.loads(CliRunner().invoke(app, [*args, "--json"]).output)
    # which setting's count moves beyond the quantisation allowance depends on the loop
    # counts each sweep calibrated; at least one must
    assert any(
        r.startswith("acyclic_churn@") and ": collections gen0 +" in r for r in data["regressions"]
    ), data["regressions"]
    assert "size 500 → 1000" in result.output.replace("\n", "")
