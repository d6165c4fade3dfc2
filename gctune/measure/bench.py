"""One (workload, setting) point as a classic pyperf script: ``python -m gctune.measure.bench``.

The sweep runs this module in a fresh interpreter; pyperf's manager then spawns the
worker processes (calibration, warmups, several processes). In each worker: limit the
address space, build the workload's state, apply the GC setting, install the probe
(the ``gctune`` pyperf hook) and time ``loops`` steps per value. The probe's snapshot
travels back inside pyperf's run metadata.

The measuring process (the sweep) never runs this code itself.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Callable

import pyperf

from gctune.measure.catalog import Workload, WorkloadError, load_workload
from gctune.measure.guards import die_with_parent, exit_when_out_of_memory, limit_memory
from gctune.measure.settings import SettingError, apply_setting, parse_setting

__all__ = ["main"]

HOOK = "gctune"


def _pass_options(cmd: list[str], args: Any) -> None:
    """Hand gctune's own options on to each worker pyperf spawns."""
    cmd.extend(("--workload", args.workload, "--setting", args.setting))
    if args.size is not None:
        cmd.extend(("--size", str(args.size)))
    if args.max_memory:
        cmd.extend(("--max-memory", str(args.max_memory)))
    if args.no_probe:
        cmd.append("--no-probe")
    if args.parent_pid:
        cmd.extend(("--parent-pid", str(os.getpid())))  # the worker's parent: this manager


def _time_steps(workload: Workload, state: Any) -> Callable[[int], float]:
    """pyperf's time function: seconds for ``loops`` steps of ``workload`` on ``state``."""
    run_steps = workload.run_steps

    def time_func(loops: int) -> float:
        timer = time.perf_counter
        t0 = timer()
        run_steps(state, loops)
        return timer() - t0

    return time_func


def _not_in_manager(loops: int) -> float:  # pragma: no cover - pyperf never calls it there
    raise RuntimeError("the manager process does not measure")


def main() -> None:
    """Entry point of one point; pyperf parses the command line."""
    runner = pyperf.Runner(
        add_cmdline_args=_pass_options, program_args=("-m", "gctune.measure.bench")
    )
    parser = runner.argparser
    parser.add_argument("--workload", required=True, help="workload name, module or file")
    parser.add_argument("--size", type=int, default=None, help="workload size")
    parser.add_argument("--setting", default="default", help="GC setting")
    parser.add_argument("--max-memory", type=int, default=0, help="memory cap, bytes")
    parser.add_argument("--no-probe", action="store_true", help="measure without the probe")
    parser.add_argument(
        "--parent-pid", type=int, default=0, help="end with this parent process (Linux)"
    )
    args = runner.parse_args()
    if args.parent_pid:
        die_with_parent(args.parent_pid)
    if not args.no_probe:
        hooks = list(args.hook or [])
        if HOOK not in hooks:
            args.hook = [*hooks, HOOK]

    try:
        setting = parse_setting(args.setting)
    except SettingError as exc:
        sys.exit(f"gctune: {exc}")
    name = f"{args.workload}@{setting.id}"
    metadata: dict[str, Any] = {"gctune_workload": args.workload, "gctune_setting": setting.id}

    if not args.worker:
        runner.bench_time_func(name, _not_in_manager, metadata=metadata)
        return
    with exit_when_out_of_memory(args.max_memory):
        if args.max_memory:
            limit_memory(args.max_memory)
        try:
            workload = load_workload(args.workload)
        except WorkloadError as exc:
            sys.exit(f"gctune: {exc}")
        try:
            size = workload.size_for(args.size)
            state = workload.setup(size)
        except WorkloadError as exc:
            sys.exit(f"gctune: {exc}")
        applied = apply_setting(setting)
        metadata["gctune_size"] = size
        metadata["gctune_thresholds"] = ",".join(map(str, applied["thresholds"]))  # type: ignore[call-overload]
        metadata["gctune_frozen"] = applied["frozen"]
        metadata["gctune_frozen_before"] = applied["frozen_before"]
        runner.bench_time_func(name, _time_steps(workload, state), metadata=metadata)


if __name__ == "__main__":
    main()
