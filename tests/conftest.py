from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.versions import VERSIONS, Interpreter, locate

# Tiny, real measurements: 2 rounds of one worker span each, spans of at most 50 ms.
FAST = ("--rounds", "2", "--max-point-time", "0.05", "--size", "20")


@pytest.fixture
def fast_args() -> tuple[str, ...]:
    """CLI options that keep a real sweep to about a second per point."""
    return FAST


@pytest.fixture(scope="session", params=VERSIONS, ids=VERSIONS)
def real_python(request: pytest.FixtureRequest) -> Interpreter:
    """Each real CPython of the version tests (tests/versions.py); a skip where absent."""
    found = locate(request.param)
    if isinstance(found, str):
        pytest.skip(found)
    return found


@pytest.fixture
def faulty_workloads(tmp_path: Path) -> dict[str, Path]:
    """Workload files outside the repository that crash, hang, or fail at step N."""
    sources = {
        "crash": """
            '''Aborts the worker on its first step.'''
            import os
            def step(state):
                os.abort()
        """,
        "hang": """
            '''Never finishes a step.'''
            import time
            def step(state):
                time.sleep(3600)
        """,
        "fails_later": """
            '''Raises on its fifth step.'''
            def setup(size):
                return {"n": 0}
            def step(state):
                state["n"] += 1
                if state["n"] == 5:
                    raise RuntimeError("step 5 failed on purpose")
        """,
        "hog": """
            '''Keeps everything it allocates.'''
            KEEP = []
            def step(state):
                KEEP.append(bytearray(100 * 1024 * 1024))
        """,
    }
    paths = {}
    for name, src in sources.items():
        path = tmp_path / f"{name}.py"
        path.write_text(textwrap.dedent(src))
        paths[name] = path
    return paths
