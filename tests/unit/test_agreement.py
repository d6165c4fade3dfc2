"""The interpreter's own collection durations (3.15+) beside the probe's, on synthetic input."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, Optional

import pytest

from gctune.analysis.agreement import pause_agreement
from gctune.measure.probe import Probe
from gctune.sweep.program import _merge


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """A perf_counter_ns that returns what the test puts in ``clock[0]``."""
    now = [0]
    monkeypatch.setattr(time, "perf_counter_ns", lambda: now[0])
    yield now


def collect(
    probe: Probe, clock: list[int], gen: int, pause_ns: int, duration_s: Optional[float]
) -> None:
    """Feed the probe's callback one collection of ``pause_ns`` as its clock sees it."""
    info: dict[str, Any] = {"generation": gen, "collected": 3, "uncollectable": 0}
    probe._callback("start", info)
    clock[0] += pause_ns
    if duration_s is not None:
        info = {**info, "candidates": 10, "duration": duration_s}
    probe._callback("stop", info)


def test_without_duration_the_snapshot_has_no_new_keys(clock: list[int]) -> None:
    probe = Probe()
    probe.start()
    collect(probe, clock, 0, 50_000, None)
    probe.stop()
    snap = probe.snapshot()
    assert snap["pauses"]["0"]["count"] == 1
    assert "reported_pauses" not in snap and "pause_excess_ppm" not in snap
    assert pause_agreement([snap]) is None


def test_duration_is_recorded_beside_the_pause_and_compared(clock: list[int]) -> None:
    probe = Probe()
    probe.start()
    collect(probe, clock, 0, 51_000, 50e-6)  # probe 2% longer
    collect(probe, clock, 0, 52_000, 50e-6)  # 4%
    collect(probe, clock, 2, 1_010_000, 1e-3)  # 1%
    collect(probe, clock, 0, 49_000, 50e-6)  # shorter: should not happen
    probe.stop()
    snap = probe.snapshot()
    assert snap["reported_pauses"]["0"]["sum"] == 150_000
    assert snap["reported_pauses"]["2"]["max"] == 1_000_000
    assert snap["pause_excess_ppm"]["0"]["max"] == 40_000

    agreement = pause_agreement([snap])
    assert agreement is not None
    assert agreement.collections == 4
    assert agreement.probe_total_ns == 51_000 + 52_000 + 1_010_000 + 49_000
    assert agreement.reported_total_ns == 1_150_000
    assert agreement.mean_excess_ns == pytest.approx((1_162_000 - 1_150_000) / 4)
    assert agreement.excess_max == pytest.approx(0.04)
    assert agreement.excess_p50 == pytest.approx(0.01, rel=0.01)  # 2nd of 4: -2%, 1%, 2%, 4%
    assert agreement.not_longer == 1


def test_snapshots_without_durations_are_left_out(clock: list[int]) -> None:
    new, old = Probe(), Probe()
    for probe, duration in ((new, 40e-6), (old, None)):
        probe.start()
        collect(probe, clock, 0, 44_000, duration)
        probe.stop()
    agreement = pause_agreement([new.snapshot(), old.snapshot()])
    assert agreement is not None
    assert (agreement.collections, agreement.probe_total_ns) == (1, 44_000)
    assert agreement.total_excess == pytest.approx(0.1)


def test_outside_a_measured_span_nothing_is_recorded(clock: list[int]) -> None:
    probe = Probe()
    collect(probe, clock, 0, 44_000, 40e-6)
    assert probe.snapshot()["pauses"] == {} and "reported_pauses" not in probe.snapshot()


def program_snapshot(probe: Probe, pid: int) -> dict[str, Any]:
    snap = probe.snapshot()
    snap.update(pid=pid, ppid=1, root=None, started_ns=pid, ended_ns=pid + 1)
    return snap


def test_a_program_run_merges_durations_only_when_every_process_has_them(
    clock: list[int],
) -> None:
    a, b, c = Probe(), Probe(), Probe()
    for probe, duration in ((a, 40e-6), (b, 20e-6), (c, None)):
        probe.start()
        collect(probe, clock, 0, 44_000, duration)
        probe.stop()
    both = _merge([program_snapshot(a, 1)], [program_snapshot(p, i) for i, p in ((1, a), (2, b))])
    assert both["reported_pauses"]["0"]["sum"] == 60_000
    assert both["pause_excess_ppm"]["0"]["count"] == 2
    agreement = pause_agreement([both])
    assert agreement is not None and agreement.collections == 2

    # a 3.15 program that starts an older Python: its collections have no duration
    mixed = _merge([program_snapshot(a, 1)], [program_snapshot(p, i) for i, p in ((1, a), (3, c))])
    assert "reported_pauses" not in mixed and mixed["pauses"]["0"]["count"] == 2
