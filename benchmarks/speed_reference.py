"""Does dividing by the speed reference take the machine's speed out, and only that?

Runs one workload under two settings in ``--rounds`` interleaved rounds of fresh worker
spans (``python -m gctune.measure.span``, as a sweep does, shuffled within each round) and
prints, side by side:

* the spread of each setting's per-process time per step, in seconds and in reference
  loops (:func:`gctune.measure.reference.normalized_mean`) — how much of a process's time was
  the machine's speed at that moment;
* the time ratio of the two settings, round-paired, in seconds and in reference loops,
  each with its 95% interval — the two must agree: the reference changes the noise, not
  the answer;
* the ratio of the two settings' own reference times (median per span), round-paired —
  the direct test of bias: the reference must run at the same speed whatever the setting
  did to the heap, so this must be 1 within its interval; and the same, with both time
  ratios, over only the rounds where both spans ran at the machine's fast speed, where a
  speed change cannot hide a bias.

    python benchmarks/speed_reference.py [--workload short_cycles]
        [--settings default disabled] [--rounds 12] [--budget 0.6]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gctune.analysis.intervals import t_interval  # noqa: E402
from gctune.measure.reference import normalized_mean  # noqa: E402
from gctune.sweep.horizon import CHUNK_S  # noqa: E402


def span(workload: str, setting: str, budget: float, out: Path) -> tuple[float, float, float]:
    """(seconds per step, reference loops per step, median reference seconds) of a span."""
    cmd = [sys.executable, "-m", "gctune.measure.span", "--workload", workload,
           "--setting", setting,
           "--out", str(out), "--budget", str(budget), "--settle", "1", "--warmup", "3",
           "--chunk", str(chunk_for(workload))]  # fmt: skip
    subprocess.run(cmd, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    import pyperf

    run = pyperf.Benchmark.load(str(out)).get_runs()[0]
    probe = json.loads(run.get_metadata()["gctune_probe"])
    values, reference = list(run.values), probe["reference"]["seconds"]
    loops = normalized_mean(values, reference)
    assert loops is not None
    return statistics.fmean(values), loops, statistics.median(reference)


_CHUNKS: dict[str, int] = {}


def chunk_for(workload: str) -> int:
    """Steps per chunk of about ``CHUNK_S``, from one pilot (as the sweep plans it)."""
    if workload not in _CHUNKS:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "pilot.json"
            cmd = [sys.executable, "-m", "gctune.measure.span", "--workload", workload, "--pilot",
                   "--out", str(out), "--budget", "0.5"]  # fmt: skip
            subprocess.run(cmd, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
            step_s = json.loads(out.read_text())["step_s"]
        _CHUNKS[workload] = max(1, round(CHUNK_S / step_s))
    return _CHUNKS[workload]


def ratio(pairs: list[tuple[float, float]]) -> str:
    """Geometric mean of b / a over rounds with its 95% t-interval."""
    logs = [math.log(b / a) for a, b in pairs]
    low, high = t_interval(logs)
    return f"{math.exp(statistics.fmean(logs)):.3f} [{math.exp(low):.3f}, {math.exp(high):.3f}]"


def spread(values: list[float]) -> str:
    return f"{statistics.stdev(values) / statistics.fmean(values):.1%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="short_cycles")
    parser.add_argument("--settings", nargs=2, default=["default", "disabled"])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--budget", type=float, default=0.6)
    args = parser.parse_args()
    a, b = args.settings
    rng = random.Random()
    got: dict[str, list[tuple[float, float, float]]] = {a: [], b: []}
    with tempfile.TemporaryDirectory(prefix="gctune-ref-") as tmp:
        for r in range(args.rounds):
            for setting in rng.sample([a, b], 2):
                out = Path(tmp) / f"{r}-{setting.replace(',', '_')}.json"
                got[setting].append(span(args.workload, setting, args.budget, out))
    print(f"`{args.workload}`, `{b}` against `{a}`, {args.rounds} interleaved rounds of "
          f"{args.budget} s spans:\n")  # fmt: skip
    print("| | in seconds | in reference loops |")
    print("|---|---|---|")
    for setting in (a, b):
        secs = [g[0] for g in got[setting]]
        loops = [g[1] for g in got[setting]]
        print(f"| spread of `{setting}` per process | {spread(secs)} | {spread(loops)} |")
    secs_pairs = [(x[0], y[0]) for x, y in zip(got[a], got[b])]
    loop_pairs = [(x[1], y[1]) for x, y in zip(got[a], got[b])]
    print(f"| time ratio `{b}` / `{a}` | {ratio(secs_pairs)} | {ratio(loop_pairs)} |")
    refs = [g[2] * 1e6 for g in got[a] + got[b]]
    print(f"\nreference pass, median per span: {min(refs):.0f}–{max(refs):.0f} µs")
    ref_pairs = [(x[2], y[2]) for x, y in zip(got[a], got[b])]
    print(f"reference time `{b}` / `{a}` (bias test, must hold 1): {ratio(ref_pairs)}")
    # the same test, and the two time ratios, in the rounds where both spans ran at the
    # machine's fast speed (reference within 15% of the fastest): no speed change to hide
    fast = min(refs) * 1.15e-6
    calm = [i for i, (x, y) in enumerate(ref_pairs) if x <= fast and y <= fast]
    if len(calm) >= 3:
        print(
            f"in the {len(calm)} rounds at one speed: reference time "
            f"{ratio([ref_pairs[i] for i in calm])}"
            f"; time ratio in seconds {ratio([secs_pairs[i] for i in calm])}, "
            f"in reference loops {ratio([loop_pairs[i] for i in calm])}"
        )


if __name__ == "__main__":
    main()
