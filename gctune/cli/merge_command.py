"""``gctune merge``: sweeps in counts measured apart, combined into one (see
:mod:`gctune.sweep.count_merge`)."""

from __future__ import annotations

from pathlib import Path

import typer

from gctune.cli.errors import user_errors
from gctune.sweep.count_merge import merge_counts

__all__ = ["merge"]


@user_errors
def merge(
    sweeps: list[Path] = typer.Argument(
        ..., metavar="DIR...", help="Sweeps in counts to combine (e.g. the shards of one)."
    ),
    out: Path = typer.Option(..., "--out", help="The new sweep directory."),
) -> None:
    """Combine sweeps in counts measured apart (--shard K/N on machines of one interpreter
    build) into one sweep directory; a point measured in several must agree."""
    from gctune.cli.count_commands import summary_counts

    merge_counts(out, sweeps)
    summary_counts(out)
