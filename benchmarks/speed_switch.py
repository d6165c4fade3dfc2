"""Is a worker's speed set when it starts, or does it change while it runs?

Each of ``--processes`` fresh interpreters times, six times in turn, the speed
reference's string loop (:func:`gctune.measure.reference.reference_seconds`, 20 passes) and 50
steps of ``acyclic_churn`` with its collector off, and prints one line per process: the
loop's milliseconds and the workload's microseconds per step, in order. A process whose
numbers jump midway changed speed while it ran (so a reference timed once at start-up
could not follow it); when the loop and the workload jump together, the loop sees what
slows the workload.

    python benchmarks/speed_switch.py [--processes 10]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = """
import gc, time
gc.disable()  # this child measures the machine, not the collector
from gctune.measure.reference import reference_seconds
from workloads import acyclic_churn as w
state = w.setup(2000)
out = []
for _ in range(6):
    loop = sum(reference_seconds() for _ in range(20))
    t0 = time.perf_counter()
    for _ in range(50):
        w.step(state)
    out.append(f"loop {loop * 1e3:4.1f} ms, work {(time.perf_counter() - t0) / 50 * 1e6:5.0f} µs")
print(" | ".join(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=10)
    args = parser.parse_args()
    for _ in range(args.processes):
        subprocess.run([sys.executable, "-c", CHILD], cwd=REPO, check=True)


if __name__ == "__main__":
    main()
