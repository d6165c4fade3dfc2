"""How often a 5% time gate fails on identical code, and how often it catches 10% more work.

Two ways of measuring a base and a change on this machine, five tries each:

* **sequential**: two sweeps one after the other (as CI did before rounds), compared with
  ``gctune compare BASE NEW --fail-on time:5%``;
* **interleaved**: one sweep of both, ``--interleave``, compared within its rounds with
  ``gctune gate DIR base.W new.W --fail-on time:5%``.

For each, A/A (two identical copies of ``acyclic_churn``) counts false failures, and A/B
(the new copy does 10% more work per step: ``DEFAULT_SIZE`` 2,200 instead of 2,000)
counts regressions caught. Prints a Markdown table (docs/ci.md).

    python benchmarks/gate_noise.py [--tries 5] [--mode quick] [--rounds N]
                                    [--max-point-time S] [--only interleaved]

``--rounds N`` measures every sweep in exactly N rounds (``--rounds N --no-racing``).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GCTUNE = [sys.executable, "-m", "gctune.cli.main"]


def _copies(root: Path, slower: bool) -> tuple[Path, Path]:
    source = (REPO / "workloads" / "acyclic_churn.py").read_text(encoding="utf-8")
    (root / "base").mkdir()
    (root / "new").mkdir()
    base, new = root / "base" / "bench.py", root / "new" / "bench.py"
    base.write_text(source, encoding="utf-8")
    if slower:
        source = re.sub(r"DEFAULT_SIZE: int = 2_000", "DEFAULT_SIZE: int = 2_200", source)
    new.write_text(source, encoding="utf-8")
    return base, new


def _run(*args: str) -> int:
    return subprocess.run([*GCTUNE, *args], capture_output=True, text=True, cwd=REPO).returncode


def interleaved(root: Path, how: list[str], slower: bool) -> bool:
    """One interleaved sweep; True when the time gate failed."""
    base, new = _copies(root, slower)
    out = root / "sweep"
    assert _run("sweep", str(base), str(new), "-s", "default", "--interleave", *how,
                "--out", str(out)) == 0  # fmt: skip
    return _run("gate", str(out), "base.bench", "new.bench", "--fail-on", "time:5%") == 1


def sequential(root: Path, how: list[str], slower: bool) -> bool:
    """Two sweeps back to back; True when the time gate failed."""
    base, new = _copies(root, slower)
    outs = []
    for side, path in (("a", base), ("b", new)):
        # the same workload id on both sides, so compare matches the points
        target = root / side / "bench.py"
        target.parent.mkdir(exist_ok=True)
        target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        out = root / f"sweep-{side}"
        assert _run("sweep", str(target), "-s", "default", *how, "--out", str(out)) == 0
        outs.append(out)
    return _run("compare", str(outs[0]), str(outs[1]), "--fail-on", "time:5%") == 1


def main() -> None:
    """Run the tries and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=5)
    parser.add_argument("--mode", default="quick", help="sweep mode (quick, fast, normal)")
    parser.add_argument("--rounds", type=int, default=None, help="exactly this many rounds")
    parser.add_argument("--max-point-time", type=float, default=None, help="span budget, s")
    parser.add_argument(
        "--only", choices=("sequential", "interleaved"), default=None, help="one method"
    )
    args = parser.parse_args()
    how = [f"--{args.mode}"]
    if args.rounds:
        how += ["--rounds", str(args.rounds), "--no-racing"]
    if args.max_point_time:
        how += ["--max-point-time", str(args.max_point_time)]
    rows: list[tuple[str, int, int]] = []
    methods = (("sequential", sequential), ("interleaved", interleaved))
    for name, method in [m for m in methods if args.only in (None, m[0])]:
        counts = []
        for slower in (False, True):
            failed = 0
            for _ in range(args.tries):
                with tempfile.TemporaryDirectory(prefix="gctune-gate-") as tmp:
                    failed += method(Path(tmp), how, slower)
            counts.append(failed)
            print(f"{name} {'A/B +10%' if slower else 'A/A'}: {failed} of {args.tries}",
                  file=sys.stderr, flush=True)  # fmt: skip
        rows.append((name, counts[0], counts[1]))
    print("| time:5% gate | A/A: false failures | +10% work: caught |")
    print("|---|---|---|")
    for name, false_failures, caught in rows:
        print(f"| {name} | {false_failures} of {args.tries} | {caught} of {args.tries} |")


if __name__ == "__main__":
    main()
