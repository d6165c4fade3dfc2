"""Which chunks a time ratio is taken over (gctune.analysis.time_basis): the chunks run at
the machine's full speed where enough rounds have them, every chunk otherwise; the sweep
table, the recommendation and the gate say which."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import gctune.analysis.gate as gate_module
from gctune.analysis.comparison import Threshold
from gctune.analysis.paired import paired_change, run_time
from gctune.analysis.stats import point_stats
from gctune.analysis.time_basis import EVERY_CHUNK, FULL_SPEED, time_change
from gctune.store.results import Point, RunMetrics

FAST, SLOW = 1.0e-4, 2.0e-4  # the reference's two speeds, 2x apart as measured


def run(values: list[float], refs: list[float], number: int) -> RunMetrics:
    reference = {"seconds": refs, "ops": 1500, "python": "x"}
    return RunMetrics(
        tuple(values), 1, {}, {}, {}, None, 1 << 20, (700, 10, 10), True, 0,
        round=number, reference=reference,
    )  # fmt: skip


def point(setting: str, runs: list[RunMetrics], workload: str = "w") -> Point:
    return Point(workload, setting, "ok", None, 1, 1, {}, tuple(runs), Path(f"{setting}.json"))


def span(work: float, number: int, slow_share: float, rng: random.Random) -> RunMetrics:
    """20 chunks of ``work`` seconds, each 2x slower while the machine is in its slow state
    (at random, ``slow_share`` of the time); the reference reads the state around it."""
    state = [rng.random() < slow_share for _ in range(21)]
    refs = [SLOW if s else FAST for s in state]
    values = [work * (2.0 if state[i] or state[i + 1] else 1.0) for i in range(20)]
    return run(values, refs, number)


def two_speed_aa(rounds: int = 12) -> tuple[Point, Point]:
    """Identical work on both sides; the machine's slow state hit ``new``'s spans more
    often in every round (a run of bad luck, as seen on shared machines)."""
    rng = random.Random(3)
    base = point("default", [span(1e-3, k, 0.2, rng) for k in range(rounds)])
    new = point("t5000-10-10", [span(1e-3, k, 0.5, rng) for k in range(rounds)])
    return base, new


def test_identical_work_in_two_speed_states_is_not_a_difference() -> None:
    base, new = two_speed_aa()
    change = time_change(base, new)
    assert change is not None and change.basis == FULL_SPEED
    assert 6 <= change.rounds <= 12 and change.shared == 12
    assert abs(change.ratio - 1.0) < 1e-9 and not change.significant
    # the sweep table's vs def: over every chunk (as before) this read a large,
    # "significant" slowdown for identical work
    s = point_stats(new, base)
    assert s.time_ratio is not None and abs(s.time_ratio - 1.0) < 1e-9
    assert not s.time_significant
    assert s.time_basis == f"{FULL_SPEED}, {change.rounds} of 12 rounds"
    every = paired_change(base, new, run_time)  # what the table said before
    assert every is not None and every.significant and every.low > 1.1


def test_too_few_rounds_at_full_speed_fall_back_to_every_chunk() -> None:
    rng = random.Random(5)
    # the slow state most of the time: few spans hold 3 full-speed chunks
    base = point("default", [span(1e-3, k, 0.9, rng) for k in range(8)])
    new = point("disabled", [span(0.7e-3, k, 0.9, rng) for k in range(8)])
    change = time_change(base, new)
    assert change is not None and change.basis == EVERY_CHUNK
    assert change.basis_text() == EVERY_CHUNK
    assert point_stats(new, base).time_basis == EVERY_CHUNK
    # spans without a speed reference: every chunk
    bare = [RunMetrics((1e-3,) * 5, 1, {}, {}, {}, None, 1 << 20, (700, 10, 10), True, 0, round=k)
            for k in range(4)]  # fmt: skip
    c = time_change(point("default", bare), point("disabled", bare))
    assert c is not None and c.basis == EVERY_CHUNK and c.ratio == 1.0


def test_a_real_difference_is_kept_on_full_speed_chunks() -> None:
    rng = random.Random(9)
    base = point("default", [span(1e-3, k, 0.3, rng) for k in range(10)])
    new = point("disabled", [span(0.7e-3, k, 0.3, rng) for k in range(10)])
    change = time_change(base, new)
    assert change is not None and change.basis == FULL_SPEED
    assert abs(change.ratio - 0.7) < 1e-9 and change.significant


def test_the_gate_time_row_says_its_basis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base, new = two_speed_aa(rounds=20)
    sides = [
        point("default", list(base.runs), workload="base"),
        point("default", list(new.runs), workload="new"),
    ]
    monkeypatch.setattr(gate_module, "load_sweep", lambda _: (None, sides))
    rows = gate_module.gate(tmp_path, "base", "new", [Threshold("time", 0.05)])
    (time_row,) = [r for r in rows if r.metric == "time"]
    fast = time_change(base, new)
    assert fast is not None and fast.basis == FULL_SPEED
    assert time_row.note == f"{FULL_SPEED}, {fast.rounds} of 20 rounds"
    assert time_row.rounds == fast.rounds >= 10
    assert not time_row.regression and abs(time_row.ratio - 1.0) < 1e-9
