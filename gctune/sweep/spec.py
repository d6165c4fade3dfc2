"""What a sweep measures (:class:`SweepSpec`: workloads or a program, settings, mode,
budgets, interpreters), the points it plans, and its defaults; saved in the manifest so
that ``--resume`` measures the same."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Optional

from gctune.errors import UserError
from gctune.measure.catalog import workload_ids
from gctune.sweep.modes import mode
from gctune.sweep.racing import DEFAULT_MIN_GAIN
from gctune.sweep.rounds import RoundsConfig

DEFAULT_MAX_MEMORY = 4 * 1024**3


DEFAULT_TIMEOUT = 600.0


# quick, for --command programs under pyperf: 6 worker processes x 3 values.


class SweepError(UserError):
    """A sweep that cannot start or go on; the message is one line for the user."""


@dataclass(frozen=True)
class SweepSpec:
    """What a sweep measures and how. Sizes in bytes, times in seconds."""

    workloads: tuple[str, ...]
    settings: tuple[str, ...]
    size: Optional[int] = None
    mode: str = "normal"
    processes: Optional[int] = None
    values: Optional[int] = None
    min_time: Optional[float] = None
    timeout: float = DEFAULT_TIMEOUT
    max_memory: int = DEFAULT_MAX_MEMORY
    python: str = field(default_factory=lambda: sys.executable)
    # An unchanged program to run (argv) instead of workloads; ``workloads`` then holds
    # its one name. ``cwd``: where points run (module names and relative paths resolve).
    command: Optional[tuple[str, ...]] = None
    cwd: Optional[str] = None
    # Rounds of steady-state spans (workloads; see gctune.sweep.rounds). None: the mode's.
    rounds: Optional[int] = None
    min_rounds: Optional[int] = None
    max_point_time: Optional[float] = None
    min_gain: float = DEFAULT_MIN_GAIN
    racing: bool = True
    # decision rounds after the last round (gctune.sweep.decide); None: the mode's
    decide_rounds: Optional[int] = None
    recycle_steps: Optional[int] = None
    # Several interpreters measured side by side (``--python A --python B``): every
    # workload runs under each, interleaved in the same rounds; ``python`` is the first.
    pythons: tuple[str, ...] = ()
    # One round across all workloads (base and changed workload side by side in CI).
    interleave: bool = False

    def rounds_config(self, seed: str) -> RoundsConfig:
        """Rounds, span budget and racing of this spec (the mode's unless given)."""
        chosen = mode(self.mode)
        low, high, budget = chosen.min_rounds, chosen.max_rounds, chosen.span_budget_s
        high = self.rounds if self.rounds is not None else high
        low = min(self.min_rounds if self.min_rounds is not None else low, high)
        return RoundsConfig(
            min_rounds=low,
            max_rounds=high,
            span_budget_s=self.max_point_time if self.max_point_time is not None else budget,
            min_gain=self.min_gain,
            racing=self.racing,
            seed=seed,
            recycle_steps=self.recycle_steps,
            decide_rounds=(
                self.decide_rounds if self.decide_rounds is not None else chosen.decide_rounds
            ),
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form stored in the manifest."""
        data = asdict(self)
        data["workloads"] = list(self.workloads)
        data["settings"] = list(self.settings)
        data["command"] = list(self.command) if self.command is not None else None
        data["pythons"] = list(self.pythons)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SweepSpec:
        """Rebuild a spec stored by :meth:`to_json`."""
        command = data.get("command")
        known = {f.name for f in fields(cls)}
        return cls(
            **{
                **{k: v for k, v in data.items() if k in known},
                "workloads": tuple(data["workloads"]),
                "settings": tuple(data["settings"]),
                "command": tuple(command) if command is not None else None,
                "pythons": tuple(data.get("pythons") or ()),
            }
        )


@dataclass(frozen=True)
class PointPlan:
    """One point to measure: its workload spec and id, and its setting id."""

    workload: str
    workload_id: str
    setting: str


def plan_points(spec: SweepSpec) -> list[PointPlan]:
    """Every point of a sweep, ``default`` first within each workload."""
    settings = list(spec.settings)
    if "default" in settings:
        settings.remove("default")
        settings.insert(0, "default")
    ids = workload_ids(list(spec.workloads))
    return [PointPlan(w, i, s) for w, i in zip(spec.workloads, ids) for s in settings]


_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str) -> int:
    """Parse a memory size such as ``512M``, ``4G`` or ``1.5GiB`` into bytes."""
    raw = text.strip().lower().removesuffix("ib").removesuffix("b") if text else ""
    number, unit = raw, ""
    if raw and raw[-1] in "kmgt":
        number, unit = raw[:-1], raw[-1]
    try:
        value = float(number)
    except ValueError:
        raise SweepError(f"cannot read memory size {text!r}; try 512M or 4G") from None
    if value <= 0:
        raise SweepError(f"memory size {text!r} must be positive")
    return int(value * _SIZE_UNITS[unit])
