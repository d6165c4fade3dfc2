"""Commands for CI: ``compare`` (two result sets, point by point), ``gate`` (two
workloads or interpreters of one interleaved sweep, within its rounds) and ``history``
(time and pause p99 over commits)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from gctune.analysis.compare import compare_sweeps
from gctune.analysis.comparison import GATES, parse_threshold
from gctune.cli import count_commands
from gctune.cli.app import app
from gctune.cli.errors import (
    GctuneError,
    user_errors,
    warn_damaged,
)
from gctune.cli.options import (
    ALLOW_DIFFERENT_MACHINE,
)
from gctune.cli.outcome import end_gate
from gctune.present.sweep_tables import (
    console,
)


@app.command()
@user_errors
def compare(
    base: Path = typer.Argument(
        ..., metavar="BASE", help="Baseline result directory, e.g. results/baseline."
    ),
    new: Path = typer.Argument(
        ..., metavar="NEW", help="Result directory to check against the baseline."
    ),
    fail_on: list[str] = typer.Option(
        None,
        "--fail-on",
        metavar="METRIC:PERCENT",
        help=f"Gate METRIC:PERCENT, repeatable, e.g. time:5% or collections:0%. "
        f"Metrics: {', '.join(GATES)}.",
    ),
    allow_different_python: bool = typer.Option(
        False,
        "--allow-different-python",
        help="Compare results measured on different Python versions or GC kinds.",
    ),
    allow_missing: bool = typer.Option(
        False,
        "--allow-missing",
        help="Pass the gate when points of BASE are missing or failed in NEW.",
    ),
    allow_different_machine: bool = ALLOW_DIFFERENT_MACHINE,
    json_output: bool = typer.Option(
        False, "--json", help="Print a machine-readable result on stdout instead of tables."
    ),
    all_metrics: bool = typer.Option(
        False, "--all-metrics", help="Show every metric, not only the gated ones."
    ),
) -> None:
    """Compare two result sets point by point; exit 1 on a regression beyond a gate, or
    when a point of BASE is missing or failed in NEW (unless --allow-missing).

    A regression of time, p99 or rss needs its whole 95% interval beyond the threshold;
    collections and collected are compared per step, exactly when the steps per run match.
    """
    from gctune.present.ci_tables import print_comparison, wide

    thresholds = [parse_threshold(t) for t in fail_on or []]
    result = compare_sweeps(
        base,
        new,
        thresholds=thresholds,
        allow_different_python=allow_different_python,
        allow_missing=allow_missing,
        allow_different_machine=allow_different_machine,
    )
    warn_damaged(result.damaged)
    if json_output:
        typer.echo(json.dumps(result.to_json(), indent=1))
    else:
        print_comparison(wide(console), result, all_metrics=all_metrics)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


@app.command()
@user_errors
def gate(
    directory: Path = typer.Argument(..., help="A sweep measured with --interleave or --python."),
    base: str = typer.Argument(..., help="Workload id of the base, as in the sweep."),
    new: str = typer.Argument(..., help="Workload id of the change."),
    fail_on: list[str] = typer.Option(
        None,
        "--fail-on",
        help="Gate METRIC:PERCENT, repeatable: time (over the chunks run at the machine's "
        "full speed where enough rounds have them, else every chunk), cpu, fullspeed "
        "(full-speed chunks only) or collections; in a sweep in counts: instructions or "
        "cycles.",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print JSON instead of lines."),
) -> None:
    """Compare two workloads (or interpreters) of one interleaved sweep within its rounds;
    exit 1 on a regression beyond a gate, 3 when a side's point failed or a gated metric
    could not be measured (not compared)."""
    from gctune.analysis.gate import gate as run_gate

    if count_commands.in_counts(directory):
        count_commands.gate_counts(directory, base, new, fail_on or [], json_output)
        return
    from gctune.analysis.gate import family_confidence

    rows = run_gate(directory, base, new, [parse_threshold(t) for t in fail_on or []])
    settings = len({r.setting for r in rows if not r.failed})
    level = f"{family_confidence(settings):.1%}".replace(".0%", "%")
    family = f", family-wise 95% over {settings} settings" if settings > 1 else ""
    title = (
        f"{new} vs {base}, round-paired in seconds within {directory} ({level} intervals{family}):"
    )
    end_gate({"base": base, "new": new}, title, rows, json_output, reasons_above=True)


@app.command()
@user_errors
def history(
    dirs: list[Path] = typer.Argument(
        ...,
        metavar="DIR...",
        help="Result directories, one per commit, in any order (dated by their manifests).",
    ),
    out: Path = typer.Option(
        Path("gctune-history.png"), metavar="PNG", help="Where to write the PNG chart."
    ),
    min_effect: float = typer.Option(
        5.0, min=0.0, metavar="PERCENT", help="Smallest change, in percent, that counts as a step."
    ),
    allow_different_machine: bool = ALLOW_DIFFERENT_MACHINE,
) -> None:
    """Chart mean time and GC pause p99 over commits; flag steps beyond their noise."""
    from gctune.analysis.history import HistoryError, load_history, nothing_to_compare
    from gctune.present.ci_tables import print_history, wide
    from gctune.present.history_plot import plot_history

    result = load_history(dirs, min_effect=min_effect / 100, any_machine=allow_different_machine)
    warn_damaged(result.damaged)
    print_history(wide(console), result)
    if nothing_to_compare(result) is not None:
        # a chart of nothing would replace the last useful one
        console.print(f"No chart written ({out} is left as it was)", highlight=False)
        return
    try:
        chart = plot_history(result, out)
    except HistoryError as exc:
        raise GctuneError(str(exc)) from None
    console.print(f"Chart: {chart}")
