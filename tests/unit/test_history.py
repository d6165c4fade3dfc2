"""History over result sets with known numbers: order, labels, steps, chart."""

from __future__ import annotations

from pathlib import Path

import numpy
import pytest
from typer.testing import CliRunner

from gctune.analysis.history import load_history
from gctune.cli.main import app
from gctune.present.history_plot import history_figure, plot_history
from gctune.store.results import ResultError
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


def test_chart_reads_in_ms_over_commits(tmp_path: Path) -> None:
    history = load_history(history_dirs(tmp_path))
    ax_time, ax_p99 = history_figure(history).axes
    assert ax_time.get_ylabel() == "time per step (ms)"
    assert ax_p99.get_ylabel() == "GC pause p99 (ms)"
    for ax in (ax_time, ax_p99):
        assert ax.get_xlabel() == "commit (oldest first)"
        ticks = [t.get_text() for t in ax.get_xticklabels()]
        assert ticks == [
            "aaaaaaa\n2026-03-01",
            "bbbbbbb\n2026-03-02",
            "ccccccc\n2026-03-03",
            "ddddddd\n2026-03-04",
        ]
    # the series is the mean time per step, in ms: about 1.00, 1.01, 1.25, 1.25
    ys = list(map(float, numpy.asarray(ax_time.get_lines()[0].get_ydata())))
    assert ys == pytest.approx([1.0, 1.01, 1.25, 1.25], rel=0.05)
    assert ys == [e.mean_s * 1e3 for e in history.series[0].entries]


def test_cli_history(tmp_path: Path) -> None:
    dirs = [str(d) for d in history_dirs(tmp_path)]
    out = tmp_path / "h.png"
    result = runner.invoke(app, ["history", *dirs, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 step(s) beyond noise" in result.output and "ccccccc" in result.output
    assert out.exists()
    bad = runner.invoke(app, ["history", str(tmp_path / "nowhere")])
    assert bad.exit_code == 2 and "not a gctune sweep directory" in bad.output


def test_history_with_nothing_to_compare_says_so(tmp_path: Path) -> None:
    one = history_dirs(tmp_path)[0]
    alone = runner.invoke(app, ["history", str(one), "--out", str(tmp_path / "1.png")])
    assert alone.exit_code == 0, alone.output
    assert "only 1 result set: nothing to compare" in alone.output
    assert "no step beyond noise" not in alone.output
    # two sets that share no point
    other = make_sweep(tmp_path / "o", [Spec(workload="v")], commit="e" * 40)
    apart = runner.invoke(app, ["history", str(one), str(other), "--out", str(tmp_path / "2.png")])
    assert "no finished (workload, setting) point is in two of the 2 result sets" in apart.output


def test_history_with_nothing_to_compare_leaves_the_chart_alone(tmp_path: Path) -> None:
    chart = tmp_path / "gctune-history.png"
    chart.write_bytes(b"the last useful chart")
    one = history_dirs(tmp_path)[0]
    alone = runner.invoke(app, ["history", str(one), "--out", str(chart)])
    assert alone.exit_code == 0, alone.output
    assert chart.read_bytes() == b"the last useful chart"
    assert "No chart written" in alone.output and "Chart:" not in alone.output
    fresh = tmp_path / "none.png"
    runner.invoke(app, ["history", str(one), "--out", str(fresh)])
    assert not fresh.exists()


def test_history_needs_a_directory() -> None:
    with pytest.raises(ResultError):
        load_history([])


def test_a_damaged_commit_is_read_as_none(tmp_path: Path) -> None:
    """A manifest whose git_commit is not a string (hand-edited, damaged) labels its set by
    its sweep id; it once stopped history with a TypeError."""
    import json

    dirs = history_dirs(tmp_path)
    manifest = dirs[0] / "manifest.json"
    doc = json.loads(manifest.read_text())
    doc["gctune"]["environment"]["git_commit"] = True
    manifest.write_text(json.dumps(doc))
    history = load_history(dirs)
    (damaged,) = [s for s in history.sets if s.path == dirs[0]]
    assert damaged.commit is None and not damaged.label.startswith("True")
    out = plot_history(history, tmp_path / "h.png")
    assert out.exists()
