"""The marker of tests that run the counts tier for real: skipped, with the reason, where
valgrind is missing."""

from __future__ import annotations

import shutil

import pytest

needs_valgrind = pytest.mark.skipif(
    shutil.which("valgrind") is None,
    reason="valgrind is not installed (Debian's valgrind package): the counts tier cannot run here",
)
