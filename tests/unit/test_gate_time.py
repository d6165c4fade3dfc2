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
