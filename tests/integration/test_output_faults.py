"""Output that cannot be written, for real: a disk that fills up while the report of a
sweep is written (a 250 KB tmpfs), a sweep directory the user may not write, result
directories the user may not read. One line, exit 2, the path named, finished points
kept. Rows of the table in docs/faults.md.

The tests run as root, who may write anywhere: permissions are tested by running gctune
without the capabilities that let root ignore them (``setpriv``), and the small disk is a
tmpfs mounted for the test. Where neither is possible the test says why and skips.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gctune.present.next_steps import program
from gctune.store.results import load_sweep
from tests.unit.synthetic import Synth, scaled, write_sweep

pytestmark = pytest.mark.integration

GCTUNE = str(Path(sys.executable).with_name("gctune"))
FAST = ("--rounds", "2", "--max-point-time", "0.05", "--size", "20")


def gctune(*args: str, unprivileged: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the installed program; ``unprivileged``: as a user file permissions apply to."""
    prefix: list[str] = []
    if unprivileged and os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: permissions cannot be tested")
        prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]
    return subprocess.run(
        [*prefix, GCTUNE, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "400"},
    )


def last_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert [line for line in lines if line.startswith("gctune: error: ")] == lines[-1:], lines
    return lines[-1]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 250 KB tmpfs: room for a tiny sweep's points, not for its report."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=250k", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_disk_full_while_writing_the_report_keeps_the_points(
    small_disk: Path, tmp_path: Path
) -> None:
    out = small_disk / "sweep"
    done = gctune("sweep", "acyclic_churn", "-s", "default", "--out", str(out), *FAST)
    line = last_error(done)
    assert line.startswith(f"gctune: error: {out}/report/")
    assert line.endswith(
        f": cannot write the report: No space left on device; the points are kept in {out}: "
        f"rebuild with {shlex.join(program())} report {out}"
    )
    _, points = load_sweep(out)  # whole and readable
    assert sorted(p.setting for p in points) == ["default", "disabled"]
    assert all(p.ok for p in points)
    # nothing half-written: no document, no temporary folder
    assert not (out / "report").exists() or not [
        p for p in (out / "report").iterdir() if p.name != "charts"
    ]
    rebuilt = gctune("report", str(out), "--out", str(tmp_path / "report"))
    assert rebuilt.returncode == 0, rebuilt.stderr


def test_a_sweep_directory_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    out = locked / "sweep"
    line = last_error(
        gctune("sweep", "acyclic_churn", "-s", "default", "--out", str(out), unprivileged=True)
    )
    assert line == (
        f"gctune: error: {out}: Permission denied; the sweep in {out} could not start; "
        "nothing was measured"
    )
    assert list(locked.iterdir()) == []


def test_result_directories_that_cannot_be_read_are_one_line(tmp_path: Path) -> None:
    sweep = write_sweep(
        tmp_path / "sweep",
        [Synth("w", "default", scaled(1e-3)), Synth("w", "disabled", scaled(1e-3))],
    )
    hidden = write_sweep(tmp_path / "hidden", [Synth("w", "default", scaled(1e-3))])
    (sweep / "points").chmod(0o000)
    hidden.chmod(0o000)
    try:
        for args in (["report", str(sweep)], ["compare", str(sweep), str(sweep)]):
            assert last_error(gctune(*args, unprivileged=True)) == (
                f"gctune: error: {sweep / 'points'}: cannot read: Permission denied"
            )
        for args in (["report", str(hidden)], ["history", str(hidden)]):
            line = last_error(gctune(*args, unprivileged=True))
            assert line.startswith("gctune: error: ") and str(hidden) in line
    finally:
        (sweep / "points").chmod(0o755)
        hidden.chmod(0o755)
