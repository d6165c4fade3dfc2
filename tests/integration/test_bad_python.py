"""``--python`` naming something that cannot be measured: one line, exit 2, no directory.

Old interpreters come from pyenv (``~/.pyenv/versions``); a test is skipped on a machine
without that version. Rows of the table in docs/faults.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_bad_input import one_error_line

pytestmark = pytest.mark.integration

PYENV = Path.home() / ".pyenv" / "versions"


@pytest.mark.parametrize("version", ["2.7.18", "3.6.15", "3.8.18"])
def test_a_python_older_than_3_9_is_refused_and_leaves_no_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    python = PYENV / version / "bin" / "python"
    if not python.exists():
        pytest.skip(f"Python {version} is not installed under {PYENV}")
    monkeypatch.chdir(tmp_path)
    for command in (["sweep", "acyclic_churn"], ["run", "acyclic_churn"]):
        line = one_error_line([*command, "--python", str(python)])
        assert line == (
            f"gctune: error: interpreter {python} is Python {version}; "
            "gctune measures Python 3.9 or newer"
        )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("program", ["/bin/true", "/bin/false"])
def test_a_program_that_is_not_python_is_refused_and_leaves_no_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, program: str
) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "results" / "s"
    line = one_error_line(["sweep", "acyclic_churn", "--python", program, "--out", str(out)])
    assert line.startswith(
        f"gctune: error: {program} is not a Python interpreter: asked for its version, "
        "it printed nothing (exit status "
    )
    assert list(tmp_path.iterdir()) == []
