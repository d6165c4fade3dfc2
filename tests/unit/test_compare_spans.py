"""``compare`` of result sets measured in spans: the collections gate bounds each side's
rate by where its spans start and end in the collector's rhythm
(gctune.analysis.collection_rates)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gctune.analysis.collection_rates import compare_rates
from gctune.analysis.compare import compare_sweeps
from gctune.analysis.comparison import Threshold
from gctune.measure.histogram import Histogram
from gctune.store.results import RunMetrics
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


def _span_run(steps: int, chunk: int, full_at: list[int]) -> RunMetrics:
    pauses = {2: Histogram()}
    for _ in full_at:
        pauses[2].add(5_000_000)
    span = {"steps": steps, "chunk": chunk, "stop": "full-collections", "full_generation": 2}
    span |= {"full_collections": len(full_at), "full_at": full_at}
    return RunMetrics((1e-3,), 1, pauses, {}, {}, None, 0, (700, 10, 10), True, 0, span=span)


def test_a_span_that_ran_past_its_last_full_collection_is_bounded_by_that_collection() -> None:
    # measured by CI on two identical tiny acyclic_churn sweeps: 12 full collections, the
    # last at step 1632 of a span that ran on to its minimum of 1700 steps (chunk 68),
    # against 13 in 1664 steps (chunk 64). Bounding by the span's end (1700 ± 68) put the
    # first side's rate below the second's and failed the gate on identical code.
    base = [_span_run(1700, 68, [136 * (k + 1) for k in range(12)])] * 2
    new = [_span_run(1664, 64, [128 * (k + 1) for k in range(13)])] * 2
    change = compare_rates(base, new, 2, 0.0)
    assert not change.regression, change.note()
    assert change.base.rate == 12 / 1632
    assert change.base.low == 12 / (1632 + 68) and change.base.high == 12 / (1632 - 68)
    doubled = [_span_run(1664, 64, [64 * (k + 1) for k in range(26)])] * 2
    assert compare_rates(base, doubled, 2, 0.0).regression
