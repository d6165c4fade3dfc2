"""Two sweeps in counts of the same workloads: do their ratios and best settings agree?

Reads two sweep directories measured with ``gctune sweep --measure counts`` (the same
workloads and settings, e.g. run twice from one install, or from two installs) and
prints, per point measured in both, the ratio to its workload's ``default`` in
instructions and estimated cycles in each sweep, how far apart they are, the raw per-step
values, and per workload the setting lowest in estimated cycles in each. Ends with the
largest ratio difference. The acceptance of the counts tier's exactness: every ratio
within 0.2 % and the same best setting.

    .venv/bin/gctune sweep --measure counts acyclic_churn short_cycles --grid quick --out A
    .venv/bin/gctune sweep --measure counts acyclic_churn short_cycles --grid quick --out B
    .venv/bin/python benchmarks/count_sweeps_agree.py A B
    .venv/bin/python benchmarks/count_sweeps_agree.py OLD_FORMAT NEW_FORMAT --any-format
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from gctune.sweep.count_sweep import read_count_points

KEYS = ("instructions_per_step", "cycles_per_step")


def _raw_points(directory: Path) -> list[dict[str, Any]]:
    """Point files of any count point format (gctune reads only its own)."""
    docs: list[dict[str, Any]] = []
    for path in sorted((directory / "counts").glob("*.json")):
        docs.append(json.loads(path.read_text(encoding="utf-8")))
    return docs


def _points(directory: Path, any_format: bool = False) -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for doc in _raw_points(directory) if any_format else read_count_points(directory):
        point = doc.get("point")
        if point:
            out[(str(doc["workload"]), str(doc["setting"]))] = point
    return out


def _best(points: dict[tuple[str, str], dict[str, Any]], workload: str) -> str:
    mine = {s: p["cycles_per_step"] for (w, s), p in points.items() if w == workload}
    return min(mine, key=lambda s: mine[s]) if mine else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument(
        "--any-format", action="store_true",
        help="read point files of any count point format (e.g. format 2 against 3: how "
        "far a change of method moves the ratios, not whether one method repeats)",
    )  # fmt: skip
    args = parser.parse_args()
    a, b = _points(args.first, args.any_format), _points(args.second, args.any_format)
    worst = 0.0
    for workload, setting in sorted(set(a) & set(b)):
        base_a, base_b = a.get((workload, "default")), b.get((workload, "default"))
        if base_a is None or base_b is None:
            continue
        row: dict[str, Any] = {"workload": workload, "setting": setting}
        for key in KEYS:
            ra = a[(workload, setting)][key] / base_a[key]
            rb = b[(workload, setting)][key] / base_b[key]
            apart = abs(ra / rb - 1)
            worst = max(worst, apart)
            row[key] = {
                "ratios": [round(ra, 6), round(rb, 6)],
                "apart_pct": round(apart * 100, 4),
                "raw": [a[(workload, setting)][key], b[(workload, setting)][key]],
            }
        print(json.dumps(row))
    workloads = sorted({w for w, _ in set(a) & set(b)})
    best = {w: [_best(a, w), _best(b, w)] for w in workloads}
    print(json.dumps({
        "points_in_both": len(set(a) & set(b)),
        "largest_ratio_apart_pct": round(worst * 100, 4),
        "best_in_cycles": best,
        "same_best": all(x == y for x, y in best.values()),
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
