"""The cross-version table of docs/interpreters.md, from one sweep of several interpreters.

    gctune sweep --python python3.11 --python python3.13 --python .interpreters/bin/python3.14 \\
        --python .interpreters/bin/python3.15 -s freeze -s 7000 -s 20000,50,100+freeze \\
        --out results/versions
    python benchmarks/version_table.py results/versions

Every interpreter measured every workload in the same rounds. Prints, per workload and
interpreter: default's GC share, longest pause and steady state, and the setting
``gctune recommend`` picks with its round-paired time ratio to that interpreter's default.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gctune.analysis.fmt import fmt_interval, fmt_ns, fmt_pct, fmt_ratio
from gctune.analysis.frame import load
from gctune.analysis.recommend import recommend


def main() -> None:
    """Print the table for the sweep directory given as the first argument."""
    data = load(Path(sys.argv[1]))
    print("| workload | Python | default GC share | longest pause | state | recommended |")
    print("|---|---|---|---|---|---|")
    for workload in sorted(data.workloads):
        name, _, tag = workload.partition("[")
        stats = {s.setting: s for s in data.stats[workload]}
        d = stats["default"]
        rec = recommend(data.stats[workload], data.points_of(workload))
        chosen = rec.setting
        if rec.change is not None:
            chosen += (
                f" {fmt_ratio(rec.change.ratio)} {fmt_interval(rec.change.low, rec.change.high)}"
            )
        version = tag.rstrip("]")
        print(
            f"| {name} | {version} | {fmt_pct(d.gc_share)} | "
            f"{fmt_ns(d.pause_max_ns if d.collections else None)} | {d.steady} | {chosen} |"
        )


if __name__ == "__main__":
    main()
