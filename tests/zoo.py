"""The program zoo: one entry per program shape a user may bring, none of which may
crash a sweep (tests/integration/test_zoo.py measures them all, for real).

Each entry is a workload file with a ``make(size)`` factory (the shape users write) and
what must become of it: a finished point (``reason`` None) or a failed one whose one-line
reason contains ``reason``. Sizes and times are small: the zoo runs with spans of
``SPAN_S`` seconds instead of quick mode's 1 s, so a "long" step here is ``LONG_S``
(2.4x the span, as 2.4 s steps are in quick mode) and the sweep stays within seconds per
shape. ``check`` runs on every finished point of the shape, ``check_sweep`` on the
sweep directory after the sweep and its resume.

To add a shape: append a ``Shape`` to ``ZOO``. Keep its setup and steps small (the whole
zoo is measured twice per ``make test``). A shape that needs command-line options of its
own (a memory cap, a size) gives them as ``args``: it is then swept alone, in quick mode
(slower: use sparingly). One that gctune must refuse before measuring (say a --size beyond
64 bits) gives ``refused``, a part of the one-line error expected.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from gctune.store.results import Point

__all__ = ["LONG_S", "SPAN_S", "ZOO", "Shape", "write_zoo"]

SPAN_S = 0.025  # the zoo's span budget (--max-point-time)
LONG_S = 0.06  # a step longer than a span


@dataclass(frozen=True)
class Shape:
    """One program shape: its source (defining ``make(size)``) and its expected end."""

    name: str
    source: str
    reason: Optional[str] = None
    """None: every point finishes; else each point fails with a reason containing this."""
    check: Optional[Callable[[Point], None]] = None
    check_sweep: Optional[Callable[[Path], None]] = None
    args: Sequence[str] = field(default_factory=tuple)
    """Options of its own: the shape is then swept alone, in quick mode, with them."""
    refused: Optional[str] = None
    """The sweep must refuse the shape (its ``args``) before measuring: one line with this."""

    @property
    def spec(self) -> str:
        return f"{self.name}.py:make"

    @property
    def workload_id(self) -> str:
        return f"{self.name}-make"


def _steps_at_least_one(point: Point) -> None:
    assert all(r.values and (r.steps or 0) >= 1 for r in point.runs)


def _calls(name: str) -> Callable[[Point], None]:
    def check(point: Point) -> None:
        calls = [r.gc_calls for r in point.runs]
        assert all(c.get(name, 0) > 0 for c in calls), calls

    return check


def _no_calls(point: Point) -> None:
    # gctune's own collect/freeze/set_threshold are not the program's
    assert all(r.gc_calls == {} for r in point.runs), [r.gc_calls for r in point.runs]


def _collections_seen(point: Point) -> None:
    if point.setting != "disabled":
        assert sum(r.collections for r in point.runs) > 0


def _log_capped(sweep: Path) -> None:
    from gctune.sweep.isolation import LOG_CAP

    for log in (sweep / "logs").glob("printer-make@*.log"):
        text = log.read_text(errors="replace")
        assert log.stat().st_size <= LOG_CAP + 64 * 1024, (log, log.stat().st_size)
        if log.name.endswith("@default.log"):
            assert "bytes of output cut here" in text


ZOO: tuple[Shape, ...] = (
    Shape(
        "detached_child",
        '''
        """Starts a detached child (a session of its own) that outlives the step.

        While a file ``hold`` lies beside it (at most 10 s), the first step then waits, so
        that a test can kill the sweep while the child is surely alive."""
        import os
        import subprocess
        import sys
        import time

        HOLD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hold")

        def make(size=1):
            started = []
            def step():
                if not started:
                    code = "import time; time.sleep(300)"
                    started.append(subprocess.Popen(
                        [sys.executable, "-c", code, __file__], start_new_session=True
                    ))
                    until = time.monotonic() + 10
                    while os.path.exists(HOLD) and time.monotonic() < until:
                        time.sleep(0.02)
                for _ in range(200):
                    a = []
                    a.append(a)
            return step
        ''',
    ),
    Shape(
        "long_steps",
        f'''
        """Steps of {LONG_S} s of short-lived containers, one cycle each: longer than a
        whole span."""
        import time

        def make(size=1):
            def step():
                began = time.perf_counter()
                while time.perf_counter() - began < {LONG_S} * size:
                    keep = [[] for _ in range(100)]
                keep.append(keep)
            return step
        ''',
        check=_steps_at_least_one,
    ),
    Shape(
        "outlasts_budget",
        f'''
        """One step outlasts the span's whole stretched budget (4 spans): {8 * SPAN_S} s."""
        import time

        def make(size=1):
            def step():
                time.sleep({8 * SPAN_S} * size)
                [[] for _ in range(1000)]
            return step
        ''',
        check=_steps_at_least_one,
    ),
    Shape(
        "fast_steps",
        '''
        """Steps of about 20 µs, each a few cycles."""
        def make(size=1):
            def step():
                for _ in range(20 * size):
                    a = []
                    a.append(a)
            return step
        ''',
        check=_collections_seen,
    ),
    Shape(
        "varying_steps",
        '''
        """Step times that vary 100x: every tenth step does 100 times the work."""
        def make(size=1):
            n = [0]
            def step():
                n[0] += 1
                for _ in range(20 * size * (100 if n[0] % 10 == 0 else 1)):
                    a = {}
                    a["self"] = a
            return step
        ''',
    ),
    Shape(
        "asyncio_loop",
        '''
        """Each step runs an event loop: tasks that build and drop cycles (3,000 a step,
        more than a threshold of 2,000: every step holds a collection, however few steps
        a span on a loaded machine measures)."""
        import asyncio

        async def leaf(n):
            node = {"n": n, "cycles": [[] for _ in range(150)]}
            for cycle in node["cycles"]:
                cycle.append(cycle)
            await asyncio.sleep(0)
            return node["n"]

        async def tree(size):
            return sum(await asyncio.gather(*(leaf(i) for i in range(size))))

        def make(size=20):
            return lambda: asyncio.run(tree(size))
        ''',
        check=_collections_seen,
    ),
    Shape(
        "async_def_step",
        '''
        """A factory that returns an async def step: calling it runs nothing."""
        import asyncio

        def make(size=1):
            async def step():
                await asyncio.sleep(0)
            return step
        ''',
        reason="lambda: asyncio.run(step())",
    ),
    Shape(
        "generator_step",
        '''
        """A factory that returns a generator function: calling it runs nothing."""
        def make(size=1):
            def step():
                yield [[] for _ in range(size)]
            return step
        ''',
        reason="collections.deque(step(), maxlen=0)",
    ),
    Shape(
        "threads",
        '''
        """Each step starts four threads that allocate cycles, and joins them."""
        import threading

        def work(n):
            for _ in range(n):
                a = []
                a.append(a)

        def make(size=200):
            def step():
                threads = [threading.Thread(target=work, args=(size,)) for _ in range(4)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
            return step
        ''',
    ),
    Shape(
        "large_heap",
        '''
        """A large heap built in setup, near the --max-memory cap of its sweep."""
        def make(size=1):
            heap = [bytearray(1024 * 1024) for _ in range(300 * size)]  # 300 MiB resident
            objects = [[i] for i in range(100_000)]
            def step():
                # acyclic: even with the collector off it stays under the cap
                return len([[] for _ in range(50)]) + len(heap) + len(objects)
            return step
        ''',
        args=("--max-memory", "400M"),
    ),
    Shape(
        "slow_setup",
        f'''
        """A setup that takes longer than a span's budget ({6 * SPAN_S} s)."""
        import time

        def make(size=1):
            time.sleep({6 * SPAN_S})
            state = [[i] for i in range(10_000)]
            def step():
                for _ in range(50):
                    a = []
                    a.append(a)
                return len(state)
            return step
        ''',
    ),
    Shape(
        "raises_100th",
        '''
        """A step that raises on its 100th call."""
        def make(size=1):
            calls = [0]
            def step():
                calls[0] += 1
                if calls[0] == 100:
                    raise ValueError("step 100 failed on purpose")
                for _ in range(500):
                    a = []
                    a.append(a)
            return step
        ''',
        reason="ValueError: step 100 failed on purpose",
    ),
    Shape(
        "printer",
        '''
        """Prints 1,000 lines (1 MB) to stdout and one to stderr on every step: each
        point prints many times what its log keeps (at 200 KB a step, a loaded machine
        ran too few steps to fill the 4 MiB log)."""
        import sys

        LINE = "x" * 1000

        def make(size=1):
            def step():
                for i in range(1000):
                    print(LINE, i)
                print("a line on stderr", file=sys.stderr)
            return step
        ''',
        check_sweep=_log_capped,
    ),
    Shape(
        "calls_collect",
        '''
        """Calls gc.collect() itself every tenth step."""
        import gc
        from gc import collect

        def make(size=1):
            n = [0]
            def step():
                n[0] += 1
                for _ in range(200):
                    a = []
                    a.append(a)
                if n[0] % 10 == 0:
                    collect()
            return step
        ''',
        check=_calls("collect"),
    ),
    Shape(
        "sets_threshold",
        '''
        """Sets its own thresholds in every step."""
        import gc

        def make(size=1):
            def step():
                gc.set_threshold(100, 5, 5)
                for _ in range(200):
                    a = []
                    a.append(a)
            return step
        ''',
        check=_calls("set_threshold"),
    ),
    Shape(
        "disables_gc",
        '''
        """Disables the collector around the work of each step, and enables it again."""
        import gc

        def make(size=1):
            def step():
                gc.disable()
                keep = [[] for _ in range(200)]
                keep.append(keep)
                gc.enable()
            return step
        ''',
        check=_calls("disable"),
    ),
    Shape(
        "freezes",
        '''
        """Freezes the heap in every step."""
        import gc

        def make(size=1):
            keep = []
            def step():
                keep.append([[] for _ in range(20)])
                gc.freeze()
            return step
        ''',
        check=_calls("freeze"),
    ),
    Shape(
        "forks",
        '''
        """Each step forks a multiprocessing child that allocates, and joins it."""
        import multiprocessing

        def work(n):
            for _ in range(n):
                a = []
                a.append(a)

        def make(size=1000):
            context = multiprocessing.get_context("fork")
            def step():
                child = context.Process(target=work, args=(size,))
                child.start()
                child.join()
                if child.exitcode != 0:
                    raise RuntimeError(f"child exited {child.exitcode}")
            return step
        ''',
    ),
    Shape(
        "sleep_bound",
        f'''
        """A step that mostly sleeps, then builds 1,000 lists: not CPU-bound."""
        import time

        def make(size=1):
            def step():
                time.sleep({SPAN_S / 10})
                return len([[i] for i in range(1000)])
            return step
        ''',
    ),
    Shape(
        "huge_size",
        '''
        """Any program, given a --size no result file could hold (beyond 64 bits)."""
        def make(size=1):
            return lambda: [[] for _ in range(10)]
        ''',
        args=("--size", str(2**64)),
        refused="'--size'",
    ),
    Shape(
        "changes_cwd",
        '''
        """Each step moves to another working directory and stays there."""
        import os
        import tempfile

        def make(size=1):
            def step():
                os.chdir(tempfile.gettempdir() if os.getcwd() != tempfile.gettempdir() else "/")
                for _ in range(200):
                    a = []
                    a.append(a)
            return step
        ''',
        check=_no_calls,
    ),
)


def write_zoo(directory: Path, shapes: Sequence[Shape] = ZOO) -> list[str]:
    """Write each shape's file into ``directory``; return their workload specs."""
    directory.mkdir(parents=True, exist_ok=True)
    for shape in shapes:
        (directory / f"{shape.name}.py").write_text(textwrap.dedent(shape.source))
    return [shape.spec for shape in shapes]
