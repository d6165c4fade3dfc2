"""tune's estimate of default's count point against the count point itself.

Before it counts, ``gctune tune`` bounds what default's count point will cost from its
native memory probe (:func:`gctune.sweep.tune_probe.count_floor_s`). This script runs
both as tune does, one workload at a time, nothing side by side: default's probe
natively, then default's count point under valgrind, and prints one JSON line per
workload with the probe's wall and CPU seconds, the floor, the count point's wall seconds, and the
count point's seconds over the floor (over 1 where the floor holds).

    .venv/bin/python benchmarks/count_estimate.py short_cycles acyclic_churn \\
        benchmarks/programs/async_tree.py:make_small
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

from gctune.measure.catalog import workload_ids
from gctune.sweep.count_sweep import CountTask, run_count_sweep
from gctune.sweep.environment import lent_to
from gctune.sweep.tune_probe import (
    DEFAULT_PROBE_STEPS,
    PROBE_LIMIT_S,
    count_floor_s,
    probe_memory,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="+")
    parser.add_argument("--size", type=int, default=None)
    args = parser.parse_args()
    python = sys.executable
    with lent_to(python) as env, tempfile.TemporaryDirectory() as tmp:
        for spec, wid in zip(args.workloads, workload_ids(args.workloads)):
            probe = probe_memory(python, spec, "default", size=args.size,
                                 max_steps=DEFAULT_PROBE_STEPS, kill_bytes=0, env=env,
                                 timeout=PROBE_LIMIT_S)  # fmt: skip
            cycle = probe.cycle_steps
            if cycle is None:
                print(json.dumps({"workload": spec, "probe": probe.ended}))
                continue
            task = CountTask(python, spec, wid, "default", size=args.size, fulls=1,
                             max_steps=2 * math.ceil(cycle), env=env)  # fmt: skip
            t0 = time.monotonic()
            (doc,) = run_count_sweep(Path(tmp), [task], jobs=1)
            count_s = time.monotonic() - t0
            floor = count_floor_s(probe)
            print(json.dumps({
                "workload": spec, "cycle_steps": cycle, "probe_s": round(probe.seconds, 2),
                "probe_cpu_s": round(probe.cpu_s, 2),
                "floor_s": round(floor, 1), "count_s": round(count_s, 1),
                "count_over_floor": round(count_s / floor, 2), "status": doc.get("status"),
            }), flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
