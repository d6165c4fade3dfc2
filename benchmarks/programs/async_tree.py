"""pyperformance's async_tree benchmark as a gctune workload.

``make(size)`` returns a step that runs ``size`` whole trees (6 levels x 6 branches of
``asyncio.gather``, pyperformance's default "none" variant) in one event loop: about a
second per step at the default size here (CPython 3.11, a shared 2-core machine).

This is how a user wraps an asyncio program for gctune: the step is a plain function that
runs the event loop to the end (``asyncio.run``); calling an ``async def`` would only
create a coroutine. Needs ``pip install pyperformance`` (1.14.x used) where gctune runs.

    gctune sweep -w benchmarks/programs/async_tree.py:make
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Callable


def load_benchmark(name: str) -> ModuleType:
    """pyperformance's ``bm_<name>/run_benchmark.py``, imported from where it is installed."""
    installed = importlib.import_module("pyperformance")  # pip install pyperformance
    root = Path(str(installed.__file__)).parent / "data-files" / "benchmarks"
    spec = importlib.util.spec_from_file_location(name, root / name / "run_benchmark.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make(size: int = 2) -> Callable[[], None]:
    """A step of ``size`` async trees."""
    bench = load_benchmark("bm_async_tree")

    async def trees() -> None:
        for _ in range(size):
            await bench.NoneAsyncTree().run()

    return lambda: asyncio.run(trees())


def make_small(size: int = 1) -> Callable[[], None]:
    """A step of ``size`` async trees of 5 levels (6 branches each): a sixth of a
    6-level tree each, small enough to count under valgrind (tens of ms per step)."""
    bench = load_benchmark("bm_async_tree")

    async def trees() -> None:
        for _ in range(size):
            await bench.NoneAsyncTree().recurse_with_gather(5)

    return lambda: asyncio.run(trees())
