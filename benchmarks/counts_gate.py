"""The gate in counts, tried: A/A false failures and a 3 % regression caught.

Each try is a fresh sweep in counts (``default`` only) of three workloads: ``base``, an
identical ``copy`` in another file (A/A), and ``plus3``, the same program allocating 3 %
more per step (size × 1.03). ``gctune gate DIR base-make copy-make --fail-on
instructions:1%`` must pass (exit 0) and ``gctune gate DIR base-make plus3-make
--fail-on instructions:1%`` must fail (exit 1), every try. Prints one JSON line per try
(the gate's exit statuses, the ratios, wall and CPU seconds of the sweep) and a summary.
Counts do not depend on load, so this may run beside other work; its wall times do.

    .venv/bin/python benchmarks/counts_gate.py --tries 10
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gctune.sweep.count_sweep import CountSpec, run_counts

PROGRAM = """
def make(size=1):
    size = int({size})
    def step():
        root = []
        for _ in range(size):
            root.append([root])
    return step
"""


def _gate(directory: Path, base: str, new: str, fail_on: str) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "gctune.cli", "gate", str(directory), base, new,
         "--fail-on", fail_on, "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    doc = json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}
    return done.returncode, doc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=10)
    parser.add_argument("--size", type=int, default=7000)
    parser.add_argument("--increase", type=float, default=0.03)
    parser.add_argument("--fail-on", default="instructions:1%")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    false_failures = caught = 0
    for n in range(args.tries):
        with tempfile.TemporaryDirectory(prefix="gctune-count-gate-") as tmp:
            folder = Path(tmp)
            sizes = {"base": args.size, "copy": args.size,
                     "plus3": round(args.size * (1 + args.increase))}  # fmt: skip
            for name, size in sizes.items():
                (folder / f"{name}.py").write_text(PROGRAM.format(size=size))
            spec = CountSpec(
                python=sys.executable,
                workloads=tuple(f"{folder / name}.py:make" for name in sizes),
                settings=("default",),
                jobs=args.jobs,
            )
            began, cpu0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
            run_counts(spec, folder / "sweep")
            cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            wall = time.perf_counter() - began
            aa, aa_doc = _gate(folder / "sweep", "base-make", "copy-make", args.fail_on)
            ab, ab_doc = _gate(folder / "sweep", "base-make", "plus3-make", args.fail_on)
        false_failures += aa != 0
        caught += ab == 1
        ratio = [r["ratio"] for r in aa_doc.get("rows") or []]
        ratio3 = [r["ratio"] for r in ab_doc.get("rows") or []]
        print(json.dumps({
            "try": n + 1, "aa_exit": aa, "aa_ratio": ratio, "plus3_exit": ab,
            "plus3_ratio": ratio3, "sweep_wall_s": round(wall, 1),
            "worker_cpu_s": round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 1),
        }), flush=True)  # fmt: skip
    print(json.dumps({"tries": args.tries, "gate": args.fail_on,
                      "aa_false_failures": false_failures, "plus3_caught": caught}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
