"""Does ``collections:0%`` catch doubled full collections, and pass identical code?

One interleaved sweep per try of three copies of ``acyclic_churn``: ``base``, ``same``
(identical) and ``double`` (``DEFAULT_SIZE`` 4,000 instead of 2,000: twice the work per
step, so twice the collections of every generation per step), swept as the example
workflow sweeps (``--interleave -s default --quick --rounds N --no-racing``). Each try
gates ``double`` and ``same`` against ``base`` with ``gctune gate ... --fail-on
collections:0%`` and reports, for the full generation, the gate's verdict, ratio and
bounds, and what the rules of 70c6f45 would have said on the same spans: its gate's (new
rate > base rate + one collection per span on each side, the shortest span of each
side) and its compare's (one collection per timed value plus one on each side, plus the
spread of each side's runs).

    python benchmarks/count_gate.py [--tries 3] [--rounds 20]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from gctune.store.results import Point, load_sweep

REPO = Path(__file__).resolve().parents[1]
GCTUNE = [sys.executable, "-m", "gctune.cli.main"]


def _copies(root: Path) -> list[str]:
    source = (REPO / "workloads" / "acyclic_churn.py").read_text(encoding="utf-8")
    files = []
    for name, size in (("base", "2_000"), ("same", "2_000"), ("double", "4_000")):
        (root / name).mkdir()
        text = re.sub(r"DEFAULT_SIZE: int = 2_000", f"DEFAULT_SIZE: int = {size}", source)
        (root / name / "bench.py").write_text(text, encoding="utf-8")
        files.append(str(root / name / "bench.py"))
    return files


def _old_rule(base: Point, new: Point, gen: int) -> bool:
    """70c6f45's collections gate at 0%: True when it failed."""
    rates = []
    for point in (base, new):
        per = [(r.pauses[gen].count if gen in r.pauses else 0) / (r.steps or 1) for r in point.runs]
        rates.append(sum(per) / len(per))
    allowance = sum(max(1.0 / r.steps for r in p.runs if r.steps) for p in (base, new))
    return rates[1] > rates[0] + allowance


def _old_compare(base: Point, new: Point, gen: int) -> tuple[bool, float]:
    """70c6f45's ``compare`` rule for the same spans at 0%: (failed, allowance per step),
    the allowance one collection per timed value (chunk) plus one, on each side."""
    sides = []
    for point in (base, new):
        counts = [r.pauses[gen].count if gen in r.pauses else 0 for r in point.runs]
        steps = [r.steps or 1 for r in point.runs]
        rates = [c / s for c, s in zip(counts, steps)]
        values = sum(len(r.values) for r in point.runs) / len(point.runs)
        quantum = (values + 1) / (sum(steps) / len(steps))
        sides.append((sum(counts) / sum(steps), max(rates) - min(rates), quantum))
    (b, b_spread, b_q), (n, n_spread, n_q) = sides
    allowance = b_spread + n_spread + b_q + n_q
    return n > b + allowance, allowance


def one_try(root: Path, rounds: int) -> list[str]:
    out = root / "sweep"
    sweep = [*GCTUNE, "sweep", *_copies(root), "--interleave", "-s", "default", "--quick",
             "--rounds", str(rounds), "--no-racing", "--out", str(out)]  # fmt: skip
    done = subprocess.run(sweep, capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    _, points = load_sweep(out)
    by_id = {p.workload: p for p in points if p.setting == "default"}
    lines = []
    for new in ("same", "double"):
        gate = [*GCTUNE, "gate", str(out), "base.bench", f"{new}.bench",
                "--fail-on", "collections:0%", "--json"]  # fmt: skip
        result = subprocess.run(gate, capture_output=True, text=True, cwd=REPO)
        rows = [r for r in json.loads(result.stdout)["rows"] if r["setting"] == "default"]
        full = max((r for r in rows if r["metric"].startswith("gen")), key=lambda r: r["metric"])
        gen = int(full["metric"][3])
        old = _old_rule(by_id["base.bench"], by_id[f"{new}.bench"], gen)
        old_compare, allowance = _old_compare(by_id["base.bench"], by_id[f"{new}.bench"], gen)
        verdict = {True: "FAIL", False: "pass"}
        lines.append(
            f"| {new} | gen{gen} | {full['ratio']:.2f}x [{full['low']:.2f}, {full['high']:.2f}] "
            f"| {verdict[full['regression']]} | {verdict[old]} "
            f"| {verdict[old_compare]} (±{allowance:.3g}/step) | {full['note']} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    print(
        "| copy | generation | ratio [bounds] | gate now | gate of 70c6f45 "
        "| compare of 70c6f45 | note |"
    )
    print("|---|---|---|---|---|---|---|")
    for _ in range(args.tries):
        with tempfile.TemporaryDirectory(prefix="count-gate-") as tmp:
            for line in one_try(Path(tmp), args.rounds):
                print(line, flush=True)


if __name__ == "__main__":
    main()
