"""GC share, longest pause and time ratios of a ``make(size)`` program, measured without
gctune's spans: the cross-check of docs/program-zoo.md's pyperformance figures.

Each (round, setting) runs in a fresh interpreter that imports the program file, calls
``make()``, applies the setting with the ``gc`` module directly, runs one unmeasured
step, then times ``--steps`` steps while a ``gc.callbacks`` pair times every collection
(``perf_counter_ns``). Settings run interleaved in each round (shuffled with a fixed
seed); the time ratio to default is taken within each round, and the median over rounds
is printed with the rounds' range.

    python benchmarks/async_programs.py benchmarks/programs/async_tree.py \
        --setting 7000,10,10 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys

CHILD = r"""
import gc, importlib.util, json, sys, time
path, setting, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
spec = importlib.util.spec_from_file_location("program", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
step = module.make()
gc.collect()
if setting == "disabled":
    gc.disable()
elif setting != "default":
    gc.set_threshold(*(int(t) for t in setting.split(",")))
step()
pauses = []
began = [0]
def callback(phase, info):
    if phase == "start":
        began[0] = time.perf_counter_ns()
    else:
        pauses.append(time.perf_counter_ns() - began[0])
gc.callbacks.append(callback)
t0 = time.perf_counter_ns()
for _ in range(steps):
    step()
wall = time.perf_counter_ns() - t0
gc.callbacks.remove(callback)
print(json.dumps({"step_s": wall / steps / 1e9, "gc_share": sum(pauses) / wall,
                  "max_pause_s": max(pauses, default=0) / 1e9, "collections": len(pauses)}))
"""


def measure(path: str, setting: str, steps: int) -> dict[str, float]:
    """One fresh process: seconds per step, GC share of wall time, longest pause (s)."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, path, setting, str(steps)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("program", help="a .py file with make(size)")
    parser.add_argument("--setting", action="append", default=[], help="e.g. 7000,10,10")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    settings = ["default", "disabled", *args.setting]
    rows: dict[str, list[dict[str, float]]] = {s: [] for s in settings}
    rng = random.Random(0)
    for _ in range(args.rounds):
        order = list(settings)
        rng.shuffle(order)
        for setting in order:
            rows[setting].append(measure(args.program, setting, args.steps))
    base = [r["step_s"] for r in rows["default"]]
    for setting, runs in rows.items():
        ratios = sorted(r["step_s"] / b for r, b in zip(runs, base))
        print(
            f"{setting:>14}: {statistics.median(r['step_s'] for r in runs):.3f} s/step, "
            f"GC {100 * statistics.median(r['gc_share'] for r in runs):.1f}% of time, "
            f"longest pause {1e3 * max(r['max_pause_s'] for r in runs):.1f} ms, "
            f"vs default {statistics.median(ratios):.2f}x "
            f"(rounds {ratios[0]:.2f}-{ratios[-1]:.2f})"
        )


if __name__ == "__main__":
    main()
