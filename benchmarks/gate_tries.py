"""Gate tries with the example workflow's settings: A/A, +5% and +10% work, one sweep each.

Each try is one interleaved sweep (``benchmarks/time_truth.py``) of four copies of
``acyclic_churn``: ``base`` and ``copy`` (identical, DEFAULT_SIZE 2,000), ``p5`` (2,100
records a step) and ``p10`` (2,200), with the workflow's ``-s default -s
70000,20,100+freeze --quick --rounds 20 --no-racing`` (``disabled`` comes with it). Then
``gctune gate SWEEP base X --fail-on METRIC:5%`` for X in copy, p5, p10 — the exit status
the workflow would act on — for ``time`` and ``cpu`` (the workflow gates both: a try
fails it when either fails); and, from the same spans, what the
time gate said before (ratios in speed-reference loops, a failure only when the whole
interval lies above 1.05).

    flock /work/timing.lock python benchmarks/gate_tries.py --run 1 --out /tmp/tries
    python benchmarks/gate_tries.py /tmp/tries/gate*     # the table over tries made

Prints one line per try and a Markdown table of failures out of tries.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.time_truth import _ratios  # noqa: E402
from gctune.analysis.paired import ratio_change  # noqa: E402
from gctune.store.results import load_sweep  # noqa: E402

WORKFLOW = ["-s", "default", "-s", "70000,20,100+freeze", "--quick", "--rounds", "20"]
WORKFLOW += ["--no-racing"]
VARIANTS = ["base=acyclic:2000", "copy=acyclic:2000", "p5=acyclic:2100", "p10=acyclic:2200"]
NEW = ("copy", "p5", "p10")


def run(out: Path, rounds: int) -> Path:
    """One try: the sweep of the four copies."""
    n = 1
    while (out / f"gate{n}").exists():
        n += 1
    target = out / f"gate{n}"
    how = [*WORKFLOW]
    how[how.index("--rounds") + 1] = str(rounds)
    cmd = [sys.executable, str(REPO / "benchmarks" / "time_truth.py"), str(target), *VARIANTS]
    subprocess.run([*cmd, "--", *how], check=True, cwd=REPO, capture_output=True)
    return target


def _gctune_gate(sweep: Path, new: str, metric: str) -> bool:
    cmd = [sys.executable, "-m", "gctune.cli.main", "gate", str(sweep), "base", new]
    done = subprocess.run([*cmd, "--fail-on", f"{metric}:5%"], cwd=REPO, capture_output=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"gate {sweep} {new}: exit {done.returncode}: {done.stderr!r}")
    return done.returncode == 1


def _old_gate(sweep: Path, new: str) -> bool:
    _, points = load_sweep(sweep)
    by = {(p.workload, p.setting): p for p in points if p.ok}
    for (w, s), base in by.items():
        if w == "base" and (new, s) in by:
            change = ratio_change(_ratios(base, by[(new, s)], False))
            if change is not None and change.low > 1.05:
                return True
    return False


def verdicts(try_dir: Path) -> dict[str, tuple[bool, bool, bool]]:
    """Per new copy: failed (old time rule, time now, cpu now)."""
    sweep = try_dir / "sweep"
    return {
        new: (
            _old_gate(sweep, new),
            _gctune_gate(sweep, new, "time"),
            _gctune_gate(sweep, new, "cpu"),
        )
        for new in NEW
    }


def main() -> None:
    """Run tries and/or print the table of the tries given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tries", nargs="*", type=Path, help="try directories already made")
    parser.add_argument("--run", type=int, default=0, help="make this many tries first")
    parser.add_argument("--out", type=Path, default=Path("gate-tries"), help="where to")
    parser.add_argument("--rounds", type=int, default=20, help="rounds per sweep")
    args = parser.parse_args()
    tries = list(args.tries)
    for _ in range(args.run):
        tries.append(run(args.out, args.rounds))
    counts = {new: [0, 0, 0, 0] for new in NEW}
    for try_dir in tries:
        got = verdicts(try_dir)
        cells = []
        for new in NEW:
            for k, failed in enumerate(got[new]):
                counts[new][k] += failed
            counts[new][3] += got[new][1] or got[new][2]
            cells.append(f"{new}: " + "/".join("FAIL" if f else "ok" for f in got[new]))
        print(f"{try_dir}: {'; '.join(cells)} (time before / time now / cpu now)", flush=True)
    total = len(tries)
    print(f"\n| {total} tries, gate 5% | time, before (reference loops, interval above 1.05) "
          "| time now (seconds) | cpu now | time or cpu (the example workflow) |")  # fmt: skip
    print("|---|---|---|---|---|")
    names = {"copy": "A/A (identical copy): failed", "p5": "+5% work: caught",
             "p10": "+10% work: caught"}  # fmt: skip
    for new in NEW:
        old, now, cpu, either = counts[new]
        print(
            f"| {names[new]} | {old} of {total} | {now} of {total} | {cpu} of {total} "
            f"| {either} of {total} |"
        )


if __name__ == "__main__":
    main()
