"""A count point under several start-up layouts: how far do exact counts move, and where?

A count point's instructions per step are exact for one install and environment: the same
command gives the same counts every run. What a process allocates before its steps (the
install's paths in ``sys.path`` and in every module's file name, the environment) decides
where the steps' objects land in CPython's allocator, and the allocator's own work per
step (obmalloc's free lists and arena bookkeeping, glibc's malloc for larger blocks)
depends on that layout. This script measures one ``WORKLOAD:SETTING`` point once per
interpreter given (e.g. the same build installed in two checkouts) and per environment
pad (a variable of N characters), prints per step instructions and estimated cycles, their
spread, and — for the first two layouts — the functions whose instructions per step
differ most (callgrind's self cost, from ``callgrind_annotate``).

    .venv/bin/python benchmarks/count_layout.py acyclic_churn:default \\
        --python /work/main/.venv/bin/python --python /work/other/.venv/bin/python --pad 0 --pad 40
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Optional

from gctune.measure.settings import parse_setting
from gctune.sweep.counts import PROFILE, prepare, run_counted_span

PAD = "GCTUNE_LAYOUT_PAD"
ANNOTATED = re.compile(r"\s*([\d,]+) \(\s*[\d.]+%\).*\s(\S+:\S+?)(?: \[.*\])?$")


def _self_costs(profile: Path) -> dict[str, int]:
    """Instructions per function (self cost) from ``callgrind_annotate``."""
    text = subprocess.run(
        ["callgrind_annotate", "--threshold=100", str(profile)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    costs: dict[str, int] = {}
    for line in text.splitlines():
        found = ANNOTATED.match(line)
        if found and "PROGRAM TOTALS" not in line:
            name = found.group(2).rsplit(":", 1)[-1]
            costs[name] = costs.get(name, 0) + int(found.group(1).replace(",", ""))
    return costs


def _measure(
    workload: str, setting: str, python: str, pad: int, size: Optional[int], root: Path
) -> dict[str, Any]:
    """The count point as measure_point takes it (one span, one full cycle), keeping its
    profile of the measured steps."""
    workdir = Path(tempfile.mkdtemp(prefix="layout-", dir=root))
    env = {**os.environ, PAD: "x" * pad}
    prepare(python, workload, setting, workdir=workdir, size=size, env=env)
    settle = 0 if parse_setting(setting).mode == "disabled" else 1
    span = run_counted_span(
        python,
        workload,
        setting,
        workdir=workdir,
        fulls=1,
        max_steps=2000,
        size=size,
        settle=settle,
        settle_steps=2000,
        env=env,
    )
    return {
        "python": python,
        "pad": pad,
        "instructions_per_step": span.events["Ir"] / span.steps,
        "window_steps": span.steps,
        "profile": str(workdir / f"{PROFILE}.2"),
    }


def _per_step_functions(row: dict[str, Any]) -> dict[str, float]:
    return {k: v / row["window_steps"] for k, v in _self_costs(Path(row["profile"])).items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("point", help="WORKLOAD:SETTING (setting as an id)")
    parser.add_argument("--python", action="append", default=None, help="one per layout")
    parser.add_argument("--pad", type=int, action="append", default=None, help="env pad chars")
    parser.add_argument("--size", type=int, default=None)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--functions", type=int, default=8, help="differing functions shown")
    args = parser.parse_args()
    workload, _, setting = args.point.rpartition(":")
    layouts = [(p, n) for p in (args.python or [sys.executable]) for n in (args.pad or [0])]
    with tempfile.TemporaryDirectory(prefix="gctune-count-layout-") as tmp:
        with ThreadPoolExecutor(args.jobs) as pool:
            rows = list(
                pool.map(
                    lambda lay: _measure(workload, setting, lay[0], lay[1], args.size, Path(tmp)),
                    layouts,
                )
            )
        for row in rows:
            shown = {k: v for k, v in row.items() if k != "profile"}
            print(json.dumps(shown), flush=True)
        values = [r["instructions_per_step"] for r in rows]
        summary: dict[str, Any] = {
            "point": args.point,
            "layouts": len(rows),
            "instructions_spread": (max(values) - min(values)) / min(values),
        }
        if len(rows) >= 2:
            first, second = (_per_step_functions(r) for r in rows[:2])
            moved = sorted(
                ((second.get(k, 0.0) - first.get(k, 0.0), k) for k in {*first, *second}),
                key=lambda d: -abs(d[0]),
            )
            summary["functions_moved_per_step"] = {k: round(d) for d, k in moved[: args.functions]}
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
