"""The time gate's rule: significantly slower, and not shown to be within the limit."""

from __future__ import annotations

from gctune.analysis.gate import time_regression
from gctune.analysis.intervals import Change


def _change(ratio: float, half: float) -> Change:
    low, high = ratio - half, ratio + half
    return Change(ratio, low, high, not low <= 1 <= high)


def test_a_slowdown_of_the_limits_size_fails_once_the_interval_is_narrow() -> None:
    # the rule before (the whole interval above 1.05) passed a 5% slowdown at any width
    assert time_regression(_change(1.05, 0.02), 0.05)
    assert time_regression(_change(1.05, 0.002), 0.05)
    assert time_regression(_change(1.10, 0.03), 0.05)


def test_no_evidence_of_a_slowdown_or_one_shown_within_the_limit_passes() -> None:
    assert not time_regression(_change(1.00, 0.03), 0.05)  # A/A
    assert not time_regression(_change(1.04, 0.06), 0.05)  # includes 1: not shown slower
    assert not time_regression(_change(1.02, 0.01), 0.05)  # slower, but within 5%
    assert not time_regression(_change(0.90, 0.02), 0.05)  # faster


def test_the_gates_intervals_are_family_wise_over_its_settings() -> None:
    from gctune.analysis.gate import family_confidence
    from gctune.analysis.intervals import t95, t_quantile

    assert family_confidence(1) == 0.95
    assert abs(family_confidence(3) - (1 - 0.05 / 3)) < 1e-12
    # the quantile away from 95% agrees with Student's t tables (99%: 3.250 at 9 degrees
    # of freedom, 2.861 at 19; 98%: 2.539 at 19) and equals the table at 95%
    assert abs(t_quantile(9, 0.99) - 3.250) < 0.005
    assert abs(t_quantile(19, 0.99) - 2.861) < 0.005
    assert abs(t_quantile(19, 0.98) - 2.539) < 0.005
    assert t_quantile(10, 0.95) == t95(10)
