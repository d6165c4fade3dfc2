"""A large long-lived object graph plus cyclic churn: what older generations and freeze act on.

Setup builds about ``size`` long-lived GC-tracked containers: ``size // 3`` ``Entry``
instances (``__slots__``), each with a three-int ``tags`` list and a ``links`` dict
pointing at itself, the next entry in its group of 64 and the group's first entry, so
the heap is full of cycles that stay reachable for the whole run through
``state.entries`` and ``state.index``. Each step then serves 700 sessions: a session is
a ``Session`` whose ``items`` list holds two ``Item`` objects pointing back at it (a
four-object cycle) and which references one randomly chosen heap entry. Seven in eight
sessions are cyclic garbage when the step ends; every eighth is kept in a window of the
last 16 steps, so those cycles survive a few young collections, get promoted, and die
in an older generation. A step also allocates and drops 512 acyclic tuples, freed by
reference counting. That is 2,800 cyclic objects and about 500 acyclic ones per step,
and no growth once the window is full. The heap itself never changes: every full
collection traverses it and finds no garbage there, which is the work that
older-generation thresholds and ``gc.freeze`` save.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field

DEFAULT_SIZE: int = 300_000
SIZE_HELP: str = "long-lived containers built by setup"

_MASK = (1 << 64) - 1
_GROUP = 64
_SESSIONS = 700
_KEEP_EVERY = 8
_WINDOW = 16
_TUPLES = 512


class Entry:
    """One long-lived heap record; ``links`` makes every group a web of cycles."""

    __slots__ = ("hits", "key", "links", "tags")

    key: int
    hits: int
    tags: list[int]
    links: dict[str, Entry]

    def __init__(self, key: int, tags: list[int]) -> None:
        self.key = key
        self.hits = 0
        self.tags = tags
        self.links = {"self": self}


class Session:
    """Short-lived unit of work that references the heap and is referenced by its items."""

    __slots__ = ("entry", "items")

    entry: Entry
    items: list[Item]

    def __init__(self, entry: Entry) -> None:
        self.entry = entry
        self.items = []


class Item:
    """Back-reference to the owning session, which is what makes each session a cycle."""

    __slots__ = ("session", "value")

    session: Session
    value: int

    def __init__(self, session: Session, value: int) -> None:
        self.session = session
        self.value = value


@dataclass
class State:
    """The long-lived heap, the window of kept sessions and the seeded generator."""

    rng: random.Random
    entries: list[Entry]
    index: dict[int, Entry]
    recent: deque[list[Session]] = field(default_factory=lambda: deque(maxlen=_WINDOW))
    checksum: int = 0


def setup(size: int) -> State:
    """Build the long-lived heap of about ``size`` containers (at least one entry)."""
    rng = random.Random(0x10A6)
    count = max(1, size // 3)
    entries = [
        Entry(key, [rng.getrandbits(16), rng.getrandbits(16), rng.getrandbits(16)])
        for key in range(count)
    ]
    for start in range(0, count, _GROUP):
        group = entries[start : start + _GROUP]
        for i, entry in enumerate(group):
            entry.links["peer"] = group[(i + 1) % len(group)]
            entry.links["head"] = group[0]
    index = {entry.key: entry for entry in entries}
    return State(rng=rng, entries=entries, index=index)


def step(state: State) -> None:
    """Serve this step's sessions against the heap, keep a few, and drop the rest."""
    rng = state.rng
    index = state.index
    count = len(state.entries)
    acc = state.checksum
    kept: list[Session] = []
    for n in range(_SESSIONS):
        entry = index[rng.randrange(count)]
        session = Session(entry)
        peer = entry.links["peer"]
        session.items.append(Item(session, entry.tags[n % 3]))
        session.items.append(Item(session, peer.tags[n % 3]))
        entry.hits += 1
        acc = (acc * 1_000_003 + entry.key * 31 + session.items[0].value - peer.key) & _MASK
        if n % _KEEP_EVERY == 0:
            kept.append(session)
    state.recent.append(kept)

    bits = rng.getrandbits
    scratch = [(bits(16), n) for n in range(_TUPLES)]
    scratch.sort()
    for value, n in scratch[:: _TUPLES // 8]:
        acc = (acc * 1_000_003 + value * 257 + n) & _MASK
    state.checksum = acc
