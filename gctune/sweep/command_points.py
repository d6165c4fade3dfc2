"""A ``--command`` program's points: one pyperf run per setting, isolated and logged, its
result written as a point file (a program is measured whole, not in spans)."""

from __future__ import annotations

import datetime as _dt
import json
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Optional

from gctune.store.atomic import atomic_write_json
from gctune.store.documents import point_document
from gctune.store.results import (
    Point,
    ResultError,
    check_point_name,
    load_point,
    point_path,
)
from gctune.sweep import program
from gctune.sweep.isolation import PROCESS_RECORD, run_isolated
from gctune.sweep.modes import mode
from gctune.sweep.rounds import ProgressFn, SpanEvent
from gctune.sweep.spec import (
    PointPlan,
    SweepError,
    SweepSpec,
    plan_points,
)
from gctune.sweep.sweep_dir import (
    POINT_TMP,
)


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@contextmanager
def _point_files(sweep_dir: Path, plan: PointPlan) -> Iterator[tuple[Path, Path, Path]]:
    """The point's final path, its log path, and a temporary directory for the run.

    The temporary directory is inside the sweep directory, so that what a killed sweep
    leaves is found and removed by the next run there.
    """
    final = point_path(sweep_dir, plan.workload_id, plan.setting)
    log_path = sweep_dir / "logs" / f"{final.stem}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=POINT_TMP, dir=sweep_dir) as tmp:
        yield final, log_path, Path(tmp)


def _run_pyperf(
    spec: SweepSpec,
    cmd: list[str],
    log_path: Path,
    output: Path,
    explain: Callable[[int, str], str],
    *,
    env: Optional[dict[str, str]] = None,
) -> tuple[Optional[dict[str, Any]], Optional[str]]:
    """Run one point's pyperf command, logged; its JSON result, or why there is none.

    ``explain(returncode, log_text)`` words the failure of a command that exited non-zero.
    """
    log_path.write_bytes(b"")
    with log_path.open("a", encoding="utf-8") as log:  # appending: the log can be capped
        log.write("$ " + " ".join(cmd) + "\n")
        log.flush()
        returncode, timed_out = run_isolated(
            cmd, log, spec.timeout, cwd=spec.cwd, max_memory=spec.max_memory, env=env,
            record=output.parent / PROCESS_RECORD,
        )  # fmt: skip
    if timed_out:
        return None, f"timed out after {spec.timeout:g} s"
    if returncode != 0:
        return None, explain(returncode, log_path.read_text(encoding="utf-8", errors="replace"))
    try:
        return json.loads(output.read_text(encoding="utf-8")), None
    except (OSError, json.JSONDecodeError) as exc:
        return None, f"pyperf wrote no readable result: {exc}"


def pyperf_options(spec: SweepSpec) -> list[str]:
    """pyperf's options for the spec's mode; explicit counts come last, so they win."""
    opts = list(mode(spec.mode).pyperf_args)
    for flag, value in (
        ("--processes", spec.processes),
        ("--values", spec.values),
        ("--min-time", spec.min_time),
    ):
        if value is not None:
            opts += [flag, str(value)]
    return opts


def _run_command_point(
    spec: SweepSpec, plan: PointPlan, sweep_dir: Path, *, interpreter: dict[str, Any]
) -> Point:
    """One point of an unchanged program: pyperf times it, the snapshots add GC data."""
    assert spec.command is not None
    started, t0 = utc_now(), time.monotonic()
    with _point_files(sweep_dir, plan) as (final, log_path, tmp):
        output = tmp.absolute() / "pyperf.json"  # the program may change its directory
        launch = program.prepare_launch(tmp, spec.command, plan.setting, spec.max_memory)
        cmd = program.pyperf_command(
            spec.python, launch, plan.workload_id, output, pyperf_options(spec)
        )
        pyperf_data, reason = _run_pyperf(
            spec,
            cmd,
            log_path,
            output,
            lambda _code, log: program.program_failure(
                launch, spec.cwd, log, min(spec.timeout, 120)
            ),
        )
        if pyperf_data is not None:
            reason = program.attach_snapshots(pyperf_data, launch.snapshot_dir)
            if reason is None:
                interpreter = program.program_interpreter(launch.snapshot_dir) or interpreter
        doc = point_document(
            pyperf_data=pyperf_data if reason is None else None,
            workload=plan.workload_id,
            setting=plan.setting,
            status="ok" if reason is None else "failed",
            reason=reason,
            size=None,
            interpreter=interpreter,
            started=started,
            duration_s=round(time.monotonic() - t0, 3),
        )
        atomic_write_json(final, doc)
    return load_point(final)


def command_sweep(
    spec: SweepSpec,
    sweep_dir: Path,
    interpreter: dict[str, Any],
    progress: Optional[ProgressFn],
) -> list[Point]:
    """A ``--command`` program: one pyperf point per setting, one after another."""
    plans = plan_points(spec)
    points: list[Point] = []
    for i, plan in enumerate(plans, start=1):
        path = point_path(sweep_dir, plan.workload_id, plan.setting)
        point: Optional[Point] = finished_point(path) if path.exists() else None
        if point is None:
            if progress:
                progress(
                    SpanEvent(
                        plan.workload_id, plan.setting, 1, 1, len(plans), i - 1, len(plans), None
                    )
                )
            point = _run_command_point(spec, plan, sweep_dir, interpreter=interpreter)
        points.append(point)
        if progress:
            progress(
                SpanEvent(plan.workload_id, plan.setting, 1, 1, len(plans), i, len(plans), point)
            )
    return points


def finished_point(path: Path) -> Point:
    """A point file found on resume, kept as it is if it is valid, else refused.

    gctune writes atomically, so a damaged file was damaged by something else; it is
    neither measured over nor silently dropped: the user decides.
    """
    try:
        point = load_point(path)
        check_point_name(point)
    except ResultError as exc:
        raise SweepError(f"{exc}; move it away and resume to measure that point again") from None
    return point
