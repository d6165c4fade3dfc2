"""Time in the machine's fast state (gctune.analysis.speed_state) and the gate's ``fullspeed``
row: chunks selected by the speed reference on both sides of them, never divided by it."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from gctune.analysis.compare import compare_sweeps
from gctune.analysis.comparison import CompareError, Threshold
from gctune.analysis.gate import GateRow
from gctune.analysis.gate import _time_row as time_row
from gctune.analysis.speed_state import fast_floor, fast_time
from gctune.store.results import Point, RunMetrics

FAST, SLOW = 1.0e-4, 2.0e-4  # the reference's two speeds, 2x apart as measured


def run(values: list[float], refs: list[float], number: int = 1) -> RunMetrics:
    reference = {"seconds": refs, "ops": 1500, "python": "x"}
    return RunMetrics(
        tuple(values), 1, {}, {}, {}, None, 0, (700, 10, 10), True, 0,
        round=number, reference=reference,
    )  # fmt: skip


def point(workload: str, runs: list[RunMetrics]) -> Point:
    return Point(workload, "default", "ok", None, 1, 1, {}, tuple(runs), Path("p.json"))


def test_a_chunk_counts_only_when_the_references_on_both_sides_read_fast() -> None:
    # chunks 0, 1 and 5 are between fast readings; 2-4 touch a slow one
    r = run([1.0, 1.0, 5.0, 9.0, 5.0, 1.0], [FAST, FAST, FAST, SLOW, SLOW, FAST, FAST])
    assert fast_time(FAST)(r) == 1.0
    # two fast chunks are too few to stand for a span
    assert fast_time(FAST)(run([1.0, 1.0, 9.0], [FAST, FAST, FAST, SLOW])) is None
    # a run without a reference reading around every chunk has no fast time
    assert fast_time(FAST)(run([1.0] * 3, [FAST] * 3)) is None


def test_the_floor_is_a_low_quantile_not_one_lucky_reading() -> None:
    refs = [FAST / 2] + [FAST] * 40 + [SLOW] * 59  # one reading far below the rest
    p = point("a", [run([1.0] * 99, refs)])
    assert fast_floor([p]) == FAST
    assert fast_floor([point("a", [run([1.0], [])])]) is None


def _sides(slowdown: float, rounds: int = 20) -> tuple[Point, Point]:
    """Base and new in ``rounds`` rounds; each chunk runs 2x slower while the machine is in
    its slow state (at random, a third of the time), new's work is ``slowdown`` more."""
    rng = random.Random(7)

    def span(work: float, number: int) -> RunMetrics:
        state = [rng.random() < 1 / 3 for _ in range(21)]
        refs = [SLOW if s else FAST for s in state]
        values = [work * (2.0 if state[i] or state[i + 1] else 1.0) for i in range(20)]
        return run(values, refs, number)

    base = point("base", [span(1e-3, k) for k in range(rounds)])
    new = point("new", [span(1e-3 * slowdown, k) for k in range(rounds)])
    return base, new


def _row(base: Point, new: Point, metric: str, sample: object) -> GateRow:
    (row,) = time_row("default", metric, base, new, sample, 0.05)  # type: ignore[arg-type]
    return row


def test_fast_state_time_sees_a_slowdown_the_machines_two_speeds_hide_in_seconds() -> None:
    from gctune.analysis.paired import run_time

    base, new = _sides(1.08)
    floor = fast_floor([base, new])
    assert floor == FAST
    fast = _row(base, new, "fullspeed", fast_time(floor))
    assert fast.ratio == pytest.approx(1.08) and fast.regression
    assert fast.note == f"{fast.rounds} of 20 rounds with 3+ fast-state chunks each side"
    assert fast.rounds >= 15
    seconds = _row(base, new, "time", run_time)
    assert seconds.high - seconds.low > 5 * (fast.high - fast.low)
    same = _row(*_sides(1.0), "fullspeed", fast_time(FAST))
    assert same.ratio == pytest.approx(1.0) and not same.regression


def test_too_few_fast_rounds_is_a_measurement_that_failed_when_fast_is_gated() -> None:
    slow = [SLOW] * 21
    base = point("base", [run([1e-3] * 20, slow, k) for k in range(5)])
    new = point("new", [run([1e-3] * 20, slow, k) for k in range(5)])
    (row,) = time_row("default", "fullspeed", base, new, fast_time(FAST), 0.05)
    assert row.failed == "measure" and "0 of 5 rounds" in row.note
    assert time_row("default", "fullspeed", base, new, fast_time(FAST), None) == []


def test_compare_refuses_a_gate_that_needs_the_same_rounds(tmp_path: Path) -> None:
    with pytest.raises(CompareError, match="gctune gate"):
        compare_sweeps(tmp_path, tmp_path, thresholds=[Threshold("fullspeed", 0.05)])
