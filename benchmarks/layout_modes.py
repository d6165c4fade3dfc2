"""How much of a span's time is set by the process it ran in, not by its GC setting.

Runs the same span (one workload, one setting) in fresh worker processes three ways and
prints the spread of their time per step:

* ``random`` — as a sweep runs them: address-space layout randomised (ASLR), a new hash
  seed each time;
* ``fixed`` — ASLR off (``setarch -R``), one hash seed, one environment: every process
  starts from the same layout;
* ``stack`` — ASLR off and one hash seed, but an environment variable of a different
  length each time, which moves only the initial stack.

The workload and setting by default run no collection at all (``acyclic_churn`` frees
everything by reference counting and never reaches threshold 7000), so whatever spread
the processes show is not the collector's: it is the floor under every ratio a sweep
reports, and why a ratio from three worker processes cannot be good to a few percent
on a machine where it is large. Where ``fixed`` is tight and ``random`` is not, the
address layout is what sets it.

    python benchmarks/layout_modes.py [--workload acyclic_churn] [--setting 7000,10,10]
                                      [--runs 8] [--budget 0.6]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def span_time(args: argparse.Namespace, mode: str, rng: random.Random, out: Path) -> float:
    """One worker span's mean time per step (seconds)."""
    env = dict(os.environ)
    cmd = [sys.executable, "-m", "gctune.measure.span", "--workload", args.workload,
           "--setting", args.setting, "--out", str(out), "--budget", str(args.budget),
           "--settle", "1", "--chunk", str(args.chunk)]  # fmt: skip
    if mode == "random":
        env["PYTHONHASHSEED"] = str(rng.randrange(1, 2**32 - 1))
    else:
        env["PYTHONHASHSEED"] = "1"
        cmd = ["setarch", platform.machine(), "-R", *cmd]
        if mode == "stack":
            env["GCTUNE_LAYOUT_PAD"] = "x" * (16 * rng.randrange(256))
    subprocess.run(cmd, env=env, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    import pyperf

    run = pyperf.Benchmark.load(str(out)).get_runs()[0]
    return statistics.fmean(run.values)


def main() -> None:
    """Measure ``--runs`` spans per way, interleaved, and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="acyclic_churn")
    parser.add_argument("--setting", default="7000,10,10")
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--budget", type=float, default=0.6)
    parser.add_argument("--chunk", type=int, default=7)
    args = parser.parse_args()
    if shutil.which("setarch") is None:
        sys.exit("layout_modes: needs setarch (util-linux) to turn address randomisation off")
    rng = random.Random()
    times: dict[str, list[float]] = {"random": [], "fixed": [], "stack": []}
    with tempfile.TemporaryDirectory(prefix="gctune-layout-") as tmp:
        for _ in range(args.runs):
            for mode in rng.sample(list(times), len(times)):
                times[mode].append(span_time(args, mode, rng, Path(tmp) / "span.json"))
    print(f"`{args.workload}` under `{args.setting}`, {args.runs} fresh processes per way:\n")
    print("| processes | mean µs/step | min–max | spread (sd / mean) |")
    print("|---|---|---|---|")
    for mode, values in times.items():
        us = [v * 1e6 for v in values]
        mean = statistics.fmean(us)
        print(f"| {mode} | {mean:.0f} | {min(us):.0f}–{max(us):.0f} | "
              f"{statistics.stdev(us) / mean:.1%} |")  # fmt: skip


if __name__ == "__main__":
    main()
