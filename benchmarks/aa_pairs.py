"""How far two identical sweeps agree: A/A pairs of sweep directories.

For each pair of sweep directories (the same command run twice, back to back) this
prints, per workload, both recommendations and every setting's time ratio to default in
both sweeps, then a summary over all pairs: how many ratios agree within ``--tolerance``
(absolute, 0.03 by default), the median and largest difference, and how many
recommendations are the same.

``--seconds`` compares the ratios of the same spans in seconds, as gctune did before the
speed reference (:mod:`gctune.measure.reference`): the same sweeps, with and without it.

Where a pair's two recommendations differ, ``--check`` measures the two choices against
each other in a paired check of their own — one sweep of just those two settings (and
default), ``--check-rounds`` interleaved rounds of spans up to ``--check-span`` seconds —
and prints their round-paired time ratio with its 95% interval: the choices are "within
tolerance" when that ratio lies within 1 ± tolerance.

    python benchmarks/aa_pairs.py A1 A2 [B1 B2 ...] [--check] [--check-rounds 8]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[1]


Ratios = dict[str, tuple[float, float, float]]  # setting: ratio, low, high


def ratios_and_choice(sweep: Path, seconds: bool = False) -> dict[str, tuple[str, Ratios]]:
    """Per workload: the recommended setting and every setting's time ratio to default
    with its 95% interval (``seconds``: the ratios of the same spans in seconds, without
    the speed reference)."""
    from gctune.analysis.frame import load
    from gctune.analysis.paired import paired_change, run_mean
    from gctune.analysis.recommend import recommend

    data = load(sweep)
    out = {}
    for w in data.workloads:
        rec = recommend(data.stats[w], data.points_of(w)).setting
        ratios: Ratios = {
            s.setting: (s.time_ratio, s.time_ratio_low or 0.0, s.time_ratio_high or 0.0)
            for s in data.stats[w]
            if s.time_ratio is not None
        }
        if seconds:
            points = {p.setting: p for p in data.points_of(w) if p.ok}
            changes = {s: paired_change(points["default"], p, run_mean) for s, p in points.items()}
            ratios = {s: (c.ratio, c.low, c.high) for s, c in changes.items() if c is not None}
        out[w] = (rec, ratios)
    return out


def paired_check(workload: str, a: str, b: str, rounds: int, span: float) -> Optional[str]:
    """Sweep ``a`` and ``b`` interleaved; their round-paired ratio b / a as text."""
    from gctune.analysis.paired import paired_change
    from gctune.store.results import load_sweep

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "check"
        cmd = [sys.executable, "-m", "gctune.cli.main", "sweep", workload, "-s", a, "-s", b]
        cmd += ["--rounds", str(rounds), "--no-racing", "--max-point-time", str(span)]
        subprocess.run([*cmd, "--out", str(out)], check=True, capture_output=True, cwd=REPO)
        _, points = load_sweep(out)
    by = {p.setting: p for p in points}
    change = paired_change(by[a], by[b]) if a in by and b in by else None
    if change is None:
        return None
    return f"{change.ratio:.3f} [{change.low:.3f}, {change.high:.3f}]"


def main() -> None:
    """Compare the pairs and print the figures (Markdown)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweeps", nargs="+", type=Path, help="sweep directories, in pairs")
    parser.add_argument("--tolerance", type=float, default=0.03, help="absolute, on ratios")
    parser.add_argument("--check", action="store_true", help="paired check of differing picks")
    parser.add_argument("--check-rounds", type=int, default=8)
    parser.add_argument("--check-span", type=float, default=3.0)
    parser.add_argument(
        "--seconds", action="store_true", help="ratios in seconds, without the speed reference"
    )
    args = parser.parse_args()
    if len(args.sweeps) % 2:
        parser.error("give sweep directories in pairs")
    diffs: list[float] = []
    same = recs = inside_interval = compared = 0
    for first, second in zip(args.sweeps[::2], args.sweeps[1::2]):
        a, b = ratios_and_choice(first, args.seconds), ratios_and_choice(second, args.seconds)
        print(f"\n{first.name} / {second.name}")
        for w in sorted(set(a) & set(b)):
            (rec_a, ra), (rec_b, rb) = a[w], b[w]
            common = sorted(set(ra) & set(rb) - {"default"})
            d = [rb[s][0] - ra[s][0] for s in common]
            for x, y in ((ra, rb), (rb, ra)):  # the other sweep's ratio in this one's interval
                inside_interval += sum(x[s][1] <= y[s][0] <= x[s][2] for s in common)
                compared += len(common)
            diffs += [abs(x) for x in d]
            recs += 1
            same += rec_a == rec_b
            inside = sum(abs(x) <= args.tolerance for x in d)
            line = f"- {w}: {rec_a} / {rec_b}; ratios within ±{args.tolerance:.0%}: "
            line += f"{inside} of {len(d)}, largest difference {max(map(abs, d)):.3f}"
            if rec_a != rec_b and args.check:
                line += f"; paired check {rec_b} / {rec_a}: "
                line += str(paired_check(w, rec_a, rec_b, args.check_rounds, args.check_span))
            print(line)
    inside = sum(x <= args.tolerance for x in diffs)
    print(
        f"\nall pairs: {inside} of {len(diffs)} ratios within ±{args.tolerance:.0%} "
        f"(median difference {statistics.median(diffs):.3f}, largest {max(diffs):.3f}); "
        f"same recommendation {same} of {recs}; the other sweep's ratio inside this sweep's "
        f"95% interval {inside_interval} of {compared}"
    )


if __name__ == "__main__":
    main()
