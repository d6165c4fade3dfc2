"""How closely the probe's pauses agree with the interpreter's own ``duration`` (3.15+).

Since 3.15 (gh-140638), the info ``gc.callbacks`` receives at the ``stop`` of a
collection holds ``duration``: the seconds CPython itself spent in it. The probe records
it beside its own pause (``perf_counter_ns`` from the ``start`` to the ``stop``
callback), collection by collection (:class:`gctune.measure.probe.Probe`), and this module
compares the two: an independent check of the probe's measurement.

They are not expected to be equal. CPython's timer starts after the ``start`` callbacks
have run and stops before the legacy finalizers, the clearing of free lists (full
collections only) and the ``stop`` callbacks; the probe's pause contains all of these
and the callbacks' own cost, so it is longer by a roughly constant few microseconds,
which is a larger share of a short collection than of a long one.

Reads probe snapshots (or point-file runs, which have their shape): snapshots without
the interpreter's durations (3.9–3.14) are left out. Pure; standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Optional

from gctune.measure.histogram import Histogram

__all__ = ["PauseAgreement", "pause_agreement"]


@dataclass(frozen=True)
class PauseAgreement:
    """The probe's pauses against the interpreter's ``duration`` of the same collections.

    ``excess_*`` are quantiles of the per-collection relative difference
    (probe − interpreter) / interpreter (0.05 = the probe measured 5% longer), from a
    histogram (within 1% of their value, see :mod:`gctune.measure.histogram`; the maximum is
    exact). Since every collection's pause lies within [0, ``excess_max``] of the
    interpreter's, so does every quantile a report shows (p50, p99, max).
    ``not_longer`` counts the collections the probe did not measure longer than the
    interpreter, which its start-to-stop interval should rule out.
    """

    collections: int
    probe_total_ns: int
    reported_total_ns: int
    excess_p50: float
    excess_p99: float
    excess_max: float
    not_longer: int

    @property
    def total_excess(self) -> float:
        """Sum of the probe's pauses / sum of the interpreter's durations − 1."""
        if not self.reported_total_ns:
            return 0.0
        return self.probe_total_ns / self.reported_total_ns - 1.0

    @property
    def mean_excess_ns(self) -> float:
        """How much longer the probe's pause is than the interpreter's, on average (ns)."""
        if not self.collections:
            return 0.0
        return (self.probe_total_ns - self.reported_total_ns) / self.collections


def pause_agreement(snapshots: Iterable[Mapping[str, Any]]) -> Optional[PauseAgreement]:
    """Agreement over every collection of ``snapshots`` that the interpreter timed too.

    None when none of them carries the interpreter's durations (before 3.15), or no
    collection was recorded.
    """
    probe, reported, excess = Histogram(), Histogram(), Histogram()
    for snap in snapshots:
        by_gen = snap.get("reported_pauses")
        if not by_gen:
            continue
        for gen, data in by_gen.items():
            reported.merge(Histogram.from_json(data))
            probe.merge(Histogram.from_json(snap["pauses"][gen]))
            excess.merge(Histogram.from_json(snap["pause_excess_ppm"][gen]))
    if not reported.count:
        return None
    return PauseAgreement(
        collections=reported.count,
        probe_total_ns=probe.total,
        reported_total_ns=reported.total,
        excess_p50=excess.quantile(0.5) / 1e6,
        excess_p99=excess.quantile(0.99) / 1e6,
        excess_max=excess.max / 1e6,
        not_longer=excess.zeros,
    )
