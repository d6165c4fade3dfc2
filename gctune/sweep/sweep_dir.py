"""A sweep directory's housekeeping: its lock, what a killed sweep left behind (partial
files, a point's leftover processes), SIGTERM as an interrupt, a full disk stopping the
sweep with what is kept, and naming and finding sweep directories under ``results/``."""

from __future__ import annotations

import datetime as _dt
import errno
import os
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Optional

from gctune.store.results import (
    remove_partial_files,
)
from gctune.sweep.isolation import PROCESS_RECORD, end_recorded
from gctune.sweep.spec import (
    SweepError,
)

POINT_TMP = ".point-"


@contextmanager
def sweep_lock(sweep_dir: Path) -> Iterator[None]:
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
def sigterm_as_interrupt() -> Iterator[None]:
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


@contextmanager
def os_errors_stop_the_sweep(sweep_dir: Path) -> Iterator[None]:
    """A file that cannot be written or read (disk full, permissions) ends the sweep in one
    line; points are written atomically, so every finished one is whole and kept."""
    try:
        yield
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise SweepError(f"{where}{exc.strerror or exc}; {what_is_kept(sweep_dir)}") from None


def what_is_kept(sweep_dir: Path) -> str:
    """The end of a message about a sweep that stopped: whether it had started."""
    try:
        started = (sweep_dir / "manifest.json").exists()
    except OSError:
        started = False
    if started:
        return f"the sweep in {sweep_dir} stopped, its finished points are kept"
    return f"the sweep in {sweep_dir} could not start; nothing was measured"


def remove_leftovers(sweep_dir: Path) -> None:
    """Remove what a sweep killed outright (SIGKILL, power loss) left behind.

    Runs under the sweep's lock: no other sweep is writing here.
    """
    remove_partial_files(sweep_dir)
    for tmp in sweep_dir.glob(f"{POINT_TMP}*"):
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
