"""Which machine a result set was measured on, and whether two were measured on one.

Times from two machines differ by the machines as much as by the code: history and
compare take time differences only between result sets of one machine unless told
otherwise (as asv keys its results by machine). A sweep's manifest records, in its
``environment``: ``machine`` (the name given with ``--machine NAME`` or the environment
variable ``GCTUNE_MACHINE``, else the host name), ``hostname``, ``cpu_model``,
``cpu_count`` and ``python`` (the interpreter build; compared separately, see
:func:`gctune.analysis.compare.interpreter_label`).

A machine is its name, CPU model and number of CPUs. A result set written before
``machine`` was recorded is named by its host name; a field that one side does not
record is not held against it (nothing says the machines differ).
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Optional

from gctune.errors import UserError

__all__ = [
    "MACHINE_ENV",
    "Machine",
    "MachineError",
    "machine_name",
    "machines_apart",
    "named_machine",
]

MACHINE_ENV = "GCTUNE_MACHINE"


class MachineError(UserError, ValueError):
    """A machine name that cannot be recorded; one line for the user."""


@contextmanager
def named_machine(name: Optional[str]) -> Iterator[None]:
    """``--machine NAME``: the name :func:`machine_name` gives while the block runs (it
    passes through the environment, as ``$GCTUNE_MACHINE`` would); None: unchanged."""
    if name is None:
        yield
        return
    if not name.strip() or not name.isprintable():
        raise MachineError(f"--machine {name!r}: give a name on one line")
    before = os.environ.get(MACHINE_ENV)
    os.environ[MACHINE_ENV] = name.strip()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(MACHINE_ENV, None)
        else:
            os.environ[MACHINE_ENV] = before


def machine_name() -> Optional[str]:
    """This machine's name for results: ``$GCTUNE_MACHINE`` when set, else the host name."""
    given = os.environ.get(MACHINE_ENV, "").strip()
    return given or platform.node() or None


@dataclass(frozen=True)
class Machine:
    """What a result set says about the machine that measured it; None: not recorded."""

    name: Optional[str]
    cpu_model: Optional[str]
    cpu_count: Optional[int]

    @classmethod
    def of(cls, environment: Mapping[str, Any]) -> Machine:
        """The machine of a manifest's ``environment`` (older ones: by host name)."""
        name = environment.get("machine") or environment.get("hostname")
        count = environment.get("cpu_count")
        return cls(
            str(name) if name else None,
            str(environment["cpu_model"]) if environment.get("cpu_model") else None,
            count if isinstance(count, int) else None,
        )

    def label(self) -> str:
        """``ci-runner (AMD EPYC 7763, 4 CPUs)``; ``?`` for what is not recorded."""
        cpus = f"{self.cpu_count} CPUs" if self.cpu_count is not None else "? CPUs"
        return f"{self.name or '?'} ({self.cpu_model or '?'}, {cpus})"

    def differs_from(self, other: Machine) -> bool:
        """True when a field both record differs."""
        return any(
            a is not None and b is not None and a != b
            for a, b in (
                (self.name, other.name),
                (self.cpu_model, other.cpu_model),
                (self.cpu_count, other.cpu_count),
            )
        )


def machines_apart(base: Machine, new: Machine) -> Optional[str]:
    """``base`` and ``new`` named, when they are different machines; None when one."""
    if not base.differs_from(new):
        return None
    return f"{base.label()} and {new.label()}"
