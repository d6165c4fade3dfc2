"""callgrind output parsing and the estimated-cycles model, on small written profiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from gctune.analysis.callgrind import estimated_cycles, read_profile

# main calls collect (inclusive 500) twice; collect has own lines, an inlined part
# (fi=/fe=), a call to traverse (inclusive 40) and a recursive call to itself (200, which
# is already inside the outer call's cost and must not count twice).
PROFILE = """\
# callgrind format
version: 1
creator: callgrind-3.19.0
cmd: python -m gctune.measure.count_span
events: Ir Dr
fl=(1) main.c
fn=(1) main
1 10 2
cfl=(2) gc.c
cfn=(2) collect
calls=2 5
2 500 100
fl=(2)
fn=(2)
5 100 10
fi=(3) object.h
6 60 6
fe=(2)
cfn=(3) traverse
calls=1 9
7 40 4
cfn=(2)
calls=1 5
8 200 20
fn=(3)
9 40 4
summary: 510 102
totals: 510 102
"""


def test_inclusive_cost_sums_own_inlined_and_callee_lines(tmp_path: Path) -> None:
    path = tmp_path / "callgrind.out"
    path.write_text(PROFILE)
    profile = read_profile(path, ["collect"])
    assert profile.events == {"Ir": 510, "Dr": 102}
    assert profile.found == ("collect",)
    # own 100 + inlined 60 + callee 40; the recursive 200 left out
    assert profile.inclusive == {"Ir": 200, "Dr": 20}


def test_a_function_the_profile_lacks_has_no_inclusive_cost(tmp_path: Path) -> None:
    path = tmp_path / "callgrind.out"
    path.write_text(PROFILE)
    profile = read_profile(path, ["gc_collect_main"])
    assert profile.found == () and profile.inclusive == {}


def test_a_cut_profile_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "callgrind.out"
    path.write_text(PROFILE.split("summary")[0])
    with pytest.raises(ValueError, match="not a complete callgrind profile"):
        read_profile(path)


def test_estimated_cycles_weighs_hits_and_misses() -> None:
    events = {
        "Ir": 1000, "Dr": 300, "Dw": 200,
        "I1mr": 10, "D1mr": 20, "D1mw": 10,
        "ILmr": 1, "DLmr": 4, "DLmw": 5,
    }  # fmt: skip
    ram = 1 + 4 + 5
    l1_misses = 10 + 20 + 10
    l1_hits = 1000 + 300 + 200 - l1_misses
    assert estimated_cycles(events) == l1_hits + 5 * (l1_misses - ram) + 35 * ram


def test_without_cache_events_cycles_are_instructions() -> None:
    assert estimated_cycles({"Ir": 1234}) == 1234.0


def test_trailing_zero_events_left_out_of_the_summary_read_as_zero(tmp_path: Path) -> None:
    # a part of the steps alone can have no last-level miss: callgrind then ends its
    # summary at the last non-zero event, and estimated cycles must still use the misses
    events = "Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw"
    path = tmp_path / "callgrind.out.2"
    path.write_text(f"events: {events}\nfn=(1) main\n1 1000 300 200 10 20 5 1\n"
                    "summary: 1000 300 200 10 20 5 1\n")  # fmt: skip
    events_read = read_profile(path, ()).events
    assert events_read["DLmr"] == 0 and events_read["DLmw"] == 0
    # L1 hits 1465, last-level hits 34, memory 1: not the bare instruction count
    assert estimated_cycles(events_read) == 1465 + 5 * 34 + 35 * 1
