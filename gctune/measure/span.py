"""One worker span: ``python -m gctune.measure.span``, the unit of every measurement.

A span is one fresh interpreter that builds the workload's state, applies the GC
setting, runs unmeasured warm-up steps, calls ``gc.collect()``, lets ``--settle`` natural
full collections pass unmeasured (so every span starts at the beginning of a collector
cycle in the program's own rhythm), and then times steps in equal chunks until it has
seen ``--full-target`` collections of the oldest generation the setting triggers, or its
step limit or time budget ends. Stopping right after a full collection makes the span
hold whole collector cycles, so its time per step, GC share and pause distribution are
amortised over them; a span that ran out of budget first did not reach steady state and
says so (its cost is then a lower bound).

Before the first chunk and after each one the worker times the speed reference
(:mod:`gctune.measure.reference`), outside the probe's measured wall and CPU time, so that
comparisons can take out how fast the machine ran it at that moment.

Through the span the worker samples its resident memory (``/proc/self/statm``) and the
allocator's block count (``sys.getallocatedblocks()``) after every chunk: two cheap
reads, a few microseconds against chunks of ``gctune.sweep.horizon.CHUNK_S`` (under 0.2%). The
samples are thinned to at most ``MAX_SAMPLES``, so the output stays bounded.

The result is written as a pyperf file (one run: the chunks' seconds per step as its
values, loops = steps per chunk) whose run metadata carries the probe's snapshot, the
span and the memory trajectory under ``gctune_probe``. A pilot (``--pilot``) instead
measures what the sweep needs to plan spans: time per step, net container allocations
per step (``gc.get_count()`` with the collector off), and collections under the setting.

This module runs inside measured workers: 3.9+, standard library, gctune and pyperf.
The measuring process (the sweep) never runs it itself.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from typing import Any, Optional

from gctune.measure.catalog import Workload, WorkloadError, load_workload
from gctune.measure.gcwatch import GcWatch
from gctune.measure.guards import die_with_parent, exit_when_out_of_memory, limit_memory
from gctune.measure.probe import Probe, gc_kind, peak_rss_bytes
from gctune.measure.reference import REFERENCE_OPS, interpreter_key, reference_seconds
from gctune.measure.settings import SettingError, apply_setting, parse_setting

__all__ = ["MAX_SAMPLES", "full_generation", "main"]

MAX_SAMPLES = 600  # memory samples kept per span (thinned by halving beyond)
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def full_generation() -> int:
    """The generation whose collection is a *full* one on this interpreter.

    Generational collectors (3.9–3.13, 3.14.5+, 3.15): generation 2. The incremental
    collector of 3.14.0–3.14.4 reports every automatic collection as generation 1, each
    an increment of the old generation: 1. Free-threaded builds collect the whole heap
    every time: 0 (every collection counts).
    """
    kind = gc_kind()
    if kind == "free-threaded":
        return 0
    if kind == "incremental":
        return 1
    return 2


def rss_bytes() -> int:
    """Resident set size of this process now, bytes (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _uptime_of_process() -> Optional[float]:
    """Seconds since this process started (Linux), for the start-up cost of a worker."""
    try:
        with open("/proc/self/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        with open("/proc/uptime", "rb") as up:
            uptime = float(up.read().split()[0])
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        return max(0.0, uptime - started)
    except (OSError, IndexError, ValueError, AttributeError):
        return None


class Trajectory:
    """Memory samples through a span: (steps done, RSS bytes, allocated blocks)."""

    def __init__(self) -> None:
        self.samples: list[list[int]] = []
        self.every = 1  # keep one sample in ``every`` chunks
        self._chunk = 0

    def add(self, steps: int) -> None:
        self._chunk += 1
        if self._chunk % self.every:
            return
        self.samples.append([steps, rss_bytes(), sys.getallocatedblocks()])
        if len(self.samples) >= MAX_SAMPLES:
            self.samples = self.samples[1::2]
            self.every *= 2


def _run_span(
    workload: Workload, state: Any, args: argparse.Namespace, watch: GcWatch
) -> dict[str, Any]:
    """Warm up, collect, then time chunks until whole full cycles, the limit or the budget."""
    t_warm = time.perf_counter()
    workload.run_steps(state, args.warmup)
    warm_s = time.perf_counter() - t_warm
    with watch.paused():
        gc.collect()  # start at the beginning of a cycle, whatever the warm-up left
    full_gen = full_generation()
    chunk = max(1, args.chunk)
    settle = _settle(workload, state, args, full_gen, chunk)
    probe = Probe()
    probe.install()
    trajectory = Trajectory()
    start_rss, start_blocks = rss_bytes(), sys.getallocatedblocks()
    values: list[float] = []
    full_at: list[int] = []
    steps = 0
    stop = "max-steps"
    run_steps = workload.run_steps
    timer = time.perf_counter
    reference = [reference_seconds()]
    began = timer()
    probe.start()  # collections between chunks count too
    while steps == 0 or steps < args.max_steps:  # at least one whole chunk, whatever the budget
        t0 = timer()
        run_steps(state, chunk)
        dt = timer() - t0
        steps += chunk
        values.append(dt / chunk)
        probe.stop()  # the reference loop is not part of the measured wall or CPU time
        reference.append(reference_seconds())
        probe.start()
        full = _full_count(probe, full_gen)
        while len(full_at) < full and len(full_at) < MAX_SAMPLES:
            full_at.append(steps)
        trajectory.add(steps)
        if full >= args.full_target and steps >= args.min_steps:
            stop = "full-collections"
            break
        if timer() - began >= args.budget:
            stop = "budget"
            break
    probe.stop()
    probe.close()
    snap = probe.snapshot()
    snap["span"] = {
        "steps": steps,
        "chunk": chunk,
        "warmup_steps": args.warmup,
        "warmup_s": warm_s,
        "stop": stop,
        "full_generation": full_gen,
        "full_collections": _full_count(probe, full_gen),
        "full_target": args.full_target,
        "full_at": full_at,
        "budget_s": args.budget,
        "elapsed_s": timer() - began,
        "round": args.round,
        "settle": settle,
    }
    snap["memory"] = {
        "start_rss": start_rss,
        "start_blocks": start_blocks,
        "every": trajectory.every,
        "samples": trajectory.samples,
    }
    snap["reference"] = {"seconds": reference, "ops": REFERENCE_OPS, "python": interpreter_key()}
    snap["values"] = values
    snap["gc_calls"] = dict(sorted(watch.calls.items()))
    return snap


def _settle(
    workload: Workload, state: Any, args: argparse.Namespace, full_gen: int, chunk: int
) -> dict[str, Any]:
    """Run unmeasured chunks until ``--settle`` natural full collections have happened.

    The first cycle after ``gc.collect()`` is not yet the program's steady rhythm: the
    collect leaves an old generation of live objects only, while every later full
    collection also finds the garbage that reached the old generation since the last
    one. On pyperformance's deltablue the first full collection of a fresh span took
    half as long as the later ones. Settling on a natural full collection makes the
    measured span start where its later cycles start. Bounded by ``--budget`` seconds;
    a span that did not settle in it starts anyway and says so (``settled``: false).
    """
    if args.settle <= 0:
        return {"cycles": 0, "steps": 0, "seconds": 0.0, "settled": True}
    count0 = gc.get_stats()[full_gen]["collections"]
    steps = 0
    began = time.perf_counter()
    settled = False
    while time.perf_counter() - began < args.budget:
        workload.run_steps(state, chunk)
        steps += chunk
        if gc.get_stats()[full_gen]["collections"] - count0 >= args.settle:
            settled = True
            break
    return {
        "cycles": args.settle,
        "steps": steps,
        "seconds": time.perf_counter() - began,
        "settled": settled,
    }


def _full_count(probe: Probe, full_gen: int) -> int:
    return sum(h.count for g, h in probe.pauses.items() if g >= full_gen)


def _pilot(workload: Workload, state: Any, args: argparse.Namespace) -> dict[str, Any]:
    """What planning needs: time per step, net allocations per step, collections seen.

    Net tracked-container allocations are read from ``gc.get_count()[0]`` with the
    collector off (it then only grows); collections are counted with it on, under the
    setting, for up to ``--budget`` seconds or ``--full-target`` full collections.
    """
    workload.run_steps(state, args.warmup)
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    began = time.perf_counter()
    n = 0
    net_total = 0
    timed = 0.0
    # at least 3 steps, or one when a step is longer than the budget; the garbage of each
    # step is collected before the next, so that a step full of cycles cannot pile up
    # the collector-off garbage of several (a 2 s step may hold gigabytes of it)
    while (
        n < 1
        or (n < 3 and time.perf_counter() - began < args.budget)
        or (time.perf_counter() - began < min(0.2, args.budget / 4))
    ):
        count0 = gc.get_count()[0]
        t0 = time.perf_counter()
        workload.run_steps(state, 1)
        timed += time.perf_counter() - t0
        net_total += gc.get_count()[0] - count0
        n += 1
        gc.collect()
    step_s = timed / n
    net = net_total / n
    if enabled:
        gc.enable()
    full_gen = full_generation()
    seen: dict[int, int] = {}
    full_at: list[int] = []
    steps = 0

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "stop":
            gen = int(info["generation"])
            seen[gen] = seen.get(gen, 0) + 1
            if gen >= full_gen:
                full_at.append(steps)

    gc.callbacks.append(callback)
    began = time.perf_counter()
    while time.perf_counter() - began < args.budget and len(full_at) < args.full_target + 1:
        workload.run_steps(state, 1)
        steps += 1
    gc.callbacks.remove(callback)
    return {
        "step_s": step_s,
        "net_allocations_per_step": net,
        "steps": steps,
        "elapsed_s": time.perf_counter() - began,
        "collections": {str(g): c for g, c in sorted(seen.items())},
        "full_generation": full_gen,
        "full_at": full_at,
        "thresholds": list(gc.get_threshold()),
        "gc_kind": gc_kind(),
        "version_info": list(sys.version_info[:3]),
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gctune.measure.span", description=__doc__)
    parser.add_argument("--workload", required=True, help="workload name, module or file")
    parser.add_argument("--setting", default="default", help="GC setting")
    parser.add_argument("--size", type=int, default=None, help="workload size")
    parser.add_argument("--out", required=True, help="where to write the JSON result")
    parser.add_argument("--pilot", action="store_true", help="measure a pilot, not a span")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured steps first")
    parser.add_argument("--chunk", type=int, default=1, help="steps per timed value")
    parser.add_argument("--min-steps", type=int, default=1, help="fewest measured steps")
    parser.add_argument("--max-steps", type=int, default=10**9, help="most measured steps")
    parser.add_argument("--budget", type=float, default=2.0, help="seconds of measuring")
    parser.add_argument("--full-target", type=int, default=2, help="full collections to see")
    parser.add_argument("--settle", type=int, default=0, help="full collections to skip")
    parser.add_argument("--round", type=int, default=0, help="the sweep's round number")
    parser.add_argument("--max-memory", type=int, default=0, help="memory cap, bytes")
    parser.add_argument("--parent-pid", type=int, default=0, help="end with this parent")
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    """Measure one span (or a pilot) and write it to ``--out``; 0 on success."""
    args = _parser().parse_args(argv)
    if args.parent_pid:
        die_with_parent(args.parent_pid)
    ready_s = _uptime_of_process()
    try:
        setting = parse_setting(args.setting)
    except SettingError as exc:
        sys.exit(f"gctune: {exc}")
    watch = GcWatch()
    watch.install()  # before the workload is imported: its own gc calls are counted
    with exit_when_out_of_memory(args.max_memory):
        if args.max_memory:
            limit_memory(args.max_memory)
        t_setup = time.perf_counter()
        try:
            workload = load_workload(args.workload)
            size = workload.size_for(args.size)
            state = workload.setup(size)
        except WorkloadError as exc:
            sys.exit(f"gctune: {exc}")
        setup_s = time.perf_counter() - t_setup
        with watch.paused():
            applied = apply_setting(setting)
        watch.start()
        if args.pilot:
            result: dict[str, Any] = _pilot(workload, state, args)
            result.update(size=size, setup_s=setup_s)
            _write(args.out, result)
            return 0
        snap = _run_span(workload, state, args, watch)
    snap["applied"] = dict(applied)
    snap["startup"] = {"process_s": ready_s, "setup_s": setup_s}
    snap["peak_rss_bytes"] = peak_rss_bytes()
    _write_pyperf(args, setting.id, size, snap)
    return 0


def _write_pyperf(
    args: argparse.Namespace, setting_id: str, size: int, snap: dict[str, Any]
) -> None:
    """The span as a one-run pyperf file; the probe's data in the run's metadata."""
    import pyperf

    values = snap.pop("values")
    span = snap["span"]
    warm = span["warmup_s"] / args.warmup if args.warmup else 0.0
    metadata = {
        "name": f"{args.workload}@{setting_id}",
        "loops": span["chunk"],
        "gctune_workload": args.workload,
        "gctune_setting": setting_id,
        "gctune_size": size,
        "gctune_probe": json.dumps(snap, separators=(",", ":"), sort_keys=True),
    }
    warmups = [(args.warmup, warm)] if args.warmup and warm > 0 else None
    run = pyperf.Run(values, warmups=warmups, metadata=metadata, collect_metadata=True)
    pyperf.Benchmark([run]).dump(args.out, replace=True)


def _write(path: str, data: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        json.dump(data, out)


if __name__ == "__main__":
    sys.exit(main())
