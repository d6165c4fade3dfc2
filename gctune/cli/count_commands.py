"""``--measure counts``: what ``sweep``, ``run``, ``gate``, ``report`` and ``recommend`` do
with the counts tier (instructions and estimated cycles under valgrind; see
docs/counts.md). The commands keep their options and dispatch here.

A sweep in counts is an ordinary sweep directory: ``manifest.json`` (its spec says
``"measure": "counts"``) and one file per point under ``counts/``. ``report`` writes its
tables as Markdown; ``recommend`` names the best setting in counts per workload and the
``gctune verify`` command that confirms it in time, and recommends nothing itself (exit
1): a recommendation rests on time. ``gate`` compares two workloads of it in counts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

import typer

from gctune.cli.errors import FAILED_POINTS, GctuneError
from gctune.cli.options import RESULTS
from gctune.cli.outcome import end_gate, end_interrupted
from gctune.cli.spec import (
    check_workloads,
    interpreter_path,
    latest_dir,
    new_dirs,
    settings_grid,
)
from gctune.errors import UserError
from gctune.measure.settings import parse_settings
from gctune.present.next_steps import confirm_command, report_command, verify_command
from gctune.present.sweep_tables import console, err_console
from gctune.store.machine import named_machine
from gctune.sweep.count_sweep import (
    CountSpec,
    CountTask,
    default_jobs,
    is_count_sweep,
    parse_shard,
    read_count_points,
    run_counts,
)
from gctune.sweep.counts import CountsUnavailable
from gctune.sweep.environment import check_interpreter
from gctune.sweep.sweep_dir import new_sweep_dir, remove_unstarted

__all__ = [
    "JOBS",
    "MEASURE",
    "counts_chosen",
    "gate_counts",
    "in_counts",
    "recommend_counts",
    "report_counts",
    "run_counts_cmd",
    "summary_counts",
    "sweep_counts",
]

MEASURE = typer.Option(
    "time",
    "--measure",
    metavar="TIER",
    help="time (default), or counts: instructions and estimated cycles per step under "
    "valgrind, exact from run to run on one install (docs/counts.md).",
)

JOBS = typer.Option(
    None,
    "--jobs",
    "-j",
    min=1,
    metavar="N",
    help="--measure counts: points measured side by side (default: one per core).",
)

SHARD = typer.Option(
    None,
    "--shard",
    metavar="K/N",
    help="--measure counts: measure every workload's default and the K-th of every N "
    "other points (on N machines of one interpreter build; combine with gctune merge).",
)

# the options a sweep in counts takes (typer's parameter names)
_COUNT_OPTIONS = frozenset(
    ("workloads", "workload_opt", "grid", "setting", "out", "resume", "size", "timeout",
     "python", "machine", "measure", "jobs", "shard")
)  # fmt: skip


# and those of its confirmation in time (--confirm)
_CONFIRM_OPTIONS = frozenset(("confirm", "rounds", "max_point_time"))


def counts_chosen(measure: str) -> bool:
    """``--measure``: True for counts; one-line error for a tier that does not exist."""
    if measure not in ("time", "counts"):
        raise GctuneError(f"unknown --measure {measure!r}: use time or counts")
    return measure == "counts"


def in_counts(directory: Optional[Path]) -> bool:
    """Whether ``directory`` (default: the latest under results/) is a sweep in counts."""
    try:
        target = directory if directory is not None else latest_dir(RESULTS)
    except UserError:  # no sweep at all: the command's own reading says so
        return False
    return is_count_sweep(target)


def _refuse_time_options(ctx: typer.Context, allowed: frozenset[str] = _COUNT_OPTIONS) -> None:
    given = []
    for param in ctx.command.params:
        if param.name is None or param.name in allowed:
            continue
        source = ctx.get_parameter_source(param.name)
        if source is not None and source.name != "DEFAULT":
            given.append(max(param.opts, key=len))
    if given:
        raise GctuneError(
            f"{', '.join(given)} apply to measuring in time, not to --measure counts "
            "(no rounds, modes or pyperf runs: every point is two counted spans)"
        )


def _counts_available() -> None:
    from gctune.sweep.counts import valgrind

    try:
        valgrind()
    except CountsUnavailable as exc:
        raise GctuneError(str(exc)) from None


def _measure(spec: Optional[CountSpec], out: Path, resume: bool) -> tuple[CountSpec, list[Any]]:
    from gctune.present.count_tables import count_progress

    fresh = new_dirs(out)
    try:
        with count_progress(f"counts → {out}", err_console) as update:

            def done(task: CountTask, reason: Optional[str], n: int, total: int) -> None:
                update(f"{task.workload_id}@{task.setting}", reason or "", n, total)

            return run_counts(spec, out, resume=resume, on_done=done)
    except CountsUnavailable as exc:
        raise GctuneError(str(exc)) from None
    except KeyboardInterrupt:
        end_interrupted(out)
    except BaseException:
        if fresh and remove_unstarted(out):
            for folder in fresh[1:]:
                try:
                    folder.rmdir()
                except OSError:
                    break
        raise


def _print_tables(docs: Sequence[dict[str, Any]]) -> None:
    from gctune.present.count_tables import COUNT_CAPTION, count_frame, count_table

    frame = count_frame(docs)
    for workload in dict.fromkeys(frame["workload"]):
        console.print(count_table(frame, str(workload)))
    console.print(COUNT_CAPTION, highlight=False)


def sweep_counts(
    ctx: typer.Context,
    *,
    workloads: list[str],
    grid: str,
    settings: list[str],
    out: Optional[Path],
    resume: bool,
    size: Optional[int],
    timeout: float,
    python: Optional[list[str]],
    jobs: Optional[int],
    machine: Optional[str],
    shard: Optional[str] = None,
    confirm: bool = False,
    rounds: Optional[int] = None,
    max_point_time: Optional[float] = None,
) -> None:
    """``gctune sweep --measure counts`` (or ``--resume`` of a sweep in counts); with
    ``confirm``, then its best settings in time (:mod:`gctune.cli.tier_commands`)."""
    _refuse_time_options(ctx, _COUNT_OPTIONS | (_CONFIRM_OPTIONS if confirm else {"confirm"}))
    _counts_available()
    if resume:
        given = [p for p in ("workloads", "workload_opt", "grid", "setting", "size", "python",
                             "jobs", "timeout", "shard") if _given(ctx, p)]  # fmt: skip
        if given:
            raise GctuneError(
                "--resume measures the rest of the sweep with the arguments it was started "
                "with and takes only --out (and --confirm)"
            )
        target = out if out is not None else latest_dir(RESULTS)
        spec, docs = _measure(None, target, resume=True)
    else:
        if python and len(python) > 1:
            raise GctuneError("--measure counts measures one interpreter: give one --python")
        interpreter = interpreter_path(python[0] if python else None)
        if python:
            check_interpreter(interpreter)
        setting_ids, _ = settings_grid(grid, settings)
        spec = CountSpec(
            python=interpreter,
            workloads=tuple(check_workloads(workloads, size)),
            settings=tuple(setting_ids),
            size=size,
            timeout=_count_timeout(ctx, timeout),
            jobs=jobs or default_jobs(),
            shard=_shard(shard),
        )
        target = out if out is not None else new_sweep_dir(RESULTS)
        n = len(spec.workloads) * len(spec.settings)
        err_console.print(
            f"gctune: {len(spec.workloads)} workload(s) x {len(spec.settings)} setting(s) = "
            f"{n} points in counts (valgrind, {spec.jobs} side by side), into {target}",
            highlight=False,
        )
        with named_machine(machine):
            spec, docs = _measure(spec, target, resume=False)
    if confirm and any(d["status"] == "ok" for d in docs):
        from gctune.cli.tier_commands import confirm_counts

        with named_machine(machine):
            confirm_counts(target, rounds=rounds, span_s=max_point_time)
    _finish(docs, target)


def _shard(value: Optional[str]) -> Optional[tuple[int, int]]:
    if value is None:
        return None
    try:
        return parse_shard(value)
    except ValueError as exc:
        raise GctuneError(str(exc)) from None


COUNT_TIMEOUT = 3600.0
"""CPU seconds a counted span may use where ``--timeout`` is not given: a built-in's
slowest point (request_loop: 12.5-23 minutes of CPU under callgrind) fits; time's 600 s
per worker did not (docs/counts.md)."""


def _count_timeout(ctx: typer.Context, timeout: float) -> float:
    return timeout if _given(ctx, "timeout") else COUNT_TIMEOUT


def _given(ctx: typer.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name != "DEFAULT"


def summary_counts(directory: Optional[Path]) -> None:
    """``gctune summary`` of a sweep in counts: its count tables, and both tiers side by
    side where it was confirmed in time."""
    from gctune.cli.tier_commands import has_confirmation, print_tiers

    target = directory if directory is not None else latest_dir(RESULTS)
    docs = read_count_points(target)
    if not docs:
        raise GctuneError(f"{target} holds no measured point yet")
    _print_tables(docs)
    if has_confirmation(target):
        print_tiers(target)
    failed = sum(1 for d in docs if d["status"] != "ok")
    typer.echo(f"Results: {target}  ({len(docs) - failed} finished, {failed} failed; counts tier)")


def _finish(docs: Sequence[dict[str, Any]], target: Path) -> None:
    from gctune.cli.tier_commands import has_confirmation, print_tiers

    _print_tables(docs)
    if has_confirmation(target):
        print_tiers(target)
    failed = [d for d in docs if d["status"] != "ok"]
    console.print(
        f"Results: {target}  ({len(docs) - len(failed)} finished, {len(failed)} failed; "
        "counts tier)"
    )
    if len(docs) > len(failed):
        report = _write_report(target, target / "report")
        typer.echo(f"Report: {report}")
    if failed:
        typer.echo(
            f"gctune: {len(failed)} of {len(docs)} point(s) failed (reasons above); "
            f"exit status {FAILED_POINTS}",
            err=True,
        )
        raise typer.Exit(FAILED_POINTS)


def run_counts_cmd(
    ctx: typer.Context,
    *,
    workload: list[str],
    setting: str,
    out: Optional[Path],
    size: Optional[int],
    timeout: float,
    python: Optional[str],
    json_output: bool,
) -> None:
    """``gctune run --measure counts``: one setting and, as its reference and bound,
    default, in counts."""
    import tempfile

    _refuse_time_options(ctx, _COUNT_OPTIONS | {"json_output"})
    _counts_available()
    (chosen,) = parse_settings([setting])
    if len(workload) != 1:
        raise GctuneError("run measures one workload (give one, or use sweep for several)")
    interpreter = interpreter_path(python)
    if python is not None:
        check_interpreter(interpreter)
    spec = CountSpec(
        python=interpreter,
        workloads=tuple(check_workloads(workload, size)),
        settings=tuple(dict.fromkeys(("default", chosen.id))),
        size=size,
        timeout=_count_timeout(ctx, timeout),
        jobs=1,
    )
    if out is not None:
        _, docs = _measure(spec, out, resume=False)
    else:
        with tempfile.TemporaryDirectory(prefix="gctune-run-") as tmp:
            _, docs = _measure(spec, Path(tmp) / "run", resume=False)
    if json_output:
        typer.echo(json.dumps({"kind": "counts", "tier": "counts", "points": docs}, indent=1))
    else:
        _print_tables(docs)
        typer.echo(f"Saved: {out}" if out is not None else "Not saved: add --out DIR to keep it.")
    if any(d["status"] != "ok" for d in docs):
        raise typer.Exit(1)


def gate_counts(
    directory: Path, base: str, new: str, fail_on: Sequence[str], json_output: bool
) -> None:
    """``gctune gate`` on a sweep in counts: exact ratios, no rounds."""
    from gctune.analysis.count_gate import count_gate, parse_count_threshold

    thresholds = [parse_count_threshold(t) for t in fail_on]
    rows = count_gate(read_count_points(directory), base, new, thresholds)
    head = {"base": base, "new": new, "tier": "counts"}
    title = f"{new} vs {base}, in counts (valgrind; exact per install) within {directory}:"
    end_gate(head, title, rows, json_output, reasons_above=False)


def _write_report(directory: Path, out: Path) -> Path:
    from gctune.cli.tier_commands import tiers_report_text
    from gctune.present.count_tables import count_frame, count_markdown
    from gctune.store.atomic import write_whole

    text = count_markdown(
        count_frame(read_count_points(directory)), f"gctune counts: {directory.name}"
    )
    both = tiers_report_text(directory)
    if both:
        # the last section holds time too
        text = text.replace("All figures: ", "The count tables' figures: ", 1)
        text += "\n\n" + both.replace("# ", "## ", 1).replace("\n## ", "\n### ")
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.md"
    write_whole(path, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"), readable=True)
    return path


def report_counts(directory: Optional[Path], out: Optional[Path], formats: Sequence[str]) -> None:
    """``gctune report`` of a sweep in counts: its tables in Markdown (no HTML, no charts)."""
    target = directory if directory is not None else latest_dir(RESULTS)
    if "md" not in formats:
        raise GctuneError(
            f"{target} is a sweep in counts: its report is Markdown only (--format md)"
        )
    typer.echo(f"Report: {_write_report(target, out if out is not None else target / 'report')}")


def recommend_counts(
    directory: Optional[Path],
    *,
    max_memory_ratio: float = 1.25,
    min_gain: float = 0.02,
    json_output: bool = False,
) -> None:
    """``gctune recommend`` of a sweep in counts. Confirmed in time: the rule of both tiers
    (:func:`gctune.cli.tier_commands.recommend_tiers`). Counts only: the best setting in
    counts per workload and the ``gctune verify`` that would confirm it; no
    recommendation (exit 1)."""
    from gctune.cli.tier_commands import has_confirmation, recommend_tiers
    from gctune.present.count_tables import count_frame
    from gctune.present.next_steps import workload_args
    from gctune.store.results import read_manifest

    target = directory if directory is not None else latest_dir(RESULTS)
    if has_confirmation(target):
        return recommend_tiers(
            target, max_memory_ratio=max_memory_ratio, min_gain=min_gain,
            json_output=json_output,
        )  # fmt: skip
    spec = read_manifest(target).spec
    frame = count_frame(read_count_points(target))
    for workload in dict.fromkeys(frame["workload"]):
        rows = frame[(frame["workload"] == workload) & (frame["status"] == "ok")]
        ranked = rows.dropna(subset=["cycles_vs_default"]).sort_values("cycles_vs_default")
        if ranked.empty:
            typer.echo(f"{workload}: no recommendation: default was not measured in counts\n")
            continue
        best = ranked.iloc[0]
        line = (
            f"{workload}: no recommendation from counts alone. Lowest estimated cycles: "
            f"{best['setting']} ({float(best['cycles_vs_default']):.3f}x default's, "
            f"{float(best['instructions_vs_default']):.3f}x its instructions; counts tier)."
        )
        args = workload_args(spec, str(workload))
        if best["setting"] != "default" and args is not None:
            line += f" Confirm in time: {verify_command(args, str(best['setting']))}"
        typer.echo(line + "\n")
    typer.echo(f"Tables: {report_command(target)}")
    typer.echo(f"Both tiers in one decision: {confirm_command(target)}")
    raise typer.Exit(1)
