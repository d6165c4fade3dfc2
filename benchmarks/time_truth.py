"""Known time differences against gctune's round-paired ratios, in seconds and in
reference loops, from the same spans.

Writes workload files of known kinds and sizes (``LABEL=KIND:SIZE``), sweeps them
interleaved in one sweep (``--interleave``, so every file's spans share the rounds), and
prints, for every file after the first of its kind, its round-paired time ratio to that
first file under each setting, and for every file each setting's ratio to ``default``:
in seconds (what ``gctune`` reports now) and divided by the speed reference each span
timed (``gctune.measure.reference.normalized_mean``, what it reported before), with the 95%
intervals and the round-to-round spread (standard deviation of the per-round log ratios:
the noise each way adds). ``gate`` columns: would a ``time:5%`` gate fail, under the
old rule (interval above 1.05, reference loops) and the current one
(:func:`gctune.analysis.gate.time_regression`, seconds).

Kinds: ``acyclic`` (the built-in ``acyclic_churn`` at SIZE records), ``cpu`` (integer
arithmetic, SIZE iterations, no allocation), ``mem`` (SIZE random reads of a 32 MB
list: cache misses), ``sleep`` (``time.sleep(SIZE µs)`` then 1,000 lists), ``mixed``
(``time.sleep(SIZE µs)`` then 1,000 acyclic records).

    python benchmarks/time_truth.py OUT base=acyclic:2000 copy=acyclic:2000 \\
        p10=acyclic:2200 -- -s default -s 70000,20,100+freeze --quick --rounds 20 --no-racing
    python benchmarks/time_truth.py OUT --table     # the table of a sweep already made
    python benchmarks/time_truth.py OUT1 --pool OUT2 OUT3 --truth-file T/truth.json
    python benchmarks/time_truth.py OUT1 --aa OUT2 OUT3   # A/A pairs: how many significant
    python benchmarks/time_truth.py OUT --truth 6 base=acyclic:2000 p10=acyclic:2200 \
        -- -s default -s disabled       # the known differences, measured another way

``--truth R`` measures the known differences without gctune's spans: R rounds, each
running every (file, setting) once in a fresh process (``benchmarks/one_process.py``)
for ``--truth-seconds`` seconds of steps, in a shuffled order; it prints each file's CPU
time (wall time for ``sleep`` and ``mixed``) per step relative to the first file of its
kind, and each setting's relative to default, as the geometric mean over rounds with a
95% interval. No speed reference runs in these processes.

Run under ``flock /work/timing.lock`` on a shared machine.
"""

from __future__ import annotations

import argparse
import math
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gctune.analysis.intervals import Change  # noqa: E402
from gctune.analysis.paired import paired_ratios, ratio_change, run_mean  # noqa: E402
from gctune.analysis.time_basis import time_change  # noqa: E402
from gctune.measure.reference import normalized_mean  # noqa: E402
from gctune.store.results import Point, RunMetrics, load_sweep  # noqa: E402

_CPU = '''"""CPU-bound: integer arithmetic, no allocation of containers."""
DEFAULT_SIZE = {size}


def setup(size):
    return size


def step(size):
    acc = 0
    for i in range(size):
        acc = (acc * 31 + i) & 0xFFFF
    return acc
'''

_MEM = '''"""Memory-bound: random reads of a 32 MB list of distinct ints (cache misses)."""
import random

DEFAULT_SIZE = {size}


def setup(size):
    rng = random.Random(1)
    data = [i * 7 for i in range(4_000_000)]
    order = [rng.randrange(len(data)) for _ in range(size)]
    return data, order


def step(state):
    data, order = state
    total = 0
    for i in order:
        total += data[i]
    return total
'''

_SLEEP = '''"""Sleep-bound: sleep, then build 1,000 small lists."""
import time

DEFAULT_SIZE = {size}


def setup(size):
    return size


def step(micros):
    time.sleep(micros / 1e6)
    return [[i] for i in range(1000)]
'''

_MIXED = '''"""Mixed: sleep, then build and read 1,000 acyclic records."""
import time

DEFAULT_SIZE = {size}


def setup(size):
    return size


def step(micros):
    time.sleep(micros / 1e6)
    batch = [{{"id": i, "pos": (i, i + 1), "tags": [i & 7, i >> 3]}} for i in range(1000)]
    return sum(r["pos"][0] + r["tags"][0] for r in batch)
'''


def _source(kind: str, size: int) -> str:
    if kind == "acyclic":
        text = (REPO / "workloads" / "acyclic_churn.py").read_text(encoding="utf-8")
        return re.sub(r"DEFAULT_SIZE: int = 2_000", f"DEFAULT_SIZE: int = {size}", text)
    templates = {"cpu": _CPU, "mem": _MEM, "sleep": _SLEEP, "mixed": _MIXED}
    return templates[kind].format(size=size)


def normalized(run: RunMetrics) -> Optional[float]:
    """The run's time per step in reference loops (None without a reference)."""
    if not run.reference:
        return None
    return normalized_mean(run.values, run.reference.get("seconds") or ())


def cpu(run: RunMetrics) -> Optional[float]:
    """The run's CPU time per step (the probe's, outside the reference loop)."""
    return run.cpu_ns / 1e9 / run.steps if run.cpu_ns and run.steps else None


def _ratios(base: Point, new: Point, seconds: bool, sample: object = None) -> list[float]:
    b = {r.round: r for r in base.runs if r.round is not None}
    n = {r.round: r for r in new.runs if r.round is not None}
    how = sample or (run_mean if seconds else normalized)
    out = []
    for k in sorted(set(b) & set(n)):
        lo, hi = how(b[k]), how(n[k])  # type: ignore[operator]
        if lo and hi:
            out.append(hi / lo)
    return out


def _reference(run: RunMetrics) -> Optional[float]:
    seconds = (run.reference or {}).get("seconds") or []
    return statistics.median(seconds) if seconds and min(seconds) > 0 else None


def _reference_ratios(base: Point, new: Point) -> list[float]:
    """Per round: the new span's median reference time over the base span's (above 1:
    the reference ran slower beside the new span's work, which pulls ratios in loops
    down by as much)."""
    return paired_ratios(base, new, _reference)


def _cell(change: Optional[Change], ratios: list[float]) -> str:
    if change is None:
        return "–"
    sd = statistics.stdev(math.log(r) for r in ratios)
    star = "*" if change.significant else " "
    return f"{change.ratio:.3f}{star}[{change.low:.3f},{change.high:.3f}] sd {sd:.3f}"


def _old_gate(change: Optional[Change]) -> bool:
    return change is not None and change.low > 1.05


def _new_gate(change: Optional[Change]) -> bool:
    try:
        from gctune.analysis.gate import time_regression
    except ImportError:  # before the rule changed: the interval above 1 + limit
        return _old_gate(change)
    return change is not None and time_regression(change, 0.05)


def table(
    sweep: Path, labels: Optional[list[str]] = None, quiet: bool = False
) -> list[dict[str, object]]:
    """Print the pairs' ratios both ways; return them as records."""
    _, points = load_sweep(sweep)
    by = {(p.workload, p.setting): p for p in points if p.ok}
    files = _kinds(sweep)
    workloads = labels or [w for w in files if any(p.workload == w for p in points)]
    workloads = workloads or sorted({p.workload for p in points})
    settings = sorted({p.setting for p in points}, key=lambda s: (s != "default", s))
    pairs: list[tuple[str, str, str, str]] = []  # label, base (w, s), new (w, s)
    first: dict[str, str] = {}
    for w in workloads:
        kind = files.get(w, w)
        if kind in first:
            for s in settings:
                pairs.append((f"{w}/{first[kind]} @{s}", first[kind], w, s))
        else:
            first[kind] = w
    records: list[dict[str, object]] = []
    heads = ("seconds", "reference loops", "gate old/new", "reference ratio")
    if not quiet:
        print(f"{'pair':36s} {heads[0]:42s} {heads[1]:42s} {heads[2]:12s} {heads[3]:42s} cpu, gate")
    for label, bw, nw, s in pairs:
        records.append(_row(label, by.get((bw, s)), by.get((nw, s)), quiet))
    for w in workloads:
        for s in settings[1:]:
            pair = f"{w} {s}/default"
            records.append(_row(pair, by.get((w, "default")), by.get((w, s)), quiet))
    return records


def _row(
    label: str, base: Optional[Point], new: Optional[Point], quiet: bool = False
) -> dict[str, object]:
    if base is None or new is None:
        print(f"{label:36s} (failed point)")
        return {"pair": label}
    rs, rn = _ratios(base, new, True), _ratios(base, new, False)
    cs, cn = ratio_change(rs), ratio_change(rn)
    gate = f"{'FAIL' if _old_gate(cn) else 'ok'}/{'FAIL' if _new_gate(cs) else 'ok'}"
    refs = _reference_ratios(base, new)
    cr = ratio_change(refs)
    rc = _ratios(base, new, True, cpu)
    cc = ratio_change(rc)
    if not quiet:
        cells = f"{_cell(cs, rs):42s} {_cell(cn, rn):42s} {gate:12s} {_cell(cr, refs):42s}"
        print(f"{label:36s} {cells} {_cell(cc, rc)} {'FAIL' if _new_gate(cc) else 'ok'}",
              flush=True)  # fmt: skip
    return {
        "pair": label,
        "raw": {"seconds": rs, "loops": rn, "reference": refs, "cpu": rc},
        "seconds": None if cs is None else [cs.ratio, cs.low, cs.high],
        "loops": None if cn is None else [cn.ratio, cn.low, cn.high],
        "sd_seconds": statistics.stdev(math.log(r) for r in rs) if len(rs) > 1 else None,
        "sd_loops": statistics.stdev(math.log(r) for r in rn) if len(rn) > 1 else None,
        "reference": None if cr is None else [cr.ratio, cr.low, cr.high],
        "cpu": None if cc is None else [cc.ratio, cc.low, cc.high],
        "sd_cpu": statistics.stdev(math.log(r) for r in rc) if len(rc) > 1 else None,
        "gate_old": _old_gate(cn),
        "gate_new": _new_gate(cs),
        "time": _basis_cell(base, new),
    }


def _basis_cell(base: Point, new: Point) -> Optional[list[object]]:
    """gctune's time ratio as every table takes it now (full-speed chunks where enough
    rounds have them, :mod:`gctune.analysis.time_basis`): ratio, low, high, basis."""
    c = time_change(base, new)
    return None if c is None else [c.ratio, c.low, c.high, c.basis_text()]


def pool(sweeps: list[Path], truth_files: list[Path]) -> None:
    """Every pair's per-round ratios pooled over several sweeps, beside the truth: the
    bias table (Markdown)."""
    import json

    from gctune.measure.settings import parse_setting

    raw: dict[str, dict[str, list[float]]] = {}
    quotients: list[float] = []  # per sweep and pair: spread in loops / in seconds
    for sweep in sweeps:
        target = sweep / "sweep" if (sweep / "sweep").exists() else sweep
        for record in table(target, quiet=True):
            sd_s, sd_l = record.get("sd_seconds"), record.get("sd_loops")
            if isinstance(sd_s, float) and isinstance(sd_l, float) and sd_s > 0:
                quotients.append(sd_l / sd_s)
            got = record.get("raw")
            if isinstance(got, dict):
                into = raw.setdefault(str(record["pair"]), {})
                for key, values in got.items():
                    into.setdefault(key, []).extend(values)
    truth: dict[str, Change] = {}
    if truth_files:
        samples = {}
        for path in truth_files:
            samples.update(json.loads(path.read_text(encoding="utf-8")))
        named = {}
        for key, values in samples.items():
            label, setting = key.split("@", 1)
            named[(label, parse_setting(setting).id)] = values
        for (label, setting), values in named.items():
            for (other, s2), base in named.items():
                if s2 == setting and other != label and other == "base":
                    found = ratio_change([n / b for b, n in zip(base, values)])
                    if found is not None:
                        truth[f"{label}/base @{setting}"] = found
            if setting != "default" and (label, "default") in named:
                base = named[(label, "default")]
                found = ratio_change([n / b for b, n in zip(base, values)])
                if found is not None:
                    truth[f"{label} {setting}/default"] = found

    def cell(values: list[float]) -> str:
        c = ratio_change(values)
        if c is None:
            return "–"
        star = "*" if c.significant else ""
        return f"{c.ratio:.3f}{star} [{c.low:.3f}, {c.high:.3f}]"

    def sd(values: list[float]) -> float:
        return statistics.stdev(math.log(v) for v in values)

    print("| pair | truth (CPU time, long processes) | gctune, seconds | reference loops "
          "| reference ratio new/base | cpu | sd seconds / loops / cpu | rounds |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    by_kind: dict[str, list[float]] = {}
    for pair, got in raw.items():
        known = truth.get(pair)
        kcell = "–" if known is None else f"{known.ratio:.3f} [{known.low:.3f}, {known.high:.3f}]"
        noise = f"{sd(got['seconds']):.3f} / {sd(got['loops']):.3f} / {sd(got['cpu']):.3f}"
        print(
            f"| {pair} | {kcell} | {cell(got['seconds'])} | {cell(got['loops'])} | "
            f"{cell(got['reference'])} | {cell(got['cpu'])} | {noise} | {len(got['seconds'])} |"
        )
        kind = pair.split("/")[0].split(" ")[0].rstrip("0123456789") or pair
        by_kind.setdefault(kind, []).append(sd(got["loops"]) / sd(got["seconds"]))
    less, more = sum(q < 0.9 for q in quotients), sum(q > 1.1 for q in quotients)
    print(f"\nper sweep and pair ({len(quotients)}): the spread in loops at least 10% below the "
          f"spread in seconds in {less}, 10% above it in {more}, median quotient "
          f"{statistics.median(quotients):.2f}")  # fmt: skip
    print("pooled over the sweeps, spread in loops over spread in seconds, per file:")
    names = {"s": "sleep", "x": "mixed", "c": "cpu", "m": "mem", "p": "acyclic +5/10/20%"}
    names.update(base="acyclic", copy="acyclic (copy)")
    for kind, quotients in by_kind.items():
        kind = names.get(kind, kind)
        fewer = sum(q < 0.9 for q in quotients)
        print(
            f"  {kind}: median {statistics.median(quotients):.2f} "
            f"(range {min(quotients):.2f}-{max(quotients):.2f}); "
            f"at least 10% less noise in loops in {fewer} of {len(quotients)} pairs"
        )


def aa_counts(sweeps: list[Path]) -> None:
    """A/A pairs (a file against the first file of its kind, same setting) over several
    sweeps: how many came out significant in seconds and in reference loops (Markdown)."""
    counts: dict[str, list[int]] = {}
    spread: dict[str, list[float]] = {}
    for sweep in sweeps:
        target = sweep / "sweep" if (sweep / "sweep").exists() else sweep
        kinds = _kinds(target)
        sizes = _sizes(target)
        for record in table(target, quiet=True):
            pair = str(record["pair"])
            if "/" not in pair or " @" not in pair or "seconds" not in record:
                continue
            new, base = pair.split(" @")[0].split("/")
            if sizes.get(new) != sizes.get(base):
                continue  # a known difference, not an A/A pair
            kind = kinds.get(new, "?")
            row = counts.setdefault(kind, [0, 0, 0, 0, 0])
            seconds, loops = record["seconds"], record["loops"]
            timed = record.get("time")
            assert isinstance(seconds, list) and isinstance(loops, list)
            row[0] += 1
            row[1] += not seconds[1] <= 1 <= seconds[2]
            row[2] += not loops[1] <= 1 <= loops[2]
            if isinstance(timed, list):
                row[3] += not timed[1] <= 1 <= timed[2]
                row[4] += str(timed[3]).startswith("full speed")
            into = spread.setdefault(kind, [0.0, 0.0, 0.0])
            into[0] = max(into[0], abs(seconds[0] - 1))
            into[1] = max(into[1], abs(loops[0] - 1))
            if isinstance(timed, list):
                into[2] = max(into[2], abs(float(timed[0]) - 1))
    print("| A/A step | comparisons | significant: gctune's time ratio now (how many on full-speed "
          "chunks) | every chunk's seconds | reference loops | largest distance from 1: "
          "now / seconds / loops |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for kind, (n, sig_s, sig_l, sig_t, fast) in counts.items():
        far = spread[kind]
        print(
            f"| {kind} | {n} | {sig_t} of {n} ({fast}) | {sig_s} of {n} | {sig_l} of {n} | "
            f"{far[2]:.1%} / {far[0]:.1%} / {far[1]:.1%} |"
        )


def _sizes(sweep: Path) -> dict[str, str]:
    out = {}
    for path in (sweep.parent / "files").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        found = re.search(r"^DEFAULT_SIZE(?:: int)? = ([0-9_]+)", text, re.M)
        out[path.stem] = found.group(1) if found else ""
    return out


def _kinds(sweep: Path) -> dict[str, str]:
    spec = sweep.parent / "files" / "kinds.txt"
    if not spec.exists():
        return {}
    return dict(line.split("=", 1) for line in spec.read_text(encoding="utf-8").split())


def truth(out: Path, variants: list[str], settings: list[str], rounds: int, seconds: float) -> None:
    """Long single processes per (file, setting), interleaved in shuffled rounds."""
    import json
    import random

    files = out / "files"
    files.mkdir(parents=True, exist_ok=True)
    labels, kinds = [], {}
    for variant in variants:
        label, rest = variant.split("=", 1)
        kind, size = rest.split(":", 1)
        (files / f"{label}.py").write_text(_source(kind, int(size)), encoding="utf-8")
        labels.append(label)
        kinds[label] = kind
    per_step: dict[tuple[str, str], float] = {}
    for label in labels:  # steps that take about ``seconds`` under default
        probe = _one(files / f"{label}.py", "default", 20)
        per_step[(label, "")] = probe["wall_ns"] / 20  # wall: a sleeping step uses no CPU
    samples: dict[tuple[str, str], list[float]] = {}
    order = [(label, s) for label in labels for s in settings]
    rng = random.Random(7)
    for _ in range(rounds):
        rng.shuffle(order)
        for label, setting in order:
            steps = max(20, int(seconds * 1e9 / per_step[(label, "")]))
            doc = _one(files / f"{label}.py", setting, steps)
            # CPU time, but wall time for steps that sleep (their CPU time is not their time)
            used = doc["wall_ns"] if kinds[label] in ("sleep", "mixed") else doc["cpu_ns"]
            samples.setdefault((label, setting), []).append(used / steps)
    (out / "truth.json").write_text(json.dumps({f"{k[0]}@{k[1]}": v for k, v in samples.items()}))
    first: dict[str, str] = {}
    for label in labels:
        kind = kinds[label]
        if kind not in first:
            first[kind] = label
            continue
        for setting in settings:
            _truth_line(f"{label}/{first[kind]} @{setting}", samples[(first[kind], setting)],
                        samples[(label, setting)])  # fmt: skip
    for label in labels:
        for setting in settings[1:]:
            _truth_line(f"{label} {setting}/{settings[0]}", samples[(label, settings[0])],
                        samples[(label, setting)])  # fmt: skip


def _one(path: Path, setting: str, steps: int) -> dict[str, float]:
    import json

    cmd = [sys.executable, str(REPO / "benchmarks" / "one_process.py"), "--workload", str(path)]
    cmd += ["--setting", setting, "--steps", str(steps)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=REPO)
    doc: dict[str, float] = json.loads(done.stdout)
    return doc


def _truth_line(label: str, base: list[float], new: list[float]) -> None:
    ratios = [n / b for b, n in zip(base, new)]
    change = ratio_change(ratios)
    print(f"{label:36s} truth (long processes): {_cell(change, ratios)}", flush=True)


def main() -> None:
    """Write the files, sweep them, print the table (or only the table with --table)."""
    argv = sys.argv[1:]
    sweep_args: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, sweep_args = argv[:at], argv[at + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="sweep directory (made, or read with --table)")
    parser.add_argument("variants", nargs="*", help="LABEL=KIND:SIZE, the first of a kind is base")
    parser.add_argument("--table", action="store_true", help="only print the table of OUT")
    parser.add_argument("--truth", type=int, default=0, metavar="R", help="long processes")
    parser.add_argument("--truth-seconds", type=float, default=3.0, help="seconds per process")
    parser.add_argument("--pool", type=Path, nargs="+", default=None, help="pool these tries")
    parser.add_argument("--truth-file", type=Path, nargs="*", default=[], help="--truth json")
    parser.add_argument("--aa", type=Path, nargs="*", default=None, help="count A/A pairs")
    args = parser.parse_intermixed_args(argv)
    if args.aa is not None:
        aa_counts([args.out, *args.aa])
        return
    if args.pool:
        pool([args.out, *args.pool], args.truth_file)
        return
    if args.truth:
        settings = [sweep_args[i + 1] for i, a in enumerate(sweep_args) if a == "-s"]
        truth(args.out, args.variants, settings or ["default"], args.truth, args.truth_seconds)
        return
    if not args.table:
        files = args.out / "files"
        files.mkdir(parents=True)
        kinds = []
        paths = []
        for variant in args.variants:
            label, rest = variant.split("=", 1)
            kind, size = rest.split(":", 1)
            path = files / f"{label}.py"
            path.write_text(_source(kind, int(size)), encoding="utf-8")
            paths.append(str(path))
            kinds.append(f"{label}={kind}")
        (files / "kinds.txt").write_text("\n".join(kinds) + "\n", encoding="utf-8")
        began = time.monotonic()
        cmd = [
            sys.executable,
            "-m",
            "gctune.cli.main",
            "sweep",
            *paths,
            "--interleave",
            *sweep_args,
        ]
        status = subprocess.run([*cmd, "--out", str(args.out / "sweep")], cwd=REPO).returncode
        print(f"sweep: exit {status}, {time.monotonic() - began:.0f} s", flush=True)
    sweep = args.out / "sweep" if (args.out / "sweep").exists() else args.out
    table(sweep, None)


if __name__ == "__main__":
    main()
