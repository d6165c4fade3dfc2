"""The counts tier: a point's cost in instructions and estimated cycles, exact run to run.

Time on a shared machine moves by several percent from round to round; instruction counts
do not. With a fixed ``PYTHONHASHSEED`` the collector makes the same collections on the
same objects every run, so a counted span (:mod:`gctune.measure.count_span`) run under
``valgrind --tool=callgrind --cache-sim=yes`` gives the same counts every run of one
install, loaded or not. Another install (other paths, hence another start-up layout of
the allocator's memory) counts allocation-heavy steps up to ~0.4 % apart (docs/counts.md).

A count point is one counted span: ``fulls`` full collections past settling (two full
collections after ``gc.collect()``: the first cycle is not yet the steady rhythm; or
``max_steps`` steps where the setting makes none). The span calls ``os.sched_yield()``
right before its measured steps and right after them, and callgrind runs with
``--dump-before=sched_yield``: it writes out what it has counted at each call and starts
again from zero, so its second part holds the measured steps and nothing else — not
start-up, imports, setup, warm-up or settling before them, not writing the result after
them. Settling ends right after a full collection and the steps end right after one, so
the part holds whole collector cycles (``whole_cycles``). A program that calls
``sched_yield`` itself would move the marks: a span with more than two parts fails.

(Until format 2 of the count point files, a point was two spans of ``fulls`` and
``2 * fulls`` full collections, differenced; one span counts the same cycles' kind at less
than half the CPU: the start-up, setup and first cycles are run once, not twice. Since
format 3 callgrind counts only from the last settling cycle on (``--instr-atstart=no``,
switched on by the span through ``vgdb``): what ran before it, uncounted in every format,
no longer runs under instrumentation, at about half the CPU again.)

The collector's own cost is the inclusive cost of its collection function where the
interpreter has symbols (``gc_collect_main`` on 3.10-3.13, ``collect`` on 3.9; pyenv's
builds keep them). Debian's stripped builds have none: there the GC cost is not measured
directly (``gc_functions`` is empty) and only the difference to ``disabled`` speaks of it.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from gctune.analysis.callgrind import CallgrindProfile, estimated_cycles, read_profile
from gctune.measure.catalog import split_spec
from gctune.measure.settings import parse_setting

__all__ = [
    "COUNT_HASH_SEED",
    "PROFILE",
    "SpansStopped",
    "allow_counted_spans",
    "stop_counted_spans",
    "CountPoint",
    "CountsUnavailable",
    "CountedSpan",
    "gc_functions",
    "measure_point",
    "vgdb",
    "valgrind",
]

MARK = "sched_yield"  # the span calls os.sched_yield() right before and after its steps
PROFILE = "callgrind.out"  # callgrind's parts: callgrind.out.1, .2 (the steps), then this
SETTLE_CYCLES = 2  # full collections let pass before the counted steps
COUNT_HASH_SEED = "0"  # one layout for every counted span: the counts are of this layout
VALGRIND_INSTALL = "apt-get install valgrind"


class CountsUnavailable(RuntimeError):
    """The counts tier cannot run here (no valgrind); the message says what to install."""


def valgrind() -> str:
    """The valgrind executable, or :class:`CountsUnavailable` naming the package."""
    found = shutil.which("valgrind")
    if found is None:
        raise CountsUnavailable(
            "counting instructions needs valgrind, which is not installed: "
            f"install Debian's valgrind package ({VALGRIND_INSTALL})"
        )
    return found


def vgdb(valgrind_path: str) -> str:
    """valgrind's ``vgdb`` (beside valgrind, else on PATH), which switches callgrind's
    instrumentation on inside a span; :class:`CountsUnavailable` where it is missing."""
    beside = Path(valgrind_path).with_name("vgdb")
    found = str(beside) if os.access(beside, os.X_OK) else shutil.which("vgdb")
    if found is None:
        raise CountsUnavailable(
            "counting instructions needs valgrind's vgdb, which is not installed beside "
            f"{valgrind_path}: install Debian's valgrind package ({VALGRIND_INSTALL})"
        )
    return found


def gc_functions(version_info: tuple[int, ...]) -> tuple[str, ...]:
    """The collector's collection function on this CPython version (C symbol names)."""
    if version_info[:2] == (3, 9):
        return ("collect",)
    if (3, 10) <= version_info[:2] <= (3, 13):
        return ("gc_collect_main",)
    return ()


@dataclass(frozen=True)
class CountedSpan:
    """One counted span: what the worker saw and what callgrind counted."""

    steps: int
    ended: str  # "full-collections" or "max-steps"
    settled: bool
    settle_steps: int
    collections: tuple[int, int, int]
    events: dict[str, int]
    gc_events: dict[str, int]  # empty where the collector's function is not in the profile
    version_info: tuple[int, ...]


@dataclass(frozen=True)
class CountPoint:
    """Per-step cost at steady state: the counted span's steps."""

    workload: str
    setting: str
    steps: int  # measured steps
    whole_cycles: bool  # settled, and the steps ended right after a full collection
    instructions_per_step: float
    cycles_per_step: float  # estimated (see gctune.analysis.callgrind.estimated_cycles)
    gc_instructions_per_step: Optional[float]  # None: no collector symbols
    collections_per_step: tuple[float, float, float]
    span: CountedSpan
    bounded: bool = False  # the span stopped at its step bound, not on full collections

    @property
    def gc_share(self) -> Optional[float]:
        """The collector's share of the instructions per step (0-1), where measured."""
        if self.gc_instructions_per_step is None or self.instructions_per_step <= 0:
            return None
        return self.gc_instructions_per_step / self.instructions_per_step

    def as_dict(self) -> dict[str, Any]:
        """Plain data for a point file."""
        return {
            "workload": self.workload,
            "setting": self.setting,
            "steps": self.steps,
            "bounded": self.bounded,
            "whole_cycles": self.whole_cycles,
            "instructions_per_step": self.instructions_per_step,
            "cycles_per_step": self.cycles_per_step,
            "gc_instructions_per_step": self.gc_instructions_per_step,
            "gc_share": self.gc_share,
            "collections_per_step": list(self.collections_per_step),
            "spans": [_span_dict(self.span)],
        }


def _span_dict(span: CountedSpan) -> dict[str, Any]:
    return {
        "steps": span.steps,
        "ended": span.ended,
        "settled": span.settled,
        "settle_steps": span.settle_steps,
        "collections": list(span.collections),
        "events": span.events,
        "gc_events": span.gc_events,
    }


def _span_command(
    python: str,
    workload: str,
    setting: str,
    *,
    fulls: int,
    max_steps: int,
    size: Optional[int],
    settle: int,
    settle_steps: int,
    warmup: int,
    vgdb_path: Optional[str] = None,
) -> list[str]:
    # Spans run in their own folder: a relative interpreter path would not resolve there
    # (abspath, not realpath: a virtualenv's python is a link to a base interpreter).
    if os.sep in python:
        python = os.path.abspath(python)
    # and neither would a workload file given relative to where gctune was called
    target, func = split_spec(workload)
    if target.endswith(".py") and not os.path.isabs(target) and os.path.isfile(target):
        workload = os.path.abspath(target) + (f":{func}" if func else "")
    cmd = [
        python, "-m", "gctune.measure.count_span", "--workload", workload, "--setting", setting,
        "--out", "span.json", "--fulls", str(fulls), "--max-steps", str(max_steps),
        "--settle", str(settle), "--settle-steps", str(settle_steps), "--warmup", str(warmup),
    ]  # fmt: skip
    if vgdb_path is not None:
        cmd += ["--vgdb", vgdb_path]
    return cmd + (["--size", str(size)] if size is not None else [])


WALL_FACTOR = 10  # wall seconds allowed per CPU second: only a blocked span meets it

_LIVE: set[subprocess.Popen[str]] = set()  # the spans running now, for stop_counted_spans
_LIVE_LOCK = threading.Lock()
_STOPPING = threading.Event()


class SpansStopped(Exception):
    """The sweep was interrupted and its counted spans ended: the point is not measured
    (not a failure of the point: a resume measures it)."""


def allow_counted_spans() -> None:
    """Let counted spans start again (after :func:`stop_counted_spans`)."""
    _STOPPING.clear()


def stop_counted_spans() -> None:
    """End every counted span running now and refuse new ones (Ctrl-C, SIGTERM): a
    valgrind span left running would count on for minutes after its sweep ended."""
    _STOPPING.set()
    with _LIVE_LOCK:
        running = list(_LIVE)
    for proc in running:
        with contextlib.suppress(OSError):
            proc.kill()


def _run(cmd: list[str], workdir: Path, env: dict[str, str], cpu_limit: float) -> dict[str, Any]:
    """Run a span in ``workdir`` and read its ``span.json``; RuntimeError with the reason.

    The bound is CPU time (``RLIMIT_CPU``), not wall time: counts do not depend on what
    else the machine runs, and neither may whether a point finishes (a wall-clock timeout
    failed points of a sweep running beside other work). Wall time is bounded only
    ``WALL_FACTOR`` times more loosely, for a span that blocks without using CPU.
    """
    out = workdir / "span.json"
    out.unlink(missing_ok=True)
    cpu = max(1, math.ceil(cpu_limit))
    with _LIVE_LOCK:
        if _STOPPING.is_set():
            raise SpansStopped("the sweep was interrupted")
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            cwd=workdir,
        )  # fmt: skip
        _LIVE.add(proc)
    try:
        with contextlib.suppress(OSError, ValueError):  # ended already
            resource.prlimit(proc.pid, resource.RLIMIT_CPU, (cpu, cpu + 5))
        try:
            _, stderr = proc.communicate(timeout=cpu * WALL_FACTOR)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise RuntimeError(
                f"counted span blocked: {cpu * WALL_FACTOR:,} s of wall time for a "
                f"{cpu:,} s CPU limit"
            ) from None
    finally:
        with _LIVE_LOCK:
            _LIVE.discard(proc)
    if _STOPPING.is_set():
        raise SpansStopped("the sweep was interrupted")
    if proc.returncode == -signal.SIGXCPU:
        raise RuntimeError(
            f"counted span used its {cpu:,} s of CPU time (--timeout, in CPU seconds for "
            "counts: the same bound whatever the load)"
        )
    if proc.returncode != 0 or not out.exists():
        said = (stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"counted span failed (status {proc.returncode}): {said}")
    seen: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return seen


def run_counted_span(
    python: str,
    workload: str,
    setting: str,
    *,
    workdir: Path,
    fulls: int,
    max_steps: int,
    size: Optional[int] = None,
    settle: int = 1,
    settle_steps: Optional[int] = None,
    warmup: int = 3,
    env: Optional[dict[str, str]] = None,
    timeout: float = 3600.0,
    instrument_all: bool = False,
) -> CountedSpan:
    """Run one counted span under callgrind in ``workdir``; RuntimeError with the reason.

    ``timeout`` is CPU seconds (see :func:`_run`): whether a span finishes does not
    depend on the machine's load.

    Every file name on the command line is relative to ``workdir`` and the same in every
    run, and no bytecode is written: a different string in argv, or a module compiled in
    one run and loaded from its cache in the next, would be a different count. Two spans
    in the same folder differ only by what they run.

    ``instrument_all`` runs the same span instrumented from start-up (format 2's way),
    for the benchmark that shows what counting from the last settling cycle saves and
    changes (``benchmarks/count_repeat.py --instrument-all``).
    """
    tool = valgrind()
    # instrumentation off until the span switches it on (through vgdb, which needs
    # valgrind's gdbserver: --vgdb=yes, whatever VALGRIND_OPTS says)
    cmd = [
        tool, "--tool=callgrind", "--cache-sim=yes", f"--callgrind-out-file={PROFILE}",
        "--log-file=valgrind.log", f"--dump-before={MARK}",
        f"--instr-atstart={'yes' if instrument_all else 'no'}",
        "--vgdb=yes",
        *_span_command(
            python, workload, setting, fulls=fulls, max_steps=max_steps, size=size,
            settle=settle, warmup=warmup,
            settle_steps=max_steps if settle_steps is None else settle_steps,
            vgdb_path=vgdb(tool),
        ),
    ]  # fmt: skip
    run_env = {
        **(env if env is not None else os.environ),
        "PYTHONHASHSEED": COUNT_HASH_SEED,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    for old in workdir.glob(PROFILE + "*"):
        old.unlink()
    seen = _run(cmd, workdir, run_env, timeout)
    version = tuple(int(v) for v in seen["version_info"])
    parts = sorted(p.name for p in workdir.glob(PROFILE + ".*"))
    if parts != [f"{PROFILE}.1", f"{PROFILE}.2"]:
        raise RuntimeError(
            f"counted span marked {len(parts)} parts where gctune marks 2: the program "
            f"calls {MARK}() itself, so its measured steps cannot be told apart in counts"
        )
    prof: CallgrindProfile = read_profile(workdir / f"{PROFILE}.2", gc_functions(version))
    if prof.events.get("Ir", 0) <= 0:
        raise RuntimeError(
            "counted span counted nothing between its marks: callgrind's instrumentation "
            "was not on (vgdb's command did not take effect)"
        )
    gc_events = prof.inclusive
    if not prof.found and prof.symbols and gc_functions(version):
        # the part holds the measured steps only: a collector that never ran there is absent
        gc_events = {event: 0 for event in prof.events}
    return CountedSpan(
        steps=int(seen["steps"]),
        ended=str(seen["ended"]),
        settled=bool(seen["settled"]),
        settle_steps=int(seen["settle_steps"]),
        collections=(
            int(seen["collections"][0]),
            int(seen["collections"][1]),
            int(seen["collections"][2]),
        ),
        events=prof.events,
        gc_events=gc_events,
        version_info=version,
    )


def prepare(
    python: str,
    workload: str,
    setting: str,
    *,
    workdir: Path,
    size: Optional[int] = None,
    env: Optional[dict[str, str]] = None,
    timeout: float = 600.0,
) -> None:
    """Run the span once natively for a few steps: it fails fast where the program does,
    and writes the bytecode caches the counted runs will then all find."""
    cmd = _span_command(
        python,
        workload,
        setting,
        fulls=0,
        max_steps=1,
        size=size,
        settle=0,
        settle_steps=0,
        warmup=1,
    )
    _run(cmd, workdir, {**(env if env is not None else os.environ)}, timeout)


def measure_point(
    python: str,
    workload: str,
    setting: str,
    *,
    fulls: int = 2,
    max_steps: int = 200,
    size: Optional[int] = None,
    env: Optional[dict[str, str]] = None,
    timeout: float = 3600.0,
    instrument_all: bool = False,
) -> CountPoint:
    """A count point: one counted span of ``fulls`` full collections past settling.

    ``max_steps`` bounds the span; a setting that makes no full collection within it is
    measured over that many steps instead, and its point says so (``bounded``, not
    ``whole_cycles``). Settling (:data:`SETTLE_CYCLES` full collections) is bounded by
    that many times ``max_steps``, and skipped where the collector is off.
    """
    # two full collections past gc.collect(): the first cycle after it is not the
    # program's steady rhythm (acyclic_churn's cost 2.1 % more than its second), and the
    # second is what the two-span points of format 1 counted
    settle = 0 if parse_setting(setting).mode == "disabled" else SETTLE_CYCLES
    with tempfile.TemporaryDirectory(prefix="gctune-count-") as tmp:
        workdir = Path(tmp)
        prepare(python, workload, setting, workdir=workdir, size=size, env=env)
        span = run_counted_span(
            python,
            workload,
            setting,
            workdir=workdir,
            fulls=fulls,
            max_steps=max_steps,
            size=size,
            settle=settle,
            settle_steps=SETTLE_CYCLES * max_steps,
            env=env,
            timeout=timeout,
            instrument_all=instrument_all,
        )
    steps = span.steps
    if steps <= 0:
        raise RuntimeError(f"{workload}@{setting}: the counted span ran no steps")

    def per_step(events: dict[str, int], key: str) -> float:
        return events.get(key, 0) / steps

    return CountPoint(
        workload=workload,
        setting=setting,
        steps=steps,
        whole_cycles=span.ended == "full-collections" and (span.settled or settle == 0),
        instructions_per_step=per_step(span.events, "Ir"),
        cycles_per_step=estimated_cycles(span.events) / steps,
        gc_instructions_per_step=per_step(span.gc_events, "Ir") if span.gc_events else None,
        collections_per_step=(
            span.collections[0] / steps,
            span.collections[1] / steps,
            span.collections[2] / steps,
        ),
        span=span,
        bounded=span.ended == "max-steps",
    )
