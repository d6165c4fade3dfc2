"""pyperformance's async_generators benchmark as a gctune workload.

``make(size)`` returns a step that walks a 100,000-node binary tree ``size`` times with
recursive async generators, in one event loop: about a second per step at the default
size here (CPython 3.11, a shared 2-core machine).

Wrapped the way a user wraps an asyncio program for gctune: the step is a plain function
that runs the event loop to the end. Needs ``pip install pyperformance`` (1.14.x used).

    gctune sweep -w benchmarks/programs/async_generators.py:make
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


def make(size: int = 4) -> Callable[[], None]:
    """A step of ``size`` walks of the tree."""
    bench = load_benchmark("bm_async_generators")

    async def walks() -> None:
        for _ in range(size):
            await bench.bench_async_generators()

    return lambda: asyncio.run(walks())


def make_nodes(size: int = 20_000) -> Callable[[], None]:
    """A step that builds a ``size``-node binary tree and walks it once with recursive
    async generators: a fifth of pyperformance's tree at the default, small enough to
    count under valgrind."""
    bench = load_benchmark("bm_async_generators")

    async def walk() -> None:
        async for _ in bench.tree(range(size)):
            pass

    return lambda: asyncio.run(walk())
