"""What the probe costs: the same work measured with and without it, side by side.

Two measurements, per churn workload:

* **instructions** (needs valgrind): one fresh interpreter runs N steps, another 2N
  steps, with and without the probe; callgrind counts instructions, and the difference
  between 2N and N steps is the cost of N steps without start-up or setup. Instruction
  counts do not depend on what else the machine runs, so this figure is stable on a
  shared 2-core machine where wall times are not.
* **time**: pairs of pyperf points (``python -m gctune.measure.bench``) alternately with the
  probe and with ``--no-probe``, same loop count; the ratio of per-process mean times
  with a 95% bootstrap interval (:func:`gctune.analysis.intervals.compare_samples`).

Run: ``make bench-probe`` or ``python benchmarks/probe_overhead.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from gctune.analysis.intervals import compare_samples

WORKLOADS = ("acyclic_churn", "short_cycles")


def drive(workload: str, steps: int, probe: bool) -> None:
    """Inside a fresh interpreter: set up, then run ``steps`` steps (optionally probed)."""
    import gc

    from gctune.measure.catalog import load_workload
    from gctune.measure.probe import Probe

    wl = load_workload(workload)
    state = wl.setup(wl.size_for(None))
    gc.collect()
    p = Probe()
    if probe:
        p.install()
        p.start()
    wl.run_steps(state, steps)
    if probe:
        p.stop()
        p.close()


def instructions(workload: str, steps: int, probe: bool) -> int:
    """Instructions callgrind counts for one fresh interpreter running ``steps`` steps."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        cmd = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            "--drive",
            workload,
            str(steps),
            "probe" if probe else "none",
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    match = re.search(r"Collected : (\d+)", done.stderr)
    if not match:
        raise RuntimeError("callgrind printed no instruction count")
    return int(match.group(1))


def per_step_instructions(workload: str, steps: int, probe: bool) -> float:
    """Instructions per step, start-up and setup removed (2N-step run minus N-step run)."""
    return (instructions(workload, 2 * steps, probe) - instructions(workload, steps, probe)) / steps


def wall_time(workload: str, *, probe: bool, loops: int, processes: int) -> list[float]:
    """Per-process mean seconds per step of one pyperf point."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "point.json"
        cmd = [
            sys.executable,
            "-m",
            "gctune.measure.bench",
            "--workload",
            workload,
            "--setting",
            "default",
            "--loops",
            str(loops),
            "--processes",
            str(processes),
            "--values",
            "3",
            "--quiet",
            "-o",
            str(out),
        ]
        if not probe:
            cmd.append("--no-probe")
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        data = json.loads(out.read_text())
    runs = data["benchmarks"][0]["runs"]
    return [statistics.fmean(r["values"]) for r in runs if r.get("values")]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6, help="alternating timed pairs")
    parser.add_argument("--processes", type=int, default=4, help="pyperf processes per point")
    parser.add_argument("--loops", type=int, default=64, help="steps per pyperf value")
    parser.add_argument("--steps", type=int, default=40, help="steps per callgrind run")
    parser.add_argument(
        "--drive", nargs=3, metavar=("WORKLOAD", "STEPS", "PROBE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.drive:
        drive(args.drive[0], int(args.drive[1]), args.drive[2] == "probe")
        return

    if shutil.which("valgrind"):
        print(f"{'workload':<16} {'instructions/step':>18} {'with probe':>12} {'overhead':>9}")
        for workload in WORKLOADS:
            bare = per_step_instructions(workload, args.steps, probe=False)
            probed = per_step_instructions(workload, args.steps, probe=True)
            print(f"{workload:<16} {bare:>18,.0f} {probed:>12,.0f} {probed / bare - 1:>9.2%}")
    else:
        print("valgrind not found: instruction counts skipped")
    if args.rounds < 1:
        return
    print()
    print(f"{'workload':<16} {'time probe/none':>16} {'95% interval':>20}  processes")
    for workload in WORKLOADS:
        with_probe: list[float] = []
        without: list[float] = []
        for i in range(args.rounds):
            # alternate which side goes first, so drift does not favour one
            for probe in (True, False) if i % 2 == 0 else (False, True):
                means = wall_time(workload, probe=probe, loops=args.loops, processes=args.processes)
                (with_probe if probe else without).extend(means)
        change = compare_samples(without, with_probe)
        interval = f"[{change.low:.4f}, {change.high:.4f}]"
        print(
            f"{workload:<16} {change.ratio:>15.4f}x {interval:>20}  "
            f"{len(with_probe)}+{len(without)}"
        )


if __name__ == "__main__":
    main()
