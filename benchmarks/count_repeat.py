"""Count points measured twice: are the counts exact, and what does a point cost?

For each (workload, setting) given, measures the count point (gctune.sweep.counts) twice, one
after the other, optionally with a CPU load running beside it (``--load N`` busy
processes), and prints per step instructions, estimated cycles, GC share and collections
of both, their difference, and the wall time and CPU time (valgrind's and the span's
processes: children's user + system) of each measurement. A point of the old two-span
method cost a span of ``F`` and a span of ``2F`` full collections: run with ``--fulls 1``
and ``--fulls 2`` and add their CPU times for it. Backs the docs' claims
that counts repeat exactly on one interpreter build, loaded or not, and what a count
point costs.

    .venv/bin/python benchmarks/count_repeat.py acyclic_churn:default short_cycles:disabled
    .venv/bin/python benchmarks/count_repeat.py longlived_heap:default --load 1
    .venv/bin/python benchmarks/count_repeat.py short_cycles:default --instrument-all
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import time
from typing import Any

from gctune.sweep.counts import measure_point


def _busy(stop: Any) -> None:
    x = 0
    while not stop.is_set():
        x = (x * 31 + 7) % 1_000_003


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("points", nargs="+", help="WORKLOAD:SETTING (setting as an id)")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--size", type=int, default=None)
    parser.add_argument("--fulls", type=int, default=1)
    parser.add_argument("--max-steps", type=int, default=2000)
    parser.add_argument("--load", type=int, default=0, help="busy processes beside it")
    parser.add_argument(
        "--instrument-all", action="store_true",
        help="callgrind instrumented from start-up (count point format 2's way), the same "
        "span: what counting from the last settling cycle saves and changes",
    )  # fmt: skip
    args = parser.parse_args()
    stop = multiprocessing.Event()
    load = [multiprocessing.Process(target=_busy, args=(stop,)) for _ in range(args.load)]
    for proc in load:
        proc.start()
    try:
        for text in args.points:
            workload, _, setting = text.rpartition(":")
            runs: list[dict[str, Any]] = []
            for _ in range(2):
                began = time.perf_counter()
                cpu0 = _children_cpu()
                point = measure_point(
                    args.python,
                    workload,
                    setting,
                    fulls=args.fulls,
                    max_steps=args.max_steps,
                    size=args.size,
                    instrument_all=args.instrument_all,
                )
                doc = point.as_dict()
                doc.pop("spans")
                doc["wall_s"] = round(time.perf_counter() - began, 1)
                doc["cpu_s"] = round(_children_cpu() - cpu0, 1)
                runs.append(doc)
            same = all(
                runs[0][k] == runs[1][k]
                for k in ("instructions_per_step", "cycles_per_step", "gc_instructions_per_step")
            )
            print(json.dumps({"point": text, "load": args.load, "identical": same,
                              "instrument_all": args.instrument_all, "runs": runs}))  # fmt: skip
            sys.stdout.flush()
    finally:
        stop.set()
        for proc in load:
            proc.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
