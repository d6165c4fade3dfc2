"""`gctune sweep` ends with a report; `report` and `recommend` read a real sweep."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gctune.cli.main import app

pytestmark = pytest.mark.integration
runner = CliRunner()


def test_sweep_writes_a_report_then_report_and_recommend_reread_it(
    tmp_path: Path, fast_args: tuple[str, ...]
) -> None:
    out = tmp_path / "s"
    swept = runner.invoke(
        app, ["sweep", "request_loop", "-s", "20000,10,10", "--out", str(out), *fast_args]
    )
    assert swept.exit_code == 0, swept.output
    lines = swept.output.splitlines()
    assert f"Report: {out / 'report' / 'report.md'}" in lines
    assert f"Report: {out / 'report' / 'report.html'}" in lines
    html_doc = (out / "report" / "report.html").read_text(encoding="utf-8")
    assert "Workload request_loop" in html_doc and "CPython 3." in html_doc
    # time, pauses, memory, collections and request charts (heatmap: one t1, skipped)
    assert html_doc.count("data:image/png;base64,") == 6

    again = runner.invoke(
        app, ["report", str(out), "--out", str(tmp_path / "r"), "--format", "html"]
    )
    assert again.exit_code == 0, again.output
    assert [p.name for p in (tmp_path / "r").iterdir() if p.is_file()] == ["report.html"]

    rec = runner.invoke(app, ["recommend", str(out), "--objective", "latency"])
    assert rec.exit_code == 0, rec.output
    assert "request_loop: GC is" in rec.output and "recommended setting" in rec.output
    assert "(objective: latency)" in rec.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "/nonexistent/sweep"], "not a gctune sweep directory"),
        (["recommend", "/nonexistent/sweep"], "not a gctune sweep directory"),
        (["report", "--format", "pdf", "/nonexistent"], "unknown report format 'pdf'"),
        (["recommend", "--objective", "fastest", "/nonexistent"], "unknown objective"),
    ],
)
def test_report_errors_are_one_line(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
