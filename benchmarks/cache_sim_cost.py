"""What callgrind's cache simulation costs: CPU seconds of one program with and without it.

Runs ``--steps`` steps of a workload (after its set-up and imports) natively, then under
``valgrind --tool=callgrind`` with ``--cache-sim=yes`` (what the counts tier runs: its
estimated cycles need it) and with ``--cache-sim=no`` (instructions only), one after the
other, and prints each child's user + system CPU seconds (docs/counts.md, "What the cache
simulation costs").

    .venv/bin/python benchmarks/cache_sim_cost.py short_cycles --steps 100
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = (
    "import sys\n"
    "from gctune.measure.catalog import load_workload\n"
    "w = load_workload(sys.argv[1]); s = w.setup(w.size_for(None))\n"
    "w.run_steps(s, int(sys.argv[2]))\n"
)


def cpu_seconds(cmd: list[str], cwd: Path) -> float:
    """User + system CPU seconds of one child run to its end."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    """Run the three and print their CPU seconds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", help="built-in name, module or .py file")
    parser.add_argument("--steps", type=int, default=100, help="steps after set-up")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        py = [sys.executable, "-c", CHILD, args.workload, str(args.steps)]
        native = cpu_seconds(py, work)
        print(f"native: {native:.2f} s CPU")
        for sim in ("yes", "no"):
            tool = [
                "valgrind",
                "--tool=callgrind",
                f"--cache-sim={sim}",
                "--callgrind-out-file=cg.out",
            ]
            spent = cpu_seconds([*tool, *py], work)
            print(f"callgrind --cache-sim={sim}: {spent:.2f} s CPU ({spent / native:.0f}x native)")


if __name__ == "__main__":
    main()
