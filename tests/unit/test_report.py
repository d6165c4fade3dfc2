"""The report of a synthetic sweep: files, charts, numbers in tables, escaping."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gctune.present.plots import _plain_log
from gctune.present.render import Heading, HtmlRenderer, MarkdownRenderer, Table
from gctune.present.report import build_report
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
    assert cells[2].startswith("0.80x° \\[0.7")
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


def test_html_opens_with_a_table_of_contents(report: tuple[Path, str, str]) -> None:
    _, _, html_doc = report
    body = html_doc.split("<body>", 1)[1]
    toc = re.search(r'<nav class="toc"[^>]*>(.*?)</nav>', body)
    assert toc is not None
    assert body.index('<nav class="toc"') < body.index("<h2")  # before the first section
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', toc.group(1))
    sections = re.findall(r'<h2 id="([^"]+)">([^<]+)</h2>', body)
    assert links == sections and len(sections) == len(re.findall(r"<h2", body))
    assert [text for _, text in links][:3] == [
        "The answer, per workload",
        "Recommendations",
        "Environment",
    ]
    assert "Workload grid" in [text for _, text in links]


def test_html_tables_keep_intervals_and_ids_on_one_line(report: tuple[Path, str, str]) -> None:
    _, _, html_doc = report
    css = html_doc.split("<style>", 1)[1].split("</style>", 1)[0]
    assert re.search(r"th, td \{[^}]*white-space: nowrap", css)
    assert re.search(r"td\.w, th\.w \{[^}]*white-space: normal", css)
    # the cells of ids and intervals are not prose cells, which alone may wrap
    for text in ("t20000-50-100", "0.80x° [0.7", "t50000-20-20+freeze"):
        cells = re.findall(r"<td( class=\"\w\")?[^>]*>([^<]*)</td>", html_doc)
        found = [cls for cls, cell in cells if cell.startswith(text)]
        assert found and ' class="w"' not in found, text
    # wide tables scroll sideways instead of squeezing their cells
    assert html_doc.count('<div class="table-wrap"><table>') == html_doc.count("<table>")


def test_who_frees_the_garbage_comes_after_the_workloads(report: tuple[Path, str, str]) -> None:
    _, md, html_doc = report
    for doc, mark in ((md, "\n## "), (html_doc, "<h2")):
        sections = [part.split("\n", 1)[0] for part in doc.split(mark)[1:]]
        titles = [re.sub(r"^[^>]*>", "", t) for t in sections]
        claims = next(i for i, t in enumerate(titles) if t.startswith("Who frees the garbage"))
        workloads = [i for i, t in enumerate(titles) if t.startswith("Workload ")]
        assert workloads and claims > max(workloads)
        assert titles[claims + 1].startswith("Warnings")


def test_a_short_row_spans_the_rest_of_the_table(tmp_path: Path) -> None:
    table = Table(("setting", "time", "GC %"), (("a", "1 ms", "2.0"), ("b", "failed: why")), "lrr")
    html_doc = HtmlRenderer().render([Heading(2, "T"), table], out_dir=tmp_path)
    assert '<td class="w" colspan="2">failed: why</td>' in html_doc
    md = MarkdownRenderer().render([table], out_dir=tmp_path)
    assert "| b | failed: why |  |" in md


def test_log_axes_are_labelled_in_plain_numbers() -> None:
    # within one decade matplotlib labels minor ticks, in mathtext the charts print raw
    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_xscale("log")
    _plain_log(ax.xaxis)

    def shown(low: float, high: float) -> list[str]:
        ax.set_xlim(low, high)
        axis = ax.xaxis
        labels = []
        for locs, fmt in (
            (axis.get_majorticklocs(), axis.get_major_formatter()),
            (axis.get_minorticklocs(), axis.get_minor_formatter()),
        ):
            labels += [fmt(v, i) for i, v in enumerate(locs) if low <= v <= high]
        return sorted((t for t in labels if t), key=float)

    assert shown(0.055, 0.085) == ["0.06", "0.07", "0.08"]
    assert shown(0.01, 100) == ["0.01", "0.1", "1", "10", "100"]  # decades only


def test_warnings_fold_by_kind_with_counts(report: tuple[Path, str, str]) -> None:
    _, md, html_doc = report
    warnings = html_doc.split('id="warnings"', 1)[1].split('id="how-to-read', 1)[0]
    folds = re.findall(
        r"<details( open)?><summary>([^<]*) \((\d+)\)</summary><ul>(.*?)</ul>", warnings
    )
    assert folds, "no folded group of warnings"
    kinds = [kind for _, kind, _, _ in folds]
    assert len(kinds) == len(set(kinds))  # one fold per kind
    for _, kind, count, items in folds:
        assert items.count("<li>") == int(count), kind
    assert f"**{kinds[0]}** (" in md  # Markdown names each kind above its list


def test_warning_groups_keep_the_order_of_kinds() -> None:
    from gctune.present.report import warning_groups

    groups = warning_groups(
        [
            "w · a: the standard deviation (1 ms) is 20% of the mean (5 ms)",
            "w: t7000: memory grows 1 KiB per step in 3 of 3 spans: not safe to run unattended",
            "w · b: failed: worker killed",
            "w: something new",
        ]
    )
    assert [k for k, _ in groups] == [
        "Failed points",
        "Memory that grows",
        "Noisy or thin points (pyperf check)",
        "Other",
    ]


def test_no_stale_words_about_worker_processes_or_values(report: tuple[Path, str, str]) -> None:
    _, md, html_doc = report
    for doc in (md, html_doc):
        assert "bootstrap interval over worker processes;" not in doc
        assert "more processes or values" not in doc
        assert "interval over rounds" in doc or "t-interval over rounds" in doc


def test_memory_axes_start_at_zero(tmp_path: Path) -> None:
    from gctune.analysis.frame import load
    from gctune.present.plots import trajectory_chart

    points = [
        Synth("m", "default", scaled(1e-3), spans=True, collected=100),
        Synth("m", "t7000", scaled(0.9e-3), spans=True, collected=100, thresholds=(7000, 10, 10)),
    ]
    data = load(write_sweep(tmp_path, points))
    ok = [s for s in data.stats["m"] if s.ok]
    chart = trajectory_chart(
        data.points_of("m"), ok, tmp_path / "t.png", "m", max_memory_ratio=1.25
    )
    assert chart.path is not None and "The axis starts at 0" in chart.caption
    assert "the samples span" in chart.caption and "memory budget" in chart.caption
