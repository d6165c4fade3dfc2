"""gctune: measure and tune CPython's cyclic garbage collector.

Kept free of imports: this package is imported inside every measured worker.
"""

__version__ = "0.1.0"
