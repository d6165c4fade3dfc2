"""A point's race record: the rounds it was measured in, and why its measuring stopped.

``race`` in a point file holds ``rounds`` and ``stopped``, a sentence for people. Since
the race record became structured, it also holds ``end`` (one of :data:`ENDS`: what
kind of stop it was) and, for a setting that stopped because another did the same GC
work, ``twin`` (that setting). Files written before carry the sentence only:
:func:`race_stop` reads their kind from the words the sweep wrote then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional

__all__ = [
    "DECIDED",
    "ENDS",
    "FAILED",
    "IDENTICAL",
    "OTHER",
    "OUT",
    "OVER",
    "ROUND_CAP",
    "Stop",
    "race_stop",
]

OUT = "out"  # racing stopped it: slower than the leader and off the front
IDENTICAL = "identical"  # no collection, the same GC work as its twin still racing
ROUND_CAP = "round-cap"  # the most rounds were measured
OVER = "over"  # the race ended for every setting still in it (a leader separated)
DECIDED = "decided"  # decision rounds about a close candidate ended
FAILED = "failed"  # the point failed
OTHER = "other"  # an older file's sentence of no known kind
ENDS = (OUT, IDENTICAL, ROUND_CAP, OVER, DECIDED, FAILED, OTHER)

# Words of the sentences older files carry (format 2 before ``end``), and still written
IDENTICAL_WORK = "the same GC work as "
_DECISION_ENDED = "decided after round"


@dataclass(frozen=True)
class Stop:
    """Why a point's measuring stopped: its kind (``end``), the sentence, and the twin
    setting of an ``identical`` stop."""

    end: str
    text: str
    twin: Optional[str] = None

    def fields(self) -> dict[str, Any]:
        """The race record's fields for this stop."""
        return {"stopped": self.text, "end": self.end, **({"twin": self.twin} if self.twin else {})}


def race_stop(race: Optional[Mapping[str, Any]]) -> Optional[Stop]:
    """The stop a point's race record holds, None while the point races (or never did)."""
    if not race or not race.get("stopped"):
        return None
    text = str(race["stopped"])
    end, twin = race.get("end"), race.get("twin")
    if isinstance(end, str) and end in ENDS:
        return Stop(end, text, twin if isinstance(twin, str) else None)
    return _older(text)


def _older(text: str) -> Stop:
    """The kind of a stop recorded as a sentence only, read as gctune read it then."""
    if IDENTICAL_WORK in text:
        return Stop(IDENTICAL, text, text.split(IDENTICAL_WORK, 1)[1].split(" ", 1)[0])
    if _DECISION_ENDED in text:
        return Stop(DECIDED, text)
    if text.startswith("out after"):
        return Stop(OUT, text)
    if text == "failed":
        return Stop(FAILED, text)
    if text.startswith("round cap"):
        return Stop(ROUND_CAP, text)
    return Stop(OTHER, text)
