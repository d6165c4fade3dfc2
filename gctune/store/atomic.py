"""Files written whole or not at all: a temporary file beside the target, synced, then
renamed over it (and the directory synced). Point and manifest files, the process record
of a point and history charts are written so; a report, several files, is staged in a
folder and published by renames (:mod:`gctune.present.report`). Small JSON documents
that carry their own format key are read back by :func:`read_versioned`."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_whole(path: Path, write: Callable[[Path], object], *, readable: bool = False) -> None:
    """Have ``write(tmp)`` write a temporary file beside ``path``, then rename it to
    ``path``: the file is either whole or absent (and a killed writer's temporary file,
    ``.NAME.*.tmp``, is what :func:`gctune.store.results.remove_partial_files` removes).

    The file is synced before the rename and the directory after it. ``readable``: mode
    0644 rather than mkstemp's 0600. A failure removes the temporary file and re-raises,
    naming ``path`` when the error named no file (a full disk fails a write() so).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=PARTIAL, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        with open(tmp, "rb+") as written:
            os.fsync(written.fileno())
        if readable:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(path)
        raise
    _fsync_dir(path.parent)


def atomic_write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON to ``path`` so that the file is either whole or absent."""

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=1, sort_keys=True)
            out.write("\n")

    write_whole(path, write)


PARTIAL = ".tmp"


def _fsync_dir(directory: Path) -> None:
    # makes the rename itself durable; not every platform can open a directory
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_versioned(path: Path, key: str, version: int, what: str) -> dict[str, Any]:
    """A JSON object whose ``key`` is ``version``; ValueError (one line naming ``what``)
    for a file that cannot be read, is not JSON, or is another document."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable {what}: {exc}") from None
    if not isinstance(doc, dict) or doc.get(key) != version:
        found = doc.get(key) if isinstance(doc, dict) else None
        if isinstance(found, int) and not isinstance(found, bool):
            raise ValueError(
                f"{path}: a gctune {what} of format {found}, this gctune reads format "
                f"{version}: measure it again into a new directory"
            )
        raise ValueError(f"{path}: not a gctune {what} of format {version}")
    return doc
