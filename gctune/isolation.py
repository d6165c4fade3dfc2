"""Running one point's processes so that they cannot harm the sweep or the machine.

A point's command runs in its own session, so that its whole process group can be
killed: on timeout, on interrupt, and when one of its processes reaches the memory cap
(resident memory, polled from ``/proc``). The sweep process itself never measures.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from contextlib import suppress
from pathlib import Path
from typing import IO, Any, Optional

__all__ = [
    "MAX_MEMORY_CAP",
    "MEMORY_POLL_S",
    "MIN_MEMORY_CAP",
    "kill_group",
    "run_isolated",
    "worker_rss",
]

# The smallest memory cap a point can run under: a worker's interpreter with pyperf and
# gctune loaded holds about 20 MiB resident before the workload allocates anything
# (CPython 3.11 and 3.13 on Linux), and is stopped at the cap.
MIN_MEMORY_CAP = 32 * 1024**2
# Workers get an address-space limit of twice the cap; CPython's resource module takes
# a signed 64-bit value.
MAX_MEMORY_CAP = 2**62 - 1


def run_isolated(
    cmd: list[str],
    log: IO[str],
    timeout: float,
    *,
    cwd: Optional[str] = None,
    max_memory: int = 0,
    env: Optional[dict[str, str]] = None,
) -> tuple[int, bool]:
    """Run ``cmd`` in its own session; kill the whole group on timeout or interrupt.

    Returns the exit status and whether the timeout (seconds) struck. With ``max_memory``
    (bytes), the point is also killed as soon as one of its pyperf workers holds that much
    resident memory (see :func:`worker_rss`); the reason goes to ``log`` as a
    ``gctune:`` line, where the sweep's failure reason finds it.
    """
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            try:
                return proc.wait(timeout=max(0.0, min(left, MEMORY_POLL_S))), False
            except subprocess.TimeoutExpired:
                if left <= MEMORY_POLL_S:
                    kill_group(proc)
                    return proc.returncode, True
            rss = worker_rss(proc.pid) if max_memory else 0
            if rss >= max_memory > 0:
                kill_group(proc)
                log.write(
                    f"gctune: exceeded the memory cap ({max_memory / 1024**3:.2f} GiB): "
                    f"a worker's resident memory reached {rss / 1024**3:.2f} GiB\n"
                )
                log.flush()
                return proc.returncode, False
    except BaseException:
        kill_group(proc)
        raise


MEMORY_POLL_S = 0.1


def worker_rss(manager_pid: int) -> int:
    """Largest resident set (bytes) among the descendants of pyperf's manager, 0 if unknown.

    Why the cap is watched from here rather than left to RLIMIT_AS alone: a CPython
    process that fills its address-space limit does not always fail cleanly. Running
    ``short_cycles`` with the collector disabled into a 256 MiB limit on 3.11 and 3.12,
    the worker raised MemoryError in most runs, but in others aborted ("Cannot recover
    from MemoryErrors"), segfaulted, or looped forever inside its own exception
    unwinding (python/cpython#132508) until the point's timeout. Polling every
    ``MEMORY_POLL_S`` seconds stops a growing worker at the cap, before the interpreter
    meets the kernel's limit; the worker's RLIMIT_AS (twice the cap, set in
    :mod:`gctune.bench`) remains as the hard bound for growth faster than the polling.
    Reads ``/proc`` (Linux); elsewhere only the address-space limit applies.
    """
    largest = 0
    # every descendant: a program run with --command is a grandchild of the manager
    pending = _children(manager_pid)
    while pending:
        pid = pending.pop()
        try:
            resident_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        largest = max(largest, resident_pages * _PAGE_SIZE)
        pending += _children(pid)
    return largest


def _children(pid: str | int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def kill_group(proc: subprocess.Popen[Any]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
