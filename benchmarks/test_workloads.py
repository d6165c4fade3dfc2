"""pytest-benchmark suite: every built-in workload under ``default`` and a tuned setting.

Each round is one fresh process (``one_process.py``) that builds the workload, applies
the setting, and measures ``STEPS`` steps; the benchmark's time is that process's CPU
time per step (GC pauses included), fed to pytest-benchmark through
:mod:`benchmarks.clock`. GC metrics of the rounds go into ``extra_info``. Run with
``make bench`` (saves a baseline) and ``make bench-compare`` (fails on a 10% slower mean).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks.clock import advance, external_clock
from gctune.measure.catalog import builtin_names
from gctune.measure.histogram import Histogram

TUNED = "70000,20,100+freeze"
STEPS = 40
ROUNDS = 5
SCRIPT = Path(__file__).with_name("one_process.py")

pytestmark = pytest.mark.benchmark(timer=external_clock, warmup=False)


def measure(workload: str, setting: str) -> dict[str, Any]:
    """Run one round in a fresh interpreter; its JSON result."""
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--workload",
            workload,
            "--setting",
            setting,
            "--steps",
            str(STEPS),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"{workload}@{setting} round failed: {done.stderr.strip()[-500:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def gc_info(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """GC metrics of the rounds: counts per process, pause total and p99 over all."""
    pauses = Histogram()
    per_process: list[dict[str, int]] = []
    for r in rounds:
        counts = {}
        for gen, data in r["pauses"].items():
            hist = Histogram.from_json(data)
            pauses.merge(hist)
            counts[f"gen{gen}"] = hist.count
        per_process.append(counts)
    return {
        "steps_per_process": STEPS,
        "size": rounds[0]["size"],
        "thresholds": rounds[0]["thresholds"],
        "collections": per_process[0],
        "collections_same_every_process": all(c == per_process[0] for c in per_process),
        "collected": statistics.fmean(sum(r["collected"].values()) for r in rounds),
        "gc_pause_total_ms": statistics.fmean(
            sum(h["sum"] for h in r["pauses"].values()) / 1e6 for r in rounds
        ),
        "gc_pause_p99_us": pauses.quantile(0.99) / 1e3 if pauses.count else None,
        "wall_s_per_step": statistics.fmean(r["wall_ns"] / 1e9 / STEPS for r in rounds),
        "peak_rss_mib": max(r["peak_rss_bytes"] for r in rounds) / 1024**2,
    }


@pytest.mark.parametrize("setting", ["default", TUNED], ids=["default", "tuned"])
@pytest.mark.parametrize("workload", builtin_names())
def test_step(benchmark: Any, workload: str, setting: str) -> None:
    rounds: list[dict[str, Any]] = []

    def one_round() -> None:
        result = measure(workload, setting)
        rounds.append(result)
        advance(result["cpu_ns"] / 1e9 / result["steps"])

    benchmark.pedantic(one_round, rounds=ROUNDS, iterations=1)
    benchmark.extra_info.update(gc_info(rounds))
    benchmark.extra_info["setting"] = setting
    # the setting was in force where the steps ran
    expected = [70000, 20, 100] if setting == TUNED else None
    assert expected is None or rounds[0]["thresholds"] == expected
