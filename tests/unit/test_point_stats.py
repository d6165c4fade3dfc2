"""Statistics of points with known answers: ratios, overhead, quantiles, front, warnings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from gctune.analysis.evidence import identical_work, reclaim_evidence
from gctune.analysis.frame import load, points_frame, runs_frame
from gctune.analysis.stats import (
    PointStats,
    pareto_front,
    pause_cdf,
    workload_stats,
)
from gctune.measure.histogram import RELATIVE_ERROR
from gctune.store.results import load_sweep
from tests.unit.synthetic import MIB, Synth, scaled, write_sweep


def stats_of(tmp_path: Path, points: list[Synth]) -> dict[str, PointStats]:
    _, loaded = load_sweep(write_sweep(tmp_path, points))
    return {s.setting: s for rows in workload_stats(loaded).values() for s in rows}


def test_ratios_overhead_and_gap_against_default_and_floor(tmp_path: Path) -> None:
    s = stats_of(
        tmp_path,
        [
            Synth("w", "default", scaled(1.2e-3)),
            Synth("w", "disabled", scaled(1.0e-3), pauses={}),
            Synth("w", "t7000", scaled(1.1e-3)),
        ],
    )
    t = s["t7000"]
    assert t.time_ratio == pytest.approx(1.1 / 1.2)
    assert t.time_ratio_low is not None and t.time_ratio_high is not None
    assert t.time_ratio_low < 1.1 / 1.2 < t.time_ratio_high < 1.0
    assert t.time_significant
    assert t.overhead == pytest.approx(0.1)
    assert t.gap_recovered == pytest.approx(0.5)
    assert s["default"].overhead == pytest.approx(0.2) and s["default"].gap_recovered == 0.0
    assert s["disabled"].gap_recovered == pytest.approx(1.0)
    assert not s["default"].time_significant  # itself, resampled: interval holds 1


def test_pause_quantiles_overall_and_per_generation(tmp_path: Path) -> None:
    young = [10_000] * 95 + [200_000] * 5  # p50 10 us, p99 200 us
    old = [1_000_000, 3_000_000]
    s = stats_of(tmp_path, [Synth("w", "default", pauses={0: young, 1: old})])["default"]
    runs = 6
    assert s.collections_by_gen == {0: 100 * runs, 1: 2 * runs}
    g0, g1 = s.pauses_by_gen[0], s.pauses_by_gen[1]
    assert g0.p50_ns == pytest.approx(10_000, rel=RELATIVE_ERROR)
    assert g0.p99_ns == pytest.approx(200_000, rel=RELATIVE_ERROR)
    assert g1.max_ns == 3_000_000 and g1.count == 2 * runs
    assert s.pause_max_ns == 3_000_000
    assert s.pause_total_ns == runs * (sum(young) + sum(old))
    # overall p99 over 102 pauses per run: rank 101 of 102 is the first old-generation pause
    assert s.pause_p99_ns == pytest.approx(1_000_000, rel=RELATIVE_ERROR)


def test_pause_cdf_is_monotonic_and_ends_at_the_maximum(tmp_path: Path) -> None:
    write_sweep(tmp_path, [Synth("w", "default", pauses={0: [1_000, 2_000, 40_000]})])
    (point,) = load_sweep(tmp_path)[1]
    curve = pause_cdf(point)
    xs, ys = zip(*curve)
    assert list(xs) == sorted(xs) and list(ys) == sorted(ys)
    assert ys[-1] == 1.0 and xs[-1] == 40_000
    assert ys[0] == pytest.approx(1 / 3)


def test_pareto_front_known_answer(tmp_path: Path) -> None:
    base = stats_of(tmp_path, [Synth("w", "default")])["default"]

    def at(name: str, t: float, rss: int, p99: float) -> PointStats:
        return dataclasses.replace(
            base, setting=name, mean_s=t, peak_rss_bytes=rss, pause_p99_ns=p99
        )

    candidates = [
        at("fast-big", 1.0, 300, 5.0),
        at("slow-small", 3.0, 100, 5.0),
        at("dominated", 3.0, 300, 5.0),  # worse than both above on time or memory
        at("low-pause", 2.0, 200, 1.0),
        at("tie-but-worse", 2.0, 200, 2.0),
        dataclasses.replace(at("failed", 0.1, 1, 0.0), ok=False),
    ]
    front = [s.setting for s in pareto_front(candidates)]
    assert front == ["fast-big", "slow-small", "low-pause"]
    two_d = [s.setting for s in pareto_front(candidates, keys=("mean_s", "peak_rss_bytes"))]
    assert two_d == ["fast-big", "slow-small", "low-pause", "tie-but-worse"]


def test_warnings_like_pyperf_check(tmp_path: Path) -> None:
    s = stats_of(
        tmp_path,
        [
            Synth("w", "default", scaled(1e-3, jitter=0.3)),  # stdev ~30% of the mean
            Synth("w", "t2000", [1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 4e-3]),  # one slow process
            Synth("w", "t3000", [1e-3, 1e-3]),  # two processes only
            Synth("w", "t9000", scaled(1e-3), pauses={}),  # collector on, never ran
            Synth("w", "quiet", scaled(1e-3)),
        ],
    )
    assert any("standard deviation" in w for w in s["default"].warnings)
    assert any("outlier: the maximum" in w for w in s["t2000"].warnings)
    assert any("too few samples" in w for w in s["t3000"].warnings)
    assert any("no collection ran" in w for w in s["t9000"].warnings)
    assert s["quiet"].warnings == ()


def test_reclaim_evidence_reads_the_numbers(tmp_path: Path) -> None:
    acyclic = stats_of(
        tmp_path / "a",
        [Synth("a", "default", collected=0), Synth("a", "disabled", pauses={})],
    )
    ev = reclaim_evidence(list(acyclic.values()))
    assert ev is not None and not ev.cyclic and not ev.grows and ev.consistent
    jitter = stats_of(
        tmp_path / "j",
        [Synth("j", "default"), Synth("j", "disabled", pauses={}, peak_rss_bytes=101 * MIB)],
    )
    ev = reclaim_evidence(list(jitter.values()))
    assert ev is not None and not ev.grows  # 1% more in every process: under the 2% floor
    cyclic = stats_of(
        tmp_path / "c",
        [
            Synth("c", "default", collected=5000),
            Synth("c", "disabled", pauses={}, peak_rss_bytes=300 * MIB),
        ],
    )
    ev = reclaim_evidence(list(cyclic.values()))
    assert ev is not None and ev.cyclic and ev.grows and ev.rss_ratio == pytest.approx(3.0)
    assert ev.collected_per_collection == pytest.approx(500.0)  # 5000 per 10 pauses
    capped = stats_of(
        tmp_path / "m",
        [
            Synth("m", "default", collected=5000),
            Synth("m", "disabled", reason="exceeded the memory cap (1.00 GiB): MemoryError"),
        ],
    )
    ev = reclaim_evidence(list(capped.values()))
    assert ev is not None and ev.grows and ev.rss_ratio is None


def test_frames_carry_the_named_statistics(tmp_path: Path) -> None:
    data = load(
        write_sweep(
            tmp_path,
            [
                Synth("w", "t7000", thresholds=(7000, 10, 10)),
                Synth("w", "default"),
                Synth("w", "disabled", pauses={}, gc_enabled=False),
            ],
        )
    )
    # sweep order: default, disabled, then the rest
    assert [s.setting for s in data.stats["w"]] == ["default", "disabled", "t7000"]
    frame = data.frame()
    assert len(frame) == 3
    spread = ("collections_by_gen", "collections_per_s_by_gen", "pauses_by_gen", "rss_change")
    scalar = [f.name for f in dataclasses.fields(PointStats) if f.name not in spread]
    assert set(scalar) <= set(frame.columns)
    assert {"collections_gen0", "pause_gen0_p99_ns", "rss_change_significant"} <= set(frame.columns)
    row = frame.set_index("setting").loc["t7000"]
    assert row["t0"] == 7000 and row["mode"] == "thresholds" and not row["freeze"]
    assert frame.equals(points_frame(data.stats["w"]))
    runs = runs_frame(list(data.points))
    assert len(runs) == 18 and set(runs["setting"]) == {"default", "disabled", "t7000"}


def test_identical_work_exposes_drift_between_points(tmp_path: Path) -> None:
    s = stats_of(
        tmp_path,
        [
            Synth("w", "default", scaled(1.0e-3)),
            Synth("w", "disabled", scaled(0.6e-3), pauses={}, gc_enabled=False),
            Synth("w", "t70000", scaled(0.8e-3), pauses={}),  # no collection either
            Synth("w", "t90000", scaled(0.61e-3, jitter=0.2), pauses={}),
        ],
    )
    same = identical_work(list(s.values()))
    assert same is not None and same.settings == ("disabled", "t70000", "t90000")
    assert same.low == pytest.approx(0.6) and same.high == pytest.approx(0.8)
    assert same.disjoint  # 0.6 vs 0.8, each within 1%: the machine moved, not the work
    calm = identical_work([s["default"], s["disabled"], s["t90000"]])
    assert calm is not None and not calm.disjoint  # 0.61 with 20% noise overlaps 0.6
    assert identical_work([s["default"], s["disabled"]]) is None


def test_load_takes_a_str_as_well_as_a_path(tmp_path: Path) -> None:
    sweep = write_sweep(tmp_path / "s", [Synth("w", "default")])
    by_str = load(str(sweep))
    assert by_str.directory == sweep and by_str.workloads == ["w"]
    assert by_str.frame().equals(load(sweep).frame())
