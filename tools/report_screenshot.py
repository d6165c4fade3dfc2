"""Look at the HTML report as a reader does: in a real browser, headless Chromium.

Runs a tiny real sweep (two workloads, three settings, about a minute), writes its HTML
report, and has Chromium take a screenshot of the whole page at two window widths
(1280 px, a laptop; 800 px, a narrow window). Each screenshot is cut into tiles of at
most 2,000 px height, which an image viewer shows legibly:

    make report-screenshot                      # or: .venv/bin/python tools/report_screenshot.py
    python tools/report_screenshot.py --sweep results/<id>   # the report of an existing sweep

Chromium is Debian's package (``apt-get install chromium``); ``--browser`` or ``$BROWSER``
names another. Output goes to ``results/report-screenshot/`` (git-ignored). What to look
for: the table of contents, tables whose intervals and setting ids stay on one line (a
wide table scrolls sideways), readable chart axes, the "Who frees the garbage" section
after the workloads. At each width it also measures the page in the browser and prints
whether anything is wider than the window (``--width 1400`` for another width):

    at 1400 px: page 1400 px wide, 1 of 9 tables wider than its column (scrolls inside
    its box), no box past the window's edge, page 9,870 px tall

and exits non-zero when the page itself is wider than the window.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional

from PIL import Image, ImageChops

ROOT = Path(__file__).resolve().parents[1]
SWEEP_ARGS = (
    *("acyclic_churn", "short_cycles", "-s", "20000", "--fast", "--size", "200"),
    *("--rounds", "2", "--max-point-time", "0.2"),
)
WIDTHS = (1280, 800)
PAGE_HEIGHT = 16_000  # the window is this tall: the whole report of the tiny sweep fits
TILE = 2_000
# As root and on a machine without network: no sandbox, nothing that calls home.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def find_browser(name: Optional[str]) -> str:
    """The browser to run: ``name``, ``$BROWSER``, or Chromium found on PATH."""
    for candidate in (name, os.environ.get("BROWSER"), "chromium", "chromium-browser"):
        if candidate and shutil.which(candidate):
            return str(shutil.which(candidate))
    sys.exit("report-screenshot: no Chromium found: apt-get install chromium (or --browser PATH)")


def tiny_sweep(out: Path, *, fresh: bool) -> Path:
    """A small real sweep in ``out/tiny-sweep`` (kept between runs unless ``fresh``)."""
    sweep = out / "tiny-sweep"
    if fresh and sweep.exists():
        shutil.rmtree(sweep)
    if not (sweep / "manifest.json").exists():
        cmd = [sys.executable, "-m", "gctune.cli.main", "sweep", *SWEEP_ARGS, "--out", str(sweep)]
        subprocess.run(cmd, check=True, cwd=ROOT)
    return sweep


def screenshot(browser: str, page: Path, width: int, png: Path) -> None:
    """A screenshot of ``page`` in a window ``width`` px wide and :data:`PAGE_HEIGHT` tall."""
    with tempfile.TemporaryDirectory(prefix="gctune-chromium-") as profile:
        subprocess.run(
            [
                browser,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={width},{PAGE_HEIGHT}",
                f"--screenshot={png}",
                page.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


# Run in the page after it is laid out: the widths a reader's window would scroll.
_MEASURE = """<script>
const win = window.innerWidth, page = document.documentElement.scrollWidth;
let wide = 0, past = 0;
const tables = document.querySelectorAll("table");
for (const t of tables) {
  const box = t.parentElement.getBoundingClientRect();
  if (t.getBoundingClientRect().width > box.width + 1) wide++;
  if (box.right > win + 1) past++;
}
document.body.insertAdjacentHTML("beforeend", "<pre id=gctune-measure>" +
  [win, page, tables.length, wide, past, document.documentElement.scrollHeight].join(" ") +
  "</pre>");
</script>"""


def measure(browser: str, page: Path, width: int) -> tuple[str, bool]:
    """The page laid out ``width`` px wide: a line for people, and whether it fits."""
    with tempfile.TemporaryDirectory(prefix="gctune-chromium-") as profile:
        probe = Path(profile) / "measure.html"
        probe.write_text(page.read_text(encoding="utf-8").replace("</body>", _MEASURE + "</body>"))
        done = subprocess.run(
            [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
             f"--window-size={width},1000", "--dump-dom", probe.as_uri()],
            check=True, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    found = re.search(r'<pre id="gctune-measure">([\d ]+)</pre>', html.unescape(done.stdout))
    if found is None:
        return f"at {width} px: the page could not be measured", False
    win, wide_page, tables, wide, past, tall = (int(v) for v in found.group(1).split())
    fits = wide_page <= win and past == 0
    return (
        f"at {width} px: page {wide_page} px wide in a {win} px window, {wide} of {tables} "
        f"tables wider than their column (they scroll inside their box), {past} box(es) past "
        f"the window's edge, page {tall:,} px tall",
        fits,
    )


def tiles(png: Path) -> list[Path]:
    """Cut the page's screenshot below its last content into tiles; return their paths."""
    with Image.open(png) as image:
        page = image.convert("RGB")
    content = ImageChops.difference(page, Image.new("RGB", page.size, "white")).getbbox()
    bottom = min(page.height, (content[3] if content else 0) + 20)
    if bottom >= page.height:
        print(f"report-screenshot: the page is cut off at {PAGE_HEIGHT} px", file=sys.stderr)
    out = []
    for n, top in enumerate(range(0, bottom, TILE)):
        tile = png.with_name(f"{png.stem}-{n}.png")
        page.crop((0, top, page.width, min(top + TILE, bottom))).save(tile)
        out.append(tile)
    return out


def main(argv: Optional[list[str]] = None) -> int:
    """Sweep (or take ``--sweep``), write the HTML report, screenshot it; print the tiles."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", type=Path, help="an existing sweep directory")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "report-screenshot")
    parser.add_argument("--fresh", action="store_true", help="sweep again even if one is there")
    parser.add_argument("--browser", help="the browser to run (default: chromium)")
    parser.add_argument(
        "--width", type=int, action="append", help=f"window width, px (default: {WIDTHS})"
    )
    args = parser.parse_args(argv)
    from gctune.present.report import build_report

    browser = find_browser(args.browser)
    sweep = args.sweep or tiny_sweep(args.out, fresh=args.fresh)
    (page,) = build_report(sweep, out_dir=args.out / "report", formats=["html"])
    print(f"Report: {page}")
    fit = True
    for width in args.width or WIDTHS:
        png = args.out / f"report-{width}px.png"
        screenshot(browser, page, width, png)
        for tile in tiles(png):
            print(f"Screenshot: {tile}")
        line, fits = measure(browser, page, width)
        print(line)
        fit = fit and fits
    return 0 if fit else 1


if __name__ == "__main__":
    sys.exit(main())
