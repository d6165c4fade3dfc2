"""Read callgrind's output: event totals and the inclusive cost of named functions.

The counts tier runs every counted span under ``valgrind --tool=callgrind
--cache-sim=yes`` (:mod:`gctune.sweep.counts`). Its output file holds, per function, the cost
of its own lines and, after each ``calls=`` line, the inclusive cost of that call. The
inclusive cost of a function is their sum. Inlined code (``fi=``/``fe=`` lines) changes
the source file, not the function, so it stays in the function's cost; name compression
(``fn=(12) name`` once, ``fn=(12)`` after) is resolved. Recursive calls of a function to
itself are left out, or they would be counted twice.

Format reference: valgrind's "Callgrind Format Specification" (callgrind manual,
chapter 3).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CallgrindProfile", "estimated_cycles", "read_profile"]

# Weights of the estimated cycles: an L1 hit costs 1, a last-level hit 5, a memory access
# 35 — the model of Itamar Turner-Trauring's "consistent benchmarking in CI" (pythonspeed)
# that iai and iai-callgrind use. A model of a typical x86-64 core, not this one's cycles.
LL_HIT_CYCLES = 5
RAM_CYCLES = 35

_NAMED = re.compile(r"^\((\d+)\)(?:\s+(.*))?$")


@dataclass(frozen=True)
class CallgrindProfile:
    """Event totals of one run and the inclusive events of the functions asked for."""

    events: dict[str, int]  # e.g. {"Ir": ..., "Dr": ..., "I1mr": ...}
    inclusive: dict[str, int]  # the asked functions' inclusive events, summed over them
    found: tuple[str, ...]  # the asked functions the profile holds
    symbols: bool = False  # the profile names the interpreter's own C functions


# Every counted span runs the interpreter's eval loop: a profile that names it has the
# interpreter's symbols, so a collector function absent from it was not called.
EVAL_LOOP = "_PyEval_EvalFrameDefault"


def _name(text: str, table: dict[str, str]) -> str:
    match = _NAMED.match(text.strip())
    if match is None:
        return text.strip()
    key, name = match.group(1), match.group(2)
    if name is not None:
        table[key] = name
        return name
    return table.get(key, f"({key})")


def read_profile(path: Path, functions: Iterable[str] = ()) -> CallgrindProfile:
    """Parse a callgrind output file; ``functions`` are summed as one inclusive cost."""
    wanted = set(functions)
    events: list[str] = []
    totals: list[int] = []
    inclusive: list[int] = []
    found: set[str] = set()
    symbols = False
    fn_names: dict[str, str] = {}
    current = ""
    callee = ""
    in_call = False
    with path.open(encoding="utf-8", errors="replace") as profile:
        for raw in profile:
            line = raw.rstrip("\n")
            if not line:
                continue
            head = line[0]
            if head.isdigit() or head in "+-*":
                if current in wanted and not (in_call and callee in wanted):
                    costs = [int(x) for x in line.split()[1:]]
                    for i, cost in enumerate(costs):
                        inclusive[i] += cost
                in_call = False
                continue
            if line.startswith("fn="):
                current = _name(line[3:], fn_names)
                if current in wanted:
                    found.add(current)
                symbols = symbols or current.startswith(EVAL_LOOP)
            elif line.startswith(("cfn=", "cfi=", "cfl=")):
                if line.startswith("cfn="):
                    callee = _name(line[4:], fn_names)
            elif line.startswith("calls="):
                in_call = True
            elif line.startswith("events:"):
                events = line.split()[1:]
                inclusive = [0] * len(events)
            elif line.startswith(("summary:", "totals:")) and not totals:
                totals = [int(x) for x in line.split()[1:]]
    if not events or not totals:
        raise ValueError(f"{path}: not a complete callgrind profile (no events or totals)")
    # callgrind leaves out trailing zeros: a part with no last-level miss ends its summary
    # at the last event that is not zero (read as missing, it made estimated cycles fall
    # back to the instruction count)
    totals += [0] * (len(events) - len(totals))
    return CallgrindProfile(
        events=dict(zip(events, totals)),
        inclusive=dict(zip(events, inclusive)) if found else {},
        found=tuple(sorted(found)),
        symbols=symbols,
    )


def estimated_cycles(events: dict[str, int]) -> float:
    """Estimated CPU cycles from callgrind's cache simulation (``--cache-sim=yes``).

    L1 hits + 5 × last-level hits + 35 × memory accesses, where memory accesses are the
    last-level misses (ILmr + DLmr + DLmw), last-level hits the L1 misses that are not
    last-level misses, and L1 hits the rest of all instruction and data accesses
    (Ir + Dr + Dw). Without cache events it is the instruction count.
    """
    ir = events.get("Ir", 0)
    needed = ("Dr", "Dw", "I1mr", "D1mr", "D1mw", "ILmr", "DLmr", "DLmw")
    if not all(k in events for k in needed):
        return float(ir)
    ram = events["ILmr"] + events["DLmr"] + events["DLmw"]
    l1_misses = events["I1mr"] + events["D1mr"] + events["D1mw"]
    ll_hits = l1_misses - ram
    l1_hits = ir + events["Dr"] + events["Dw"] - l1_misses
    return float(l1_hits + LL_HIT_CYCLES * ll_hits + RAM_CYCLES * ram)
