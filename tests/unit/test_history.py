"""History over result sets with known numbers: order, labels, steps, chart."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gctune.cli import app
from gctune.history import load_history, plot_history
from gctune.results import ResultError
from tests.synthetic import Spec, make_sweep

runner = CliRunner()

# (commit, date, mean time per step, pause): written out of date order on purpose
SETS = [
    ("c" * 40, "2026-03-03T10:00:00+00:00", 1.25e-3, 50_000),
    ("a" * 40, "2026-03-01T10:00:00+00:00", 1.00e-3, 50_000),
    ("b" * 40, "2026-03-02T10:00:00+00:00", 1.01e-3, 50_000),
    ("d" * 40, "2026-03-04T10:00:00+00:00", 1.25e-3, 90_000),
]


def history_dirs(tmp_path: Path) -> list[Path]:
    return [
        make_sweep(
            tmp_path / commit[:1],
            [Spec(mean_s=mean, pause_ns=pause, noise=0.01)],
            commit=commit,
            date=date,
            seed=i,
        )
        for i, (commit, date, mean, pause) in enumerate(SETS)
    ]


def test_sets_are_ordered_by_commit_date_and_labelled(tmp_path: Path) -> None:
    history = load_history(history_dirs(tmp_path))
    assert [s.label for s in history.sets] == ["aaaaaaa", "bbbbbbb", "ccccccc", "ddddddd"]
    (series,) = history.series
    assert (series.workload, series.setting) == ("w", "default")
    assert [e.label for e in series.entries] == ["aaaaaaa", "bbbbbbb", "ccccccc", "ddddddd"]


def test_steps_are_flagged_only_beyond_noise(tmp_path: Path) -> None:
    history = load_history(history_dirs(tmp_path))
    # a -> b is +1% (noise-sized), b -> c +24% in time, c -> d +80% in pause p99 only
    found = [(s.metric, s.before, s.after) for s in history.steps]
    assert found == [("time", "bbbbbbb", "ccccccc"), ("p99", "ccccccc", "ddddddd")]
    entries = history.series[0].entries
    assert [e.steps for e in entries] == [(), (), ("time",), ("p99",)]
    assert "w@default: time +2" in str(history.steps[0])
    # a larger minimum effect hides the time step but not the pause one
    assert [s.metric for s in load_history(history_dirs(tmp_path / "x"), min_effect=0.5).steps] == [
        "p99"
    ]


def test_chart_is_a_png(tmp_path: Path) -> None:
    out = plot_history(load_history(history_dirs(tmp_path)), tmp_path / "charts" / "h.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_history(tmp_path: Path) -> None:
    dirs = [str(d) for d in history_dirs(tmp_path)]
    out = tmp_path / "h.png"
    result = runner.invoke(app, ["history", *dirs, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 step(s) beyond noise" in result.output and "ccccccc" in result.output
    assert out.exists()
    bad = runner.invoke(app, ["history", str(tmp_path / "nowhere")])
    assert bad.exit_code == 2 and "not a gctune sweep directory" in bad.output


def test_history_needs_a_directory() -> None:
    with pytest.raises(ResultError):
        load_history([])
