"""Measure one workload under one GC setting in this fresh process; print JSON.

The benchmark suite runs this script once per round, so every measured step runs in a
process whose GC state no other benchmark touched. Order as in a sweep worker: build
the workload's state, apply the setting (``gc.collect()``, thresholds, freeze), run a
few unmeasured warm-up steps, then time ``--steps`` steps with the probe recording.

Time is reported twice: CPU time of this process (``time.process_time_ns``; GC pauses
are CPU work, so they count) and wall time. The suite records CPU time because it is
what other processes on a shared CI machine disturb least; wall time is kept beside it.

Runs on every interpreter gctune supports (3.9+), standard library and gctune only.
"""

from __future__ import annotations

import argparse
import json

from gctune.measure.catalog import load_workload
from gctune.measure.probe import Probe, peak_rss_bytes
from gctune.measure.settings import apply_setting, parse_setting


def main() -> None:
    """Parse the options, measure, print one JSON object on stdout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", required=True, help="built-in name, module or .py file")
    parser.add_argument("--setting", default="default", help="GC setting, e.g. 70000,20,100")
    parser.add_argument("--size", type=int, default=None, help="workload size")
    parser.add_argument("--steps", type=int, required=True, help="measured steps")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured steps first")
    args = parser.parse_args()

    workload = load_workload(args.workload)
    size = workload.size_for(args.size)
    state = workload.setup(size)
    applied = apply_setting(parse_setting(args.setting))
    workload.run_steps(state, args.warmup)

    probe = Probe()
    probe.install()
    probe.start()
    workload.run_steps(state, args.steps)
    probe.stop()
    probe.close()

    snap = probe.snapshot()
    print(
        json.dumps(
            {
                "workload": workload.id,
                "setting": parse_setting(args.setting).id,
                "size": size,
                "steps": args.steps,
                "cpu_ns": probe.cpu_ns,
                "wall_ns": probe.wall_ns,
                "pauses": snap["pauses"],
                "collected": snap["collected"],
                "thresholds": applied["thresholds"],
                "peak_rss_bytes": peak_rss_bytes(),
                # 3.15+: the interpreter's own duration of each collection, beside the probe's
                **{k: snap[k] for k in ("reported_pauses", "pause_excess_ppm") if k in snap},
            }
        )
    )


if __name__ == "__main__":
    main()
