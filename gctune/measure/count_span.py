"""One counted span: ``python -m gctune.measure.count_span``, run under valgrind by
:mod:`gctune.sweep.counts`.

The counts tier measures work in instructions, not seconds. CPython's collector is driven
by allocation counts, so with a fixed ``PYTHONHASHSEED`` the same program under the same
setting makes the same collections on the same objects every run, and valgrind counts the
same instructions for it whatever else the machine does.

The worker builds the workload's state, applies the setting, runs warm-up steps, calls
``gc.collect()``, lets ``--settle`` natural full collections pass, and then runs steps
one at a time until ``--fulls`` more full collections have happened (it stops right after
the last one) or ``--max-steps`` steps have run; where settling ended without its full
collections (``--settle-steps``), the steps run the whole ``--max-steps``. Right before
the measured steps and right after them it calls ``os.sched_yield()``, where callgrind
(``--dump-before=sched_yield``) writes out what it counted so far and starts again from
zero: the second of its parts holds the measured steps and nothing else. Start-up,
imports, setup, warm-up and settling are in the first part (an import compiled from
source in one run and read from its bytecode cache in the next once made two spans'
start-ups differ by 86 M instructions), writing the result in the last. Settling ended
right after a full collection and the steps end right after one, so the part holds whole
collector cycles.

Callgrind starts with its instrumentation off (``--instr-atstart=no``): start-up, imports,
setup, warm-up and all but the last cycle of settling run at a few times native speed
instead of 50-200 times, uncounted. Before the last settling cycle (or the last
``--max-steps`` steps of settling's bound; before the warm-up where nothing settles) the
span asks callgrind, through valgrind's ``vgdb``, to switch its instrumentation on; its
wait for ``vgdb`` allocates no container, so the collector's counts are the same every
run, however long the wait. The cache simulation starts empty
when the instrumentation goes on; the cycle run before the mark fills it as a long run
would have (the same span instrumented from start-up: identical instructions, est.
cycles within 0.04 %; instrumented from the mark: 0.7 % high; docs/counts.md).

A ``gc.callbacks`` hook counts collections per generation; it runs only when the
collector does (the same in both runs), never per step. The result, written to ``--out``
after the last step, is small JSON: steps, settle steps, collections per generation and
how the span ended. This module runs inside measured interpreters: 3.9+, standard
library and gctune only.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from typing import Any, NoReturn, Optional

from gctune.measure.catalog import WorkloadError, load_workload
from gctune.measure.probe import gc_kind
from gctune.measure.settings import SettingError, apply_setting, parse_setting
from gctune.measure.span import full_generation

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gctune.measure.count_span", description=__doc__
    )
    parser.add_argument("--workload", required=True, help="workload name, module or file")
    parser.add_argument("--setting", default="default", help="GC setting")
    parser.add_argument("--size", type=int, default=None, help="workload size")
    parser.add_argument("--out", required=True, help="where to write the JSON result")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured steps first")
    parser.add_argument("--settle", type=int, default=1, help="full collections to skip")
    parser.add_argument("--settle-steps", type=int, default=100_000, help="most settle steps")
    parser.add_argument("--fulls", type=int, default=2, help="full collections to run")
    parser.add_argument("--max-steps", type=int, default=1000, help="most measured steps")
    parser.add_argument(
        "--vgdb", default=None,
        help="valgrind's vgdb: callgrind runs with --instr-atstart=no and the span switches "
        "its instrumentation on before the last settling cycle (none: counted throughout)",
    )  # fmt: skip
    return parser


VGDB_WAIT_S = 120.0


def _instrumentation_on(vgdb: str) -> None:
    """Ask callgrind (through ``vgdb``) to switch its instrumentation on; exit on failure.

    The span keeps running Python code while it waits, so valgrind's gdbserver, which
    polls between blocks of guest code, takes the command without vgdb having to ptrace
    a process blocked in a system call (which a machine may forbid). The wait allocates
    no container: ``os.waitid`` with ``WNOHANG`` returns None until vgdb has ended, so
    however many times it polls, the collector's allocation count is the same.
    """
    # vgdb's own complaints go to the span's stderr, which the sweep reports on failure
    proc = subprocess.Popen(
        [vgdb, f"--pid={os.getpid()}", "instrumentation", "on"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    pid, options = proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT
    deadline = time.monotonic() + VGDB_WAIT_S
    try:
        while os.waitid(os.P_PID, pid, options) is None:
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                sys.exit(f"gctune: callgrind did not take vgdb's command in {VGDB_WAIT_S:.0f} s")
    except ChildProcessError:
        # vgdb has ended and the program reaped it (its own SIGCHLD handler, or SIGCHLD
        # ignored): its status is lost, and a failed vgdb leaves the counted part empty,
        # which fails the point (tests/integration/test_counts.py)
        pass
    if proc.wait() != 0:
        sys.exit(f"gctune: vgdb could not switch callgrind's instrumentation on "
                 f"(status {proc.returncode})")  # fmt: skip


def main(argv: Optional[list[str]] = None) -> NoReturn:
    """Run one counted span, write its JSON to ``--out`` and end the process at once."""
    args = _parser().parse_args(argv)
    try:
        setting = parse_setting(args.setting)
        workload = load_workload(args.workload)
        size = workload.size_for(args.size)
        state = workload.setup(size)
    except (SettingError, WorkloadError) as exc:
        sys.exit(f"gctune: {exc}")
    apply_setting(setting)
    full_gen = full_generation()
    counts = [0, 0, 0]

    def on_collection(phase: str, info: dict[str, Any]) -> None:
        if phase == "stop":
            counts[min(int(info["generation"]), 2)] += 1

    counting = args.vgdb is None
    if not counting and args.settle == 0:  # nothing to settle: counted from the warm-up on
        _instrumentation_on(args.vgdb)
        counting = True
    workload.run_steps(state, args.warmup)
    gc.collect()
    gc.callbacks.append(on_collection)
    settle_steps = 0
    # all but the last settling cycle (or the last max_steps steps of its bound) uncounted
    before_last = args.settle - 1
    uncounted_steps = max(args.settle_steps - args.max_steps, 0)
    while (
        not counting
        and sum(counts[full_gen:]) < before_last
        and settle_steps < uncounted_steps
    ):
        workload.run_steps(state, 1)
        settle_steps += 1
    if not counting:
        _instrumentation_on(args.vgdb)
    while sum(counts[full_gen:]) < args.settle and settle_steps < args.settle_steps:
        workload.run_steps(state, 1)
        settle_steps += 1
    settled = sum(counts[full_gen:]) >= args.settle
    before = list(counts)
    full_before = sum(before[full_gen:])
    # callgrind runs with --dump-before=sched_yield: what it counted so far (start-up,
    # imports, setup, warm-up, settling) goes to its first part, the steps to the second
    os.sched_yield()
    steps = 0
    ended = "max-steps"
    # where settling did not end on a full collection, a window ending on the next one
    # would start at an arbitrary phase of the cycle and end right after its most costly
    # part: tree_parents with freeze read 37 M est. cycles a step over 2 steps, against
    # 25-26 M for every setting measured over the bound. Unsettled, it runs the bound.
    stop_on_fulls = settled or args.settle == 0
    while steps < args.max_steps:
        workload.run_steps(state, 1)
        steps += 1
        if stop_on_fulls and sum(counts[full_gen:]) - full_before >= args.fulls:
            ended = "full-collections"
            break
    os.sched_yield()  # the measured steps end here
    gc.callbacks.remove(on_collection)
    result = {
        "workload": args.workload,
        "setting": setting.id,
        "size": size,
        "steps": steps,
        "ended": ended,
        "settle_steps": settle_steps,
        "settled": settled,
        "collections": [c - b for c, b in zip(counts, before)],
        "full_generation": full_gen,
        "version_info": list(sys.version_info[:3]),
        "gc_kind": gc_kind(),
    }
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(result, out)
    # No finalization: at exit the interpreter collects whatever garbage the span left
    # (a ``disabled`` one leaves all of it); outside the marked steps it is not counted,
    # but it would only cost valgrind time.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
