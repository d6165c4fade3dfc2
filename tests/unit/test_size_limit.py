"""``--size`` beyond 64 bits is refused when parsed, in one line, before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gctune.cli.main import app

TOO_BIG = str(2**64)


@pytest.mark.parametrize(
    "args",
    [
        ["sweep", "short_cycles", "--size", TOO_BIG, "--quick"],
        ["run", "short_cycles", "--size", TOO_BIG, "--json"],
        ["verify", "short_cycles", "-s", "disabled", "--size", TOO_BIG],
    ],
    ids=["sweep", "run", "verify"],
)
def test_a_size_beyond_64_bits_is_refused_before_measuring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith("gctune: error:") and "--size" in line and TOO_BIG in line
    assert not (tmp_path / "out").exists() and not (tmp_path / "results").exists()
