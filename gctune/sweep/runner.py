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

import datetime as _dt
import errno
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from types import FrameType
from typing import Any, Callable, Optional

from gctune.measure.catalog import workload_ids
from gctune.measure.settings import parse_setting
from gctune.store.fields import check_spec_fields
from gctune.store.results import (
    Manifest,
    Point,
    ResultError,
    atomic_write_json,
    check_point_name,
    load_point,
    point_document,
    point_path,
    read_manifest,
    remove_partial_files,
    write_manifest,
)
from gctune.sweep import program
from gctune.sweep.decide import DECIDE_ROUNDS
from gctune.sweep.environment import environment, interpreter_of, lent_to
from gctune.sweep.isolation import PROCESS_RECORD, end_recorded, run_isolated
from gctune.sweep.racing import DEFAULT_MIN_GAIN
from gctune.sweep.rounds import MODES as ROUND_MODES
from gctune.sweep.rounds import Counter, RoundsConfig, SpanEvent, Target, run_group

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

DEFAULT_MAX_MEMORY = 4 * 1024**3
DEFAULT_TIMEOUT = 600.0
# quick, for --command programs under pyperf: 6 worker processes x 3 values.
QUICK_ARGS = ("--processes", "6", "--values", "3")


class SweepError(Exception):
    """A sweep that cannot start or go on; the message is one line for the user."""


@dataclass(frozen=True)
class SweepSpec:
    """What a sweep measures and how. Sizes in bytes, times in seconds."""

    workloads: tuple[str, ...]
    settings: tuple[str, ...]
    size: Optional[int] = None
    mode: str = "normal"
    processes: Optional[int] = None
    values: Optional[int] = None
    min_time: Optional[float] = None
    timeout: float = DEFAULT_TIMEOUT
    max_memory: int = DEFAULT_MAX_MEMORY
    python: str = field(default_factory=lambda: sys.executable)
    # An unchanged program to run (argv) instead of workloads; ``workloads`` then holds
    # its one name. ``cwd``: where points run (module names and relative paths resolve).
    command: Optional[tuple[str, ...]] = None
    cwd: Optional[str] = None
    # Rounds of steady-state spans (workloads; see gctune.sweep.rounds). None: the mode's.
    rounds: Optional[int] = None
    min_rounds: Optional[int] = None
    max_point_time: Optional[float] = None
    min_gain: float = DEFAULT_MIN_GAIN
    racing: bool = True
    # decision rounds after the last round (gctune.sweep.decide); None: the mode's
    decide_rounds: Optional[int] = None
    recycle_steps: Optional[int] = None
    # Several interpreters measured side by side (``--python A --python B``): every
    # workload runs under each, interleaved in the same rounds; ``python`` is the first.
    pythons: tuple[str, ...] = ()
    # One round across all workloads (base and changed workload side by side in CI).
    interleave: bool = False

    def rounds_config(self, seed: str) -> RoundsConfig:
        """Rounds, span budget and racing of this spec (the mode's unless given)."""
        low, high, budget = ROUND_MODES.get(self.mode, ROUND_MODES["normal"])
        high = self.rounds if self.rounds is not None else high
        low = min(self.min_rounds if self.min_rounds is not None else low, high)
        return RoundsConfig(
            min_rounds=low,
            max_rounds=high,
            span_budget_s=self.max_point_time if self.max_point_time is not None else budget,
            min_gain=self.min_gain,
            racing=self.racing,
            seed=seed,
            recycle_steps=self.recycle_steps,
            decide_rounds=(
                self.decide_rounds
                if self.decide_rounds is not None
                else DECIDE_ROUNDS.get(self.mode, 0)
            ),
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form stored in the manifest."""
        data = asdict(self)
        data["workloads"] = list(self.workloads)
        data["settings"] = list(self.settings)
        data["command"] = list(self.command) if self.command is not None else None
        data["pythons"] = list(self.pythons)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SweepSpec:
        """Rebuild a spec stored by :meth:`to_json`."""
        command = data.get("command")
        known = {f.name for f in fields(cls)}
        return cls(
            **{
                **{k: v for k, v in data.items() if k in known},
                "workloads": tuple(data["workloads"]),
                "settings": tuple(data["settings"]),
                "command": tuple(command) if command is not None else None,
                "pythons": tuple(data.get("pythons") or ()),
            }
        )


@dataclass(frozen=True)
class PointPlan:
    """One point to measure: its workload spec and id, and its setting id."""

    workload: str
    workload_id: str
    setting: str


def plan_points(spec: SweepSpec) -> list[PointPlan]:
    """Every point of a sweep, ``default`` first within each workload."""
    settings = list(spec.settings)
    if "default" in settings:
        settings.remove("default")
        settings.insert(0, "default")
    ids = workload_ids(list(spec.workloads))
    return [PointPlan(w, i, s) for w, i in zip(spec.workloads, ids) for s in settings]


_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str) -> int:
    """Parse a memory size such as ``512M``, ``4G`` or ``1.5GiB`` into bytes."""
    raw = text.strip().lower().removesuffix("ib").removesuffix("b") if text else ""
    number, unit = raw, ""
    if raw and raw[-1] in "kmgt":
        number, unit = raw[:-1], raw[-1]
    try:
        value = float(number)
    except ValueError:
        raise SweepError(f"cannot read memory size {text!r}; try 512M or 4G") from None
    if value <= 0:
        raise SweepError(f"memory size {text!r} must be positive")
    return int(value * _SIZE_UNITS[unit])


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


_POINT_TMP = ".point-"


@contextmanager
def _point_files(sweep_dir: Path, plan: PointPlan) -> Iterator[tuple[Path, Path, Path]]:
    """The point's final path, its log path, and a temporary directory for the run.

    The temporary directory is inside the sweep directory, so that what a killed sweep
    leaves is found and removed by the next run there.
    """
    final = point_path(sweep_dir, plan.workload_id, plan.setting)
    log_path = sweep_dir / "logs" / f"{final.stem}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=_POINT_TMP, dir=sweep_dir) as tmp:
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


def _pyperf_options(spec: SweepSpec) -> list[str]:
    """pyperf's options for the spec's mode; explicit counts come last, so they win."""
    if spec.mode in ("fast", "rigorous"):
        opts = [f"--{spec.mode}"]
    else:
        opts = list(QUICK_ARGS) if spec.mode == "quick" else []
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
    started, t0 = _now(), time.monotonic()
    with _point_files(sweep_dir, plan) as (final, log_path, tmp):
        output = tmp.absolute() / "pyperf.json"  # the program may change its directory
        launch = program.prepare_launch(tmp, spec.command, plan.setting, spec.max_memory)
        cmd = program.pyperf_command(
            spec.python, launch, plan.workload_id, output, _pyperf_options(spec)
        )
        pyperf_data, reason = _run_pyperf(
            spec,
            cmd,
            log_path,
            output,
            lambda _code, log: program.failure_reason(
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


@contextmanager
def _sweep_lock(sweep_dir: Path) -> Iterator[None]:
    import fcntl

    sweep_dir.mkdir(parents=True, exist_ok=True)
    lock_path = sweep_dir / ".lock"
    with lock_path.open("a+", encoding="utf-8") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                lock.seek(0)
                holder = lock.read().strip() or "unknown"
                raise SweepError(
                    f"another gctune sweep (pid {holder}) is writing to {sweep_dir}"
                ) from None
            raise
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        yield


def remove_unstarted(sweep_dir: Path) -> bool:
    """Remove ``sweep_dir`` if a sweep was refused before saving anything in it (it holds
    only the lock file); return whether it did. The lock is taken first, so a directory
    where another sweep has started meanwhile is left alone."""
    import fcntl

    lock_path = sweep_dir / ".lock"
    try:
        if any(entry.name != ".lock" for entry in sweep_dir.iterdir()):
            return False
        with lock_path.open("a+", encoding="utf-8") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            if (sweep_dir / "manifest.json").exists():
                return False
            lock_path.unlink()
        sweep_dir.rmdir()
    except OSError:
        return False
    return True


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM ends a sweep like Ctrl-C: the running point is killed and discarded."""

    def handler(signum: int, frame: Optional[FrameType]) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


ProgressFn = Callable[[SpanEvent], None]


def run_sweep(
    spec: Optional[SweepSpec],
    sweep_dir: Path,
    *,
    resume: bool = False,
    progress: Optional[ProgressFn] = None,
) -> list[Point]:
    """Run (or resume) a sweep into ``sweep_dir``; return every point it holds.

    Workloads are measured in rounds of spans (:mod:`gctune.sweep.rounds`); a ``--command``
    program one point per setting under pyperf. ``progress(event)`` is called before and
    after each span or point. With ``resume``, the spec saved in the manifest is used and
    what is saved is not measured again.
    """
    guards = (_os_errors_stop_the_sweep(sweep_dir), _sweep_lock(sweep_dir), _sigterm_as_interrupt())
    with ExitStack() as stack:
        for guard in guards:
            stack.enter_context(guard)
        _remove_leftovers(sweep_dir)
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
                created=_now(),
            )
            write_manifest(sweep_dir, manifest)
        if spec.command:
            return _command_sweep(spec, sweep_dir, interpreter, progress)
        interpreters = [(spec.python, env, interpreter)]
        for extra in spec.pythons[1:]:
            extra_env = stack.enter_context(lent_to(extra))
            interpreters.append((extra, extra_env, interpreter_of(extra, extra_env)))
        groups = _groups(spec, interpreters)
        config = spec.rounds_config(seed=manifest.sweep_id)
        settings = _default_first(spec.settings)
        total = sum(len(g) for g in groups) * len(settings) * config.max_rounds
        counter = Counter(0, total)
        points: list[Point] = []
        for group in groups:
            for target in group:
                for path in (point_path(sweep_dir, target.workload_id, s) for s in settings):
                    if path.exists():
                        _finished_point(path)  # refuse damaged files before measuring
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


def _command_sweep(
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
        point: Optional[Point] = _finished_point(path) if path.exists() else None
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


@contextmanager
def _os_errors_stop_the_sweep(sweep_dir: Path) -> Iterator[None]:
    """A file that cannot be written or read (disk full, permissions) ends the sweep in one
    line; points are written atomically, so every finished one is whole and kept."""
    try:
        yield
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise SweepError(f"{where}{exc.strerror or exc}; {_what_is_kept(sweep_dir)}") from None


def _what_is_kept(sweep_dir: Path) -> str:
    """The end of a message about a sweep that stopped: whether it had started."""
    try:
        started = (sweep_dir / "manifest.json").exists()
    except OSError:
        started = False
    if started:
        return f"the sweep in {sweep_dir} stopped, its finished points are kept"
    return f"the sweep in {sweep_dir} could not start; nothing was measured"


def _resumed_spec(sweep_dir: Path, manifest: Manifest) -> tuple[SweepSpec, dict[str, Any]]:
    try:
        check_spec_fields(manifest.spec, resume=True)  # settings must be setting ids
        return SweepSpec.from_json(manifest.spec), dict(manifest.environment["python"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ResultError(f"{sweep_dir / 'manifest.json'}: damaged sweep spec: {exc!r}") from None


def _finished_point(path: Path) -> Point:
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


def _remove_leftovers(sweep_dir: Path) -> None:
    """Remove what a sweep killed outright (SIGKILL, power loss) left behind.

    Runs under the sweep's lock: no other sweep is writing here.
    """
    remove_partial_files(sweep_dir)
    for tmp in sweep_dir.glob(f"{_POINT_TMP}*"):
        end_recorded(tmp / PROCESS_RECORD)  # what the killed sweep's point left running
        shutil.rmtree(tmp, ignore_errors=True)


def new_sweep_dir(results_dir: Path, *, prefix: str = "") -> Path:
    """A fresh ``results/<prefix><timestamp>`` directory name (not created)."""
    stamp = prefix + _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = results_dir / stamp
    n = 1
    while candidate.exists():
        n += 1
        candidate = results_dir / f"{stamp}-{n}"
    return candidate


def latest_sweep(results_dir: Path) -> Path:
    """The most recently created sweep directory under ``results_dir``."""
    # verifications (``gctune verify``) are sweeps too, but not the ones to report on
    sweeps = [
        p.parent
        for p in results_dir.glob("*/manifest.json")
        if not p.parent.name.startswith("verify-")
    ]
    if not sweeps:
        raise SweepError(f"no sweep found under {results_dir}; run `gctune sweep` first")
    return max(sweeps, key=lambda p: (p / "manifest.json").stat().st_mtime)
