"""Doubly linked rings: every step links ``size`` nodes into a ring (each points at its
neighbours) and drops it, leaving one cycle of ``size`` objects for the collector.

Small enough to count under valgrind in minutes (0.3 ms a step at the default size): the
worked example of ``gctune sweep --measure counts --confirm`` in docs/counts-validity.md.

    gctune sweep --measure counts -s default -s 7000,10,10 -s freeze \\
        benchmarks/programs/rings.py:make --out DIR
    gctune sweep --resume --out DIR --confirm
"""

from __future__ import annotations

from typing import Callable, Optional


class Node:
    """One node of a ring."""

    def __init__(self, prev: Optional[Node]) -> None:
        self.prev = prev
        self.next: Optional[Node] = None


def make(size: int = 300) -> Callable[[], None]:
    """A step that builds one ring of ``size`` + 1 nodes and drops it."""

    def step() -> None:
        first = node = Node(None)
        for _ in range(size):
            node.next = Node(node)
            node = node.next
        node.next = first

    return step
