"""The ``gctune`` command: thin typer commands that parse and call typed functions.

User mistakes end with one line on stderr and a non-zero exit, never a traceback (see
:mod:`gctune.cli.errors`): ``gctune: error: ...`` and exit status 2; 1 for a failed gate
or recommendation, 3 for a sweep that finished with failed points, 130 when interrupted.
"""

from __future__ import annotations

import sys
from typing import Optional

from gctune.cli.advice_commands import recommend, report, verify
from gctune.cli.app import app
from gctune.cli.ci_commands import compare, gate, history
from gctune.cli.merge_command import merge
from gctune.cli.sweep_commands import list_cmd, run, summary, sweep
from gctune.cli.tune_command import tune

__all__ = ["app", "main"]

# One module per command group (sweep_commands, advice_commands, ci_commands); the
# commands are registered here, in the order ``gctune --help`` lists them.
COMMANDS = (
    ("list", list_cmd),
    ("sweep", sweep),
    ("summary", summary),
    ("report", report),
    ("recommend", recommend),
    ("tune", tune),
    ("run", run),
    ("verify", verify),
    ("compare", compare),
    ("gate", gate),
    ("history", history),
    ("merge", merge),
)
for _name, _command in COMMANDS:
    app.command(_name)(_command)


def main(argv: Optional[list[str]] = None) -> int:
    """Run the CLI; returns the exit status."""
    try:
        app(args=argv, prog_name="gctune")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
