"""The typer application every ``gctune`` command hangs on: its help, ``--version`` and
the one voice of its errors (:class:`gctune.cli.errors.OneVoice`). The commands are
registered by :mod:`gctune.cli.main`."""

from __future__ import annotations

import typer

from gctune import __version__
from gctune.cli.errors import (
    OneVoice,
)

app = typer.Typer(
    help="Measure and tune CPython's cyclic garbage collector for your workload.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=OneVoice,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"gctune {__version__}")
        raise typer.Exit()


@app.callback()
def _gctune(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print gctune's version and exit.",
    ),
) -> None:
    """Measure and tune CPython's cyclic garbage collector for your workload."""
