"""Every relative link of the user documentation leads somewhere.

README.md, docs/*.md, benchmarks/README.md and results/README.md link to each other and
to files of the repository. A link whose file moved or whose heading was renamed breaks
silently on GitHub; this checks each one: the file exists, and an anchor (``#...``) is a
heading of the target file, slugged as GitHub slugs headings.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted(
    [
        ROOT / "README.md",
        *(ROOT / "docs").glob("*.md"),
        ROOT / "benchmarks" / "README.md",
        ROOT / "results" / "README.md",
    ]
)

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.MULTILINE)
_EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")  # http:, https:, mailto:, ...


def _prose(text: str) -> tuple[str, list[str]]:
    """The text outside fenced code blocks, and its headings (in order)."""
    kept, headings, fenced = [], [], False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        kept.append(line)
        match = _HEADING.match(line)
        if match:
            headings.append(match.group(2))
    return "\n".join(kept), headings


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: its text lowercased, punctuation dropped, spaces → -."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link: its text
    text = text.replace("`", "").lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor GitHub gives the headings of ``path`` (repeats get -1, -2, ...)."""
    seen: dict[str, int] = {}
    found = set()
    for heading in _prose(path.read_text(encoding="utf-8"))[1]:
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    return found


def links(path: Path) -> list[str]:
    """The link targets of a Markdown file, outside code blocks and code spans."""
    prose = _CODE_SPAN.sub("", _prose(path.read_text(encoding="utf-8"))[0])
    return _INLINE_LINK.findall(prose) + _REFERENCE_LINK.findall(prose)


def broken_links(path: Path) -> list[str]:
    """Each relative link of ``path`` that leads to no file, or to no heading of it."""
    broken = []
    for target in links(path):
        if _EXTERNAL.match(target):
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no such heading")
    return broken


@pytest.mark.parametrize("doc", DOCS, ids=[str(d.relative_to(ROOT)) for d in DOCS])
def test_every_relative_link_resolves(doc: Path) -> None:
    assert doc.exists()
    assert broken_links(doc) == []


def test_the_documents_link_to_each_other() -> None:
    """The README leads to docs/; the check has links to check."""
    targets = links(ROOT / "README.md")
    assert "docs/measurement.md" in targets
    assert "benchmarks/README.md" in targets
    assert "results/README.md" in targets


def test_a_missing_file_and_a_missing_heading_are_found(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text(
        "# Title\n\n## The probe's cost: `gc` — 3.15\n\n## Repeat\n\n## Repeat\n"
    )
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n"
        "[ok](other.md) [ok](other.md#title) [ok](other.md#the-probes-cost-gc--315)\n"
        "[ok](other.md#repeat-1) [ok](#page) [ok](https://example.org/x.md)\n"
        "[gone](missing.md) [bad anchor](other.md#nothing) [bad](#nowhere)\n"
        "`[in code](missing-too.md)`, ``[code\nover a line](missing-four.md)``\n"
        "```\n[in a fence](missing-three.md)\n```\n"
        "[ref]: gone-too.md\n"
    )
    assert broken_links(page) == [
        "missing.md: no such file",
        "other.md#nothing: no such heading",
        "#nowhere: no such heading",
        "gone-too.md: no such file",
    ]
