"""How a command ends, said once for the commands that share it: a gate's rows and exit
status (in time or in counts), and a sweep interrupted (with or without saved points)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, Optional, Protocol

import typer

from gctune.cli.errors import FAILED_POINTS
from gctune.present.next_steps import resume_command

__all__ = ["GateRow", "end_gate", "end_interrupted"]


class GateRow(Protocol):
    """A gate's row: one setting of both sides compared."""

    @property
    def regression(self) -> bool: ...

    @property
    def failed(self) -> object: ...  # truthy: a side's point failed (which, in words)

    def line(self) -> str: ...

    def to_json(self) -> dict[str, Any]: ...


def end_gate(
    head: dict[str, Any],
    title: str,
    rows: Sequence[GateRow],
    json_output: bool,
    *,
    reasons_above: bool,
) -> None:
    """Print a gate's rows (or its JSON, ``head`` first) and exit 1 on a regression, 3 when
    a side's point failed (not compared)."""
    regressed = [r for r in rows if r.regression]
    failed = [r for r in rows if r.failed]
    if json_output:
        doc = {**head, "rows": [r.to_json() for r in rows]}
        doc.update(regressions=len(regressed), failed=len(failed))
        typer.echo(json.dumps(doc, indent=1))
    else:
        typer.echo(title)
        for row in rows:
            typer.echo("  " + row.line())
        typer.echo(f"{len(regressed)} regression(s)")
    if failed:
        why = " (reasons above)" if reasons_above else ""
        typer.echo(
            f"gctune: {len(failed)} setting(s) not compared: a side's point failed or a "
            f"gated metric could not be measured{why}; "
            f"exit status {FAILED_POINTS}",
            err=True,
        )
    if regressed:
        raise typer.Exit(1)
    if failed:
        raise typer.Exit(FAILED_POINTS)


def end_interrupted(out: Path, *, resume: Optional[str] = None) -> NoReturn:
    """A sweep interrupted (Ctrl-C): say what is kept and how to resume; exit 130.
    ``resume``: the command that resumes it, where not ``gctune sweep --resume`` (a tune
    keeps its search record, ``tune.json``, before any sweep starts)."""
    try:
        started = (out / "manifest.json").exists() or (
            resume is not None and (out / "tune.json").exists()
        )
    except OSError:
        started = False
    if started:
        message = (
            f"gctune: interrupted; finished points are kept in {out}. "
            f"Resume with: {resume or resume_command(out)}"
        )
    else:
        message = "gctune: interrupted before the sweep started; nothing was saved"
    typer.echo(message, err=True)
    raise typer.Exit(130) from None
