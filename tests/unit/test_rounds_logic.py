"""Planning, growth, racing and the interleaved gate, on synthetic data with known answers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from gctune.analysis.comparison import parse_threshold
from gctune.analysis.gate import gate
from gctune.analysis.growth import point_growth, run_growth
from gctune.analysis.steady import FULL_TARGET
from gctune.analysis.time_basis import round_spread
from gctune.store.race import IDENTICAL, OUT, OVER, Stop
from gctune.store.results import Point, RunMetrics, load_sweep
from gctune.sweep.horizon import plan_span, predicted_full_period
from gctune.sweep.racing import race_decisions
from tests.unit.synthetic import Synth, scaled, write_sweep

PILOT = {
    "step_s": 1e-3,
    "elapsed_s": 1.5,
    "net_allocations_per_step": 50.0,
    "steps": 1000,
    "collections": {"0": 1000, "1": 100, "2": 4},
    "full_at": [200, 400, 600, 800],
    "thresholds": [700, 10, 10],
    "gc_kind": "generational",
}


def test_predicted_periods_follow_the_thresholds_and_the_long_lived_rule() -> None:
    # one young collection per step at t0=700: a full one every 100 by the formula,
    # but the pilot saw one every 200: the long-lived rule binds default
    assert predicted_full_period(PILOT, "default") == pytest.approx(200)
    assert predicted_full_period(PILOT, "disabled") is None
    # ten times t0, and t1, t2 = 10: formula 1000 steps, but the old generation is fed ten
    # times slower, so the long-lived rule holds it back ten times longer than default's 200
    assert predicted_full_period(PILOT, "7000,10,10") == pytest.approx(2000)
    # ... unless the formula is longer still
    assert predicted_full_period(PILOT, "7000,10,100") == pytest.approx(10_000)
    # freeze empties the old generation: the formula alone
    assert predicted_full_period(PILOT, "freeze") == pytest.approx(100)
    free = {**PILOT, "gc_kind": "free-threaded"}
    assert predicted_full_period(free, "7000") == pytest.approx(10)


def test_span_plans_stretch_to_hold_whole_cycles_within_limits() -> None:
    # 1.5 ms per step with the collector on; default needs 2 x 200 steps x 1.25 = 0.75 s
    plan = plan_span(PILOT, "default", budget_s=1.0)
    assert plan.reachable and plan.budget_s == 1.0 and plan.chunk == 13
    # 7000,10,10 needs 2 x 2000 x 1.5 ms x 1.25 = 7.5 s: stretched to 2.5 budgets, short
    long = plan_span(PILOT, "7000,10,10", budget_s=1.0)
    assert long.budget_s == pytest.approx(2.5) and not long.reachable
    # a span whose cycles fit first lets one natural full collection pass; others cannot
    assert plan.settle == 1 and long.settle == 0
    off = plan_span(PILOT, "disabled", budget_s=1.0)
    assert off.predicted_period is None and off.min_steps == off.max_steps == FULL_TARGET * 200


def test_growth_model_tells_a_climb_from_a_plateau(tmp_path: Path) -> None:
    sweep = write_sweep(
        tmp_path,
        [
            Synth("w", "default", scaled(1e-3), spans=True),
            Synth("w", "disabled", scaled(1e-3), spans=True, full=0, grow=50_000),
            Synth("w", "t7000", scaled(1e-3), spans=True, grow=100),  # 100 kB over a span
        ],
    )
    _, points = load_sweep(sweep)
    by = {p.setting: p for p in points}
    assert point_growth(by["default"]).status == "bounded"
    grows = point_growth(by["disabled"], 1e-3)
    assert grows.status == "growing" and grows.bytes_per_step == pytest.approx(50_000)
    assert grows.bytes_per_s == pytest.approx(50_000 / 1e-3)
    assert point_growth(by["t7000"]).status == "bounded"  # under 1 MiB and 2%
    trend = run_growth(by["disabled"].runs[0])
    assert trend is not None and trend.samples >= 4


def test_racing_stops_the_clearly_slower_and_keeps_default_and_leader(tmp_path: Path) -> None:
    sweep = write_sweep(
        tmp_path,
        [
            Synth("w", "default", scaled(1.0e-3, n=4), spans=True),
            Synth("w", "t7000", scaled(0.80e-3, n=4), spans=True),  # the leader
            Synth("w", "t2000", scaled(0.95e-3, n=4), spans=True, peak_rss_bytes=120 * 2**20),
            Synth("w", "t9000", scaled(0.70e-3, n=4), spans=True, full=0, grow=50_000),
        ],
    )
    _, points = load_sweep(sweep)
    decision = race_decisions({p.setting: p for p in points}, round_number=4)
    assert decision.leader == "t7000"  # t9000 is faster but its memory grows
    assert set(decision.stopped) == {"t2000"}
    assert "slower by more than 2%" in decision.stopped["t2000"].text
    assert decision.stopped["t2000"].end == OUT
    assert decision.over is None  # t9000 is on the time x memory x p99 front: still racing


def test_gate_compares_within_rounds(tmp_path: Path) -> None:
    jitter = [1.0, 1.3, 0.8, 1.1, 0.9]  # drift between rounds, the same for both sides
    base = [1e-3 * j for j in jitter]
    sweep = write_sweep(
        tmp_path,
        [
            Synth("base", "default", base, spans=True),
            Synth("same", "default", [v * 1.01 for v in base], spans=True),
            Synth("slow", "default", [v * 1.10 for v in base], spans=True),
        ],
    )
    gates = [parse_threshold("time:5%"), parse_threshold("collections:0%")]
    same = {(r.metric): r for r in gate(sweep, "base", "same", gates)}
    assert not any(r.regression for r in same.values())
    assert same["time"].ratio == pytest.approx(1.01, rel=1e-3)
    slow = {(r.metric): r for r in gate(sweep, "base", "slow", gates)}
    assert slow["time"].regression and slow["time"].low > 1.05


def test_the_collections_gate_allows_one_collection_per_span_on_each_side(tmp_path: Path) -> None:
    # base: 10 young collections per 1000-step span; the same code in 2000-step spans
    # may see 22 (each span starts wherever settling left the rhythm, so each side may be
    # one collection off: 0.011 per step is within 0.010 + 1/1000 + 1/2000); 24 is more
    runs = [1e-3] * 3
    sweep = write_sweep(
        tmp_path,
        [
            Synth("base", "default", runs, spans=True, pauses={0: [20_000] * 10}),
            Synth("same", "default", runs, spans=True, steps=2000, pauses={0: [20_000] * 22}),
            Synth("more", "default", runs, spans=True, steps=2000, pauses={0: [20_000] * 24}),
        ],
    )
    gates = [parse_threshold("collections:0%")]
    assert not any(r.regression for r in gate(sweep, "base", "same", gates))
    assert any(r.regression for r in gate(sweep, "base", "more", gates))


def test_the_collections_gate_fails_doubled_full_collections(tmp_path: Path) -> None:
    # spans stop at their 2nd full collection (as a real span does), 20 chunks each: base
    # runs 2,000 steps per 2 full collections, "double" 1,000, "same" 1,950 (a span's
    # length moves by a chunk or so between two copies of one workload)
    runs = [1e-3] * 5
    young = [20_000] * 200

    def spans(name: str, steps: int, gen0: int) -> Synth:
        pauses: dict[int, Sequence[int]] = {0: young[:gen0], 2: [5_000_000] * 2}
        return Synth(name, "default", runs, spans=True, steps=steps, pauses=pauses)

    sweep = write_sweep(
        tmp_path,
        [spans("base", 2000, 200), spans("double", 1000, 100), spans("same", 1950, 195)],
    )
    gates = [parse_threshold("collections:0%")]
    same = {r.metric: r for r in gate(sweep, "base", "same", gates)}
    assert not any(r.regression for r in same.values())
    double = {r.metric: r for r in gate(sweep, "base", "double", gates)}
    assert double["gen2 GCs"].regression and double["gen2 GCs"].ratio == pytest.approx(2.0)
    assert double["gen2 GCs"].low > 1.5  # bounded by a chunk at each end, not a collection
    assert not double["gen0 GCs"].regression  # young collections per step unchanged


def _run(samples: list[tuple[int, int, int]], full_at: list[int]) -> RunMetrics:
    return RunMetrics(
        values=(1e-3,), wall_ns=1, pauses={}, collected={}, uncollectable={}, requests=None,
        peak_rss_bytes=0, thresholds=(700, 10, 10), gc_enabled=True, frozen=0,
        span={"steps": samples[-1][0], "full_at": full_at}, memory=tuple(samples),
    )  # fmt: skip


def test_growth_needs_live_objects_not_just_pages() -> None:
    mib = 2**20
    # RSS creeps 40 KiB a step (the allocator keeping pages), blocks flat: bounded
    creep = [(k * 10, 60 * mib + k * 400_000, 100_000) for k in range(1, 40)]
    assert run_growth(_run(creep, [])).growing is False  # type: ignore[union-attr]
    # both climb: objects pile up
    leak = [(k * 10, 60 * mib + k * 400_000, 100_000 + k * 5_000) for k in range(1, 40)]
    assert run_growth(_run(leak, [])).growing is True  # type: ignore[union-attr]


def test_growth_reads_the_heap_right_after_each_full_collection() -> None:
    mib = 2**20
    # a sawtooth: objects pile up for 50 steps, a full collection frees them all
    saw = [(s, 60 * mib + (s % 50) * 200_000, 100_000 + (s % 50) * 2_000) for s in range(5, 400, 5)]
    trend = run_growth(_run(saw, [50, 100, 150, 200, 250, 300, 350]))
    assert trend is not None and trend.growing is False and trend.samples == 6


def _point(runs: list[RunMetrics]) -> Point:
    return Point(
        workload="w", setting="t7000-10-10", status="ok", reason=None, size=None, loops=None,
        interpreter={}, runs=tuple(runs), path=Path("w@t7000-10-10.json"),
    )  # fmt: skip


def test_a_rise_over_two_full_collections_is_not_called_growth() -> None:
    mib = 2**20
    # short_cycles at 7000,10,10 as a time span saw it: full collections at 240 and 480
    # (the span stops after two), RSS flat between them and 0.9 MiB higher from the
    # second cycle's peak on; blocks swing with the young generation. One long run of
    # the same setting was flat over 25 cycles: one cycle cannot tell growth from filling.
    samples = [
        (s, int((27.758 if s < 480 else 28.664) * mib), 80_000 + (s % 90) * 400 + s * 17)
        for s in range(255, 556, 15)
    ]
    run = _run(samples, [240, 480])
    trend = run_growth(run)
    assert trend is not None and trend.growing and trend.cycles == 2
    g = point_growth(_point([run, run, run]), 1e-3)
    assert g.status == "growing" and g.few_cycles and g.cycles == 2
    assert g.words().startswith("rises ") and g.words().endswith("(2 fulls)")
    # the same climb read over four or more full collections is growth, as before
    many = _run(samples, [240, 300, 360, 420, 480])
    assert not point_growth(_point([many] * 3)).few_cycles
    # and a span with no full collection at all (the collector off) is not marked
    off = _run(samples, [])
    assert not point_growth(_point([off] * 3)).few_cycles


def test_every_span_of_a_round_shares_one_hash_seed() -> None:
    from gctune.sweep.rounds import round_hash_seed

    seeds = {round_hash_seed("sweep-1", r) for r in range(1, 50)}
    assert len(seeds) == 49  # a new layout each round
    assert round_hash_seed("sweep-1", 3) == round_hash_seed("sweep-1", 3)  # the same in it
    assert all(1 <= int(s) <= 4_294_967_295 for s in seeds)  # PYTHONHASHSEED's range


def test_racing_keeps_only_trades_that_matter_on_the_front(tmp_path: Path) -> None:
    mib = 2**20
    sweep = write_sweep(
        tmp_path,
        [
            Synth("w", "default", scaled(1.0e-3, n=4), spans=True),
            Synth("w", "t7000", scaled(0.80e-3, n=4), spans=True),  # the leader, 100 MiB
            # slower, and 1% less memory: on the exact front, not on the practical one
            Synth("w", "t2000", scaled(0.93e-3, n=4), spans=True, peak_rss_bytes=99 * mib),
            # slower, and 10% less memory: a trade a memory-bound user wants measured
            Synth("w", "t1000", scaled(0.95e-3, n=4), spans=True, peak_rss_bytes=90 * mib),
            # slower, p99 pause 5% shorter (noise) / 30% shorter (a real trade)
            Synth("w", "t3000", scaled(0.93e-3, n=4), spans=True, pauses={0: [19_000] * 10}),
            Synth("w", "t500", scaled(0.96e-3, n=4), spans=True, pauses={0: [14_000] * 10}),
        ],
    )
    _, points = load_sweep(sweep)
    decision = race_decisions({p.setting: p for p in points}, round_number=4)
    assert decision.leader == "t7000"
    assert set(decision.stopped) == {"t2000", "t3000"}  # t1000 and t500 are kept, but
    # every setting left is slower than the leader by more than 2%: the race is over
    assert decision.over == Stop(OVER, "leader t7000 separated after round 4")


def test_the_race_goes_on_while_a_setting_is_close_to_the_leader(tmp_path: Path) -> None:
    sweep = write_sweep(
        tmp_path,
        [
            Synth("w", "default", scaled(1.0e-3, n=4), spans=True),
            Synth("w", "t7000", scaled(0.80e-3, n=4), spans=True),
            Synth("w", "t7000-50", scaled(0.81e-3, n=4), spans=True),  # within 2% of it
            Synth("w", "t2000", scaled(0.95e-3, n=4), spans=True),
        ],
    )
    _, points = load_sweep(sweep)
    decision = race_decisions({p.setting: p for p in points}, round_number=3)
    assert set(decision.stopped) == {"t2000"} and decision.over is None


def test_settings_that_never_collected_race_as_one(tmp_path: Path) -> None:
    none: dict[int, Sequence[int]] = {}
    sweep = write_sweep(
        tmp_path,
        [
            Synth("w", "default", scaled(1.0e-3, n=3), spans=True),
            # the same program (no collection at all), times apart only by noise
            Synth("w", "t70000", [0.70e-3, 0.72e-3, 0.71e-3], spans=True, pauses=none),
            Synth("w", "t7000", [0.72e-3, 0.71e-3, 0.73e-3], spans=True, pauses=none),
            Synth("w", "disabled", [0.71e-3] * 3, spans=True, pauses=none, gc_enabled=False),
            Synth("w", "t2000", scaled(0.90e-3, n=3), spans=True),
        ],
    )
    _, points = load_sweep(sweep)
    decision = race_decisions({p.setting: p for p in points}, round_number=3)
    assert decision.leader == "t7000"  # the smallest change among the identical ones
    assert set(decision.stopped) == {"t70000", "disabled", "t2000"}
    assert decision.stopped["t70000"].end == IDENTICAL
    assert decision.stopped["t70000"].twin == "t7000"
    assert "the same GC work as t7000" in decision.stopped["t70000"].text
    assert decision.over == Stop(OVER, "leader t7000 separated after round 3")


def test_round_spread_says_how_many_rounds_a_narrow_ratio_would_take(tmp_path: Path) -> None:
    sweep = write_sweep(
        tmp_path,
        [
            Synth("w", "default", [1.0e-3] * 3, spans=True),
            Synth("w", "t7000", [0.9e-3, 1.0e-3, 1.1e-3], spans=True),  # ±10% a round
            Synth("w", "t2000", [0.9e-3, 1.0e-3, 1.1e-3], spans=True),
        ],
    )
    _, points = load_sweep(sweep)
    spread = round_spread(points)
    assert spread is not None
    assert spread.spread == pytest.approx(0.100, abs=0.002) and spread.rounds == 3
    assert 0.25 < spread.half_width < 0.31  # t with 2 df: 4.3 x 10% / sqrt(3)
    assert 40 <= spread.rounds_needed <= 55  # about (2 x 10% / 3%)^2
    assert spread.line().startswith("round to round, time ratios to default moved 10%")
    assert round_spread([p for p in points if p.setting != "default"]) is None
