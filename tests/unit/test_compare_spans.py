"""``compare`` of result sets measured in spans: the collections gate bounds each side's
rate by where its spans start and end in the collector's rhythm
(gctune.analysis.collection_rates)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gctune.analysis.compare import compare_sweeps
from gctune.analysis.comparison import Threshold
from tests.unit.synthetic import Synth, write_sweep

COUNTS0 = (Threshold("collections", 0.0),)


def spans(steps: int, gen0: int) -> Synth:
    # each span stops at its 2nd full collection, as a real one does; 20 chunks a span
    pauses: dict[int, Sequence[int]] = {0: [20_000] * gen0, 2: [5_000_000] * 2}
    return Synth("w", "default", [1e-3] * 5, spans=True, steps=steps, pauses=pauses)


def test_doubled_full_collections_fail_and_a_remeasure_passes(tmp_path: Path) -> None:
    base = write_sweep(tmp_path / "base", [spans(2000, 200)])
    again = write_sweep(tmp_path / "again", [spans(1950, 195)])  # a span a chunk shorter
    double = write_sweep(tmp_path / "double", [spans(1000, 100)])
    same = compare_sweeps(base, again, thresholds=COUNTS0)
    assert same.exit_code == 0, same.regressions
    doubled = compare_sweeps(base, double, thresholds=COUNTS0)
    assert doubled.exit_code == 1
    (line,) = doubled.regressions
    assert line.startswith("w@default: collections gen2 +100.0%")
    full = next(m for m in doubled.points[0].metrics if m.metric == "collections gen2")
    assert "bounds" in full.note and full.low > 1.5
