"""The memory probe of ``gctune tune``: a setting's peak RSS, natively, in a fresh process.

The counts tier measures no memory, and memory decides where ``tune`` may search (it
grows with threshold0). The probe runs the span a counted span runs
(:mod:`gctune.measure.count_span`: setup, the setting, warm-up, ``gc.collect()``, one
settling full collection, then steps until ``fulls`` more full collections) natively,
without valgrind, and reads the process's peak RSS from the kernel while it runs: its
``VmHWM`` (the high-water mark of resident memory, what the time tier reads inside its
workers), polled every 10 ms, so a peak reached in its last 10 ms is missed. Not
``wait4``'s ``ru_maxrss``: Linux carries into it the memory of the process that started
the child (its ``fork`` copy before ``exec``), so every probe read gctune's own 100-odd
MiB. It also says how many steps a full-collection cycle of the setting took, which
sizes the counted spans.

While it runs, its resident memory is polled: a probe that goes over ``kill_bytes`` is
stopped at once (it is over the budget; running on would only cost time and memory).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from gctune.measure.settings import parse_setting

__all__ = [
    "COUNT_SLOWDOWN_FLOOR",
    "DEFAULT_PROBE_STEPS",
    "PROBE_LIMIT_S",
    "MemoryProbe",
    "count_floor_s",
    "minutes_or_seconds",
    "probe_memory",
    "probe_steps",
]

POLL_S = 0.01
PROBE_LIMIT_S = 90.0  # a memory probe's longest run, natively (its peak then a lower bound)
DEFAULT_PROBE_STEPS = 1_000_000
"""Most steps of default's probe, which sizes every other (its full-collection cycle is not
known before it): the time limit ends it sooner. A count of 2,000 failed request_loop,
whose full collections come every 1,058-1,109 steps (two and the settling one: ~3,300)."""


@dataclass(frozen=True)
class MemoryProbe:
    """What one probe saw: ``ended`` is full-collections, max-steps, over-budget (stopped
    at the cap), time-limit (stopped at its time limit) or failed. ``peak_rss_bytes`` is
    a lower bound unless it ended on full collections."""

    peak_rss_bytes: int
    steps: int  # measured steps (after settling); 0 when stopped or failed
    ended: str  # full-collections, max-steps, over-budget, failed
    reason: str = ""
    seconds: float = 0.0
    cpu_s: float = 0.0  # the probe process's CPU time (user + system), where it ended itself

    @property
    def cycle_steps(self) -> Optional[float]:
        """Steps per full-collection cycle, where the probe ended on full collections."""
        return self.steps / 2 if self.ended == "full-collections" and self.steps else None


COUNT_SLOWDOWN_FLOOR = 30.0
"""What callgrind with its cache model slows a span by at least, over native CPU time:
default's count point took 34-83x its native probe's CPU time on six programs
(benchmarks/count_estimate.py, docs/tune.md), so at least 68x the half of it the floor
takes; 84x on short_cycles' steps alone, 150-200x on request_loop's (docs/counts.md)."""


def count_floor_s(default_probe: MemoryProbe) -> float:
    """At least how long default's count point runs (wall seconds), from its native probe.

    The probe runs the counted span's set-up and settling and then two full-collection
    cycles; default's count point runs the same but one cycle, so at least half the
    probe's native CPU time, under valgrind at least :data:`COUNT_SLOWDOWN_FLOOR` times
    that. CPU time, not wall: a step that waits (a timer, I/O) waits as long under
    valgrind. 0 where the probe's CPU time is not known (a tune stored before it was
    kept)."""
    return COUNT_SLOWDOWN_FLOOR * default_probe.cpu_s / 2


def minutes_or_seconds(seconds: float) -> str:
    """A duration for a line of text: whole minutes from 90 s on, else seconds."""
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def probe_steps(default_cycle: float, setting: str, default_thresholds: Sequence[int]) -> int:
    """Most steps of a setting's memory probe: 2.5x its predicted full-collection cycle
    (default's, times its thresholds' ratios to default's), so that its peak memory is
    that of whole cycles; the budget's cap and the time limit stop it sooner."""
    parsed = parse_setting(setting)
    ratio = 1.0
    if parsed.mode == "thresholds" and len(default_thresholds) >= 2:
        mine, base = parsed.thresholds, default_thresholds
        ratio = max(1.0, mine[0] / base[0]) * max(1.0, mine[1] / base[1])
    cycle = math.ceil(default_cycle)
    return max(3 * cycle, math.ceil(2.5 * cycle * ratio))


def _memory_now(pid: int) -> tuple[int, int]:
    """The process's resident memory and its high-water mark (bytes; 0 where unread)."""
    rss = hwm = 0
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return rss, hwm


def probe_memory(
    python: str,
    workload: str,
    setting: str,
    *,
    size: Optional[int],
    max_steps: int,
    kill_bytes: int,
    env: Optional[dict[str, str]],
    timeout: float,
) -> MemoryProbe:
    """Run one probe; never raises for the workload's own failure (``ended`` = failed)."""
    if os.sep in python:
        python = os.path.abspath(python)
    settle = 0 if parse_setting(setting).mode == "disabled" else 1
    cmd = [
        python,
        "-m",
        "gctune.measure.count_span",
        "--workload",
        workload,
        "--setting",
        setting,
        "--out",
        "span.json",
        "--fulls",
        "2",
        "--max-steps",
        str(max_steps),
        "--settle",
        str(settle),
        "--settle-steps",
        str(max_steps),
        "--warmup",
        "3",
    ]
    if size is not None:
        cmd += ["--size", str(size)]
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gctune-probe-") as tmp:
        with open(Path(tmp) / "stderr.txt", "w+", encoding="utf-8") as err:
            proc = subprocess.Popen(
                cmd,
                cwd=tmp,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,
            )
            ended, peak, status, cpu_s = _watch(proc, kill_bytes, start + timeout)
            proc.returncode = status  # reaped by wait4 here: Popen must not wait again
            err.seek(0)
            said = (err.read().strip().splitlines() or ["no output"])[-1]
        seconds = time.monotonic() - start
        if ended == "over-budget":
            return MemoryProbe(peak, 0, ended, "over the memory budget", seconds)
        if ended == "timeout":  # its peak so far: a lower bound
            return MemoryProbe(peak, 0, "time-limit", f"stopped after {timeout:g} s", seconds)
        out = Path(tmp) / "span.json"
        if status != 0 or not out.exists():
            return MemoryProbe(peak, 0, "failed", f"failed (status {status}): {said}", seconds)
        seen = json.loads(out.read_text(encoding="utf-8"))
    return MemoryProbe(peak, int(seen["steps"]), str(seen["ended"]), "", seconds, cpu_s)


def _watch(
    proc: subprocess.Popen[bytes], kill_bytes: int, deadline: float
) -> tuple[str, int, int, float]:
    """Wait for ``proc`` (polling its RSS); how it ended, its peak RSS (bytes), its status,
    its CPU seconds (where it ended itself)."""
    peak = 0
    try:
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                cpu_s = usage.ru_utime + usage.ru_stime
                return "done", peak, os.waitstatus_to_exitcode(status), cpu_s
            rss, hwm = _memory_now(proc.pid)
            peak = max(peak, hwm, rss)
            if kill_bytes and rss > kill_bytes:
                _end(proc)
                return "over-budget", peak, -signal.SIGKILL, 0.0
            if time.monotonic() > deadline:
                _end(proc)
                return "timeout", peak, -signal.SIGKILL, 0.0
            time.sleep(POLL_S)
    except BaseException:
        _end(proc)
        raise


def _end(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(proc.pid, 0)
