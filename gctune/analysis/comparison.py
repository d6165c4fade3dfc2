"""What ``compare`` and ``gate`` say: the gates (metrics and the rule of each), a
threshold as a user writes it (``time:5%``), and the results per metric, per point and
for the whole comparison, with their JSON."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from gctune.errors import UserError

# The metrics a gate can name, with their unit and how they are compared.
GATES: dict[str, str] = {
    "time": "time per step (s); bootstrap interval of the ratio of run means",
    "cpu": "process CPU time per step (s) of each run; bootstrap interval of the ratio",
    "fullspeed": "gate only: time per step over the chunks run at the machine's full speed",
    "p99": "GC pause p99 of each run (ns); bootstrap interval of the ratio of means",
    "rss": "peak RSS of each run (bytes); bootstrap interval of the ratio of means",
    "collections": "collections per step, each generation; exact at equal steps per run",
    "collected": "objects collected per step; exact at equal steps per run",
}


RULE = (
    "time, cpu, p99, rss: regression when the 95% bootstrap interval of new/base lies wholly "
    "above 1 + threshold; collections: regression when new's lower bound per step exceeds "
    "base's upper bound x (1 + threshold) (bounds: where spans start and end in the "
    "collector's rhythm, and their spread; exact at equal steps); collected: when the rate "
    "per step exceeds base x (1 + threshold) + the stated quantisation allowance"
)


class CompareError(UserError, ValueError):
    """Two result sets that cannot be compared, or a gate that cannot be read."""


@dataclass(frozen=True)
class Threshold:
    """``--fail-on METRIC:PERCENT``: ``limit`` is a fraction (0.05 for 5%)."""

    metric: str
    limit: float

    def __str__(self) -> str:
        return f"{self.metric}:{self.limit * 100:g}%"


_THRESHOLD = re.compile(r"^\s*([a-z0-9]+)\s*:\s*([0-9]*\.?[0-9]+)\s*%?\s*$")


def parse_threshold(text: str) -> Threshold:
    """Parse ``time:5%`` (a percent; the ``%`` is optional) into a :class:`Threshold`."""
    match = _THRESHOLD.match(text.lower())
    if not match:
        raise CompareError(f"cannot read gate {text!r}: write METRIC:PERCENT, e.g. time:5%")
    metric, number = match.group(1), float(match.group(2))
    if metric not in GATES:
        raise CompareError(f"unknown metric {metric!r} in {text!r}: choose from {', '.join(GATES)}")
    return Threshold(metric, number / 100)


@dataclass(frozen=True)
class MetricResult:
    """One metric of one matched point. ``base``/``new`` in the metric's unit."""

    metric: str
    gate: str
    base: float
    new: float
    ratio: float
    low: float
    high: float
    significant: bool
    limit: Optional[float]
    regression: bool
    note: str = ""


@dataclass(frozen=True)
class PointResult:
    """A point present and finished on both sides, with its compared metrics."""

    workload: str
    setting: str
    interpreter: str
    base_size: Optional[int]
    new_size: Optional[int]
    base_loops: Optional[int]
    new_loops: Optional[int]
    metrics: tuple[MetricResult, ...]

    @property
    def label(self) -> str:
        """``workload@setting``."""
        return f"{self.workload}@{self.setting}"

    @property
    def regression(self) -> bool:
        """True when any gated metric regressed."""
        return any(m.regression for m in self.metrics)


@dataclass(frozen=True)
class FailedPoint:
    """A matched point that did not finish on one side or both; not compared."""

    label: str
    side: str
    reason: str

    @property
    def regression(self) -> bool:
        """A point that finished on the base side and fails on the new side is a regression
        (unless the comparison allows missing points)."""
        return self.side == "new"


@dataclass(frozen=True)
class Comparison:
    """Everything ``gctune compare`` reports; ``exit_code`` is the gate's verdict."""

    base: str
    new: str
    base_python: str
    new_python: str
    thresholds: tuple[Threshold, ...]
    points: tuple[PointResult, ...]
    failed: tuple[FailedPoint, ...] = ()
    only_in_base: tuple[str, ...] = ()
    only_in_new: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    rule: str = field(default=RULE)
    damaged: tuple[str, ...] = ()
    """Point files of either side that could not be read and were left out, one line each."""
    allow_missing: bool = False
    """When False, a point of base missing from new (not measured, or its file damaged)
    or failed in new fails the gate: a change that breaks a workload outright must not
    pass for lack of numbers."""

    @property
    def regressions(self) -> list[str]:
        """One line per regression: ``workload@setting: metric +12.3% [...]``."""
        lines = [
            f"{p.label}: {m.metric} {_pct(m.ratio)} [{_pct(m.low)}, {_pct(m.high)}] "
            f"beyond {m.gate}:{(m.limit or 0) * 100:g}%"
            for p in self.points
            for m in p.metrics
            if m.regression
        ]
        if not self.allow_missing:
            lines += [
                f"{f.label}: failed on the new side: {f.reason}"
                for f in self.failed
                if f.regression
            ]
            lines += [f"{label}: missing on the new side" for label in self.only_in_base]
        return lines

    @property
    def exit_code(self) -> int:
        """0 when no gate failed, 1 on a regression."""
        return 1 if self.regressions else 0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary; ratios that are infinite or undefined become ``null``."""
        data = asdict(self)
        data["thresholds"] = {t.metric: t.limit for t in self.thresholds}
        for point, out in zip(self.points, data["points"]):
            out["regression"] = point.regression
        for failed, out in zip(self.failed, data["failed"]):
            out["regression"] = failed.regression and not self.allow_missing
        data.update(
            regression=bool(self.regressions),
            regressions=self.regressions,
            exit_code=self.exit_code,
        )
        return _jsonable(data)  # type: ignore[no-any-return]


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _pct(ratio: float) -> str:
    return "from 0" if math.isinf(ratio) else f"{(ratio - 1) * 100:+.1f}%"
