"""Do the probe's pauses agree with CPython 3.15's own ``duration`` of each collection?

For every built-in workload, one fresh 3.15 process (``one_process.py``, gctune lent to
it as ``--python`` does) builds the workload, applies the setting and runs ``--steps``
steps with the probe recording; the probe keeps, for each collection, its own pause
(``perf_counter_ns`` from the ``start`` to the ``stop`` callback) and the interpreter's
``duration``. Printed per workload (see :mod:`gctune.analysis.agreement`): collections, the mean
of probe − duration in microseconds, and the per-collection relative difference
(probe − duration) / duration at the median, p99 and maximum, with the count of
collections where the probe was not longer.

Run: ``make bench-agreement`` or ``python benchmarks/duration_agreement.py [--python
PATH] [--steps N] [--setting S]``; the interpreter defaults to ``make interpreters``'s 3.15.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from gctune.analysis.agreement import pause_agreement
from gctune.measure.catalog import builtin_names
from gctune.sweep.environment import lent_to

HERE = Path(__file__).resolve().parent
MANIFEST = HERE.parent / ".interpreters" / "interpreters.json"


def default_python() -> str:
    """The 3.15 that ``make interpreters`` fetched."""
    try:
        entry = json.loads(MANIFEST.read_text(encoding="utf-8"))["interpreters"]["3.15"]
    except (OSError, ValueError, KeyError):
        sys.exit(f"no CPython 3.15 in {MANIFEST}: run `make interpreters`, or give --python")
    return str(entry["path"])


def main() -> None:
    """Measure each built-in workload once and print the agreement table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=None, help="a CPython 3.15+ (default: make's)")
    parser.add_argument("--steps", type=int, default=500, help="measured steps per workload")
    parser.add_argument("--setting", default="default", help="GC setting, e.g. 20000,10,10")
    args = parser.parse_args()
    python = args.python or default_python()

    header = ("workload", "collections", "mean +us", "p50", "p99", "max", "not longer")
    print(f"{python}, setting {args.setting}, {args.steps} steps per workload")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    with lent_to(python) as env:
        for name in builtin_names():
            cmd = [python, str(HERE / "one_process.py"), "--workload", name]
            cmd += ["--setting", args.setting, "--steps", str(args.steps)]
            done = subprocess.run(
                cmd, env=env or dict(os.environ), capture_output=True, text=True, check=False
            )
            if done.returncode != 0:
                sys.exit(f"{name}: {(done.stderr.strip().splitlines() or ['failed'])[-1]}")
            agreement = pause_agreement([json.loads(done.stdout)])
            if agreement is None:
                sys.exit(f"{python} reports no duration in gc.callbacks (it is before 3.15)")
            row = (
                name,
                f"{agreement.collections:,}",
                f"{agreement.mean_excess_ns / 1e3:.2f}",
                f"{agreement.excess_p50:.1%}",
                f"{agreement.excess_p99:.1%}",
                f"{agreement.excess_max:.1%}",
                str(agreement.not_longer),
            )
            print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
