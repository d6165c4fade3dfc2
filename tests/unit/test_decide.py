"""Decision rounds: which candidate a quick sweep has not yet decided, and why they end."""

from __future__ import annotations

from pathlib import Path

from gctune.store.race import DECIDED
from gctune.store.results import load_sweep
from gctune.sweep.decide import futile, outcome, undecided
from tests.unit.synthetic import Synth, write_sweep

DEFAULT = [1.0e-3, 1.0e-3, 1.0e-3]


def _points(tmp_path: Path, candidate: list[float]) -> list:  # type: ignore[type-arg]
    sweep = write_sweep(
        tmp_path,
        [
            Synth("w", "default", DEFAULT, spans=True),
            Synth("w", "t7000", candidate, spans=True, pauses={0: [20_000] * 2}),
            Synth("w", "t2000", [1.01e-3] * 3, spans=True, pauses={0: [20_000] * 5}),
        ],
    )
    _, points = load_sweep(sweep)
    return points


def test_a_near_miss_is_undecided(tmp_path: Path) -> None:
    # round ratios 0.86, 0.98, 0.90: the estimate beats 0.98, the interval reaches above it
    points = _points(tmp_path, [0.86e-3, 0.98e-3, 0.90e-3])
    found = undecided(points, min_gain=0.02)
    assert found is not None and found.setting == "t7000"
    assert found.change.ratio < 0.98 <= found.change.high
    assert "still undecided after round 3" in outcome(points, "t7000", min_gain=0.02, rounds=3).text
    assert found.reachable  # no rounds_left given: not judged
    again = undecided(points, min_gain=0.02, rounds_left=4)
    assert again is not None and again.reachable  # 7 rounds at this spread can decide


def test_rounds_that_cannot_decide_are_not_run(tmp_path: Path) -> None:
    # round ratios 0.6, 1.2, 0.8: 0.84x, but a 35% spread a round; 4 more rounds would
    # still leave the interval far above 0.98x, 40 more might not
    points = _points(tmp_path, [0.6e-3, 1.2e-3, 0.8e-3])
    found = undecided(points, min_gain=0.02, rounds_left=4)
    assert found is not None and found.setting == "t7000" and not found.reachable
    stop = futile(found, min_gain=0.02, rounds=3, rounds_left=4)
    assert stop.end == DECIDED
    text = stop.text
    assert text.startswith("not decided after round 3: t7000 0.83x")
    assert "4 more rounds could not bring its interval below 0.98x" in text


def test_a_clear_gain_and_a_clear_miss_need_no_more_rounds(tmp_path: Path) -> None:
    clear = _points(tmp_path / "a", [0.80e-3, 0.81e-3, 0.80e-3])
    assert undecided(clear, min_gain=0.02) is None  # recommended already
    assert outcome(clear, "t7000", min_gain=0.02, rounds=5).text.startswith(
        "decided after round 5: t7000 beats default"
    )
    short = _points(tmp_path / "b", [0.95e-3, 1.03e-3, 0.99e-3])
    assert undecided(short, min_gain=0.02) is None  # its estimate is not past the line
    assert "does not beat default by 2%" in outcome(short, "t7000", min_gain=0.02, rounds=7).text


def test_a_larger_min_gain_moves_the_line(tmp_path: Path) -> None:
    points = _points(tmp_path, [0.86e-3, 0.98e-3, 0.90e-3])
    assert undecided(points, min_gain=0.15) is None  # 0.91x does not beat 0.85x
