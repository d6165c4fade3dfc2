"""Intervals on ratios: a point's change relative to another (:class:`Change`), Student's
t quantiles and t-intervals over rounds, and the bootstrap interval of a ratio of means
for samples that are not paired (:func:`compare_samples`).

The lowest piece of the analysis stage: paired ratios (:mod:`gctune.analysis.paired`),
per-point statistics (:mod:`gctune.analysis.stats`) and the gates build on it."""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Change:
    """``new`` relative to ``base``: ratio of means with a 95% bootstrap interval.

    ``significant`` is True when the interval excludes 1.0 (no change).
    """

    ratio: float
    low: float
    high: float
    significant: bool


# Two-sided 95% Student t quantiles for small samples; normal beyond.
_T95 = {
    1: 12.706,
    2: 4.303,
    3: 3.182,
    4: 2.776,
    5: 2.571,
    6: 2.447,
    7: 2.365,
    8: 2.306,
    9: 2.262,
    10: 2.228,
    12: 2.179,
    15: 2.131,
    20: 2.086,
    30: 2.042,
    60: 2.000,
}


def t95(dof: int) -> float:
    """The two-sided 95% quantile of Student's t with ``dof`` degrees of freedom."""
    for known in sorted(_T95):
        if dof <= known:
            return _T95[known]
    return 1.96


def t_quantile(dof: int, confidence: float) -> float:
    """The two-sided ``confidence`` quantile of Student's t with ``dof`` degrees of
    freedom: the table above at 95%, else the Cornish-Fisher expansion around the normal
    quantile (Abramowitz & Stegun 26.7.5; within 0.001 of the table for 3+ degrees of
    freedom, within 3% for 2, and low by 11% for 1, where intervals are not used)."""
    if confidence == 0.95:
        return t95(dof)
    z = statistics.NormalDist().inv_cdf(0.5 + confidence / 2)
    v = float(max(dof, 1))
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / v + g2 / v**2 + g3 / v**3 + g4 / v**4


def t_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Confidence interval of the mean (Student t, 95% unless said); (mean, mean) for one
    value."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, mean
    t = t_quantile(len(values) - 1, confidence)
    half = t * statistics.stdev(values) / math.sqrt(len(values))
    return mean - half, mean + half


def compare_samples(
    base: Sequence[float], new: Sequence[float], *, resamples: int = 2000, seed: int = 0
) -> Change:
    """Ratio ``mean(new) / mean(base)`` with a percentile-bootstrap 95% interval.

    Both samples are resampled independently; the seed makes the interval reproducible.
    Samples of one element give a zero-width interval that is never significant.
    """
    if not base or not new:
        raise ValueError("both samples need at least one value")
    ratio = statistics.fmean(new) / statistics.fmean(base)
    if len(base) < 2 or len(new) < 2:
        return Change(ratio, ratio, ratio, False)
    rng = random.Random(seed)
    ratios = sorted(
        statistics.fmean(rng.choices(new, k=len(new)))
        / statistics.fmean(rng.choices(base, k=len(base)))
        for _ in range(resamples)
    )
    low = ratios[int(0.025 * resamples)]
    high = ratios[min(resamples - 1, int(0.975 * resamples))]
    return Change(ratio, low, high, not low <= 1.0 <= high)
