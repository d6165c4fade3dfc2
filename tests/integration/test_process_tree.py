"""A point's processes end with the point: those its workload started and left running,
those that moved to another process group or session, and double-forked daemons; after
success, failure or timeout. Rows of the table in docs/faults.md.

Each stray process is a ``sleep`` with a duration no other process uses, so that the
test finds exactly its own.
"""

from __future__ import annotations

import random
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from gctune.sweep.isolation import run_isolated
from gctune.sweep.runner import run_sweep
from gctune.sweep.spec import SweepSpec
from tests.integration.test_faults import processes_mentioning, wait_for

pytestmark = pytest.mark.integration


def markers() -> list[str]:
    """Three sleep durations (seconds) unique to this run of the test."""
    base = random.randrange(10**6, 10**7)
    return [f"299.{base}{i}" for i in range(3)]


def strays(marks: list[str]) -> list[int]:
    return [pid for mark in marks for pid in processes_mentioning(f"sleep {mark}")]


# A child left running in the group, one in a session of its own, one double-forked
# daemon (its parent exits at once, so polling never sees it as the point's descendant).
SPAWN = """
import subprocess
def spawn(marks):
    subprocess.Popen(["sleep", marks[0]])
    subprocess.Popen(["sleep", marks[1]], start_new_session=True)
    subprocess.run(["sh", "-c", f"setsid sleep {marks[2]} &"], check=True)
"""


def test_a_point_that_succeeds_leaves_no_process_running(tmp_path: Path) -> None:
    marks = markers()
    workload = tmp_path / "spawner.py"
    workload.write_text(
        textwrap.dedent(SPAWN)
        + textwrap.dedent(
            f"""
            '''Starts three sleeping processes in setup, then does nothing per step.'''
            def setup(size):
                spawn({marks!r})
            def step(state):
                pass
            """
        )
    )
    spec = SweepSpec(
        workloads=(str(workload),),
        settings=("default",),
        size=1,
        processes=2,
        values=2,
        min_time=0.002,
        timeout=120,
    )
    (point,) = run_sweep(spec, tmp_path / "sweep")
    assert point.ok, point.reason
    assert strays(marks) == []


@pytest.mark.parametrize("ending", ["success", "failure", "timeout"])
def test_run_isolated_ends_the_whole_tree(tmp_path: Path, ending: str) -> None:
    marks = markers()
    script = tmp_path / "point.py"
    last = {
        "success": "raise SystemExit(0)",
        "failure": "raise SystemExit(3)",
        "timeout": "import time; time.sleep(60)",
    }[ending]
    script.write_text(textwrap.dedent(SPAWN) + f"\nspawn({marks!r})\n{last}\n")
    with (tmp_path / "point.log").open("w") as log:
        code, timed_out = run_isolated([sys.executable, str(script)], log, timeout=3)
    assert (code, timed_out) == {
        "success": (0, False),
        "failure": (3, False),
        "timeout": (-9, True),
    }[ending]
    wait_for(lambda: not strays(marks), "the point's processes to end", 2)


def test_points_side_by_side_do_not_end_each_other(tmp_path: Path) -> None:
    # A runner may run points in threads of one process: the point that ends first must
    # neither kill nor reap the other, and the strays of both end by the last one's end.
    marks = markers()
    quick, slow = tmp_path / "quick.py", tmp_path / "slow.py"
    daemon = "import subprocess\nsubprocess.run(['sh', '-c', 'setsid sleep {} &'], check=True)\n"
    quick.write_text(daemon.format(marks[0]) + "raise SystemExit(0)\n")
    slow.write_text(daemon.format(marks[1]) + "import time; time.sleep(1.5)\nraise SystemExit(5)\n")
    results: dict[str, tuple[int, bool]] = {}

    def point(script: Path) -> None:
        with (tmp_path / f"{script.stem}.log").open("w") as log:
            results[script.stem] = run_isolated([sys.executable, str(script)], log, timeout=30)

    threads = [threading.Thread(target=point, args=(s,)) for s in (slow, quick)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {"quick": (0, False), "slow": (5, False)}
    wait_for(lambda: not strays(marks), "both points' processes to end", 2)
