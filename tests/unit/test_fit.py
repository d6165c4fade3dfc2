"""Prose wraps between words but never inside a figure, an interval or a command; a table
too wide for the terminal is split into tables that each name the row."""

from __future__ import annotations

from rich.console import Console

from gctune.present.fit import Column, fit_tables, wrap

PROSE = (
    "  excluded t70000-20-100+freeze: memory still rising within its spans (13 KiB per "
    "step, 3.05 MiB/s); time 0.74x [0.56, 0.96] of default's; confirm with `gctune verify`"
)


def test_a_figure_keeps_its_unit_and_an_interval_its_two_ends() -> None:
    for width in range(30, 90):
        lines = wrap(PROSE, width)
        assert " ".join(" ".join(lines).split()) == " ".join(PROSE.split())
        assert all(line.startswith("  ") for line in lines)
        assert all(line.startswith("    ") for line in lines[1:])  # hanging indent
        for whole in ("13 KiB", "3.05 MiB/s", "0.74x [0.56, 0.96]", "`gctune verify`"):
            assert any(whole in line for line in lines), (width, whole, lines)
        assert all(len(line) <= width for line in lines if "`" not in line)


def test_a_line_with_a_command_is_never_broken() -> None:
    line = "  check: .venv/bin/gctune verify '/home/me/my bench.py:make' -s disabled"
    assert wrap(line, 40, programs=[".venv/bin/gctune"]) == [line]
    assert wrap(line, 40) == [line]  # any path ending in gctune, with a subcommand


def test_a_table_too_wide_is_split_by_section_naming_each_row() -> None:
    columns = [
        Column("setting", justify="left"),
        Column("time"),
        Column("interval"),
        Column("state", breaks=True),
        Column("memory"),
    ]
    rows = [
        ["t70000-20-100+freeze", "42.8 ms", "0.76x [0.59, 0.98]", "NOT steady", "grows 91.4 MiB/s"]
    ]
    (one,) = fit_tables(columns, rows, 200)
    assert len(one.columns) == 5
    first, second = fit_tables(columns, rows, 50)
    assert [c.header for c in first.columns] == ["setting", "time", "interval"]
    assert [c.header for c in second.columns] == ["setting", "state", "memory"]
    console = Console(width=50, record=True, no_color=True)
    for table in (first, second):
        console.print(table)
    text = console.export_text()
    assert "…" not in text and all(cell in text for cell in rows[0])
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 50
