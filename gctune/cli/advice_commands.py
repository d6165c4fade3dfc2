"""Commands that read a sweep and advise: ``report`` (Markdown/HTML with charts),
``recommend`` (a setting per workload, with the code to apply it) and ``verify`` (a
long interleaved check of one setting against default)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

import typer

from gctune.analysis.recommend import DEFAULT_MAX_MEMORY_RATIO, RecommendError
from gctune.cli import count_commands
from gctune.cli.app import app
from gctune.cli.errors import (
    GctuneError,
    user_errors,
    warn_damaged,
)
from gctune.cli.options import (
    PYTHON,
    RESULTS,
    SIZE,
)
from gctune.cli.spec import (
    check_objective,
    make_spec,
    measure_sweep,
    sweep_dir_or_latest,
)
from gctune.measure.settings import (
    parse_settings,
)
from gctune.present.next_steps import (
    workload_args,
)
from gctune.present.sweep_tables import (
    err_console,
    print_wrapped,
)
from gctune.sweep.spec import DEFAULT_TIMEOUT
from gctune.sweep.sweep_dir import new_sweep_dir


@app.command()
@user_errors
def report(
    directory: Optional[Path] = typer.Argument(
        None, metavar="[DIR]", help="Sweep directory (default: the latest under results/)."
    ),
    out: Optional[Path] = typer.Option(
        None, metavar="DIR", help="Report directory (default: DIR/report)."
    ),
    fmt: list[str] = typer.Option(
        ["md", "html"],
        "--format",
        metavar="FORMAT",
        help="md or html (repeatable; default: both).",
        show_default=False,
    ),
    objective: str = typer.Option(
        "throughput",
        metavar="OBJECTIVE",
        help="What recommendations optimise: throughput, latency, balanced.",
    ),
    max_memory_ratio: float = typer.Option(
        DEFAULT_MAX_MEMORY_RATIO,
        min=0.01,
        metavar="RATIO",
        help="Memory budget: peak RSS / default's.",
    ),
) -> None:
    """Write the Markdown and/or self-contained HTML report of a sweep, with charts."""
    from gctune.analysis.frame import load
    from gctune.present.report import FORMATS, ReportError, write_report

    for name in fmt:
        if name not in FORMATS:
            raise GctuneError(f"unknown report format {name!r}: use md or html")
    if count_commands.in_counts(directory):
        return count_commands.report_counts(directory, out, fmt)

    data = load(sweep_dir_or_latest(directory))
    warn_damaged(data.damaged)
    try:
        paths = write_report(
            data,
            out_dir=out,
            formats=fmt,
            objective=check_objective(objective),
            max_memory_ratio=max_memory_ratio,
        )
    except ReportError as exc:
        raise GctuneError(str(exc)) from None
    for path in paths:
        typer.echo(f"Report: {path}")


@app.command()
@user_errors
def recommend(
    directory: Optional[Path] = typer.Argument(
        None, metavar="[DIR]", help="Sweep directory (default: the latest under results/)."
    ),
    workload: Optional[list[str]] = typer.Option(
        None, "--workload", "-w", metavar="WORKLOAD", help="Only this workload (repeatable)."
    ),
    max_memory_ratio: float = typer.Option(
        DEFAULT_MAX_MEMORY_RATIO,
        min=0.01,
        metavar="RATIO",
        help="Memory budget: peak RSS / default's.",
    ),
    objective: str = typer.Option(
        "throughput",
        metavar="OBJECTIVE",
        help="throughput (time), latency (longest pause) or balanced (both).",
    ),
    min_gain: float = typer.Option(
        2.0, min=0.0, help="Smallest gain worth a change, percent of default's (whole interval)."
    ),
    recycle: bool = typer.Option(
        False,
        "--recycle",
        help="Admit settings whose memory grows, with a worker-recycling interval.",
    ),
    verify_it: bool = typer.Option(
        False, "--verify", help="Check each recommended change with `gctune verify` first."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print JSON (schema: docs/reports.md)."),
) -> None:
    """Recommend a GC setting per workload, with expected gains and code to apply it."""
    from gctune.analysis.frame import load
    from gctune.analysis.recommend import recommend as choose
    from gctune.analysis.recycle import recycle_snippets
    from gctune.present.advice import (
        ADVICE_SCHEMA,
        describe,
        program_of,
        recommendation_json,
        snippet,
    )

    objective = check_objective(objective)
    if count_commands.in_counts(directory):
        return count_commands.recommend_counts(
            directory, max_memory_ratio=max_memory_ratio, min_gain=min_gain / 100,
            json_output=json_output,
        )  # fmt: skip
    data = load(sweep_dir_or_latest(directory))
    warn_damaged(data.damaged)
    chosen = workload or data.workloads
    for name in chosen:
        if name not in data.stats:
            raise GctuneError(
                f"workload {name!r} is not in {data.directory}: "
                f"it has {', '.join(data.workloads) or 'no points'}"
            )
    made: list[dict[str, Any]] = []
    unmade: list[dict[str, str]] = []  # workloads without a recommendation, and why
    for name in chosen:
        try:
            rec = choose(
                data.stats[name],
                data.points_of(name),
                objective=objective,
                max_memory_ratio=max_memory_ratio,
                min_gain=min_gain / 100,
                recycle=recycle,
                per=data.unit,
            )
        except RecommendError as exc:  # one workload's data; the others may still do
            if not json_output:
                print_wrapped([f"{name}: no recommendation: {exc}", ""])
            unmade.append({"workload": name, "reason": str(exc)})
            continue
        item = recommendation_json(rec, at_startup=data.applied_at_startup)
        if verify_it and not rec.is_default:
            item["verify"] = _verify_recommended(data, name, rec, max_memory_ratio, json_output)
        made.append(item)
        if json_output:
            continue
        # prose wrapped between words, never inside a figure or a command to copy; the
        # snippets below are code, printed as they are
        spec = data.manifest.spec
        target, program = workload_args(spec, name), program_of(spec, name)
        print_wrapped(describe(rec, target=target, program=program))
        typer.echo("")
        typer.echo(snippet(rec.setting, at_startup=data.applied_at_startup))
        if rec.recycle is not None:
            typer.echo("")
            typer.echo(recycle_snippets(rec.recycle.every_steps))
        typer.echo("")
    if json_output:
        doc = {"schema": ADVICE_SCHEMA, "kind": "recommendations", "sweep": str(data.directory)}
        typer.echo(json.dumps({**doc, "workloads": made, "no_recommendation": unmade}, indent=1))
    if not made:
        raise typer.Exit(1)


def _verify_recommended(
    data: Any, workload: str, rec: Any, max_memory_ratio: float, quiet: bool
) -> dict[str, Any]:
    """Run ``gctune verify`` on a recommendation: the workload spec from the sweep."""
    spec = data.manifest.spec
    target = workload_args(spec, workload)
    if target is None:
        return {"verdict": "not run", "why": "verify runs workloads, not --command programs"}
    recycle_steps = rec.recycle.every_steps if rec.recycle is not None else None
    result = _run_verify(
        target.argv[0],
        rec.setting,
        size=spec.get("size"),
        python=spec.get("python"),
        recycle_steps=recycle_steps,
        max_memory_ratio=max_memory_ratio,
        rounds=None,
        max_point_time=None,
        out=None,
    )
    if not quiet:
        print_wrapped(result.lines())
    verified: dict[str, Any] = result.to_json()
    return verified


def _run_verify(
    workload: str,
    setting: str,
    *,
    size: Optional[int],
    python: Optional[str],
    recycle_steps: Optional[int],
    max_memory_ratio: float,
    rounds: Optional[int],
    max_point_time: Optional[float],
    out: Optional[Path],
) -> Any:
    from gctune.analysis.verify import VERIFY_ROUNDS, VERIFY_SPAN_S, verdict

    (chosen,) = parse_settings([setting])
    if chosen.id == "default":
        raise GctuneError("verify compares a setting with default: give another --setting")
    spec = make_spec(
        workloads=[workload],
        workload_opt=[],
        command=False,
        name=None,
        settings=("default", chosen.id),
        size=size,
        mode="normal",
        processes=None,
        values=None,
        min_time=None,
        timeout=DEFAULT_TIMEOUT,
        max_memory="4G",
        python=python,
        rounds=rounds or VERIFY_ROUNDS,
        min_rounds=rounds or VERIFY_ROUNDS,
        max_point_time=max_point_time or VERIFY_SPAN_S,
        racing=False,
    )
    spec = replace(spec, recycle_steps=recycle_steps)
    target = out if out is not None else new_sweep_dir(RESULTS, prefix="verify-")
    print_wrapped(
        [
            f"gctune: verifying {chosen.id} against default: {spec.rounds} interleaved "
            f"rounds, spans of up to {spec.max_point_time:g} s"
            + (f", recycled every {recycle_steps:,} steps" if recycle_steps else "")
            + f", into {target}"
        ],
        on=err_console,
    )
    points = measure_sweep(spec, target, resume=False)
    return verdict(
        points, chosen.id, max_memory_ratio=max_memory_ratio, recycle_steps=recycle_steps
    )


@app.command()
@user_errors
def verify(
    workload: str = typer.Argument(
        ..., help="A built-in name, module, .py file, or MODULE:FUNCTION / FILE.py:FUNCTION."
    ),
    setting: str = typer.Option(..., "--setting", "-s", help="The setting to check."),
    recycle: Optional[int] = typer.Option(
        None, "--recycle", min=1, help="Recycle the worker every N steps (as recommended)."
    ),
    rounds: Optional[int] = typer.Option(None, min=2, help="Rounds (default 6)."),
    max_point_time: Optional[float] = typer.Option(
        None, "--max-point-time", min=0.001, help="Seconds a span may measure (default 3)."
    ),
    max_memory_ratio: float = typer.Option(
        DEFAULT_MAX_MEMORY_RATIO, min=0.01, help="Memory budget: peak RSS / default's."
    ),
    size: Optional[int] = SIZE,
    python: Optional[str] = PYTHON,
    out: Optional[Path] = typer.Option(None, help="Directory (default: results/verify-<id>)."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON (schema: docs/reports.md)."),
) -> None:
    """Check one setting against default in a long interleaved run: confirmed, not
    confirmed, or unsafe (memory grows). Exit 0 only when confirmed."""
    from gctune.present.advice import ADVICE_SCHEMA

    result = _run_verify(
        workload,
        setting,
        size=size,
        python=python,
        recycle_steps=recycle,
        max_memory_ratio=max_memory_ratio,
        rounds=rounds,
        max_point_time=max_point_time,
        out=out,
    )
    if json_output:
        doc = {"schema": ADVICE_SCHEMA, "kind": "verification", **result.to_json()}
        typer.echo(json.dumps(doc, indent=1))
    else:
        print_wrapped(result.lines())
    raise typer.Exit(result.exit_code)
