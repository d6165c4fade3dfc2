"""tune's search path, chart and decision in words, from a search record written here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gctune.analysis.tune_search import Trial, trial_dict
from gctune.present.render import Image, MarkdownRenderer, Table
from gctune.present.tune_view import (
    budget_cut_lines,
    decision_lines,
    longer_lines,
    path_rows,
    tune_blocks,
)


def _record() -> dict[str, Any]:
    trials = [
        Trial("default", "line", 1, 10.0, 1.0, 1.0, True),
        Trial("t7000-10-10", "line", 1, 8.0, 0.8, 1.2, True, whole_cycles=False),
        Trial("t70000-10-10", "line", 1, None, None, 1.9, False, "over the memory budget"),
        Trial("t12000-10-10", "edge", 2, 7.5, 0.75, 1.24, True, memory_whole=False),
        Trial("t12000-50-10", "t1", 3, 7.4, 0.74, 1.24, True),
    ]
    doc = {
        "workload": "w",
        "spec": "w",
        "default_thresholds": [700, 10, 10],
        "stopped": "every stage searched",
        "edge": 12000,
        "edge_above": 70000,
        "leader": "t12000-50-10",
        "trials": [trial_dict(t) for t in trials],
    }
    decision = {
        "chosen": "t12000-50-10",
        "rests_on": "counts, time consistent",
        "verdicts": [{"setting": "t12000-50-10", "status": "admitted", "reason": "r"}],
    }
    return {
        "tier": "counts",
        "spec": {"max_memory_ratio": 1.25},
        "workloads": [doc],
        "finalists": {"w": ["t12000-50-10"]},
        "decisions": {"w": decision},
    }


def test_path_rows_say_order_bounds_and_budget() -> None:
    rows = path_rows(_record()["workloads"][0])
    assert [r[0] for r in rows] == ["1", "2", "3", "4", "5"]
    assert rows[1][3] == "0.800 (bound)"  # counts without a full cycle of its own
    assert rows[2][5] == "over" and rows[2][3] == "-"
    assert rows[3][4] == "1.240 ≥"  # memory probe without a full collection


def test_report_section_has_the_edge_the_decision_and_a_chart(tmp_path: Path) -> None:
    blocks = tune_blocks(_record(), tmp_path)
    text = MarkdownRenderer().render(blocks, out_dir=tmp_path)
    assert "Feasible edge: threshold0 12,000" in text and "70,000 is over it" in text
    assert "w: use t12000-50-10" in text
    (image,) = [b for b in blocks if isinstance(b, Image)]
    assert image.path.exists() and image.path.stat().st_size > 10_000
    (table,) = [b for b in blocks if isinstance(b, Table)]
    assert len(table.rows) == 5


def test_decision_in_words_keeps_default_when_nothing_is_admitted() -> None:
    lines = decision_lines("w", {"chosen": "default", "rests_on": "x", "verdicts": []})
    assert lines[0].startswith("w: keep the default")
    assert len(lines) == 1  # no decision rounds ran: nothing said of them
    said = decision_lines(
        "w",
        {"chosen": "default", "rests_on": "x", "verdicts": [],
         "decision_rounds": "not decided after round 12: default+freeze"},
    )  # fmt: skip
    assert said[1] == "  decision rounds: not decided after round 12: default+freeze"


def test_a_reading_the_monotone_fit_puts_over_the_budget_says_so(tmp_path: Path) -> None:
    record = _record()
    doc = record["workloads"][0]
    doc["over_by_fit"] = {"7000": 1.26}
    rows = path_rows(doc)
    assert rows[1][5] == "over (fit 1.260)"  # read 1.2, within; fitted over
    assert rows[3][5] == "within"
    text = MarkdownRenderer().render(tune_blocks(record, tmp_path), out_dir=tmp_path)
    assert "not monotone near the budget" in text and "7,000 (1.260x)" in text


def _cut_record(uncounted: int) -> dict[str, Any]:
    counted = [
        Trial("default", "line", 1, 10.0, 1.0, 1.0, True, seconds=380.0),
        Trial("t2200-10-10", "line", 1, 9.9, 0.99, 1.0, True, seconds=390.0),
    ]
    note = "not counted: the search's budget ran out"
    left = [
        Trial(f"t{7000 * 10**i}-10-10", "line", 1, None, None, 1.0, True, note, seconds=60.0)
        for i in range(uncounted)
    ]
    doc = {"workload": "w", "stopped": "budget: the search's share (70% of --budget) ran out",
           "trials": [trial_dict(t) for t in counted + left]}  # fmt: skip
    return {"tier": "counts", "spec": {"jobs": 2, "budget_s": 1200.0}, "workloads": [doc]}


def test_a_search_cut_by_its_budget_says_what_is_left_and_how_to_go_on() -> None:
    said: list[int] = []

    def resume(minutes: int) -> str:
        said.append(minutes)
        return f"RESUME {minutes}"

    (line,) = budget_cut_lines(_cut_record(5), resume)
    # 3 chunks of 2 side by side at the counted points' 390 s: 19.5 min of counting,
    # in the search's 70 % share with a quarter to spare: 35 min from the resumed start
    assert "(w)" in line and "5 setting(s)" in line and "about 20 min" in line
    assert line.endswith("RESUME 35") and said == [35]
    (short,) = budget_cut_lines(_cut_record(0), resume)
    assert "not reached" in short and short.endswith("RESUME 20")  # at least the first budget
    assert budget_cut_lines(_record(), resume) == []  # every stage searched
    timed = {**_cut_record(5), "tier": "time"}
    assert budget_cut_lines(timed, resume) == []


def test_a_search_whose_default_could_not_be_counted_in_its_budget_asks_for_enough() -> None:
    # default's floor (the least its count point takes here) held it back: nothing
    # counted, so the resume's budget comes from the floor, not from counted points
    note = "not counted: its count point runs at least 17 min under valgrind"
    trials = [
        Trial(s, "line", 1, None, None, 1.0, True, note, seconds=30.0)
        for s in ("default", "default+freeze", "t2200-10-10")
    ]
    doc = {"workload": "w", "stopped": "budget: the search's share (70% of --budget) ran out",
           "count_floor_s": 1020.0, "trials": [trial_dict(t) for t in trials]}  # fmt: skip
    record = {"tier": "counts", "spec": {"jobs": 2, "budget_s": 60.0}, "workloads": [doc]}
    (line,) = budget_cut_lines(record, lambda minutes: f"RESUME {minutes}")
    # 2 chunks of 2 at 1,020 s each: 34 min of counting, / 0.7 with a quarter to spare: 61
    assert "3 setting(s) left uncounted (at least 34 min" in line and line.endswith("RESUME 61")


def test_an_undecided_candidate_where_default_is_kept_gets_a_longer_check() -> None:
    verdicts = [
        {"setting": "default+freeze", "status": "undecided", "reason": "0.987x [0.954, 1.022]"},
        {"setting": "t7000-10-10", "status": "contradicted", "reason": "slower"},
    ]
    kept = {"chosen": "default", "rests_on": "nothing admitted", "verdicts": verdicts}
    (line,) = longer_lines(kept, lambda s: f"gctune verify w -s {s} --rounds 24")
    assert "default+freeze is undecided" in line and line.endswith("-s default+freeze --rounds 24")
    # an answer chosen, or nothing undecided: nothing to add
    assert longer_lines({**kept, "chosen": "t7000-10-10"}, str) == []
    assert longer_lines({**kept, "verdicts": verdicts[1:]}, str) == []
