"""Small user programs the tests measure (written to a file, loaded as ``FILE.py:make``)."""

from __future__ import annotations

CYCLES = """
    '''Parent links: every step leaves a few hundred small cycles.'''
    class Node:
        def __init__(self, parent):
            self.parent = parent
            self.children = []

    def make(size):
        def step():
            root = Node(None)
            for _ in range(size):
                root.children.append(Node(root))
        return step
"""


SLOW_CYCLE = """
    '''Small steps, one survivor each: full collections come every several thousand steps
    (request_loop's come every 1,058).'''
    class Node:
        def __init__(self, parent):
            self.parent = parent
            self.children = []

    WORK = 0  # loop turns a step, allocating no container (BUSY_CYCLE's CPU)

    def make(size):
        kept = [None] * 50_000
        n = [0]
        def step():
            root = Node(None)
            for _ in range(size):
                root.children.append(Node(root))
            total = 0
            for i in range(WORK):
                total += i
            n[0] += 1
            kept[n[0] % len(kept)] = [n[0]]
        return step
"""

BUSY_CYCLE = SLOW_CYCLE.replace("WORK = 0", "WORK = 2000")
"""SLOW_CYCLE with CPU work in each step: default's count point would run minutes under
valgrind."""
