"""The speed reference: normalising chunk times (a diagnostic), and time ratios that are
paired in seconds whatever the reference did."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from gctune.analysis.paired import paired_change, run_loops, run_mean, run_time
from gctune.analysis.time_basis import round_spread
from gctune.measure.reference import normalized_mean, reference_seconds
from gctune.store.results import Point, load_sweep
from tests.unit.synthetic import Synth, write_sweep


def test_chunks_are_divided_by_the_reference_around_them() -> None:
    assert normalized_mean([2.0, 2.0], [1.0, 1.0, 1.0]) == pytest.approx(2.0)
    # the machine halves its speed after the third chunk: the work per chunk is the same
    values = [1.0] * 4 + [2.0] * 4
    reference = [0.5] * 4 + [1.0] * 5
    assert normalized_mean(values, reference) == pytest.approx(2.0, rel=0.15)
    # one disturbed reference pass does not move a chunk: the local median is used
    assert normalized_mean([1.0] * 5, [1.0, 1.0, 9.0, 1.0, 1.0, 1.0]) == pytest.approx(1.0)
    assert normalized_mean([1.0, 1.0], [1.0, 1.0]) is None  # one reference short
    assert normalized_mean([1.0], [1.0, 0.0]) is None


def test_the_reference_allocates_nothing_the_collector_counts() -> None:
    before = gc.get_count()[0]
    assert reference_seconds(2000) > 0
    assert gc.get_count()[0] <= before


def _sweep(tmp_path: Path, python: str) -> list[Point]:
    sweep = write_sweep(
        tmp_path,
        [
            # round 2 ran on a machine twice as slow, for default only
            Synth("w", "default", [1.0e-3, 2.0e-3, 1.0e-3], spans=True, reference=[1, 2, 1]),
            Synth(
                "w",
                "t7000",
                [0.8e-3] * 3,
                spans=True,
                reference=[1, 1, 1],
                reference_python=python,
            ),
        ],
    )
    _, points = load_sweep(sweep)
    return points


def test_time_ratios_are_paired_in_seconds_whatever_the_reference_did(tmp_path: Path) -> None:
    default, point = _sweep(tmp_path, "/usr/bin/python3.11 3.11.7")
    # the reference of default's second span ran twice as slow: in loops that span's
    # time is the same as the others', but what the ratios use is its seconds
    assert run_loops(default.runs[1]) == pytest.approx(run_loops(default.runs[0]))
    assert run_time(default.runs[1]) == pytest.approx(2e-3)
    assert run_time(default.runs[0]) == pytest.approx(1e-3)
    change = paired_change(default, point)
    seconds = paired_change(default, point, run_mean)
    assert change is not None and seconds is not None
    assert change.ratio == pytest.approx(seconds.ratio)  # 0.8, 0.4, 0.8: geometric 0.635
    assert change.ratio == pytest.approx(0.635, abs=0.001) and not change.significant


def test_identical_times_with_different_references_are_not_a_difference(
    tmp_path: Path,
) -> None:
    # a sleep-bound step: the same seconds in every span, while the reference (1-3
    # samples per span of a 2 s step) moved 1.5x; dividing by it made a "significant"
    # 1.26x of two identical settings
    sweep = write_sweep(
        tmp_path,
        [
            Synth("w", "default", [2.0004] * 4, spans=True, reference=[1.0, 1.0, 1.0, 1.0]),
            Synth("w", "same", [2.0004] * 4, spans=True, reference=[1.5, 1.4, 1.6, 1.5]),
        ],
    )
    default, point = load_sweep(sweep)[1]
    change = paired_change(default, point)
    assert change is not None and change.ratio == pytest.approx(1.0)
    assert not change.significant


def test_runs_without_a_reference_keep_their_seconds(tmp_path: Path) -> None:
    sweep = write_sweep(tmp_path, [Synth("w", "default", [1.0e-3] * 2, spans=True)])
    (point,) = load_sweep(sweep)[1]
    assert run_time(point.runs[0]) == pytest.approx(run_mean(point.runs[0]))
    assert run_loops(point.runs[0]) is None


def test_the_spread_line_says_how_far_the_machines_speed_moved(tmp_path: Path) -> None:
    spread = round_spread(_sweep(tmp_path, "/usr/bin/python3.11 3.11.7"))
    assert spread is not None and spread.speed_range == pytest.approx(2.0)
    assert "ran some spans 2.0x slower than others (speed reference)" in spread.line()
    assert "pairing in rounds cancels what a round's spans share" in spread.line()
