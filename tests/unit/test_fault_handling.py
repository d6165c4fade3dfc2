"""How gctune handles faults, piece by piece: atomic writes that fail midway, what a killed
writer leaves behind, reading a worker's memory, naming a crash from its log, and reading
results with ``json`` only. Rows of the table in docs/faults.md."""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import gctune
from gctune.store import results
from gctune.store.atomic import atomic_write_json
from gctune.store.results import remove_partial_files
from gctune.sweep.isolation import worker_rss
from gctune.sweep.spec import SweepSpec
from gctune.sweep.worker_failure import failure_reason

MiB = 1024**2


def disk_full(*args: Any, **kwargs: Any) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def half_written(data: Any, out: Any, **kwargs: Any) -> None:
    out.write('{"new": ')
    disk_full()


@pytest.mark.parametrize(
    ("module", "name", "failure"),
    [(json, "dump", half_written), (os, "fsync", disk_full), (os, "replace", disk_full)],
    ids=["json.dump", "os.fsync", "os.replace"],
)
def test_write_failing_midway_leaves_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: Any, name: str, failure: Any
) -> None:
    path = tmp_path / "points" / "w@default.json"
    atomic_write_json(path, {"old": 1})
    monkeypatch.setattr(module, name, failure)
    with pytest.raises(OSError, match="No space left on device"):
        atomic_write_json(path, {"new": 2})
    monkeypatch.undo()
    assert json.loads(path.read_text()) == {"old": 1}
    assert os.listdir(path.parent) == ["w@default.json"]  # no temporary file either


def test_partial_files_of_a_killed_writer_are_removed(tmp_path: Path) -> None:
    points = tmp_path / "points"
    points.mkdir()
    partial = [points / ".w@default.json.k2j4h1.tmp", tmp_path / ".manifest.json.x8a.tmp"]
    kept = [points / "w@default.json", tmp_path / ".lock", tmp_path / "notes.tmp"]
    for path in partial + kept:
        path.write_text("{")
    assert sorted(remove_partial_files(tmp_path)) == sorted(partial)
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == sorted(kept)


def test_worker_rss_reads_the_resident_memory_of_children() -> None:
    # this test process plays pyperf's manager; its child holds 64 MiB, written, so resident
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; b = bytearray(64 << 20); print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        assert 64 * MiB <= worker_rss(os.getpid()) < 256 * MiB
    finally:
        child.kill()
        child.wait()
    assert worker_rss(child.pid) == 0  # gone: no children, nothing to read


SPEC = SweepSpec(workloads=("w",), settings=("disabled",), max_memory=256 * MiB)

# The end of a real log: short_cycles, collector disabled, at a 256 MiB address-space
# limit on CPython 3.11.7 (pyperf's traceback lines shortened).
ABORTED_AT_THE_LIMIT = """\
$ python -m gctune.measure.bench --workload short_cycles --setting disabled --max-memory 268435456
Fatal Python error: _PyErr_NormalizeException: Cannot recover from MemoryErrors while \
normalizing exceptions.
Python runtime state: initialized

Current thread 0x00007fa7169c4b80 (most recent call first):

Extension modules: psutil._psutil_linux (total: 1)
Traceback (most recent call last):
  File "pyperf/_manager.py", line 118, in spawn_worker
RuntimeError: python failed with exit code -6
"""


@pytest.mark.parametrize(
    ("log", "reason"),
    [
        (
            ABORTED_AT_THE_LIMIT,
            "exceeded the memory cap (0.25 GiB): the interpreter aborted on MemoryError",
        ),
        (
            "Traceback (most recent call last):\nRuntimeError: python failed with exit code -11",
            "worker crashed: killed by SIGSEGV",
        ),
        (
            "Traceback (most recent call last):\nRuntimeError: python failed with exit code 1\n"
            "gctune: exceeded the memory cap (0.25 GiB): a worker's resident memory "
            "reached 0.26 GiB\n",
            "exceeded the memory cap (0.25 GiB): a worker's resident memory reached 0.26 GiB",
        ),
    ],
    ids=["abort", "segfault", "watchdog"],
)
def test_failure_reason_from_a_worker_log(log: str, reason: str) -> None:
    assert failure_reason(1, log, SPEC.max_memory) == reason


def test_results_are_read_with_json_only() -> None:
    # Result files come from other machines and CI artifacts: nothing in gctune may
    # deserialize them with a code-executing loader.
    forbidden = re.compile(r"\b(pickle|cPickle|marshal|shelve|yaml|jsonpickle)\b|\beval\(|\bexec\(")
    sources = sorted(Path(gctune.__file__).parent.rglob("*.py"))
    assert sources
    hits = {
        f"{path.name}:{n}": line.strip()
        for path in sources
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if forbidden.search(line)
    }
    assert hits == {}
    reader = Path(results.__file__).read_text()
    assert reader.count("json.load(") == 1  # the one place result files are parsed
