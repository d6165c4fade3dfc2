"""``gctune tune``: search each workload's best GC setting within a memory budget, confirm
the leaders in time, and recommend what time confirms (docs/tune.md).

The search runs in counts where valgrind is installed (``--measure auto``, the default,
or ``counts``), in time otherwise (``--measure time``: a coarse grid with racing). The
result is an ordinary sweep directory: ``report``, ``recommend``, ``compare`` and
``verify`` read it; ``report`` adds the search path and its chart.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

import typer

from gctune.analysis.recommend import DEFAULT_MAX_MEMORY_RATIO
from gctune.analysis.tune_decision import default_point
from gctune.cli.errors import FAILED_POINTS, GctuneError, user_errors
from gctune.cli.options import PYTHON, RESULTS, SIZE
from gctune.cli.outcome import end_interrupted
from gctune.cli.spec import (
    check_objective,
    check_workloads,
    interpreter_path,
    latest_tune_dir,
    new_dirs,
    program_name,
    refuse_changes_on_resume,
)
from gctune.present.next_steps import tune_resume_command
from gctune.present.sweep_tables import console, err_console, print_wrapped
from gctune.sweep.environment import check_interpreter

__all__ = ["tune"]


def _tier(measure: str) -> str:
    if measure not in ("auto", "counts", "time"):
        raise GctuneError(f"unknown --measure {measure!r}: use auto, counts or time")
    if measure == "auto":
        return "counts" if shutil.which("valgrind") else "time"
    if measure == "counts" and shutil.which("valgrind") is None:
        from gctune.sweep.counts import CountsUnavailable, valgrind

        try:
            valgrind()
        except CountsUnavailable as exc:
            raise GctuneError(str(exc)) from None
    return measure


@user_errors
def tune(
    ctx: typer.Context,
    workloads: list[str] = typer.Argument(
        None,
        metavar="[WORKLOAD]...",
        help="Workloads: built-in names, modules, .py files, or MODULE:FUNCTION "
        "(default: all built-in).",
    ),
    objective: str = typer.Option(
        "throughput",
        metavar="OBJECTIVE",
        help="What the recommendation optimises: throughput, latency, balanced.",
    ),
    max_memory_ratio: float = typer.Option(
        DEFAULT_MAX_MEMORY_RATIO,
        min=1.0,
        metavar="RATIO",
        help="Memory budget: peak RSS / default's.",
    ),
    budget: float = typer.Option(
        20.0,
        min=0.1,
        metavar="MINUTES",
        help="Wall time for the search; 70% searches, the rest confirms in time.",
    ),
    out: Optional[Path] = typer.Option(
        None, metavar="DIR", help="Sweep directory (default: results/tune-<id>)."
    ),
    resume: bool = typer.Option(
        False,
        "--resume",
        help="Finish the interrupted tune in --out (or the latest one): what it measured "
        "is kept, the rest measured; takes --budget (from now) and --time-lock. A new "
        "--budget goes on with a search its budget cut.",
    ),
    measure: str = typer.Option(
        "auto",
        "--measure",
        metavar="TIER",
        help="Where the search runs: auto (counts with valgrind, else time), counts, time.",
    ),
    jobs: Optional[int] = typer.Option(
        None,
        "--jobs",
        "-j",
        min=1,
        metavar="N",
        help="Settings measured side by side in the search (default: one per core).",
    ),
    confirm: int = typer.Option(
        3,
        min=1,
        metavar="N",
        help="Most candidates confirmed in time against default (one per collection rhythm;"
        " default+freeze has a place of its own).",
    ),
    rounds: int = typer.Option(
        12, min=2, help="Rounds of the confirming time sweep (of the racing one without valgrind)."
    ),
    max_point_time: float = typer.Option(
        3.0, "--max-point-time", min=0.001, help="Seconds a confirming span may measure."
    ),
    min_gain: float = typer.Option(
        2.0,
        "--min-gain",
        min=0.0,
        metavar="PERCENT",
        help="Smallest gain worth a change, percent: in counts for thresholds, over the whole "
        "time interval for default+freeze (which time alone judges).",
    ),
    decide_rounds: int = typer.Option(
        12,
        "--decide-rounds",
        min=0,
        metavar="N",
        help="Most extra rounds of default and a candidate time left undecided, where "
        "default would stay (0: none).",
    ),
    time_lock: Optional[Path] = typer.Option(
        None,
        "--time-lock",
        metavar="FILE",
        help="Hold an exclusive flock on FILE while measuring in time (a machine shared "
        "with other timing jobs that take the same lock); counts run without it.",
    ),
    size: Optional[int] = SIZE,
    python: Optional[str] = PYTHON,
) -> None:
    """Search the best GC setting per workload under a memory budget (threshold0 on a
    log scale, its feasible edge, then threshold1/2 and freeze), confirm it in time."""
    from gctune.sweep.count_sweep import default_jobs
    from gctune.sweep.sweep_dir import new_sweep_dir
    from gctune.sweep.tune import TuneSpec, run_tune

    objective = check_objective(objective)
    if resume:
        _resume(ctx, out, budget, time_lock, objective)
        return
    tier = _tier(measure)
    interpreter = interpreter_path(python)
    if python is not None:
        check_interpreter(interpreter)
    spec = TuneSpec(
        python=interpreter,
        workloads=tuple(check_workloads(workloads, size)),
        size=size,
        max_memory_ratio=max_memory_ratio,
        budget_s=budget * 60,
        jobs=jobs or default_jobs(),
        tier=tier,
        confirm=confirm,
        min_gain=min_gain / 100,
        rounds=rounds,
        decide_rounds=decide_rounds,
        span_s=max_point_time,
        time_lock=None if time_lock is None else str(time_lock),
    )
    target = out if out is not None else new_sweep_dir(RESULTS, prefix="tune-")
    print_wrapped(
        [
            f"gctune: tuning {len(spec.workloads)} workload(s) in {tier} "
            f"({spec.jobs} side by side), memory budget {max_memory_ratio:g}x default's, "
            f"{budget:g} min, into {target}"
        ],
        on=err_console,
    )
    fresh = new_dirs(target)
    try:
        from gctune.present.sweep_tables import progress_bar
        from gctune.present.tune_view import tune_progress

        with tune_progress(err_console) as update, progress_bar(f"time → {target}") as bar:
            _, _, record = run_tune(spec, target, progress=update, sweep_progress=bar)
    except KeyboardInterrupt:
        end_interrupted(target, resume=tune_resume_command(target))
    except BaseException:
        # refused or failed before anything was measured: leave no directory behind
        for folder in fresh:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    _finish(target, record, objective, max_memory_ratio)


def _resume(
    ctx: typer.Context,
    out: Optional[Path],
    budget: float,
    time_lock: Optional[Path],
    objective: str,
) -> None:
    """``gctune tune --resume``: finish the tune in ``out`` (or the latest)."""
    from gctune.present.sweep_tables import progress_bar
    from gctune.present.tune_view import tune_progress
    from gctune.sweep.tune import run_tune, stored_spec
    from gctune.sweep.tune_resume import read_stored_tune

    refuse_changes_on_resume(ctx, ("budget", "time_lock", "objective"), what="tune")
    target = out if out is not None else latest_tune_dir(RESULTS)
    stored = read_stored_tune(target)
    source = ctx.get_parameter_source("budget")
    given = source is not None and source.name != "DEFAULT"
    spec = stored_spec(
        stored,
        budget_s=budget * 60 if given else None,
        time_lock=None if time_lock is None else str(time_lock),
    )
    _tier(spec.tier)  # valgrind still there where the search runs in counts
    check_interpreter(spec.python)
    # a new --budget for a search the budget had cut: it goes on, though it was confirmed
    extend = given and spec.tier == "counts" and stored.confirm_started and stored.cut_by_budget()
    print_wrapped(
        [
            f"gctune: resuming the tune in {target}: {len(spec.workloads)} workload(s) in "
            f"{spec.tier}, stored trials kept, {spec.budget_s / 60:g} min from now"
            + ("; the search its budget had cut goes on, then is confirmed again in time"
               if extend else "")
        ],
        on=err_console,
    )  # fmt: skip
    try:
        with tune_progress(err_console) as update, progress_bar(f"time → {target}") as bar:
            _, _, record = run_tune(
                spec, target, progress=update, sweep_progress=bar, stored=stored, extend=extend
            )
    except KeyboardInterrupt:
        end_interrupted(target, resume=tune_resume_command(target))
    _finish(target, record, objective, spec.max_memory_ratio)


def _finish(target: Path, record: dict[str, Any], objective: str, ratio: float) -> None:
    """The search paths, the report, tune's answer per workload; exit status 3 where a
    workload could not be measured or a time point failed."""
    from functools import partial

    from gctune.analysis.frame import load
    from gctune.cli.advice_commands import recommend
    from gctune.present.advice import snippet
    from gctune.present.next_steps import verify_command, workload_args
    from gctune.present.report import ReportError, write_report
    from gctune.present.tune_view import (
        budget_cut_lines,
        decision_lines,
        longer_lines,
        path_table,
    )

    for doc in record["workloads"]:
        console.print(path_table(record, doc))
    data = None
    if (target / "manifest.json").exists():  # the confirming (or searching) time sweep
        try:
            data = load(target)
            for path in write_report(data, objective=objective, max_memory_ratio=ratio):
                typer.echo(f"Report: {path}")
        except ReportError as exc:
            raise GctuneError(str(exc)) from None
    typer.echo("")
    failures = [(str(d["workload"]), str(d["failed"])) for d in record["workloads"]
                if d.get("failed")]  # fmt: skip
    failed_points = [p for p in data.points if not p.ok] if data is not None else []
    status = 0
    if record["tier"] != "counts":  # the search was in time: time's recommendation
        try:
            recommend(target, None, ratio, objective, 2.0, False, False, False)
        except typer.Exit as done:
            status = int(done.exit_code or 0)
    else:
        for workload, decision in record["decisions"].items():
            print_wrapped(decision_lines(workload, decision))
            chosen = decision["chosen"]
            args = workload_args(data.manifest.spec, workload) if data is not None else None
            if chosen != "default":
                typer.echo("")
                typer.echo(snippet(chosen))
                if args is not None:
                    print_wrapped([f"Check it longer: {verify_command(args, chosen)}"])
            elif args is not None:  # twice default's rounds, where time was undecided
                longer = 2 * _default_rounds(data.points if data else [], workload,
                                             int(record["spec"]["rounds"]))  # fmt: skip
                print_wrapped(longer_lines(decision, partial(verify_command, args, rounds=longer)))
            typer.echo("")
        if data is not None:
            print_wrapped(
                [f"The time tier's own view of these points: {program_name()} recommend {target}"]
            )
        print_wrapped(budget_cut_lines(record, lambda m: tune_resume_command(target, m)))
    _end_failed(failures, failed_points, status)


def _default_rounds(points: Sequence[Any], workload: str, planned: int) -> int:
    """The rounds default was timed in for ``workload`` (its decision rounds too)."""
    base = default_point(points, workload)
    rounds = {r.round for r in base.runs if r.round is not None} if base is not None else set()
    return max(len(rounds), planned)


def _end_failed(failures: list[tuple[str, str]], failed_points: list[Any], status: int) -> None:
    """Name what could not be measured, in one line each, and exit 3; else exit ``status``."""
    for workload, why in failures:
        print_wrapped([f"gctune: {workload}: not measured: {why}"], on=err_console)
    by_reason: dict[tuple[str, str], list[str]] = {}
    for point in failed_points:  # one line per workload and reason, not per setting
        by_reason.setdefault((point.workload, str(point.reason)), []).append(point.setting)
    for (workload, why), settings in by_reason.items():
        print_wrapped(
            [f"gctune: {workload}: {len(settings)} time point(s) failed ({', '.join(settings)}): "
             f"{why}"],
            on=err_console,
        )  # fmt: skip
    said = [f"{len(failures)} workload(s) not measured"] if failures else []
    said += [f"{len(failed_points)} time point(s) failed"] if failed_points else []
    if said:
        print_wrapped([f"gctune: {', '.join(said)}; exit status {FAILED_POINTS}"], on=err_console)
        raise typer.Exit(FAILED_POINTS)
    if status:
        raise typer.Exit(status)
