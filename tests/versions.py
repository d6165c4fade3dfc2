"""The real CPython interpreters the version tests run on, and what each should show.

3.14 and 3.15 are Debian sid's, fetched and relocated by ``make interpreters``
(``tools/interpreters.py``, listed in ``.interpreters/interpreters.json``); 3.9 and 3.13
are pyenv's builds under ``~/.pyenv/versions`` where installed. A missing one is a
skip with the reason, never a failure: ``make interpreters`` records why it could not
fetch them (no network, not Debian).
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Union

__all__ = ["VERSIONS", "Interpreter", "locate"]

VERSIONS = ("3.9", "3.13", "3.14", "3.15")
MANIFEST = Path(__file__).resolve().parents[1] / ".interpreters" / "interpreters.json"
PYENV = Path.home() / ".pyenv" / "versions"


@dataclass(frozen=True)
class Interpreter:
    """A real interpreter, and the collector behaviour its version implies (DESIGN.md)."""

    path: str
    version_info: tuple[int, int, int]

    @property
    def default_thresholds(self) -> tuple[int, int, int]:
        """3.13 raised threshold0 from 700 to 2000."""
        return (2000, 10, 10) if self.version_info >= (3, 13) else (700, 10, 10)

    @property
    def gc_kind(self) -> str:
        """Incremental on 3.14.0–3.14.4 only; 3.14.5+ and 3.15 are generational again."""
        return "incremental" if (3, 14, 0) <= self.version_info <= (3, 14, 4) else "generational"

    @property
    def reports_duration(self) -> bool:
        """3.15 adds ``duration`` (seconds) to the info of ``gc.callbacks`` (gh-140638)."""
        return self.version_info >= (3, 15)


def locate(version: str) -> Union[Interpreter, str]:
    """The interpreter of ``version`` ("3.15"), or why there is none here."""
    if version in ("3.14", "3.15"):
        found = _from_manifest(version)
    else:
        found = _from_pyenv(version)
    if not isinstance(found, Path):
        return found
    try:
        out = subprocess.run(
            [str(found), "-c", "import sys; print(list(sys.version_info[:3]))"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{found} does not run: {exc}"
    if out.returncode != 0:
        return f"{found} does not run: {(out.stderr.strip().splitlines() or ['?'])[-1]}"
    major, minor, micro = json.loads(out.stdout)
    return Interpreter(str(found), (major, minor, micro))


def _from_manifest(version: str) -> Union[Path, str]:
    try:
        manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"CPython {version} is fetched by `make interpreters`, which has not run here"
    if manifest.get("error"):
        return f"make interpreters could not fetch CPython {version}: {manifest['error']}"
    entry = manifest.get("interpreters", {}).get(version)
    if not entry:
        return f"make interpreters lists no CPython {version}: run `make interpreters`"
    return Path(entry["path"])


def _from_pyenv(version: str) -> Union[Path, str]:
    pattern = re.compile(rf"^{re.escape(version)}\.(\d+)$")  # not 3.13.0t (free-threaded)
    builds = [
        (int(m.group(1)), d / "bin" / "python")
        for d in (PYENV.iterdir() if PYENV.is_dir() else [])
        if (m := pattern.match(d.name)) and (d / "bin" / "python").exists()
    ]
    if not builds:
        return f"CPython {version} is not installed under {PYENV} (pyenv)"
    return max(builds)[1]
