"""Identical GC work in one voice: settings that ran no collection are one program, ranked
as one setting (the kept twin) whose gain against default is stated once, and the
warning about their spread never calls the gain it recommends drift."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gctune.analysis.evidence import quiet_group, workload_warnings
from gctune.analysis.frame import load
from gctune.analysis.recommend import recommend
from gctune.present.advice import describe
from tests.unit.synthetic import Synth, scaled, write_sweep

NO_GC: dict[int, Sequence[int]] = {}
GC: dict[int, Sequence[int]] = {0: [20_000] * 10, 2: [200_000] * 2}  # young and full


def quiet(setting: str, mean: float) -> Synth:
    """A point without collections: thresholds its spans never reached (a full collection
    of theirs would cost under 1% of their time: ``rare full GC``, not a lower bound)."""
    t0 = int(setting[1:]) if setting.startswith("t") else 700
    return Synth(
        "w", setting, scaled(mean), spans=True, pauses=NO_GC, full=0, collected=0,
        thresholds=(t0, 10, 10), gc_enabled=setting != "disabled",
    )  # fmt: skip


def test_settings_without_collections_are_ranked_once(tmp_path: Path) -> None:
    data = load(
        write_sweep(
            tmp_path,
            [
                Synth("w", "default", scaled(1.0e-3), spans=True, collected=500, pauses=GC),
                quiet("t70000", 0.80e-3),
                quiet("t100000", 0.74e-3),  # faster by drift alone: same program
                quiet("t700000", 0.86e-3),
            ],
        )
    )
    stats, points = data.stats["w"], data.points_of("w")
    assert quiet_group(stats) == ("t70000", ("t100000", "t700000"))
    rec = recommend(stats, points)
    # the kept twin is the setting nearest the default, not the fastest by drift
    assert rec.setting == "t70000"
    excluded = {e.setting: e.reason for e in rec.excluded}
    assert set(excluded) == {"t100000", "t700000"}
    assert all("identical GC work to t70000" in why for why in excluded.values())
    text = "\n".join(describe(rec))
    assert "t70000 stands for t100000, t700000 as well" in text
    # its gain against default is stated once: no other setting's ratio is offered
    assert text.count("of default's, 95% interval") <= 1
    (line,) = [w for w in workload_warnings(stats) if "identical GC work" in w]
    assert "read as one setting, t70000" in line
    assert "read differences of that size as noise" not in line


def test_default_without_collections_stands_for_the_quiet_settings(tmp_path: Path) -> None:
    data = load(
        write_sweep(
            tmp_path,
            [quiet("default", 1.0e-3), quiet("t7000", 0.85e-3), quiet("disabled", 0.9e-3)],
        )
    )
    stats = data.stats["w"]
    assert quiet_group(stats) == ("default", ("disabled", "t7000"))
    rec = recommend(stats, data.points_of("w"))
    assert rec.is_default
    (line,) = [w for w in workload_warnings(stats) if "identical GC work" in w]
    assert "the same program as default" in line
