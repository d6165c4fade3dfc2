"""Output that cannot be written: a report or chart path that is not a folder, a full disk
midway through a report, an interrupt while the report is written. Each ends in one line
naming the file, and a report is whole or absent, never a mix of two. Rows of the
table in docs/faults.md (the real full disk is in
``tests/integration/test_output_faults.py``)."""

from __future__ import annotations

import errno
import os
import shlex
from pathlib import Path
from typing import Any

import pytest
from matplotlib.figure import Figure
from typer.testing import CliRunner

from gctune.cli.main import app
from gctune.present.next_steps import program
from gctune.store.atomic import atomic_write_json
from tests.unit.synthetic import Synth, scaled, write_sweep

runner = CliRunner()


def sweep(directory: Path) -> Path:
    return write_sweep(
        directory,
        [
            Synth("w", "default", scaled(1.0e-3)),
            Synth("w", "disabled", scaled(0.8e-3), pauses={}, gc_enabled=False),
            Synth("w", "t9000", scaled(0.9e-3), thresholds=(9000, 10, 10)),
        ],
    )


def error_line(args: list[str]) -> str:
    """Run the CLI; check it failed with exit 2 and one error line (the last); return it."""
    result = runner.invoke(app, args, env={"COLUMNS": "400"})
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert [line for line in lines if line.startswith("gctune: error: ")] == lines[-1:], lines
    return lines[-1]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) and its content."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_report_and_history_out_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    data = sweep(tmp_path / "sweep")
    afile = tmp_path / "afile.txt"
    afile.write_text("not a folder")
    assert error_line(["report", str(data), "--out", str(afile)]) == (
        f"gctune: error: {afile}: cannot write the report: not a directory"
    )
    assert error_line(["report", str(data), "--out", str(afile / "sub")]) == (
        f"gctune: error: {afile / 'sub'}: cannot write the report: Not a directory"
    )
    assert error_line(["report", str(data), "--out", "/proc/gctune-report"]) == (
        "gctune: error: /proc/gctune-report: cannot write the report: No such file or directory"
    )
    # history writes a chart only when two result sets share a point
    both = [str(data), str(sweep(tmp_path / "again"))]
    assert error_line(["history", *both, "--out", str(afile / "x.png")]) == (
        f"gctune: error: {afile / 'x.png'}: cannot write the chart: {afile}: not a directory"
    )
    assert error_line(["history", *both, "--out", "/proc/gctune-history.png"]) == (
        "gctune: error: /proc/gctune-history.png: cannot write the chart: No such file or directory"
    )
    assert error_line(["history", *both, "--out", str(tmp_path)]) == (
        f"gctune: error: {tmp_path}: cannot write the chart: it is a directory; name a PNG file"
    )
    assert afile.read_text() == "not a folder"
    assert not (data / "report").exists()


def test_a_report_failing_midway_leaves_the_previous_one_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = sweep(tmp_path / "sweep")
    out = data / "report"
    assert runner.invoke(app, ["report", str(data)]).exit_code == 0
    before = snapshot(out)
    real_savefig = Figure.savefig
    saved: list[str] = []

    def fills_the_disk(self: Figure, fname: Any, *args: Any, **kwargs: Any) -> None:
        if len(saved) == 2:  # the third chart: the PNG writer's error names no file
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        saved.append(str(fname))
        real_savefig(self, fname, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", fills_the_disk)
    line = error_line(["report", str(data)])
    assert line.startswith(f"gctune: error: {out}/charts/")
    assert line.endswith(".png: cannot write the report: No space left on device")
    assert snapshot(out) == before  # the old report, whole; no temporary folder left


def test_a_report_whose_move_fails_is_removed_not_mixed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = sweep(tmp_path / "sweep")
    out = data / "report"
    assert runner.invoke(app, ["report", str(data)]).exit_code == 0
    real_replace = os.replace

    def fails_on_html(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if Path(dst).name == "report.html":
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(dst))
        real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", fails_on_html)
    assert error_line(["report", str(data)]) == (
        f"gctune: error: {out}/report.html: cannot write the report: Input/output error"
    )
    # no document is left to link a mix of old and new charts
    assert not (out / "report.md").exists() and not (out / "report.html").exists()
    assert [p.name for p in out.iterdir()] == ["charts"]


def test_interrupt_while_the_report_is_written_says_the_points_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = sweep(tmp_path / "sweep")  # every point exists: the resume only reports

    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("gctune.present.report.report_blocks", interrupted)
    before = snapshot(data)
    result = runner.invoke(app, ["sweep", "--resume", "--out", str(data)])
    assert result.exit_code == 130
    assert result.stderr.strip().splitlines()[-1] == (
        f"gctune: interrupted while writing the report; the points are kept in {data}. "
        f"Write the report with: {shlex.join(program())} report {data}"
    )
    assert "Traceback" not in result.output
    after = snapshot(data)
    after.pop(".lock")  # the resume's lock
    assert after == before  # no report folder, nothing half-written


def test_a_full_disk_error_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as write() raises it

    monkeypatch.setattr(os, "fsync", disk_full)
    path = tmp_path / "points" / "w@default.json"
    with pytest.raises(OSError, match="No space left on device") as info:
        atomic_write_json(path, {"new": 1})
    assert info.value.filename == str(path)
