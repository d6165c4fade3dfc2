"""What a point's runs say about the program driving the collector itself.

The span worker counts the program's calls to ``gc.set_threshold()``, ``gc.disable()``,
``gc.enable()``, ``gc.freeze()``, ``gc.unfreeze()`` and ``gc.collect()`` from the
moment gctune applied the setting (:mod:`gctune.measure.gcwatch`, ``gc_calls`` of each run). A
call of the first five changes the setting under gctune: the point then measures the
program's own setting, not the one it is named for. ``gc.collect()`` leaves the setting
alone but adds collections that every setting pays for. Calls made from C (an extension calling
``PyGC_Disable()``) are not seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from gctune.measure.gcwatch import CHANGES, describe_calls
from gctune.store.results import Point, RunMetrics

__all__ = ["Interference", "interference"]


@dataclass(frozen=True)
class Interference:
    """The program's own use of the collector in one point: ``changed`` when it changed
    the setting, and one line saying what it did and what that means."""

    changed: bool
    line: str


def _steps_since_applied(run: RunMetrics) -> int:
    """Steps a span ran from the setting's application on (warm-up, settling, measured):
    the window in which the program's gc calls were counted."""
    span = run.span or {}
    settle = span.get("settle") or {}
    return int(span.get("warmup_steps", 0)) + int(settle.get("steps", 0)) + (run.steps or 0)


def interference(point: Point) -> Optional[Interference]:
    """How the program of ``point`` drove the collector while measured; None: it did not."""
    if not point.ok:
        return None
    calls: dict[str, int] = {}
    for run in point.runs:
        for name, n in run.gc_calls.items():
            calls[name] = calls.get(name, 0) + n
    steps = sum(_steps_since_applied(run) for run in point.runs) or None
    if any(name in CHANGES for name in calls):
        return Interference(
            True,
            f"the program itself called {describe_calls(calls, steps)}: the setting gctune "
            "applied was changed under it, so this point measures the program's own setting "
            "(remove those calls, or measure without them, to compare settings)",
        )
    if calls:
        return Interference(
            False,
            f"the program itself called {describe_calls(calls, steps)}: its explicit "
            "collections are part of every setting's cost",
        )
    return None
