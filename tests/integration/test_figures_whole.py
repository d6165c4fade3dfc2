"""The summary, ``recommend`` and ``verify`` print every figure whole at 80 and 120
columns, piped (COLUMNS) and in a terminal (a pseudo-terminal of that width): no cell cut to
``…``, no figure split from its unit or across lines, no line wider than the terminal but
one that holds a command to copy.

The summary and ``recommend`` read the fixed saved sweep (tests/data/golden/sweep); each
figure the summary's data holds (time, interval, GC share, pauses, memory, RSS ratio) is
looked for, whole, on its setting's line. The figures of ``recommend``'s and ``verify``'s
prose are compared with the same text unwrapped.
"""

from __future__ import annotations

import os
import pty
import re
import shutil
import struct
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from gctune.analysis.fmt import every_chunk_mark, fmt_interval, fmt_ns, fmt_ratio
from gctune.analysis.stats import PointStats, workload_stats
from gctune.analysis.verify import verdict
from gctune.store.results import load_sweep

pytestmark = pytest.mark.integration

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden" / "sweep"
GCTUNE = str(Path(sys.executable).with_name("gctune"))
RECORDED = "/work/main/.venv/bin/python"
WIDTHS = (80, 120)
UNWRAPPED = 1000
# a figure with its unit when it has one; not the digits inside a name (t5000-20-20)
FIGURE = re.compile(
    r"(?<![\w.\-/])[-+±]?\d[\d,.]*(?: ?(?:[KMG]iB|B|ms|us|ns|s|%|x)(?:/s)?)?(?![\w])"
)
CUT = re.compile(r"\d…|…\d|…")
COMMAND = re.compile(r"(?<!`)\S*gctune (?:verify|recommend|sweep) ")  # a command to copy


def figures(text: str) -> Counter[str]:
    return Counter(m.group(0).rstrip(".,") for m in FIGURE.finditer(text))


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("figures")
    shutil.copytree(GOLDEN, cwd / "sweep")
    for path in (cwd / "sweep").rglob("*.json"):
        path.write_text(path.read_text(encoding="utf-8").replace(RECORDED, sys.executable))
    return cwd / "sweep"


def piped(args: list[str], width: int, cwd: Path) -> str:
    env = {**os.environ, "COLUMNS": str(width), "NO_COLOR": "1"}
    done = subprocess.run(
        [GCTUNE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


def in_terminal(args: list[str], width: int, cwd: Path) -> str:
    """gctune's output in a pseudo-terminal ``width`` columns wide (no COLUMNS: the
    terminal's own size), escape sequences removed."""
    import fcntl
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, width, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(NO_COLOR="1", TERM="xterm")
    proc = subprocess.Popen(
        [GCTUNE, *args], cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=300)
    os.close(master)
    text = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def check_lines(text: str, width: int) -> None:
    assert not CUT.search(text), CUT.search(text)
    for line in text.splitlines():
        if len(line) > width:
            # only a command or a path to copy is never broken
            assert COMMAND.search(line) or line.startswith("Results: "), line


def summary_cells(s: PointStats) -> list[str]:
    """The figures the summary's data holds for one setting, formatted as printed."""
    if not s.ok:
        return ["failed"]
    ratio = fmt_ratio(s.time_ratio)
    if s.setting != "default" and s.time_ratio_low is not None:
        low, high = s.time_ratio_low, s.time_ratio_high
        sure = "n.s." if not s.time_significant else fmt_interval(low, high)
        ratio = f"{ratio}{every_chunk_mark(s.time_basis)} {sure}"
    cells = [fmt_ns(s.mean_s * 1e9), ratio, f"{s.gc_share * 100:.1f}", fmt_ratio(s.rss_ratio)]
    if s.collections:
        cells += [fmt_ns(s.pause_p99_ns), fmt_ns(s.pause_max_ns)]
    if s.growth is not None:
        cells.append(s.growth.words(per_second=True))
    return cells


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("where", ["piped", "terminal"])
def test_the_summary_shows_each_figure_whole(sweep: Path, width: int, where: str) -> None:
    show = piped if where == "piped" else in_terminal
    text = show(["summary", str(sweep)], width, sweep.parent)
    check_lines(text, width)
    assert "Results: " in text
    stats = workload_stats(load_sweep(sweep)[1])
    sections = re.split(r"^(?=\S+ *\n+setting )", text, flags=re.MULTILINE)
    for workload, rows in stats.items():
        (section,) = [s for s in sections if s.startswith(workload)]
        for s in rows:
            lines = [ln for ln in section.splitlines() if ln.startswith(f"{s.setting} ")]
            assert lines, (workload, s.setting)
            for cell in summary_cells(s):
                assert any(cell in ln for ln in lines), (workload, s.setting, cell, lines)
    # the prose under the tables: the same figures as unwrapped, none split
    assert figures(text) == figures(piped(["summary", str(sweep)], UNWRAPPED, sweep.parent))


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("where", ["piped", "terminal"])
def test_recommend_wraps_between_figures(sweep: Path, width: int, where: str) -> None:
    show = piped if where == "piped" else in_terminal
    text = show(["recommend", str(sweep)], width, sweep.parent)
    check_lines(text, width)
    whole = piped(["recommend", str(sweep)], UNWRAPPED, sweep.parent)
    assert figures(text) == figures(whole)
    assert max(map(len, whole.splitlines())) > width  # there was something to wrap
    # each prose line of the unwrapped text is printed, its words in order
    assert text.split() == whole.split()


@pytest.mark.parametrize("width", WIDTHS)
def test_verify_wraps_between_figures(tmp_path: Path, width: int) -> None:
    (tmp_path / "tiny.py").write_text(
        "def make(size=20):\n    return lambda: [[i] for i in range(size)]\n"
    )
    out = tmp_path / "v"
    args = ["verify", "tiny.py:make", "-s", "disabled", "--size", "20", "--rounds", "2",
            "--max-point-time", "0.05", "--out", str(out)]  # fmt: skip
    text = piped(args, width, tmp_path)
    check_lines(text, width)
    result = verdict(load_sweep(out)[1], "disabled", max_memory_ratio=1.25)
    whole = "\n".join(result.lines())
    assert figures(text) == figures(whole)
    assert text.split() == whole.split()
