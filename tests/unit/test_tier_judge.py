"""Decision rounds of a confirmation in time: which candidate the rule of both tiers left
undecided, whether more rounds can decide it, and how they ended."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gctune.analysis.tune_search import Trial
from gctune.store.race import DECIDED
from gctune.store.results import Point, load_sweep
from gctune.sweep.tier_judge import tune_judge
from tests.unit.synthetic import Synth, write_sweep

TRIALS = [
    Trial("default", "line", 1, 10.0, 1.0, 1.0, True),
    Trial("default+freeze", "line", 1, 10.0, 1.0, 1.0, True, whole_cycles=True),
    Trial("t7000-10-10", "line", 1, 9.0, 0.9, 1.1, True, whole_cycles=True),
]
JUDGE = tune_judge(
    {"w": TRIALS},
    {"w": ["default", "default+freeze", "t7000-10-10"]},
    max_memory_ratio=1.5,
    min_gain=0.02,
)


def _points(tmp_path: Path, freeze: list[float], t7000: list[float]) -> list[Point]:
    n = len(freeze)
    sweep = write_sweep(
        tmp_path,
        [
            Synth("w", "default", [1.0e-3] * n, spans=True),
            Synth("w", "default+freeze", freeze, spans=True),
            Synth("w", "t7000-10-10", t7000, spans=True),
        ],
    )
    _, points = load_sweep(sweep)
    return points


def test_a_candidate_time_left_open_is_undecided_and_reachable(tmp_path: Path) -> None:
    # default+freeze: round ratios around 0.97, the interval reaching past the 2 % line;
    # t7000 slower in time
    freeze = [0.96e-3, 0.985e-3, 0.955e-3, 0.975e-3, 0.96e-3, 0.98e-3]
    points = _points(tmp_path, freeze, [1.05e-3] * 6)
    found = JUDGE.undecided(points, rounds_left=12)
    assert found is not None and found.setting == "default+freeze"
    assert found.change.ratio < 0.98 < found.change.high < 1.0
    assert found.reachable
    assert JUDGE.undecided(points, rounds_left=1) == found.__class__(
        found.setting, found.change, False
    )  # one more round cannot bring it below the line
    stop = JUDGE.outcome(points, "default+freeze", rounds=6)
    assert stop.end == DECIDED
    assert stop.text.startswith("still undecided after round 6: default+freeze 0.969x")
    assert stop.text.endswith("reaches above 0.98x")


def test_a_candidate_slower_than_default_gets_no_rounds(tmp_path: Path) -> None:
    # default+freeze's interval holds 1 but its estimate is above it: it cannot be admitted
    points = _points(tmp_path, [1.05e-3, 0.97e-3, 1.04e-3, 0.99e-3], [1.05e-3] * 4)
    assert JUDGE.undecided(points, rounds_left=12) is None


def test_rounds_that_scatter_too_much_are_futile(tmp_path: Path) -> None:
    # a 0.95x mean, but ±30 % a round: 2 more rounds cannot exclude a loss
    points = _points(tmp_path, [0.65e-3, 1.3e-3, 0.7e-3, 1.25e-3], [1.05e-3] * 4)
    found = JUDGE.undecided(points, rounds_left=2)
    assert found is not None and not found.reachable
    stop = JUDGE.futile(found, rounds=4, rounds_left=2)
    assert stop.text.startswith("not decided after round 4: default+freeze")
    assert "2 more rounds could not bring its interval below its line" in stop.text


def test_an_admitted_candidate_needs_no_rounds_and_says_so(tmp_path: Path) -> None:
    points = _points(tmp_path, [0.95e-3, 0.96e-3, 0.95e-3, 0.96e-3], [1.05e-3] * 4)
    assert JUDGE.undecided(points, rounds_left=12) is None
    text = JUDGE.outcome(points, "default+freeze", rounds=16).text
    assert text.startswith("decided after round 16: default+freeze admitted 0.95")


def test_a_workload_the_judge_does_not_know_is_left_alone(tmp_path: Path) -> None:
    points = _points(tmp_path, [0.95e-3, 1.01e-3, 0.94e-3, 1.0e-3], [1.05e-3] * 4)
    other = tune_judge({"x": TRIALS}, {}, max_memory_ratio=1.5, min_gain=0.02)
    assert other.undecided(points, rounds_left=12) is None
    assert other.outcome(points, "default+freeze", rounds=4).text == (
        "decision rounds ended after round 4"
    )


def test_how_decision_rounds_ended_is_read_from_defaults_point(tmp_path: Path) -> None:
    from gctune.analysis.tune_decision import decision_rounds_note
    from gctune.store.race import OUT, Stop
    from gctune.store.results import point_path
    from gctune.sweep.rounds import _stop

    points = _points(tmp_path, [0.95e-3] * 3, [1.05e-3] * 3)
    assert decision_rounds_note(points, "w") is None  # none ran
    sweep = tmp_path
    _stop(point_path(sweep, "w", "t7000-10-10"), Stop(OUT, "out of the race"))
    _, points = load_sweep(sweep)
    assert decision_rounds_note(points, "w") is None  # another kind of stop, another point
    _stop(point_path(sweep, "w", "default"), Stop(DECIDED, "decided after round 5: x"))
    _, points = load_sweep(sweep)
    assert decision_rounds_note(points, "w") == "decided after round 5: x"
    assert decision_rounds_note(points, "other") is None


def test_a_count_sweeps_setting_id_is_measured_under_the_time_sweeps(tmp_path: Path) -> None:
    # gctune sweep --confirm: the count sweep says "freeze", its confirmation
    # "default+freeze"; decision rounds must measure the time sweep's point
    from gctune.analysis.tiers import TierDecision, TierEvidence, decide
    from gctune.analysis.time_basis import time_change
    from gctune.sweep.tier_judge import TierJudge

    freeze = [0.96e-3, 0.985e-3, 0.955e-3, 0.975e-3, 0.96e-3, 0.98e-3]
    points = _points(tmp_path, freeze, [1.05e-3] * 6)

    def decision_of(pts: Sequence[Point]) -> TierDecision:
        by = {p.setting: p for p in pts}
        change = time_change(by["default"], by["default+freeze"])
        return decide([TierEvidence("freeze", 1.004, time=change, memory_ok=True)])

    judge = TierJudge(decision_of, 0.02)
    found = judge.undecided(points, rounds_left=12)
    assert found is not None and found.setting == "default+freeze" and found.reachable
    stop = judge.outcome(points, "default+freeze", rounds=6)
    assert stop.text.startswith("still undecided after round 6: default+freeze 0.969x")
