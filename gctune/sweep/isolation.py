"""Running one point's processes so that they cannot harm the sweep or the machine.

A point's command runs in its own session, so that its whole process group can be
killed: on timeout, on interrupt, and when one of its processes reaches the memory cap
(resident memory, polled from ``/proc``). When the point ends, however it ends, every
process it started is ended too, including those that left its group or session (see
:func:`end_point_tree`). The sweep process itself never measures.
"""

from __future__ import annotations

import ctypes
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any, Optional

from gctune.store.atomic import write_whole

__all__ = [
    "LOG_CAP",
    "MAX_MEMORY_CAP",
    "MEMORY_POLL_S",
    "MARK_VARIABLE",
    "MIN_MEMORY_CAP",
    "PROCESS_RECORD",
    "cap_log",
    "cut_bytes",
    "log_since",
    "end_point_tree",
    "end_recorded",
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
    record: Optional[Path] = None,
) -> tuple[int, bool]:
    """Run ``cmd`` in its own session; kill the whole group on timeout or interrupt.

    With ``record``, the processes of the point (pid and start time, every one seen while
    polling) are written to that file as they appear, so that a later run can end what a
    sweep killed outright (SIGKILL: no cleanup of its own runs) left running: see
    :func:`end_recorded`. The point's environment then also carries a mark of its own
    (``GCTUNE_POINT``, written to the record first), which its descendants inherit: one
    born between two polls is found by it.

    Returns the exit status and whether the timeout (seconds) struck. With ``max_memory``
    (bytes), the point is also killed as soon as one of its pyperf workers holds that much
    resident memory (see :func:`worker_rss`); the reason goes to ``log`` as a
    ``gctune:`` line, where the sweep's failure reason finds it.

    However the point ends (success, failure, timeout, interrupt), every process it
    started is killed with it (see :func:`end_point_tree`): a workload that starts
    ``sleep 299`` and returns leaves nothing running.
    """
    seen: dict[int, int] = {}
    mark = ""
    if record is not None:
        mark = secrets.token_hex(16)
        env = {**(os.environ if env is None else env), MARK_VARIABLE: mark}
        _write_record(record, seen, mark)
    with _adopting_orphans():
        before = set(_own_children())
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        _LEADERS.add(proc.pid)
        start = _start_time(proc.pid)
        if start is not None:
            seen[proc.pid] = start
        try:
            return _watch(proc, log, timeout, max_memory, seen, (record, mark))
        finally:
            try:
                end_point_tree(proc, seen, before)
            finally:
                _LEADERS.discard(proc.pid)
                cap_log(log)


# A point's log keeps its first LOG_HEAD and last LOG_TAIL bytes once it passes LOG_CAP:
# a step that prints 200 lines filled 390 MB in 24 s. The head holds the command and the
# program's first words, the tail its last ones (the exception a failure reason reads).
LOG_CAP = 4 * 1024**2
# The file, in a point's temporary directory, that lists its processes (see end_recorded)
PROCESS_RECORD = "processes.json"
# The environment variable that marks a recorded point's processes (see run_isolated)
MARK_VARIABLE = "GCTUNE_POINT"
LOG_HEAD = 1024**2
LOG_TAIL = 1024**2
_CUT = b"\n[gctune: "


def cap_log(log: IO[str], *, cap: int = LOG_CAP, head: int = LOG_HEAD, tail: int = LOG_TAIL) -> int:
    """Cut the middle of ``log`` (a file opened for appending) beyond ``cap`` bytes; return
    the bytes cut now.

    The file keeps its first ``head`` bytes, one line saying how much was cut in all
    (this cut and earlier ones), and its last ``tail`` bytes. Workers append through
    their own O_APPEND descriptors, so they go on writing at the new end. Bytes written
    between the read of the tail and the truncation are lost with the middle (and not
    counted: the line says "at least").
    """
    try:
        return _cap_log(log, cap, head, tail)
    except (OSError, ValueError):  # a log that cannot be read back is left whole
        return 0


def _cap_log(log: IO[str], cap: int, head: int, tail: int) -> int:
    log.flush()
    fd = log.fileno()
    size = os.fstat(fd).st_size
    if size <= cap:
        return 0
    import fcntl

    if not fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_APPEND:
        return 0  # a writer at its own offset would leave a hole: not cut
    with open(log.name, "rb") as raw:  # the log itself is open for writing only
        raw.seek(head)
        kept = raw.read(min(len(_CUT) + 200, size - head))
        earlier = 0
        if kept.startswith(_CUT):  # an earlier cut: add its count
            line = kept[len(_CUT) :].split(b" ", 1)[0].replace(b",", b"")
            earlier = int(line) if line.isdigit() else 0
        raw.seek(size - tail)
        last = raw.read(tail)
    cut = size - head - tail
    # the earlier cut's own line is part of what is cut now, not output
    marker_len = kept.index(b"]\n") + 2 if earlier and b"]\n" in kept else 0
    note = (
        f"{earlier + cut - marker_len:,} bytes of output cut here (at least), the log's "
        f"first {head // 1024:,} KiB and last {tail // 1024:,} KiB kept]\n"
    )
    os.ftruncate(fd, head)
    os.write(fd, _CUT + note.encode())
    os.write(fd, last)
    return cut


def log_since(
    path: Path, start: int, cut_before: int, *, head: int = LOG_HEAD, tail: int = LOG_TAIL
) -> str:
    """The text a process appended to the log ``path`` from offset ``start`` on, or its
    last ``LOG_TAIL`` bytes when :func:`cap_log` cut the log since (``cut_before``: the
    log's :func:`cut_bytes` before the process started)."""
    data = path.read_bytes()
    if cut_bytes(path, head=head) != cut_before and start > head:
        data = data[-tail:]
    else:
        data = data[start:]
    return data.decode("utf-8", errors="replace")


def cut_bytes(path: Path, *, head: int = LOG_HEAD) -> int:
    """Bytes :func:`cap_log` has cut from the log ``path`` so far (0: none)."""
    try:
        with path.open("rb") as raw:
            raw.seek(head)
            kept = raw.read(len(_CUT) + 40)
    except OSError:
        return 0
    if not kept.startswith(_CUT):
        return 0
    count = kept[len(_CUT) :].split(b" ", 1)[0].replace(b",", b"")
    return int(count) if count.isdigit() else 0


def _watch(
    proc: subprocess.Popen[Any],
    log: IO[str],
    timeout: float,
    max_memory: int,
    seen: dict[int, int],
    record: tuple[Optional[Path], str] = (None, ""),
) -> tuple[int, bool]:
    """Wait for the point, killing it at the timeout or the memory cap; record in ``seen``
    (pid → start time) every process of its tree found while polling, and in the file
    ``record[0]`` (with the point's mark ``record[1]``) when one is given."""
    record_path, mark = record
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        try:
            return proc.wait(timeout=max(0.0, min(left, MEMORY_POLL_S))), False
        except subprocess.TimeoutExpired:
            if left <= MEMORY_POLL_S:
                kill_group(proc)
                return proc.returncode, True
        known = len(seen)
        _record_tree(proc.pid, seen)
        if record_path is not None and len(seen) != known:
            _write_record(record_path, seen, mark)
        cap_log(log)
        rss = worker_rss(proc.pid) if max_memory else 0
        if rss >= max_memory > 0:
            kill_group(proc)
            log.write(
                f"gctune: exceeded the memory cap ({max_memory / 1024**3:.2f} GiB): "
                f"a worker's resident memory reached {rss / 1024**3:.2f} GiB\n"
            )
            log.flush()
            return proc.returncode, False


MEMORY_POLL_S = 0.1


def worker_rss(manager_pid: int) -> int:
    """Largest resident set (bytes) of a point's process and its descendants, 0 if unknown.

    Why the cap is watched from here rather than left to RLIMIT_AS alone: a CPython
    process that fills its address-space limit does not always fail cleanly. Running
    ``short_cycles`` with the collector disabled into a 256 MiB limit on 3.11 and 3.12,
    the worker raised MemoryError in most runs, but in others aborted ("Cannot recover
    from MemoryErrors"), segfaulted, or looped forever inside its own exception
    unwinding (python/cpython#132508) until the point's timeout. Polling every
    ``MEMORY_POLL_S`` seconds stops a growing worker at the cap, before the interpreter
    meets the kernel's limit; the worker's RLIMIT_AS (twice the cap, set in
    :mod:`gctune.measure.bench`) remains as the hard bound for growth faster than the polling.
    Reads ``/proc`` (Linux); elsewhere only the address-space limit applies.
    """
    largest = 0
    # the process itself (a span worker) and every descendant: a program run with
    # --command is a grandchild of pyperf's manager
    pending = [str(manager_pid)]
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
    """Children of ``pid``, forked by any of its threads."""
    children: list[str] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return children
    for task in tasks:
        with suppress(OSError):
            children += Path(f"/proc/{pid}/task/{task}/children").read_text().split()
    return children


_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def kill_group(proc: subprocess.Popen[Any]) -> None:
    """SIGKILL the process group ``proc`` leads, and wait for ``proc``."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


# --- ending a point's whole process tree -----------------------------------------------
#
# Killing the point's process group is not enough: a workload may start processes that
# outlive their parent (`subprocess.Popen(["sleep", "299"])` in a worker that then
# exits), that move to another process group (setpgid), or that leave the session
# (setsid, as daemons do). Without a cgroup, the point's processes are found four ways:
# its process group, its session (both named by the leader's pid, which Linux does not
# reuse while either has a member), the descendants seen while polling (pid and start
# time, so that a reused pid is never killed), and the orphans this process adopts while
# the point runs (it is the "child subreaper" of its descendants, PR_SET_CHILD_SUBREAPER,
# so a double-forked daemon is reparented here rather than to init).

_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37
# Points may run side by side in one process (threads): the leaders of those running are
# never taken for another point's orphans, adopted orphans are claimed only by a point
# that ends while no other runs (the last one ends them all), and this process stays a
# subreaper while any point runs.
_LEADERS: set[int] = set()
_SUBREAPER_LOCK = threading.Lock()
_subreaper = {"points": 0, "was": 0}


def end_point_tree(
    proc: subprocess.Popen[Any], seen: dict[int, int], before: set[int]
) -> list[int]:
    """SIGKILL every process left of the point ``proc`` leads; return the pids killed.

    ``seen`` maps pids found in the point's tree while it ran to their start times;
    ``before`` holds this process's children from before the point started (any other
    child it has now is an orphan of the point, adopted). Killed children are reaped.
    """
    kill_group(proc)
    killed: list[int] = []
    for _ in range(100):  # until nothing is left: a dying parent's children are orphaned
        targets = _left_of(proc.pid, seen, before)
        if not targets:
            break
        for pid in targets:
            with suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        killed += targets
        _reap(before, wait=0.5)
        time.sleep(0.01)
    _reap(before, wait=0.5)
    return killed


def _left_of(leader: int, seen: dict[int, int], before: set[int]) -> list[int]:
    """Live processes of the point led by ``leader``, and their descendants."""
    me = os.getpid()
    found = {pid for pid, (sid, pgid) in _sessions().items() if leader in (sid, pgid)}
    found |= {pid for pid, start in seen.items() if _start_time(pid) == start}
    if not _LEADERS - {leader}:  # with other points running, an orphan may be theirs
        found |= set(_own_children()) - before - _LEADERS
    pending = list(found)
    while pending:
        pending += [c for c in map(int, _children(pending.pop())) if c not in found]
        found.update(pending)
    return sorted(pid for pid in found if pid != me and _alive(pid))


def _write_record(record: Path, seen: dict[int, int], mark: str) -> None:
    document = {"mark": mark, "processes": {str(pid): start for pid, start in seen.items()}}
    with suppress(OSError):
        write_whole(record, lambda tmp: tmp.write_text(json.dumps(document)))


def end_recorded(record: Path) -> list[int]:
    """SIGKILL what is left of a point whose processes ``record`` lists; return the pids.

    A process counts as the point's when its pid and start time match the record (a pid
    reused since is left alone), or when its session or process group is led by one of
    the recorded pids (what a detached child, ``start_new_session=True``, started since:
    Linux does not reuse a pid while it names a live session or group), or when its
    environment carries the point's mark (a descendant born after the last poll).
    """
    try:
        document = json.loads(record.read_text())
        mark = str(document["mark"])
        listed = {int(pid): int(start) for pid, start in document["processes"].items()}
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        return []
    me = os.getpid()
    now = {pid: _start_time(pid) for pid in listed}
    ours = {pid for pid, start in listed.items() if now[pid] in (None, start)}  # not reused
    targets = {pid for pid in ours if now[pid] is not None}
    targets |= {pid for pid, (sid, pgid) in _sessions().items() if {sid, pgid} & ours}
    if mark:
        targets |= _marked(f"{MARK_VARIABLE}={mark}".encode())
    killed = []
    for pid in sorted(targets - {me}):
        if _alive(pid):
            with suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
    return killed


def _marked(entry: bytes) -> set[int]:
    """Processes whose environment holds ``entry`` (NAME=VALUE) as one of its entries."""
    found = set()
    for name in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if name.isdigit():
            try:
                environ = Path(f"/proc/{name}/environ").read_bytes()
            except OSError:
                continue
            if entry in environ.split(b"\0"):
                found.add(int(name))
    return found


def _record_tree(root: int, seen: dict[int, int]) -> None:
    pending = [int(c) for c in _children(root)]
    while pending:
        pid = pending.pop()
        start = _start_time(pid)
        if start is not None:
            seen.setdefault(pid, start)
        pending += [int(c) for c in _children(pid)]


def _stat(pid: int) -> Optional[list[str]]:
    """Fields of ``/proc/PID/stat`` after the command name (state first), None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def _start_time(pid: int) -> Optional[int]:
    fields = _stat(pid)
    return int(fields[19]) if fields and len(fields) > 19 else None


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def _sessions() -> dict[int, tuple[int, int]]:
    """Every process's (session id, process group id), from ``/proc``."""
    out = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields and len(fields) > 3:
                out[int(entry)] = (int(fields[3]), int(fields[2]))
    return out


def _own_children() -> list[int]:
    return [int(c) for c in _children(os.getpid())]


def _reap(before: set[int], *, wait: float) -> None:
    """Collect the exit status of adopted orphans that have died (none stays a zombie)."""
    deadline = time.monotonic() + wait
    for pid in set(_own_children()) - before - _LEADERS:  # a leader is its Popen's to wait
        while True:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                break
            if done or time.monotonic() > deadline:
                break
            time.sleep(0.005)


@contextmanager
def _adopting_orphans() -> Iterator[None]:
    """Make this process the child subreaper of its descendants while a point runs."""
    prctl = _prctl()
    if prctl is None:
        yield
        return
    with _SUBREAPER_LOCK:
        if _subreaper["points"] == 0:
            was = ctypes.c_int(0)
            prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(was), 0, 0, 0)
            _subreaper["was"] = was.value
            prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        _subreaper["points"] += 1
    try:
        yield
    finally:
        with _SUBREAPER_LOCK:
            _subreaper["points"] -= 1
            if _subreaper["points"] == 0 and not _subreaper["was"]:
                prctl(_PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def _prctl() -> Optional[Any]:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
