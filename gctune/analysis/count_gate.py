"""The gate in counts: two workloads of one sweep in counts, compared per setting.

Counts are exact run to run on one install (instructions identical; the cache
simulation's misses, hence estimated cycles, within about 1e-4), so a gate in counts
needs no rounds and no interval: ``instructions:1%`` fails when new's instructions per
step exceed base's by more than 1 %. ``cycles`` gates estimated cycles the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Optional

from gctune.analysis.comparison import CompareError, Threshold

__all__ = ["COUNT_GATES", "CountGateRow", "count_gate", "parse_count_threshold"]

COUNT_GATES: dict[str, str] = {
    "instructions": "instructions per step (callgrind's Ir), exact",
    "cycles": "estimated cycles per step (cache simulation), within about 1e-4",
}
_FIELD = {"instructions": "instructions_per_step", "cycles": "cycles_per_step"}
_THRESHOLD = re.compile(r"^\s*([a-z0-9]+)\s*:\s*([0-9]*\.?[0-9]+)\s*%?\s*$")


def parse_count_threshold(text: str) -> Threshold:
    """``instructions:1%`` (or ``cycles:1%``) as a :class:`Threshold`; one-line errors."""
    match = _THRESHOLD.match(text.lower())
    if not match:
        raise CompareError(f"cannot read gate {text!r}: write METRIC:PERCENT, e.g. instructions:1%")
    metric, number = match.group(1), float(match.group(2))
    if metric not in COUNT_GATES:
        raise CompareError(
            f"metric {metric!r} is not measured in a sweep in counts: gate on "
            f"{' or '.join(COUNT_GATES)} (e.g. instructions:1%), or sweep in time"
        )
    return Threshold(metric, number / 100)


@dataclass(frozen=True)
class CountGateRow:
    """One metric of one setting in counts: new / base, and whether it fails the gate."""

    setting: str
    metric: str
    base: Optional[float]
    new: Optional[float]
    limit: Optional[float]
    regression: bool
    failed: str = ""  # "base", "new" or "both": that side's point failed (not compared)
    note: str = ""

    @property
    def ratio(self) -> Optional[float]:
        """new / base, where both were measured."""
        if self.base is None or self.new is None or self.base <= 0:
            return None
        return self.new / self.base

    def line(self) -> str:
        """The row as text (the tier named once by the caller's heading)."""
        if self.failed:
            return f"{self.setting:24s} not compared: {self.note}"
        verdict = "REGRESSION" if self.regression else "ok"
        gate = f" (gate {self.limit:.1%})" if self.limit is not None else ""
        ratio = self.ratio
        shown = f"{ratio:.4f}x ({(ratio - 1) * 100:+.2f}%)" if ratio is not None else "—"
        return f"{self.setting:24s} {self.metric:12s} {shown}, exact{gate}: {verdict}" + (
            f" — {self.note}" if self.note else ""
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**self.__dict__, "ratio": self.ratio, "tier": "counts"}


def _by_setting(docs: Sequence[dict[str, Any]], workload: str) -> dict[str, dict[str, Any]]:
    return {str(d["setting"]): d for d in docs if d["workload"] == workload}


def count_gate(
    docs: Sequence[dict[str, Any]], base: str, new: str, thresholds: Sequence[Threshold]
) -> list[CountGateRow]:
    """Compare ``new`` with ``base`` (workload ids) in every setting both have.

    Without thresholds both metrics are shown, none gated. CompareError (one line) when
    a workload is not in the sweep or they share no setting.
    """
    names = sorted({str(d["workload"]) for d in docs})
    for side in (base, new):
        if side not in names:
            raise CompareError(
                f"workload {side!r} is not in this sweep in counts: it has {', '.join(names)}"
            )
    base_docs, new_docs = _by_setting(docs, base), _by_setting(docs, new)
    settings = [s for s in base_docs if s in new_docs]
    if not settings:
        raise CompareError(f"{base} and {new} share no setting in this sweep")
    gated = {t.metric: t.limit for t in thresholds}
    metrics = list(gated) or list(COUNT_GATES)
    rows = []
    for setting in settings:
        b, n = base_docs[setting], new_docs[setting]
        failed = [side for side, d in (("base", b), ("new", n)) if d["status"] != "ok"]
        if failed:
            which = "both" if len(failed) == 2 else failed[0]
            reason = "; ".join(f"{s}: {d.get('reason')}" for s, d in (("base", b), ("new", n))
                               if d["status"] != "ok")  # fmt: skip
            rows.append(CountGateRow(setting, "", None, None, None, False, which, reason))
            continue
        for metric in metrics:
            base_value = float(b["point"][_FIELD[metric]])
            new_value = float(n["point"][_FIELD[metric]])
            limit = gated.get(metric)
            regression = limit is not None and new_value > base_value * (1 + limit)
            rows.append(CountGateRow(setting, metric, base_value, new_value, limit, regression))
    return rows
