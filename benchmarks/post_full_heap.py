"""The live heap right after each full collection, over one long native run.

Runs ``--steps`` steps of a workload under one GC setting in this fresh process and
prints, for every full collection, the step it happened in and ``sys.getallocatedblocks()``
at its end (a ``gc.callbacks`` stop callback): the heap with every collectable cycle
freed. A bounded setting shows no trend; how far the values move says how much the step's
phase at the collection moves them (docs/measurement.md, "A rise over two full
collections").

    .venv/bin/python benchmarks/post_full_heap.py short_cycles 7000,10,10 --steps 3000
"""

from __future__ import annotations

import argparse
import gc
import sys
from typing import Any

from gctune.measure.catalog import load_workload
from gctune.measure.settings import apply_setting, parse_setting


def main() -> None:
    """Run the steps and print one line per full collection, then the range."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", help="built-in name, module or .py file")
    parser.add_argument("setting", help="GC setting, e.g. 7000,10,10")
    parser.add_argument("--steps", type=int, default=3000, help="steps to run")
    args = parser.parse_args()
    workload = load_workload(args.workload)
    state = workload.setup(workload.size_for(None))
    workload.run_steps(state, 3)
    gc.collect()
    apply_setting(parse_setting(args.setting))
    step = [0]
    after_full: list[tuple[int, int]] = []

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info["generation"] == 2:
            after_full.append((step[0], sys.getallocatedblocks()))

    gc.callbacks.append(callback)
    for _ in range(args.steps):
        workload.run_steps(state, 1)
        step[0] += 1
    gc.callbacks.remove(callback)
    for at, blocks in after_full:
        print(f"step {at:>7,}  blocks {blocks:>10,}")
    if after_full:
        values = [b for _, b in after_full]
        print(f"{len(values)} full collections; blocks {min(values):,}-{max(values):,}")


if __name__ == "__main__":
    main()
