"""The recommendation's choice on synthetic sweeps whose right answer is known."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from gctune.analysis.frame import load
from gctune.analysis.recommend import Recommendation, RecommendError, recommend
from gctune.present.advice import describe, snippet
from tests.unit.synthetic import MIB, Synth, scaled, write_sweep


def rec_of(tmp_path: Path, points: list[Synth], **options: object) -> Recommendation:
    data = load(write_sweep(tmp_path, points))
    (workload,) = data.workloads
    return recommend(data.stats[workload], data.points_of(workload), **options)  # type: ignore[arg-type]


def test_fastest_setting_within_the_memory_budget_wins(tmp_path: Path) -> None:
    rec = rec_of(
        tmp_path,
        [
            Synth("w", "default", scaled(1.0e-3)),
            Synth("w", "disabled", scaled(0.6e-3), pauses={}, peak_rss_bytes=300 * MIB),
            Synth("w", "t70000", scaled(0.7e-3), peak_rss_bytes=200 * MIB),  # over budget
            Synth("w", "t20000", scaled(0.8e-3), peak_rss_bytes=110 * MIB),
            Synth("w", "t7000", scaled(0.9e-3)),
        ],
    )
    assert rec.setting == "t20000" and not rec.is_default
    assert rec.change is not None and rec.change.ratio == pytest.approx(0.8)
    assert rec.change.high < 1.0
    excluded = {e.setting: e.reason for e in rec.excluded}
    assert set(excluded) == {"disabled", "t70000"}
    assert "3.00x default's, over the 1.25x memory budget" in excluded["disabled"]
    text = "\n".join(describe(rec))
    assert "excluded disabled" in text and "gap recovered: 50.0%" in text


def test_a_larger_budget_admits_more(tmp_path: Path) -> None:
    rec = rec_of(
        tmp_path,
        [
            Synth("w", "default", scaled(1.0e-3)),
            Synth("w", "t70000", scaled(0.7e-3), peak_rss_bytes=200 * MIB),
            Synth("w", "t20000", scaled(0.8e-3)),
        ],
        max_memory_ratio=2.5,
    )
    assert rec.setting == "t70000"


def test_no_significant_gain_recommends_default(tmp_path: Path) -> None:
    rec = rec_of(
        tmp_path,
        [
            Synth("w", "default", scaled(1.0e-3, jitter=0.2)),
            Synth("w", "t7000", scaled(0.97e-3, jitter=0.2)),  # 3% faster, 20% noise
            Synth("w", "t20000", scaled(1.3e-3)),  # slower
        ],
    )
    assert rec.is_default and rec.change is None
    assert rec.best_other is not None and rec.best_other[0].setting == "t7000"
    text = "\n".join(describe(rec))
    assert "no setting beats default by at least 2%" in text
    assert "does not beat default by 2%" in text
    assert "nothing to change" in snippet(rec.setting)


def test_failed_points_are_excluded_with_their_reason(tmp_path: Path) -> None:
    rec = rec_of(
        tmp_path,
        [
            Synth("w", "default", scaled(1.0e-3)),
            Synth("w", "disabled", reason="exceeded the memory cap (1.00 GiB): MemoryError"),
        ],
    )
    assert rec.is_default
    assert rec.excluded[0].reason.startswith("failed: exceeded the memory cap")
    assert "no other setting can be recommended" in rec.notes[0]


def test_enabled_setting_within_noise_of_disabled_is_preferred(tmp_path: Path) -> None:
    rec = rec_of(
        tmp_path,
        [
            Synth("w", "default", scaled(1.0e-3)),
            Synth("w", "disabled", scaled(0.70e-3, jitter=0.05), pauses={}),
            Synth("w", "t70000", scaled(0.71e-3, jitter=0.05)),
        ],
    )
    assert rec.setting == "t70000"
    assert "still frees cycles" in rec.notes[0]


def test_latency_objective_uses_request_p99(tmp_path: Path) -> None:
    fast_tail = [100_000] * 99 + [150_000]
    rec = rec_of(
        tmp_path,
        [
            Synth("w", "default", scaled(1.0e-3), requests=[100_000] * 95 + [5_000_000] * 5),
            Synth("w", "t20000", scaled(0.8e-3), requests=[100_000] * 95 + [9_000_000] * 5),
            Synth("w", "t2000+freeze", scaled(1.05e-3), requests=fast_tail),
        ],
        objective="latency",
    )
    assert rec.metric == "p99 request latency"
    assert rec.setting == "t2000+freeze"  # slower, but its p99 is 50x shorter
    assert rec.change is not None
    assert rec.change.ratio == pytest.approx(100_000 / 5_000_000, rel=0.02)


def test_without_a_finished_default_there_is_no_recommendation(tmp_path: Path) -> None:
    with pytest.raises(RecommendError, match="no finished default"):
        rec_of(tmp_path, [Synth("w", "default", reason="timed out"), Synth("w", "t7000")])


def test_snippets_are_valid_python_in_the_right_order() -> None:
    code = snippet("t50000-20-20+freeze")
    compile(code, "snippet", "exec")
    lines = [line.split("#")[0].strip() for line in code.splitlines()]
    calls = [line for line in lines if line.startswith("gc.")]
    assert calls == ["gc.collect()", "gc.freeze()", "gc.set_threshold(50000, 20, 20)"]
    assert "after imports" in code and "before serving work" in code
    assert "gc.disable()" in snippet("disabled")
    assert "gc.set_threshold" not in snippet("default+freeze")
    compile(snippet("t100000-50-100"), "snippet", "exec")


def test_recommend_command_reports_each_workload(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from gctune.cli.main import app

    sweep = write_sweep(
        tmp_path,
        [
            Synth("good", "default", scaled(1.0e-3)),
            Synth("good", "t20000", scaled(0.8e-3)),
            Synth("broken", "default", reason="timed out after 5 s"),
        ],
    )
    result = CliRunner().invoke(app, ["recommend", str(sweep)])
    assert result.exit_code == 0, result.output
    assert "recommended setting t20000" in result.output
    assert "gc.set_threshold(20000, 10, 10)" in result.output
    assert "broken: no recommendation: workload 'broken' has no finished default" in (result.output)
    only_broken = CliRunner().invoke(app, ["recommend", str(sweep), "-w", "broken"])
    assert only_broken.exit_code == 1


def test_longer_pauses_are_pointed_out(tmp_path: Path) -> None:
    rec = rec_of(
        tmp_path,
        [
            Synth("w", "default", scaled(1.0e-3)),  # ten 20 us pauses per run
            Synth("w", "t70000", scaled(0.8e-3), pauses={0: [900_000] * 2}),
        ],
    )
    assert rec.setting == "t70000"
    assert any("fewer but longer pauses" in line for line in describe(rec))


def test_a_smaller_change_wins_unless_the_leader_beats_it_by_the_min_gain(tmp_path: Path) -> None:
    close = rec_of(
        tmp_path / "close",
        [
            Synth("w", "default", scaled(1.0e-3)),
            Synth("w", "t7000-10-100", scaled(0.80e-3)),  # fastest
            Synth("w", "t7000-10-10", scaled(0.81e-3)),  # 1.25% slower: surely, but by little
        ],
    )
    assert close.setting == "t7000-10-10"
    assert any("changes less" in note and "by more than 2%" in note for note in close.notes)
    apart = rec_of(
        tmp_path / "apart",
        [
            Synth("w", "default", scaled(1.0e-3)),
            Synth("w", "t7000-10-100", scaled(0.80e-3)),
            Synth("w", "t7000-10-10", scaled(0.85e-3)),  # 6% slower than the fastest
        ],
    )
    assert apart.setting == "t7000-10-100"


def test_a_setting_racing_stopped_as_identical_work_is_not_the_leader(tmp_path: Path) -> None:
    from dataclasses import replace

    from gctune.analysis.stats import workload_stats
    from gctune.store.race import race_stop
    from gctune.store.results import load_sweep

    none: dict[int, Sequence[int]] = {}
    sweep = write_sweep(
        tmp_path,
        [
            Synth("w", "default", scaled(1.0e-3, n=3), spans=True),
            Synth("w", "t7000", scaled(0.80e-3, n=3), spans=True, pauses=none),
            # stopped after 3 rounds as the same program as t7000; faster only by noise
            Synth("w", "t70000", scaled(0.70e-3, n=3), spans=True, pauses=none),
        ],
    )
    _, points = load_sweep(sweep)
    why = "out after round 3: no collection in any span, the same GC work as t7000 (still racing)"
    points = [replace(p, race={"stopped": why}) if p.setting == "t70000" else p for p in points]
    # a file from before the race record had its kind: the twin is read from the words
    older = race_stop({"stopped": why})
    assert older is not None and older.twin == "t7000"
    cap = race_stop({"stopped": "round cap (8 rounds)"})
    assert cap is not None and cap.twin is None
    (stats,) = workload_stats(points).values()
    rec = recommend(stats, points)
    assert rec.setting == "t7000"
    assert any(e.setting == "t70000" and "identical GC work to t7000" in e.reason
               for e in rec.excluded)  # fmt: skip
