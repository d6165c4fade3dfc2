"""Guards of a measured worker process: an address-space limit at twice the memory cap,
a MemoryError turned into one ``gctune:`` line and an exit, and death with the sweep
that started it (a worker never outlives its parent)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress


def limit_memory(max_bytes: int) -> None:
    """Limit this worker's address space to twice the memory cap (RLIMIT_AS).

    The sweep stops a worker whose resident memory reaches the cap; this kernel-enforced
    limit is the hard bound behind it, for growth faster than the sweep polls. It is
    twice the cap because a CPython process filling its address-space limit may abort
    or hang rather than raise MemoryError (see ``gctune.sweep.isolation.worker_rss``), and
    because address space includes reservations that are never resident.
    """
    import resource

    limit = 2 * max_bytes
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


@contextmanager
def exit_when_out_of_memory(max_bytes: int) -> Iterator[None]:
    """Turn the interpreter's own MemoryError into one ``gctune:`` line and a quick exit.

    A MemoryError without a message is the interpreter's: an allocation failed (under the
    cap, the kernel refused more address space). One with a message was raised by the
    workload itself and is reported like any other exception. The line is formatted
    beforehand because nothing may be allocatable when it is needed, and ``os._exit``
    skips finalization, which would collect every cycle a ``disabled`` run kept alive.
    """
    if max_bytes:
        line = (
            f"gctune: exceeded the memory cap ({max_bytes / 1024**3:.2f} GiB): MemoryError "
            f"at the address-space limit ({2 * max_bytes / 1024**3:.2f} GiB)\n"
        )
    else:
        line = "gctune: ran out of memory: MemoryError\n"
    encoded = line.encode()
    try:
        yield
    except MemoryError as exc:
        if exc.args:
            raise
        try:
            os.write(2, encoded)
        finally:
            os._exit(1)


def die_with_parent(parent_pid: int) -> None:
    """Have Linux SIGKILL this process when its parent, ``parent_pid``, dies.

    The sweep runs each worker in its own session so that it can kill the whole process
    group; if the sweep itself is killed with SIGKILL it cannot, and the worker would
    run on unattended. PR_SET_PDEATHSIG ends it when its parent ends; a parent that died
    before the request was made is caught by the pid check.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL))
    if os.getppid() != parent_pid:
        os._exit(1)
