"""The report of a synthetic sweep: files, charts, numbers in tables, escaping."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gctune.report import build_report
from tests.unit.synthetic import MIB, Synth, scaled, write_sweep

EVIL_WORKLOAD = "<script>alert(1) $\\q$"  # also not mathtext
EVIL_SETTING = "<img src=x onerror=alert(2)>"
PNG = b"\x89PNG\r\n\x1a\n"


def grid_points() -> list[Synth]:
    requests = [50_000] * 98 + [2_000_000] * 2
    return [
        Synth("grid", "default", scaled(1.0e-3), collected=3000, requests=requests),
        Synth(
            "grid",
            "disabled",
            scaled(0.5e-3),
            pauses={},
            gc_enabled=False,
            peak_rss_bytes=400 * MIB,
            requests=requests,
        ),
        Synth("grid", "t7000-10-10", scaled(0.9e-3), thresholds=(7000, 10, 10), requests=requests),
        Synth(
            "grid",
            "t20000-10-10",
            scaled(0.8e-3),
            thresholds=(20000, 10, 10),
            pauses={0: [300_000] * 2},
            requests=requests,
        ),
        Synth(
            "grid", "t20000-50-100", scaled(0.85e-3), thresholds=(20000, 50, 100), requests=requests
        ),
        Synth(
            "grid",
            "t50000-20-20+freeze",
            scaled(0.95e-3),
            thresholds=(50000, 20, 20),
            requests=requests,
        ),
    ]


def evil_points() -> list[Synth]:
    return [
        Synth(EVIL_WORKLOAD, "default", scaled(2e-3)),
        Synth(EVIL_WORKLOAD, "disabled", scaled(1e-3), pauses={}, gc_enabled=False),
        Synth(EVIL_WORKLOAD, EVIL_SETTING, scaled(1.5e-3)),
    ]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    sweep = write_sweep(tmp_path_factory.mktemp("sweep"), grid_points() + evil_points())
    paths = build_report(sweep)
    md, html_doc = (p.read_text(encoding="utf-8") for p in paths)
    assert [p.name for p in paths] == ["report.md", "report.html"]
    return sweep / "report", md, html_doc


def test_every_chart_kind_is_drawn_and_embedded(report: tuple[Path, str, str]) -> None:
    out, md, html_doc = report
    charts = sorted(out.glob("charts/*.png"))
    kinds = {p.stem.rsplit("-", 1)[1] for p in charts if p.name.startswith("grid-")}
    assert kinds == {"time", "heatmap", "pauses", "memory", "collections", "requests"}
    assert all(p.read_bytes().startswith(PNG) for p in charts)
    # Markdown links each PNG beside it; HTML embeds every one of them
    linked = re.findall(r"\]\((charts/[^)]+\.png)\)", md)
    assert sorted(out / link for link in linked) == charts
    assert html_doc.count('src="data:image/png;base64,') == len(charts)
    assert 'src="charts/' not in html_doc


def test_heatmap_is_skipped_with_a_note_when_the_grid_is_flat(
    report: tuple[Path, str, str],
) -> None:
    out, md, _ = report
    # the evil workload has one threshold0 value: no heatmap, and the report says why
    assert not [p for p in out.glob("charts/*heatmap.png") if not p.name.startswith("grid-")]
    assert "a heatmap needs at least 2 of each" in md


def test_tables_carry_the_numbers(report: tuple[Path, str, str]) -> None:
    _, md, html_doc = report
    row = next(line for line in md.splitlines() if line.startswith("| t20000-10-10 | 800 us"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    # setting, time, vs default, overhead vs floor, gap closed, GC %, GCs
    assert cells[2].startswith("0.80x \\[0.7")
    assert cells[3] == "+60.0%"  # (0.8 - 0.5) / 0.5
    assert cells[4] == "40.0%"  # (1.0 - 0.8) / (1.0 - 0.5)
    assert cells[6] == "12"  # 2 pauses x 6 processes
    assert cells[10] == "100.0 MiB" and cells[11] == "1.00x"
    # the summary recommends the fastest setting within budget; disabled is 4x over it
    summary = next(line for line in md.splitlines() if line.startswith("| grid |"))
    assert "| t20000-10-10 | 0.80x" in summary
    assert "excluded disabled: peak RSS 400.0 MiB is 4.00x default's" in md
    assert "gc.set_threshold(20000, 10, 10)" in md and "gc.set_threshold(20000, 10, 10)" in (
        html_doc
    )
    assert "Test CPU" in md and "0123abc" in md and "GCC 12" in md


def test_seed_claim_section_is_worded_from_the_data(report: tuple[Path, str, str]) -> None:
    _, md, _ = report
    assert "grid: the collector freed 300.0 objects per collection" in md
    assert "peak RSS is 4.00x default's (400.0 MiB vs 100.0 MiB): as the claim says" in md
    # the evil workload collected nothing and its memory stayed flat
    assert "found next to no garbage (0.00 objects per collection)" in md
    assert "The data shows the claim on 2 of 2 workload(s)" in md


def test_user_names_are_escaped(report: tuple[Path, str, str]) -> None:
    _, md, html_doc = report
    for doc in (md, html_doc):
        assert "<script" not in doc and "<img src=x" not in doc
        assert "&lt;script&gt;alert(1)" in doc
    assert "&lt;img src=x onerror=alert(2)&gt;" in html_doc
