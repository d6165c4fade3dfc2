"""Terminal output that fits its width without cutting a figure.

Two tools: :func:`wrap` breaks prose at spaces but never between a number and its unit,
inside an interval, inside a backquoted span, or inside a command to copy; and
:func:`fit_tables` splits a table's columns into as many tables as it takes (each one
repeating the first column) so that no cell is shortened. Neither ever prints ``…``.
"""

from __future__ import annotations

import os
import re
import textwrap
from collections.abc import Sequence
from typing import Optional

from rich import box
from rich.table import Table
from rich.text import Text

__all__ = ["CI_WIDTH", "Column", "fit_tables", "output_width", "wrap"]

CI_WIDTH = 120
"""Width of output that goes to no terminal and no COLUMNS (a CI log, a file)."""

# A space that must not break a line while wrapping; never in real text.
_GLUE = "\x00"
_UNIT = (
    r"(?:[KMGT]i?B|B|[KMG]B|ns|us|µs|ms|s|min|h|%|x|steps?|rounds?|spans?|points?|"
    r"collections?|objects?|values?|bytes|workers?|runs?|requests?)"
)
_NUMBER_UNIT = re.compile(r"(?<![\w.])([-+±~≈]?\d[\d,.]*) (?=" + _UNIT + r"(?![\w]))")
# an interval, with the ratio it qualifies: ``0.74x [0.56, 0.96]``
_INTERVAL = re.compile(r"(?:\d[\d.]*x )?\[[^\[\]\s]+, [^\[\]\s]+\]")
_QUOTED = re.compile(r"`[^`]*`")
# a command to copy: from the program's name to the end of the line
_SUBCOMMANDS = "verify|recommend|report|summary|sweep|run|gate|compare|history|list"


def output_width() -> int:
    """The width to lay output out for: ``COLUMNS`` when set (even in a pipe, as a user
    or a test asks), else the terminal's (stdout's, else stderr's or stdin's: ``gctune
    ... | less`` still has the terminal's), else :data:`CI_WIDTH`."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    for fd in (1, 2, 0):
        try:
            width = os.get_terminal_size(fd).columns
        except (OSError, ValueError):
            continue
        if width > 0:
            return width
    return CI_WIDTH


def _command_start(line: str, programs: Sequence[str]) -> Optional[int]:
    """Where a command to copy begins in ``line`` (it runs to the line's end), if any."""
    names = "|".join(re.escape(p) for p in sorted(programs, key=len, reverse=True))
    names += r"|(?:\S*/)?gctune"  # gctune on PATH, or a path to the script
    pattern = re.compile(
        r"(?<![`\w/.-])(?:cd \S+ && )?(?:" + names + r") (?:" + _SUBCOMMANDS + r")\b"
        r"|(?<![`\w/.-])\S*python\S* -m \w"
    )
    found = pattern.search(line)
    return found.start() if found else None


def _glue(text: str, programs: Sequence[str]) -> str:
    start = _command_start(text, programs)
    head, command = (text, "") if start is None else (text[:start], text[start:])
    head = _NUMBER_UNIT.sub(lambda m: m.group(1) + _GLUE, head)
    for pattern in (_INTERVAL, _QUOTED):
        head = pattern.sub(lambda m: m.group(0).replace(" ", _GLUE), head)
    return head + command.replace(" ", _GLUE)


def wrap(line: str, width: int, *, programs: Sequence[str] = (), hang: int = 2) -> list[str]:
    """``line`` broken at spaces into lines of at most ``width`` characters where it can:
    its leading indent kept, continuation lines indented ``hang`` more. A figure is never
    split from its unit, nor an interval or a backquoted span: a token longer than
    ``width`` stays whole on a line of its own. A line that holds a command to copy (one
    of ``programs``, or ``gctune``, with a subcommand, to the end of the line) is never
    broken."""
    stripped = line.lstrip(" ")
    indent = " " * (len(line) - len(stripped))
    if not stripped or (len(line) > width and _command_start(line, programs) is not None):
        # a line that holds a command to copy is printed whole: its label (``check:``)
        # stays with it, and a terminal that wraps it keeps it one line to copy
        return [line]
    wrapped = textwrap.wrap(
        _glue(stripped, programs),
        width=max(width, len(indent) + 10),
        initial_indent=indent,
        subsequent_indent=indent + " " * hang,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return [part.replace(_GLUE, " ") for part in wrapped] or [line]


class Column:
    """One column of a table laid out by :func:`fit_tables`; ``breaks``: a table split
    for width starts a new table here first (a section of related columns begins)."""

    def __init__(self, header: str, *, justify: str = "right", breaks: bool = False) -> None:
        self.header = header
        self.justify = justify
        self.breaks = breaks


def _cell_width(cell: str) -> int:
    return max((Text.from_markup(line).cell_len for line in cell.split("\n")), default=0)


def _table_width(widths: Sequence[int]) -> int:
    # SIMPLE_HEAD without edges, padding collapsed: two spaces between columns, none
    # outside the first and last
    return sum(widths) + 2 * (len(widths) - 1)


def _groups(columns: Sequence[Column], widths: Sequence[int], width: int) -> list[list[int]]:
    """Column indexes per table: all when they fit; else one table per section (a run of
    columns from one that ``breaks``), sections packed together while they fit, and a
    section too wide alone split where it must."""
    if _table_width(widths) <= width:
        return [list(range(len(columns)))]
    sections: list[list[int]] = []
    for i in range(1, len(columns)):
        if not sections or columns[i].breaks:
            sections.append([])
        sections[-1].append(i)
    groups: list[list[int]] = []
    for section in sections:
        if groups and _table_width([widths[j] for j in (*groups[-1], *section)]) <= width:
            groups[-1].extend(section)
            continue
        groups.append([0])
        for i in section:
            group = groups[-1]
            if len(group) > 1 and _table_width([widths[j] for j in (*group, i)]) > width:
                groups.append([0])
            groups[-1].append(i)
    return groups


def fit_tables(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    width: int,
    *,
    title: Optional[str] = None,
) -> list[Table]:
    """The table of ``columns`` and ``rows`` (rich markup), as one table when it fits in
    ``width`` and otherwise as several, each with the first column (the row's name) and as
    many of the others, in order, as fit. Every cell is printed whole: a cell is never cut
    to ``…``; a column too wide for ``width`` on its own folds (the only case in which a
    figure takes two lines). ``title`` heads the first table."""
    widths = [
        max([_cell_width(col.header), *(_cell_width(row[i]) for row in rows)])
        for i, col in enumerate(columns)
    ]
    groups = _groups(columns, widths, width)
    tables = []
    for n, group in enumerate(groups):
        table = Table(
            title=title if n == 0 else None,
            title_justify="left",
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            collapse_padding=True,
        )
        for i in group:
            col = columns[i]
            table.add_column(
                col.header,
                justify="left" if col.justify == "left" else "right",
                overflow="fold",
                min_width=min(widths[i], width // 2),
            )
        for row in rows:
            table.add_row(*(row[i] for i in group))
        tables.append(table)
    return tables
