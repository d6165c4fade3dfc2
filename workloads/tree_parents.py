"""AST/DOM-like trees with parent links, built and dropped every step.

Each step builds documents until ``size`` nodes exist in total. A document is a tree of
40 to 400 nodes shaped like nested markup: before each new node the builder closes zero
or more open nodes (likelier the deeper it is, so depth stays around 10), then opens the
new node inside the current one, all choices drawn from the seeded generator. A node is
a ``__slots__`` instance with a ``tag`` (from a fixed vocabulary), a ``parent``
reference, a ``children`` list and, for one node in three, an ``attrs`` dict of two
string items, so a step allocates ``2 * size`` GC-tracked objects plus ``size / 3``
dicts the collector does not track (they hold only strings). Every parent/child pair is
a reference cycle (``child.parent`` and ``parent.children``), so when the step drops its
list of roots reference counting frees none of the nodes and only the cyclic collector
can reclaim them. Before dropping them the step walks each tree depth first and climbs
``parent`` links from every leaf, as a renderer or linter would. Nothing is deliberately
kept alive across steps.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Optional

DEFAULT_SIZE: int = 1_200
SIZE_HELP: str = "tree nodes allocated per step"

_MASK = (1 << 64) - 1
_TAGS = ("div", "span", "p", "a", "ul", "li", "em", "code", "table", "tr", "td", "img")
_TAG_INDEX = {tag: i for i, tag in enumerate(_TAGS)}
_MIN_DOC = 40
_MAX_DOC = 400
_DEPTH_BIAS = 8.0


class Node:
    """One tree node; ``parent`` plus ``children`` make each edge a cycle."""

    __slots__ = ("attrs", "children", "parent", "tag")

    tag: str
    parent: Optional[Node]
    children: list[Node]
    attrs: Optional[dict[str, str]]

    def __init__(self, tag: str, parent: Optional[Node]) -> None:
        self.tag = tag
        self.parent = parent
        self.children = []
        self.attrs = None
        if parent is not None:
            parent.children.append(self)


@dataclass
class State:
    """Per-worker state: nothing long-lived besides the seeded generator."""

    size: int
    rng: random.Random
    checksum: int = 0


def setup(size: int) -> State:
    """Return the state; nothing is prebuilt, all allocation happens in ``step``."""
    return State(size=size, rng=random.Random(0x7EE5))


def _document(nodes: int, rng: random.Random) -> Node:
    root = Node("div", None)
    current = root
    depth = 0
    for n in range(1, nodes):
        # Closing gets likelier with depth so documents stay markup-shaped (depth ~10)
        # instead of degenerating into long chains.
        while depth > 0 and rng.random() < depth / (depth + _DEPTH_BIAS):
            assert current.parent is not None
            current = current.parent
            depth -= 1
        node = Node(_TAGS[rng.randrange(len(_TAGS))], current)
        if n % 3 == 0:
            node.attrs = {"class": _TAGS[n % len(_TAGS)], "id": "n" + str(n)}
        current = node
        depth += 1
    return root


def _digest(root: Node, acc: int) -> int:
    stack = [root]
    while stack:
        node = stack.pop()
        acc = (acc * 1_000_003 + _TAG_INDEX[node.tag] * 64 + len(node.children)) & _MASK
        if node.children:
            stack.extend(node.children)
        else:
            depth = 0
            up = node.parent
            while up is not None:
                depth += 1
                up = up.parent
            acc = (acc * 31 + depth) & _MASK
    return acc


def step(state: State) -> None:
    """Build this step's documents, walk them, then drop them as cyclic garbage."""
    rng = state.rng
    roots: list[Node] = []
    remaining = state.size
    while remaining > 0:
        nodes = min(rng.randint(_MIN_DOC, _MAX_DOC), remaining)
        roots.append(_document(nodes, rng))
        remaining -= nodes

    acc = state.checksum
    for root in roots:
        acc = _digest(root, acc)
    state.checksum = acc
