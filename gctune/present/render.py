"""A report as a list of plain blocks, and one renderer per output format.

Blocks hold plain text; each renderer escapes it for its format, so a workload or
setting name chosen by a user (``<script>``, ``|``, ``*``) is shown, never interpreted.
The HTML renderer embeds images as base64 ``data:`` URIs: one self-contained file. It
opens with a table of contents of the sections (level-2 headings), and its table cells
never wrap (an interval ``[0.98, 1.02]`` or an id ``t20000-50-100+freeze`` stays on one
line) except in prose columns (``w``); a wide table scrolls sideways instead.
"""

from __future__ import annotations

import base64
import html
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Union

__all__ = [
    "Block",
    "Bullets",
    "Code",
    "Folds",
    "Heading",
    "HtmlRenderer",
    "Image",
    "MarkdownRenderer",
    "Para",
    "Renderer",
    "Table",
]


@dataclass(frozen=True)
class Heading:
    """A section title; ``level`` 1 is the document's title."""

    level: int
    text: str


@dataclass(frozen=True)
class Para:
    """A paragraph of plain text."""

    text: str


@dataclass(frozen=True)
class Bullets:
    """A list of plain-text items."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A table of plain-text cells.

    ``align`` holds one letter per column: ``l`` (left) or ``r`` (right, numbers), whose
    cells stay on one line, ``w`` (left, prose that may wrap) or ``n`` (left, a few words
    that may wrap onto two lines: a narrow column). A row shorter than the
    headers ends in a cell that spans the remaining columns (prose, e.g. why a point
    failed).
    """

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    align: str = ""
    caption: str = ""


@dataclass(frozen=True)
class Code:
    """A block of code shown verbatim."""

    text: str
    language: str = "python"


@dataclass(frozen=True)
class Image:
    """A PNG file on disk, with its alternative text and caption."""

    path: Path
    alt: str
    caption: str


@dataclass(frozen=True)
class Folds:
    """Lists of plain-text items under a title each, folded in HTML (``<details>``, with
    the count in the title) so that many items of a kind take one line until opened; a
    group in ``opened`` starts open. Markdown shows each title, bold, above its list."""

    groups: tuple[tuple[str, tuple[str, ...]], ...]
    opened: frozenset[str] = frozenset()


Block = Union[Heading, Para, Bullets, Table, Code, Image, Folds]


class Renderer(Protocol):
    """Turns blocks into one document of a format."""

    suffix: str

    def render(self, blocks: Sequence[Block], *, out_dir: Path) -> str:
        """The document; image paths are written relative to ``out_dir`` when linked."""


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")


def md_escape(text: str) -> str:
    """Plain text as Markdown that renders to exactly that text (HTML too)."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False)).replace("\n", " ")


class MarkdownRenderer:
    """GitHub-flavoured Markdown with PNG files beside it, linked relatively."""

    suffix = ".md"

    def render(self, blocks: Sequence[Block], *, out_dir: Path) -> str:
        """The Markdown document."""
        parts: list[str] = []
        for block in blocks:
            if isinstance(block, Heading):
                parts.append("#" * block.level + " " + md_escape(block.text))
            elif isinstance(block, Para):
                parts.append(md_escape(block.text))
            elif isinstance(block, Bullets):
                parts.append("\n".join("- " + md_escape(item) for item in block.items))
            elif isinstance(block, Table):
                parts.append(self._table(block))
            elif isinstance(block, Folds):
                for title, items in block.groups:
                    parts.append(f"**{md_escape(title)}** ({len(items)})")
                    parts.append("\n".join("- " + md_escape(item) for item in items))
            elif isinstance(block, Code):
                fence = "````" if "```" in block.text else "```"
                parts.append(f"{fence}{block.language}\n{block.text}\n{fence}")
            else:
                link = Path(os.path.relpath(block.path, out_dir)).as_posix()
                parts.append(f"![{md_escape(block.alt)}]({link})\n\n*{md_escape(block.caption)}*")
        return "\n\n".join(parts) + "\n"

    @staticmethod
    def _table(table: Table) -> str:
        align = table.align or "l" * len(table.headers)
        width = len(table.headers)
        lines = [
            "| " + " | ".join(md_escape(h) for h in table.headers) + " |",
            "|" + "|".join("---:" if a == "r" else ":---" for a in align) + "|",
        ]
        lines += [
            "| " + " | ".join(md_escape(c) for c in (*row, *[""] * (width - len(row)))) + " |"
            for row in table.rows
        ]
        if table.caption:
            lines += ["", "*" + md_escape(table.caption) + "*"]
        return "\n".join(lines)


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 92rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.45; }
p, ul, pre { max-width: 68rem; }
nav.toc { background: #f6f8fa; border: 1px solid #ddd; padding: 0.5rem 1.2rem;
          margin: 1rem 0; display: inline-block; min-width: 20rem; }
nav.toc p { margin: 0.2rem 0; font-weight: 600; }
nav.toc ol { margin: 0.2rem 0; padding-left: 1.4rem; }
.table-wrap { overflow-x: auto; margin: 0.8rem 0; }
table { border-collapse: collapse; font-size: 0.85rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.35rem; white-space: nowrap;
         vertical-align: top; }
th { background: #f3f3f3; white-space: normal; vertical-align: bottom; }
td.w, th.w { white-space: normal; min-width: 12rem; }
td.n, th.n { white-space: normal; min-width: 6rem; }
td.r, th.r { text-align: right; font-variant-numeric: tabular-nums; }
p.caption { font-size: 0.85rem; color: #555; margin-top: -0.5rem; }
pre { background: #f6f8fa; padding: 0.8rem; overflow-x: auto; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.85rem; color: #555; }
details { margin: 0.3rem 0; max-width: 68rem; }
summary { cursor: pointer; font-weight: 600; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; margin-top: 2.2rem; }
"""


class HtmlRenderer:
    """One self-contained HTML file: inline CSS, images as base64 data URIs."""

    suffix = ".html"

    def render(self, blocks: Sequence[Block], *, out_dir: Path) -> str:
        """The HTML document."""
        esc = html.escape
        title = next((b.text for b in blocks if isinstance(b, Heading)), "gctune report")
        anchors = _anchors(blocks)
        body: list[str] = []
        for i, block in enumerate(blocks):
            if isinstance(block, Heading):
                level = min(max(block.level, 1), 6)
                if i == min(anchors, default=-1):  # the contents, before the first section
                    body.append(_toc(anchors))
                anchor = f' id="{esc(anchors[i][0])}"' if i in anchors else ""
                body.append(f"<h{level}{anchor}>{esc(block.text)}</h{level}>")
            elif isinstance(block, Para):
                body.append(f"<p>{esc(block.text)}</p>")
            elif isinstance(block, Bullets):
                items = "".join(f"<li>{esc(item)}</li>" for item in block.items)
                body.append(f"<ul>{items}</ul>")
            elif isinstance(block, Table):
                body.append(self._table(block))
            elif isinstance(block, Folds):
                for title, group in block.groups:
                    lis = "".join(f"<li>{esc(item)}</li>" for item in group)
                    is_open = " open" if title in block.opened else ""
                    body.append(
                        f"<details{is_open}><summary>{esc(title)} ({len(group)})</summary>"
                        f"<ul>{lis}</ul></details>"
                    )
            elif isinstance(block, Code):
                body.append(f"<pre><code>{esc(block.text)}</code></pre>")
            else:
                data = base64.b64encode(block.path.read_bytes()).decode("ascii")
                body.append(
                    f'<figure><img alt="{esc(block.alt)}" src="data:image/png;base64,{data}">'
                    f"<figcaption>{esc(block.caption)}</figcaption></figure>"
                )
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body)
            + "\n</body>\n</html>\n"
        )

    @staticmethod
    def _table(table: Table) -> str:
        esc = html.escape
        align = table.align or "l" * len(table.headers)
        width = len(table.headers)

        def cls(i: int) -> str:
            kind = align[i] if i < len(align) else "l"
            return f' class="{kind}"' if kind in ("r", "w", "n") else ""

        def cells(row: tuple[str, ...]) -> str:
            out = [f"<td{cls(i)}>{esc(c)}</td>" for i, c in enumerate(row)]
            if 0 < len(row) < width:  # the last cell spans the rest: prose
                span = width - len(row) + 1
                out[-1] = f'<td class="w" colspan="{span}">{esc(row[-1])}</td>'
            return "".join(out)

        head = "".join(f"<th{cls(i)}>{esc(h)}</th>" for i, h in enumerate(table.headers))
        rows = "".join(f"<tr>{cells(row)}</tr>" for row in table.rows)
        # below the table, not in it: a table that scrolls sideways would take it along
        caption = f'<p class="caption">{esc(table.caption)}</p>' if table.caption else ""
        return (
            f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table></div>{caption}"
        )


def _anchors(blocks: Sequence[Block]) -> dict[int, tuple[str, str]]:
    """Each level-2 heading's block index: a unique ``id`` made from its text, and the text."""
    anchors: dict[int, tuple[str, str]] = {}
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        if isinstance(block, Heading) and block.level == 2:
            base = re.sub(r"[^a-z0-9]+", "-", block.text.lower()).strip("-") or "section"
            anchor, n = base, 1
            while anchor in seen:
                n += 1
                anchor = f"{base}-{n}"
            seen.add(anchor)
            anchors[i] = (anchor, block.text)
    return anchors


def _toc(anchors: dict[int, tuple[str, str]]) -> str:
    """The table of contents: a link to every level-2 heading."""
    esc = html.escape
    items = "".join(
        f'<li><a href="#{esc(anchor)}">{esc(text)}</a></li>' for anchor, text in anchors.values()
    )
    return f'<nav class="toc" aria-label="Contents"><p>Contents</p><ol>{items}</ol></nav>'
