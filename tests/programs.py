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
