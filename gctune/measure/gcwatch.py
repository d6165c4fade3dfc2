"""Noticing a measured program that drives the collector itself.

gctune applies a GC setting and measures the program under it; a program that calls
``gc.set_threshold()``, ``gc.disable()``, ``gc.enable()``, ``gc.freeze()``,
``gc.unfreeze()`` or ``gc.collect()`` in its steps changes what runs under it, and
every setting then measures the program's own choice. In a span worker the ``gc``
module's functions are wrapped before the workload is imported (so a
``from gc import collect`` at import binds the wrapper too) and count their calls from the
moment the setting is applied until the span ends; gctune's own calls run with counting
paused. The counts go into the run's probe data as ``gc_calls``.

This module is imported inside measured workers: 3.9+, standard library only.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable, Optional

__all__ = ["CHANGES", "WATCHED", "GcWatch", "describe_calls"]

# gc functions that change the setting gctune applied (collect only adds collections)
CHANGES = ("set_threshold", "disable", "enable", "freeze", "unfreeze")
WATCHED = ("collect", *CHANGES)


class GcWatch:
    """Counts the program's calls to the ``gc`` functions of ``WATCHED``."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.counting = False
        self._originals: dict[str, Callable[..., Any]] = {}

    def install(self) -> None:
        """Wrap the ``gc`` module's functions (calls are not counted until :meth:`start`)."""
        for name in WATCHED:
            original = getattr(gc, name, None)
            if original is None or name in self._originals:
                continue
            self._originals[name] = original
            setattr(gc, name, self._wrap(name, original))

    def _wrap(self, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def counted(*args: Any, **kwargs: Any) -> Any:
            if self.counting:
                self.calls[name] = self.calls.get(name, 0) + 1
            return original(*args, **kwargs)

        return counted

    def start(self) -> None:
        """Count the program's calls from now on."""
        self.counting = True

    @contextmanager
    def paused(self) -> Iterator[None]:
        """gctune's own calls to the collector: not counted."""
        was, self.counting = self.counting, False
        try:
            yield
        finally:
            self.counting = was


def describe_calls(calls: dict[str, int], steps: Optional[int] = None) -> str:
    """``gc.set_threshold() 40 times, gc.collect() 12 times`` (changes first)."""
    order = sorted(calls, key=lambda n: (n not in CHANGES, WATCHED.index(n) if n in WATCHED else 9))
    parts = [f"gc.{n}() {calls[n]:,} time{'s' if calls[n] != 1 else ''}" for n in order]
    text = ", ".join(parts)
    return f"{text} in {steps:,} steps" if steps else text
