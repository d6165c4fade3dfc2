"""Short-lived tuples, dicts and lists with no reference cycles at all.

Each step builds one batch list of ``size`` records and keeps it alive until the step
ends. A record is a dict ``{"id": int, "pos": (int, int), "tags": [int, int, int]}``, so
the step allocates ``3 * size + 1`` GC-tracked containers (dict, tuple and list per
record, plus the batch), then groups the records into a dict of lists of tuples
(``size`` more tuples, up to 16 more lists, one more dict) and reads everything back
into ``state.checksum``. Nothing refers back to anything that refers to it, so
reference counting frees every object when the step returns; the cyclic collector
never finds garbage here and only costs time. Holding the batch until the end is
deliberate: the young-generation counter counts allocations net of deallocations, so
it has to climb for collections to run at all. Only the integer checksum outlives a step.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TypedDict

DEFAULT_SIZE: int = 2_000
SIZE_HELP: str = "records (dict + tuple + list each) allocated per step"

_MASK = (1 << 64) - 1
_GROUPS = 16


class _Record(TypedDict):
    id: int
    pos: tuple[int, int]
    tags: list[int]


@dataclass
class State:
    """Per-worker state: nothing long-lived besides the seeded generator."""

    size: int
    rng: random.Random
    checksum: int = 0


def setup(size: int) -> State:
    """Return the state; nothing is prebuilt, all allocation happens in ``step``."""
    return State(size=size, rng=random.Random(0xAC1C))


def step(state: State) -> None:
    """Build a batch of acyclic records, group and read it, then let it all go."""
    bits = state.rng.getrandbits
    batch: list[_Record] = []
    for i in range(state.size):
        x = bits(16)
        batch.append({"id": i, "pos": (x, bits(16)), "tags": [x & 7, x >> 13, i % _GROUPS]})

    groups: dict[int, list[tuple[int, int]]] = {}
    for record in batch:
        pos = record["pos"]
        tags = record["tags"]
        groups.setdefault(tags[2], []).append((pos[0] ^ pos[1], tags[0] + tags[1]))

    acc = state.checksum
    for key in sorted(groups):
        for a, b in groups[key]:
            acc = (acc * 1_000_003 + key * 65_537 + a * 31 + b) & _MASK
    state.checksum = acc
