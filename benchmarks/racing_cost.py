"""Does racing reach the recommendation a full race reaches, and at what cost?

Sweeps the ``full`` grid on two built-in workloads twice — with racing and with
``--no-racing`` (every setting measured in every round) — and prints, per sweep, the
worker-process time (the seconds its span workers ran, summed from the point files) and
each workload's recommendation.

    python benchmarks/racing_cost.py [--workloads acyclic_churn longlived_heap]
                                     [--rounds 6] [--max-point-time 0.8]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def sweep(out: Path, workloads: list[str], rounds: int, budget: float, racing: bool) -> None:
    """One full-grid sweep into ``out``."""
    cmd = [sys.executable, "-m", "gctune.cli.main", "sweep", *workloads, "--grid", "full"]
    cmd += ["--rounds", str(rounds), "--max-point-time", str(budget), "--out", str(out)]
    if not racing:
        cmd.append("--no-racing")
    subprocess.run(cmd, check=True, capture_output=True, cwd=REPO)


def summary(out: Path) -> tuple[float, int, dict[str, str]]:
    """Worker seconds, spans run, and the recommendation of each workload."""
    from gctune.analysis.frame import load
    from gctune.analysis.recommend import recommend

    data = load(out)
    seconds = sum(p.duration_s or 0.0 for p in data.points)
    spans = sum(len(p.runs) for p in data.points)
    chosen = {w: recommend(data.stats[w], data.points_of(w)).setting for w in data.workloads}
    return seconds, spans, chosen


def main() -> None:
    """Run both sweeps and print the comparison as a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", nargs="+", default=["acyclic_churn", "longlived_heap"])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--max-point-time", type=float, default=0.8)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="gctune-racing-") as tmp:
        for racing in (False, True):
            out = Path(tmp) / ("racing" if racing else "full")
            sweep(out, args.workloads, args.rounds, args.max_point_time, racing)
            rows.append(("racing" if racing else "no racing", *summary(out)))
    base_seconds = rows[0][1]
    print("| sweep | worker-process time | spans | recommendations |")
    print("|---|---|---|---|")
    for name, seconds, spans, chosen in rows:
        picks = ", ".join(f"{w}: {s}" for w, s in chosen.items())
        share = f" ({seconds / base_seconds:.0%})" if name == "racing" else ""
        print(f"| {name} | {seconds:.0f} s{share} | {spans} | {picks} |")


if __name__ == "__main__":
    main()
