"""The one base of every error a user can cause and fix: a setting, a workload, a
program, an interpreter, a result file, a comparison, a recommendation, a report, a
machine name. The command line (:mod:`gctune.cli.errors`) says any of them in one line,
``gctune: error: ...``, with the exit status it carries (2 unless told otherwise).

Below every stage and importing nothing: the measured interpreter imports it too.
"""

from __future__ import annotations

__all__ = ["UserError"]


class UserError(Exception):
    """A mistake the user can fix, said in one line; ``exit_code`` is the command's exit
    status (2: a user error)."""

    exit_code = 2
