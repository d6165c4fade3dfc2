"""pyperformance's deltablue benchmark as a gctune workload.

``make(size)`` returns a step that runs DeltaBlue's chain and projection tests with
``size`` variables (pyperformance runs 100): a one-way constraint solver whose variables
and constraints point at each other, so every step leaves cyclic garbage. Needs
``pip install pyperformance`` (1.14.x used) where gctune runs.

    gctune sweep -w benchmarks/programs/deltablue.py:make
"""

from __future__ import annotations

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


def make(size: int = 100) -> Callable[[], None]:
    """A step of DeltaBlue with ``size`` variables per test."""
    bench = load_benchmark("bm_deltablue")
    return lambda: bench.delta_blue(size)
