from __future__ import annotations

import random

from gctune.analysis.intervals import compare_samples, t_interval


def test_compare_samples_detects_a_real_change() -> None:
    rng = random.Random(1)
    base = [1.0 + rng.gauss(0, 0.02) for _ in range(10)]
    slower = [1.15 + rng.gauss(0, 0.02) for _ in range(10)]
    change = compare_samples(base, slower)
    assert change.significant
    assert 1.10 < change.low < change.ratio < change.high < 1.20


def test_compare_samples_same_distribution_not_significant() -> None:
    rng = random.Random(2)
    a = [1.0 + rng.gauss(0, 0.05) for _ in range(10)]
    b = [1.0 + rng.gauss(0, 0.05) for _ in range(10)]
    change = compare_samples(a, b)
    assert change.low < 1.0 < change.high and not change.significant


def test_compare_samples_single_value_never_significant() -> None:
    change = compare_samples([1.0], [2.0])
    assert change.ratio == 2.0 and not change.significant


def test_t_interval_known_answer() -> None:
    low, high = t_interval([1.0, 2.0, 3.0])
    # mean 2, stdev 1, t(2) = 4.303: half width 4.303 / sqrt(3)
    assert abs((high - low) / 2 - 4.303 / 3**0.5) < 1e-9
