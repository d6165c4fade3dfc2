"""tune's native memory probe on one workload: peak RSS over default's per threshold0.

Runs the probe as ``gctune tune`` does (2.5x the setting's predicted full-collection
cycle, stopped at 1.05x the budget or after 90 s) and prints one JSON line per setting,
to set beside the time tier's ``RSS/def`` of a sweep of the same settings.

    .venv/bin/python benchmarks/tune_probe_check.py short_cycles 2200 7000 22000 70000
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from gctune.sweep.tune_probe import probe_memory


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload")
    parser.add_argument("thresholds", nargs="+", type=int, help="threshold0 values")
    parser.add_argument("--budget", type=float, default=1.25)
    parser.add_argument("--size", type=int, default=None)
    args = parser.parse_args()
    base = probe_memory(sys.executable, args.workload, "default", size=args.size,
                        max_steps=2000, kill_bytes=0, env=None, timeout=90)  # fmt: skip
    cycle = base.cycle_steps or 1
    for t0 in args.thresholds:
        steps = max(3 * math.ceil(cycle), math.ceil(2.5 * cycle * t0 / 700))
        seen = probe_memory(
            sys.executable, args.workload, f"{t0},10,10", size=args.size, max_steps=steps,
            kill_bytes=int(base.peak_rss_bytes * args.budget * 1.05), env=None, timeout=90,
        )  # fmt: skip
        print(json.dumps({
            "threshold0": t0, "ended": seen.ended, "steps": seen.steps,
            "rss_ratio": round(seen.peak_rss_bytes / base.peak_rss_bytes, 3),
            "seconds": round(seen.seconds, 2),
        }))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
