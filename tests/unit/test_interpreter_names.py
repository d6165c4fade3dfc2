"""A sweep of several interpreters names each in its summary table and failed-point lines
(workload ids such as ``w[py3.11.7]``, which rich would otherwise read as markup)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gctune.present.sweep_tables import progress_bar, summary_tables
from gctune.store.results import load_sweep
from gctune.sweep.rounds import SpanEvent
from tests.unit.synthetic import Synth, write_sweep

FIRST, SECOND = "w[py3.11.7]", "w[py3.11.7-2]"


def test_each_interpreter_has_its_own_heading_and_failed_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = [1e-3] * 3
    sweep = write_sweep(
        tmp_path,
        [
            Synth(FIRST, "default", runs, spans=True),
            Synth(SECOND, "default", runs, spans=True),
            Synth(SECOND, "disabled", runs, reason="worker raised IndexError: [3]"),
        ],
    )
    _, points = load_sweep(sweep)
    summary_tables(points)
    out = capsys.readouterr().out
    assert FIRST in out and SECOND in out
    assert "IndexError: [3]" in out
    (failed,) = [p for p in points if not p.ok]
    with progress_bar("sweep") as update:
        update(SpanEvent(SECOND, "disabled", 1, 2, 2, 1, 4, failed))
    err = capsys.readouterr().err
    assert f"point failed: {SECOND} · disabled: worker raised IndexError: [3]" in err
