"""Plans a sweep, owns its directory, and hands each workload to the rounds.

A sweep of workloads is measured in rounds of steady-state spans (:mod:`gctune.sweep.rounds`):
each span is one ``python -m gctune.measure.span`` process in its own session, appended to its
point file (:mod:`gctune.store.results`) the moment it ends. A span that crashes, times out or
exceeds the memory cap (a worker's resident memory, polled; see
:func:`gctune.sweep.isolation.worker_rss`) fails its point with the reason, and the sweep goes
on. Interrupting a sweep (SIGINT, SIGTERM) kills the running span and discards it; saved
spans stay, and ``resume`` measures only what is missing. A sweep killed outright
(SIGKILL) takes its span with it (the worker asks the kernel for that) and leaves
temporary files that the next run in the directory removes. Only one sweep at a time
writes to a directory (a lock); a file that cannot be written ends the sweep with one
line, every saved span kept.

A sweep of an unchanged program (``SweepSpec.command``) measures one point per setting
with ``python -m pyperf command`` instead (see :mod:`gctune.sweep.program`); the loop count is
calibrated per point there, since a program's run is not a step of fixed size.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

from gctune.measure.catalog import workload_ids
from gctune.measure.settings import parse_setting
from gctune.store.fields import check_spec_fields
from gctune.store.results import (
    Manifest,
    Point,
    ResultError,
    point_path,
    read_manifest,
    write_manifest,
)
from gctune.sweep.command_points import (
    command_sweep,
    finished_point,
    utc_now,
)
from gctune.sweep.decide import Judge
from gctune.sweep.environment import environment, interpreter_of, lent_to
from gctune.sweep.rounds import Counter, ProgressFn, Target, run_group
from gctune.sweep.spec import (
    DEFAULT_MAX_MEMORY,
    DEFAULT_TIMEOUT,
    PointPlan,
    SweepError,
    SweepSpec,
    parse_size,
    plan_points,
)
from gctune.sweep.sweep_dir import (
    os_errors_stop_the_sweep,
    remove_leftovers,
    remove_unstarted,
    sigterm_as_interrupt,
    sweep_lock,
)

__all__ = [
    "DEFAULT_MAX_MEMORY",
    "DEFAULT_TIMEOUT",
    "PointPlan",
    "SweepError",
    "SweepSpec",
    "parse_size",
    "plan_points",
    "remove_unstarted",
    "run_sweep",
]


def run_sweep(
    spec: Optional[SweepSpec],
    sweep_dir: Path,
    *,
    resume: bool = False,
    progress: Optional[ProgressFn] = None,
    judge: Optional[Judge] = None,
) -> list[Point]:
    """Run (or resume) a sweep into ``sweep_dir``; return every point it holds.

    Workloads are measured in rounds of spans (:mod:`gctune.sweep.rounds`); a ``--command``
    program one point per setting under pyperf. ``progress(event)`` is called before and
    after each span or point. With ``resume``, the spec saved in the manifest is used and
    what is saved is not measured again. ``judge``: what the decision rounds settle
    (:mod:`gctune.sweep.decide`; default: ``recommend``'s rule, with racing only).
    """
    guards = (os_errors_stop_the_sweep(sweep_dir), sweep_lock(sweep_dir), sigterm_as_interrupt())
    with ExitStack() as stack:
        for guard in guards:
            stack.enter_context(guard)
        remove_leftovers(sweep_dir)
        manifest_exists = (sweep_dir / "manifest.json").exists()
        if resume:
            if not manifest_exists:
                raise SweepError(f"{sweep_dir} holds no sweep to resume")
            manifest = read_manifest(sweep_dir)
            spec, interpreter = _resumed_spec(sweep_dir, manifest)
            env = stack.enter_context(lent_to(spec.python))
        else:
            if spec is None:
                raise SweepError("nothing to sweep")
            if manifest_exists:
                raise SweepError(
                    f"{sweep_dir} already holds a sweep: add --resume, or choose another --out"
                )
            spec = replace(spec, settings=tuple(parse_setting(s).id for s in spec.settings))
            env = stack.enter_context(lent_to(spec.python))
            interpreter = interpreter_of(spec.python, env)
            manifest = Manifest(
                sweep_id=sweep_dir.name,
                spec=spec.to_json(),
                environment=environment(interpreter),
                created=utc_now(),
            )
            write_manifest(sweep_dir, manifest)
        if spec.command:
            return command_sweep(spec, sweep_dir, interpreter, progress)
        interpreters = [(spec.python, env, interpreter)]
        for extra in spec.pythons[1:]:
            extra_env = stack.enter_context(lent_to(extra))
            interpreters.append((extra, extra_env, interpreter_of(extra, extra_env)))
        groups = _groups(spec, interpreters)
        config = replace(spec.rounds_config(seed=manifest.sweep_id), judge=judge)
        settings = _default_first(spec.settings)
        total = sum(len(g) for g in groups) * len(settings) * config.max_rounds
        counter = Counter(0, total)
        points: list[Point] = []
        for group in groups:
            for target in group:
                for path in (point_path(sweep_dir, target.workload_id, s) for s in settings):
                    if path.exists():
                        finished_point(path)  # refuse damaged files before measuring
            points += run_group(
                group, settings, sweep_dir, config, counter=counter, progress=progress
            )
        return points


def python_tags(infos: list[dict[str, Any]]) -> list[str]:
    """A short, distinct tag per interpreter: ``py3.13.0``; ``py3.13.0-2`` for a second
    interpreter of the same version (two virtualenvs of one Python)."""
    tags: list[str] = []
    for info in infos:
        tag = f"py{info.get('version', '?')}"
        n = sum(1 for t in tags if t == tag or t.startswith(f"{tag}-"))
        tags.append(tag if n == 0 else f"{tag}-{n + 1}")
    return tags


def _groups(
    spec: SweepSpec, interpreters: list[tuple[str, Optional[dict[str, str]], dict[str, Any]]]
) -> list[list[Target]]:
    """The sweep's targets grouped into shared rounds: per workload (its interpreters
    side by side), or all in one group with ``interleave``."""
    ids = workload_ids(list(spec.workloads))
    tags = python_tags([info for _, _, info in interpreters])
    groups: list[list[Target]] = []
    for workload, workload_id in zip(spec.workloads, ids):
        group = []
        for (python, env, info), tag in zip(interpreters, tags):
            group.append(
                Target(
                    python=python,
                    workload=workload,
                    workload_id=workload_id if len(interpreters) == 1 else f"{workload_id}[{tag}]",
                    size=spec.size,
                    cwd=spec.cwd,
                    env=env,
                    timeout=spec.timeout,
                    max_memory=spec.max_memory,
                    interpreter=info,
                )
            )
        groups.append(group)
    if spec.interleave:
        return [[t for g in groups for t in g]]
    return groups


def _default_first(settings: tuple[str, ...]) -> list[str]:
    ordered = list(settings)
    if "default" in ordered:
        ordered.remove("default")
        ordered.insert(0, "default")
    return ordered


def _resumed_spec(sweep_dir: Path, manifest: Manifest) -> tuple[SweepSpec, dict[str, Any]]:
    try:
        check_spec_fields(manifest.spec, resume=True)  # settings must be setting ids
        return SweepSpec.from_json(manifest.spec), dict(manifest.environment["python"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ResultError(f"{sweep_dir / 'manifest.json'}: damaged sweep spec: {exc!r}") from None
