"""Doubly linked rings that become cyclic garbage at the end of every step.

Each step allocates ``size`` ring nodes, linked into rings of 2 to 12 nodes (lengths
drawn from the seeded generator; the last ring takes what is left, possibly a single
self-linked node). A node is a ``__slots__`` instance with ``prev`` and ``next``
references to its neighbours, a two-int ``payload`` list and a 256-byte ``data`` buffer
(records in linked structures carry data; the buffer is not a container, so it adds
memory, not collector work), so a step allocates ``2 * size`` GC-tracked containers
plus one short list holding a head per ring. Every
ring is a reference cycle: when the step drops the head list, reference counting frees
that list but none of the nodes, and only the cyclic collector can reclaim them. With
the collector disabled, memory grows by every step's rings. Nothing is deliberately
kept alive across steps.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Optional

DEFAULT_SIZE: int = 2_000
SIZE_HELP: str = "ring nodes (node, payload list, data buffer) allocated per step"

_MASK = (1 << 64) - 1
_MIN_RING = 2
_MAX_RING = 12
DATA_BYTES = 256


class Node:
    """One ring member; ``prev``/``next`` are what make every ring a cycle."""

    __slots__ = ("data", "next", "payload", "prev")

    prev: Optional[Node]
    next: Optional[Node]
    payload: list[int]
    data: bytes

    def __init__(self, payload: list[int]) -> None:
        self.prev = None
        self.next = None
        self.payload = payload
        self.data = bytes(DATA_BYTES)


@dataclass
class State:
    """Per-worker state: nothing long-lived besides the seeded generator."""

    size: int
    rng: random.Random
    checksum: int = 0


def setup(size: int) -> State:
    """Return the state; nothing is prebuilt, all allocation happens in ``step``."""
    return State(size=size, rng=random.Random(0x5C7C))


def _ring(length: int, rng: random.Random) -> Node:
    head = Node([rng.getrandbits(16), length])
    tail = head
    for _ in range(length - 1):
        node = Node([rng.getrandbits(16), length])
        node.prev = tail
        tail.next = node
        tail = node
    tail.next = head
    head.prev = tail
    return head


def step(state: State) -> None:
    """Build this step's rings, walk each once both ways, then drop them as garbage."""
    rng = state.rng
    heads: list[Node] = []
    remaining = state.size
    while remaining > 0:
        length = min(rng.randint(_MIN_RING, _MAX_RING), remaining)
        heads.append(_ring(length, rng))
        remaining -= length

    acc = state.checksum
    for head in heads:
        forward = 0
        node = head
        while True:
            forward = forward * 31 + node.payload[0]
            nxt = node.next
            assert nxt is not None
            node = nxt
            if node is head:
                break
        prev = head.prev
        assert prev is not None
        acc = (acc * 1_000_003 + forward + prev.payload[0]) & _MASK
    state.checksum = acc
