"""Advice a user can ship: growing and not-steady settings left out, practical gains only,
recycling for growing settings, and the JSON form; on synthetic sweeps of spans in rounds."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gctune.analysis.frame import load
from gctune.analysis.recommend import Recommendation, recommend
from gctune.cli.main import app
from gctune.present.advice import ADVICE_SCHEMA, describe, recommendation_json
from gctune.present.next_steps import WorkloadArgs, program
from tests.unit.synthetic import MIB, Synth, scaled, write_sweep

NO_GC: dict[int, list[int]] = {}


def rec_of(tmp_path: Path, points: list[Synth], **options: object) -> Recommendation:
    data = load(write_sweep(tmp_path, points))
    (workload,) = data.workloads
    return recommend(data.stats[workload], data.points_of(workload), **options)  # type: ignore[arg-type]


def cyclic(setting: str, mean: float, **kw: object) -> Synth:
    opts: dict[str, object] = dict(spans=True, collected=500)
    opts.update(kw)
    return Synth("w", setting, scaled(mean), **opts)  # type: ignore[arg-type]


def test_growing_setting_is_refused_with_its_rate(tmp_path: Path) -> None:
    rec = rec_of(
        tmp_path,
        [
            cyclic("default", 1.0e-3),
            cyclic("disabled", 0.6e-3, pauses=NO_GC, gc_enabled=False, full=0, grow=200_000),
            cyclic("t7000", 0.9e-3),
        ],
    )
    assert rec.setting == "t7000"
    (why,) = [e.reason for e in rec.excluded if e.setting == "disabled"]
    assert "memory grows at steady state (195 KiB per step" in why
    assert "passes the budget" in why


def test_recycling_turns_a_growing_setting_into_advice(tmp_path: Path) -> None:
    rec = rec_of(
        tmp_path,
        [
            cyclic("default", 1.0e-3),
            cyclic("disabled", 0.6e-3, pauses=NO_GC, gc_enabled=False, full=0, grow=10_000),
        ],
        recycle=True,
        max_memory_ratio=2.0,
    )
    assert rec.setting == "disabled" and rec.recycle is not None
    assert [p.setting for p in rec.recycle_plans] == ["disabled"]
    r = rec.recycle
    # budget 2 x 100 MiB, 90% headroom, from the 50.5 MiB first sample, 10 kB per step
    assert r.every_steps == int((0.9 * 200 * MIB - (50 * MIB + 500_000)) / 10_000)
    assert r.peak_bytes <= 0.9 * r.budget_bytes + 1
    # a 0.2 s restart over ~13,600 steps adds ~15 us to 600 us per step
    assert r.time_ratio == pytest.approx((0.6e-3 + 0.2 / r.every_steps) / 1.0e-3, rel=0.02)
    text = "\n".join(describe(rec))
    assert f"recycle workers every {r.every_steps:,} steps" in text
    data = recommendation_json(rec)
    assert data["recycle"]["every_steps"] == r.every_steps
    assert f"max_requests = {r.every_steps}" in data["recycle_snippet"]


def test_recycling_is_shown_for_a_growing_setting_that_gains_too_little(tmp_path: Path) -> None:
    rec = rec_of(
        tmp_path,
        [
            cyclic("default", 1.0e-3),
            cyclic("disabled", 0.99e-3, pauses=NO_GC, gc_enabled=False, full=0, grow=10_000),
        ],
        recycle=True,
        max_memory_ratio=2.0,
    )
    assert rec.is_default and [p.setting for p in rec.recycle_plans] == ["disabled"]
    target = WorkloadArgs(("/home/me/my bench.py:make",))
    text = "\n".join(describe(rec, target=target))
    every = rec.recycle_plans[0].every_steps
    assert f"with recycling every {every:,} steps, disabled stays under" in text
    # the spec as the user gave it, quoted for the shell (the result id "w" is no workload)
    command = f"{shlex.join(program())} verify '/home/me/my bench.py:make' -s disabled"
    assert f"{command} --recycle {every}" in text


def test_not_steady_setting_is_left_out(tmp_path: Path) -> None:
    # default's full collections take 50 ms; t70000's spans saw 10 middle collections in
    # 1,000 steps and no full one: one every 100 x 10 steps would cost ~7% of its time
    full = {0: [20_000] * 100, 2: [50_000_000] * 2}
    rec = rec_of(
        tmp_path,
        [
            cyclic("default", 1.0e-3, pauses=full),
            cyclic("t70000", 0.7e-3, full=0, pauses={0: [20_000] * 100, 1: [20_000] * 10}),
        ],
    )
    assert rec.is_default
    (why,) = [e.reason for e in rec.excluded]
    assert why.startswith("not at steady state")


def test_rare_full_collections_of_bounded_cost_count_as_steady(tmp_path: Path) -> None:
    # no full collection seen, but at most 50 ms per 10,000 steps (0.7%) was missed
    full = {0: [20_000] * 100, 2: [50_000_000] * 2}
    rec = rec_of(
        tmp_path,
        [cyclic("default", 1.0e-3, pauses=full), cyclic("t70000", 0.7e-3, full=0)],
    )
    assert rec.setting == "t70000"
    assert rec.stats.steady == "rare full GC"
    assert rec.stats.missed_bound == pytest.approx(0.05 / (10_000 * 0.7e-3), rel=0.01)


def test_gain_under_the_minimum_keeps_default(tmp_path: Path) -> None:
    points = [cyclic("default", 1.0e-3), cyclic("t7000", 0.985e-3)]  # 1.5%, tight
    assert rec_of(tmp_path / "a", points).is_default
    assert rec_of(tmp_path / "b", points, min_gain=0.01).setting == "t7000"


def test_identical_work_is_never_ranked(tmp_path: Path) -> None:
    rec = rec_of(
        tmp_path,
        [
            cyclic("default", 1.0e-3, pauses=NO_GC, collected=0, full=0),
            cyclic("t7000", 0.85e-3, pauses=NO_GC, collected=0, full=0),
        ],
    )
    assert rec.is_default
    assert "identical GC work" in rec.excluded[0].reason


def test_disable_is_refused_where_default_freed_cycles(tmp_path: Path) -> None:
    rec = rec_of(
        tmp_path,
        [
            cyclic("default", 1.0e-3),
            cyclic("disabled", 0.7e-3, pauses=NO_GC, gc_enabled=False, full=0),  # flat memory
        ],
    )
    assert rec.is_default
    assert "never frees a reference cycle" in rec.excluded[0].reason


def test_recommend_json_follows_the_schema(tmp_path: Path) -> None:
    sweep = write_sweep(
        tmp_path,
        [
            cyclic("default", 1.0e-3),
            cyclic("t7000-10-10", 0.8e-3),
            cyclic("disabled", 0.6e-3, pauses=NO_GC, gc_enabled=False, full=0, grow=200_000),
        ],
    )
    result = CliRunner().invoke(app, ["recommend", str(sweep), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["schema"] == ADVICE_SCHEMA and doc["kind"] == "recommendations"
    (item,) = doc["workloads"]
    assert set(item) >= {
        "workload", "setting", "objective", "change", "memory", "excluded", "snippet",
        "steady", "longest_pause_ns", "recycle",
    }  # fmt: skip
    assert item["setting"] == "t7000-10-10" and item["change"]["high"] < 0.98
    assert item["memory"]["status"] == "bounded"
    assert item["excluded"][0]["setting"] == "disabled"
    assert "gc.set_threshold(7000, 10, 10)" in item["snippet"]


def test_disable_needs_a_known_memory_trend(tmp_path: Path) -> None:
    # default freed nothing, but disabled's spans held too few samples to tell growth
    rec = rec_of(
        tmp_path,
        [
            cyclic("default", 1.0e-3, collected=0),
            cyclic("disabled", 0.6e-3, pauses=NO_GC, gc_enabled=False, full=0, samples=2),
        ],
    )
    assert rec.is_default
    assert "memory trend is unknown" in rec.excluded[0].reason


def test_recommend_json_gives_the_reason_when_every_point_failed(tmp_path: Path) -> None:
    sweep = write_sweep(
        tmp_path,
        [
            Synth("w", "default", scaled(1e-3), reason="worker raised ZeroDivisionError"),
            Synth("w", "disabled", scaled(1e-3), reason="worker raised ZeroDivisionError"),
        ],
    )
    text = CliRunner().invoke(app, ["recommend", str(sweep)])
    assert text.exit_code == 1
    (why,) = [line for line in text.stdout.splitlines() if "no recommendation" in line]
    result = CliRunner().invoke(app, ["recommend", str(sweep), "--json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["workloads"] == []
    assert doc["no_recommendation"] == [{"workload": "w", "reason": why.split(": ", 2)[2]}]


def test_recycle_gives_the_same_exclusion_reasons(tmp_path: Path) -> None:
    # t70000's memory rises within spans that held no full collection: not steady, with
    # or without --recycle (a recycling interval needs the steady growth rate)
    full = {0: [20_000] * 100, 2: [50_000_000] * 2}
    young = {0: [20_000] * 100, 1: [20_000] * 10}
    points = [
        cyclic("default", 1.0e-3, pauses=full),
        cyclic("t70000", 0.7e-3, full=0, pauses=young, grow=10_000),
        cyclic("t90000", 0.7e-3, full=0, pauses=young),
        Synth("w", "t5000", scaled(1e-3), reason="worker raised MemoryError"),
    ]
    plain = rec_of(tmp_path / "a", points, max_memory_ratio=2.0)
    recycled = rec_of(tmp_path / "b", points, max_memory_ratio=2.0, recycle=True)
    assert {e.setting for e in plain.excluded} == {"t70000", "t90000", "t5000"}
    assert plain.excluded == recycled.excluded
    assert recycled.recycle_plans == ()


def test_a_rise_over_two_full_collections_is_refused_but_not_called_growth(tmp_path: Path) -> None:
    # spans stop after two full collections: a rise over one cycle may be the heap still
    # filling; the setting is left out, and the reason says why it is not called growth
    rec = rec_of(
        tmp_path,
        [cyclic("default", 1.0e-3), cyclic("t7000", 0.8e-3, full=2, grow=200_000)],
    )
    assert rec.setting == "default"
    (why,) = [e.reason for e in rec.excluded if e.setting == "t7000"]
    assert "memory rose over its spans of 2 full collections" in why
    assert "too few to tell growth" in why and "grows at steady state" not in why
