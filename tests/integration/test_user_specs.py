"""A user's workload file named in different spellings is one workload."""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_printed_commands import FACTORY, gctune


def test_one_file_spelled_two_ways_is_one_workload(
    tmp_path: Path, fast_args: tuple[str, ...]
) -> None:
    (tmp_path / "tiny.py").write_text(FACTORY)
    out = tmp_path / "s"
    swept = gctune("sweep", "tiny.py:make", "./tiny.py:make", "--out", str(out), "-s", "disabled",
                   *fast_args, cwd=tmp_path)  # fmt: skip
    assert swept.returncode == 0, swept.stderr
    assert "1 workload(s) x 2 setting(s)" in swept.stderr
    assert sorted(p.name for p in (out / "points").iterdir()) == [
        "tiny-make@default.json",
        "tiny-make@disabled.json",
    ]
