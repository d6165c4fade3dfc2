"""A/A of identical settings: two settings that are the same collector configuration
(``default`` and ``700,10,10`` on CPython 3.11-3.13), swept as two settings of one
workload, compared as every summary table compares a setting with default.

For each sweep directory and workload it prints the ratio of SETTING to ``default`` as
gctune takes it (:func:`gctune.analysis.time_basis.time_change`: full-speed chunks where
enough rounds have them, else every chunk) and over every chunk's seconds, with 95 %
intervals, then per workload how many of the sweeps found a significant difference.

    python benchmarks/aa_settings.py DIR... [--setting t700-10-10]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gctune.analysis.paired import paired_change, run_time  # noqa: E402
from gctune.analysis.time_basis import time_change  # noqa: E402
from gctune.store.results import load_sweep  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweeps", nargs="+", type=Path)
    parser.add_argument("--setting", default="t700-10-10", help="the setting identical to default")
    args = parser.parse_args()
    tally: dict[str, list[int]] = {}
    for sweep in args.sweeps:
        _, points = load_sweep(sweep)
        by = {(p.workload, p.setting): p for p in points if p.ok}
        for workload in sorted({w for w, _ in by}):
            base, same = by.get((workload, "default")), by.get((workload, args.setting))
            if base is None or same is None:
                print(f"{sweep.name} {workload}: a point failed or is missing")
                continue
            now, every = time_change(base, same), paired_change(base, same, run_time)
            assert now is not None and every is not None
            row = tally.setdefault(workload, [0, 0, 0, 0])
            row[0] += 1
            row[1] += now.significant
            row[2] += every.significant
            row[3] += now.full_speed
            print(
                f"{sweep.name:8} {workload:12} now {now.ratio:.3f} [{now.low:.3f}, "
                f"{now.high:.3f}]{'*' if now.significant else ' '} ({now.basis_text()})  "
                f"every chunk {every.ratio:.3f} [{every.low:.3f}, {every.high:.3f}]"
                f"{'*' if every.significant else ''}"
            )
    print("\n| workload | sweeps | significant: gctune's ratio now (on full-speed chunks) "
          "| every chunk's seconds |")  # fmt: skip
    print("|---|---|---|---|")
    for workload, (n, sig_now, sig_every, fast) in tally.items():
        fast_text = f"{fast} on full-speed chunks"
        print(f"| {workload} | {n} | {sig_now} of {n} ({fast_text}) | {sig_every} of {n} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
