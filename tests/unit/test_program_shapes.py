"""Program shapes that need no worker process to check: refused steps, a capped log, the
program's own gc calls in a point file, a detached leftover ended from its record."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gctune.measure.catalog import WorkloadError, load_workload
from gctune.store.atomic import atomic_write_json
from gctune.store.documents import span_point_document
from gctune.store.fields import check_run_fields
from gctune.store.results import load_point
from gctune.sweep.isolation import (
    MARK_VARIABLE,
    PROCESS_RECORD,
    cap_log,
    cut_bytes,
    end_recorded,
    log_since,
)
from tests.unit.test_span_document import worker_output


@pytest.mark.parametrize(
    ("source", "hint"),
    [
        ("async def step():\n    pass\n", "lambda: asyncio.run(step())"),
        ("def make(size=1):\n    async def step():\n        pass\n    return step\n",
         "lambda: asyncio.run(step())"),
        ("def make(size=1):\n    def step():\n        yield 1\n    return step\n",
         "collections.deque(step(), maxlen=0)"),
        ("async def make(size=1):\n    pass\n", "asyncio.run"),
    ],
    ids=["async step", "factory of an async step", "factory of a generator", "async factory"],
)  # fmt: skip
def test_a_step_that_runs_nothing_is_refused_with_how_to_wrap_it(
    tmp_path: Path, source: str, hint: str
) -> None:
    path = tmp_path / "shape.py"
    path.write_text(source)
    name = "step" if source.startswith("async def step") else "make"
    with pytest.raises(WorkloadError) as refused:
        workload = load_workload(f"{path}:{name}")
        workload.setup(1)  # a factory's step is known once it is called
    message = str(refused.value)
    assert hint in message and "\n" not in message


def test_a_log_keeps_its_head_and_tail_and_counts_every_cut(tmp_path: Path) -> None:
    path = tmp_path / "point.log"
    cap, head, tail = 4000, 1000, 1000
    with path.open("a", encoding="utf-8") as log:
        written = ["$ the command\n"]
        log.write(written[0])
        for round_number in range(3):
            written.append("".join(f"line {round_number}.{i}\n" for i in range(500)))
            written.append("ValueError: the last words\n" if round_number == 2 else "")
            for part in written[-2:]:
                log.write(part)
            cap_log(log, cap=cap, head=head, tail=tail)
    text = path.read_text()
    assert text.startswith("$ the command\nline 0.0\n")
    assert text.endswith("line 2.499\nValueError: the last words\n")
    assert path.stat().st_size <= head + tail + 200
    marker = next(line for line in text.splitlines(keepends=True) if "[gctune: " in line)
    kept = len(text) - len(marker) - 1  # the marker line starts with its own line break
    assert cut_bytes(path, head=head) == len("".join(written)) - kept > 0
    assert f"[gctune: {cut_bytes(path, head=head):,} bytes of output cut here" in text
    # what a worker wrote since an offset the cut removed: the tail
    since = log_since(path, 5000, 0, head=head, tail=tail)
    assert since.endswith("ValueError: the last words\n") and len(since) <= tail


def test_a_log_under_the_cap_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "point.log"
    with path.open("a", encoding="utf-8") as log:
        log.write("short\n")
        assert cap_log(log) == 0
    assert path.read_text() == "short\n" and cut_bytes(path) == 0


def test_gc_calls_are_stored_validated_and_optional(tmp_path: Path) -> None:
    output = worker_output([0.1])
    run = output["benchmarks"][0]["runs"][0]
    probe = json.loads(run["metadata"]["gctune_probe"])
    probe["gc_calls"] = {"set_threshold": 3, "collect": 1}
    run["metadata"]["gctune_probe"] = json.dumps(probe)
    doc = span_point_document(
        previous=None, worker_output=output, workload="w", setting="default",
        round_number=1, interpreter={}, horizon=None, started="now", duration_s=0.1,
    )  # fmt: skip
    path = tmp_path / "points" / "w@default.json"
    atomic_write_json(path, doc)
    (loaded,) = load_point(path).runs
    assert loaded.gc_calls == {"set_threshold": 3, "collect": 1}
    for bad in ({"fork": 1}, {"collect": -1}, {"collect": 1.5}, ["collect"]):
        with pytest.raises(ValueError, match="gc_calls"):
            check_run_fields("runs[0]", {**doc["gctune"]["runs"][0], "gc_calls": bad})
    del doc["gctune"]["runs"][0]["gc_calls"]  # a file from before: no calls counted
    atomic_write_json(path, doc)
    assert load_point(path).runs[0].gc_calls == {}


DETACHED = textwrap.dedent(
    """
    import subprocess, sys, time
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(300)", sys.argv[1]],
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    print(child.pid, flush=True)
    """
)


def _start_detached(tmp_path: Path, env: dict[str, str] | None = None) -> int:
    """A detached child that outlives its parent; its argument is this test's directory, so
    no other cleanup takes it for its own."""
    started = subprocess.run(
        [sys.executable, "-c", DETACHED, str(tmp_path)],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    return int(started.stdout)


def _wait_ended(pid: int) -> None:
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{pid}") and "Z" not in _state(pid):
        assert time.monotonic() < deadline, "the detached child still runs"
        time.sleep(0.02)


def test_a_recorded_detached_child_is_ended(tmp_path: Path) -> None:
    pid = _start_detached(tmp_path)
    record = tmp_path / PROCESS_RECORD
    start = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[19]
    processes = {str(pid): int(start), "999999999": 1}
    record.write_text(json.dumps({"mark": "", "processes": processes}))
    assert end_recorded(record) == [pid]
    _wait_ended(pid)
    assert end_recorded(tmp_path / "missing.json") == []


def test_a_child_born_after_the_last_poll_is_ended_by_the_mark(tmp_path: Path) -> None:
    """A sweep killed between a child's birth and the next poll never recorded its pid."""
    pid = _start_detached(tmp_path, {**os.environ, MARK_VARIABLE: "0123abcd"})
    other = _start_detached(tmp_path, {**os.environ, MARK_VARIABLE: "0123abcdef"})
    record = tmp_path / PROCESS_RECORD
    record.write_text(json.dumps({"mark": "0123abcd", "processes": {}}))
    try:
        assert end_recorded(record) == [pid]
        _wait_ended(pid)
        assert _state(other) not in ("Z", "X"), "another point's mark is not this one's"
    finally:
        os.kill(other, 9)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return "X"
