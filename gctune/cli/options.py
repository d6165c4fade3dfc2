"""Options shared by several commands (workloads, modes, budgets, interpreters, machine),
defined once so that every command spells and explains them alike."""

from __future__ import annotations

from pathlib import Path

import typer

from gctune.store.fields import INT64_MAX
from gctune.store.machine import MACHINE_ENV
from gctune.sweep.modes import MODES
from gctune.sweep.spec import DEFAULT_TIMEOUT

RESULTS = Path("results")


# Options that `run` and `sweep` share, defined once.
WORKLOAD_OPT = typer.Option(
    None, "--workload", "-w", metavar="WORKLOAD", help="A workload, as the arguments."
)


COMMAND = typer.Option(
    False,
    "--command",
    help="Measure an unchanged program: gctune run|sweep --command -- python app.py ARGS.",
)


NAME = typer.Option(
    None,
    metavar="NAME",
    help="Name of the --command program in results (default: its script's name).",
)


QUICK = typer.Option(False, "--quick", help=MODES["quick"].help())


FAST = typer.Option(False, "--fast", help=MODES["fast"].help())


NORMAL = typer.Option(False, "--normal", help=MODES["normal"].help())


RIGOROUS = typer.Option(False, "--rigorous", help=MODES["rigorous"].help())


# a size is stored as a 64-bit count (gctune.store.fields): refuse a larger one before
# anything is measured, not after, when the sweep could no longer be read
SIZE = typer.Option(
    None,
    min=1,
    max=INT64_MAX,
    metavar="N",
    help="Workload size (default: each workload's own).",
)


TIMEOUT = typer.Option(
    DEFAULT_TIMEOUT,
    min=1,
    metavar="SECONDS",
    help="Time allowed per worker process (counts: CPU seconds per counted span, 3600).",
)


MAX_MEMORY = typer.Option(
    "4G", metavar="SIZE", help="Memory cap per worker process (resident), e.g. 2G."
)


PROCESSES = typer.Option(None, min=1, metavar="N", help="--command only: pyperf worker processes.")


VALUES = typer.Option(None, min=1, metavar="N", help="--command only: pyperf values per process.")


MIN_TIME = typer.Option(
    None, min=0.0001, metavar="SECONDS", help="--command only: pyperf time per value."
)


ROUNDS = typer.Option(
    None,
    min=1,
    metavar="N",
    help="Most rounds (one span of every racing setting each; default: the mode's).",
)


MIN_ROUNDS = typer.Option(None, min=1, metavar="N", help="Rounds before racing may stop a setting.")


MAX_POINT_TIME = typer.Option(
    None,
    "--max-point-time",
    min=0.001,
    metavar="SECONDS",
    help="Seconds one span of a point may measure (default: the mode's: "
    + ", ".join(f"{m.name} {m.span_budget_s:g}" for m in MODES.values())
    + ").",
)


MIN_GAIN = typer.Option(
    2.0,
    min=0.0,
    metavar="PERCENT",
    help="Smallest gain of interest, percent: racing stops settings slower than "
    "the leader by more.",
)


NO_RACING = typer.Option(
    False, "--no-racing", help="Measure every setting in every round (no decision rounds)."
)


DECIDE_ROUNDS = typer.Option(
    None,
    min=0,
    metavar="N",
    help="Most extra rounds of default and a candidate whose interval straddles the "
    "min-gain line (default: the mode's: "
    + ", ".join(f"{m.name} {m.decide_rounds}" for m in MODES.values())
    + "; 0 turns them off).",
)


PYTHON = typer.Option(
    None,
    "--python",
    metavar="PATH",
    help="Interpreter to measure (path or name on PATH; default: the one running gctune). "
    "It needs nothing installed: gctune and pyperf are lent to it.",
)


PYTHONS = typer.Option(
    None,
    "--python",
    help="Interpreter to measure (path or name on PATH; default: the one running gctune); "
    "repeat it to measure several side by side in the same rounds. It needs nothing "
    "installed: gctune and pyperf are lent to it.",
)


MACHINE = typer.Option(
    None,
    "--machine",
    metavar="NAME",
    help=f"Name of this machine in the results (default: ${MACHINE_ENV}, else the host "
    "name); history and compare compare times only within one machine.",
)


ALLOW_DIFFERENT_MACHINE = typer.Option(
    False,
    "--allow-different-machine",
    help="Compare times of result sets measured on different machines (name, CPU model "
    "or CPU count differ).",
)
