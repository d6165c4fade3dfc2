"""The counts tier on real interpreters under valgrind (tiny spans; skipped without it)."""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from gctune.counts import CountsUnavailable, measure_point, prepare, run_counted_span, valgrind

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("valgrind") is None,
        reason="valgrind is not installed (Debian's valgrind package): the counts tier "
        "cannot run here",
    ),
]

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


@pytest.fixture
def cycles(tmp_path: Path) -> str:
    path = tmp_path / "cycles.py"
    path.write_text(textwrap.dedent(CYCLES))
    return f"{path}:make"


def test_the_same_counted_span_counts_the_same_every_time(cycles: str, tmp_path: Path) -> None:
    workdir = tmp_path / "span"
    workdir.mkdir()
    prepare(sys.executable, cycles, "default", workdir=workdir, size=300)
    runs = [
        run_counted_span(
            sys.executable, cycles, "default", workdir=workdir, fulls=1, max_steps=40, size=300
        )
        for _ in range(2)
    ]
    assert runs[0].events == runs[1].events
    assert runs[0].events["Ir"] > 0 and "DLmr" in runs[0].events
    assert runs[0].collections == runs[1].collections
    assert runs[0].steps == runs[1].steps


def test_a_count_point_differences_two_spans(cycles: str) -> None:
    default = measure_point(sys.executable, cycles, "default", fulls=1, max_steps=40, size=300)
    disabled = measure_point(sys.executable, cycles, "disabled", fulls=1, max_steps=40, size=300)
    assert default.steps > 0 and default.instructions_per_step > 0
    assert default.cycles_per_step >= default.instructions_per_step
    assert default.collections_per_step[0] > 0
    assert disabled.collections_per_step == (0.0, 0.0, 0.0)
    assert not disabled.whole_cycles  # no full collection ends a disabled span
    if default.gc_instructions_per_step is None:
        pytest.skip("this interpreter has no collector symbols: GC cost not attributed")
    assert default.gc_instructions_per_step > 0
    assert disabled.gc_instructions_per_step == 0
    share = default.gc_share
    assert share is not None and 0 < share < 1


def test_without_valgrind_the_error_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(CountsUnavailable, match=r"apt-get install valgrind"):
        valgrind()
