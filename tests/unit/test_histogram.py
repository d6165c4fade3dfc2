from __future__ import annotations

import math
import random

import pytest

from gctune.measure.histogram import RELATIVE_ERROR, Histogram


def exact_quantile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_quantiles_within_one_percent_of_exact(seed: int) -> None:
    rng = random.Random(seed)
    # Log-normal pauses spanning microseconds to seconds, like real GC pauses.
    values = [max(1, int(rng.lognormvariate(11, 2.5))) for _ in range(20_000)]
    hist = Histogram()
    for v in values:
        hist.add(v)
    assert RELATIVE_ERROR <= 0.01
    for q in (0.0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0):
        exact = exact_quantile(values, q)
        assert hist.quantile(q) == pytest.approx(exact, rel=0.01), q
    assert hist.count == len(values)
    assert hist.total == sum(values)
    assert hist.min == min(values)
    assert hist.max == max(values)


def test_memory_is_bounded_by_range_not_count() -> None:
    hist = Histogram()
    for i in range(200_000):
        hist.add(1000 + (i % 5000))
    # 1000..6000 spans log(6)/log(1.02) ≈ 91 buckets.
    assert len(hist.buckets) <= 92


def test_merge_equals_adding_everything() -> None:
    a, b, both = Histogram(), Histogram(), Histogram()
    for v in range(1, 500):
        (a if v % 2 else b).add(v * 37)
        both.add(v * 37)
    a.merge(b)
    assert a.to_json() == both.to_json()


def test_json_round_trip_and_validation() -> None:
    hist = Histogram()
    for v in (0, 5, 5000, 10**9):
        hist.add(v)
    again = Histogram.from_json(hist.to_json())
    assert again.to_json() == hist.to_json()
    assert again.quantile(0.5) == hist.quantile(0.5)
    broken = hist.to_json()
    broken["count"] = 99
    with pytest.raises(ValueError, match="add up"):
        Histogram.from_json(broken)
    other_base = hist.to_json()
    other_base["gamma"] = 1.5
    with pytest.raises(ValueError, match="bucket base"):
        Histogram.from_json(other_base)


def test_empty_and_bad_quantile() -> None:
    hist = Histogram()
    assert hist.quantile(0.99) == 0.0
    assert hist.mean == 0.0
    with pytest.raises(ValueError):
        hist.quantile(1.5)
