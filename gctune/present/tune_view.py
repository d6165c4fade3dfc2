"""What a person reads of ``gctune tune``: its progress, the search path, the chart.

The search path is every trial in the order it was measured, with the stage that asked
for it, its cost and memory against default's and whether it was within the budget; the
chart draws cost and peak memory against threshold0 (log scale) with the budget and the
feasible edge marked. All of it is read from the search record (``tune.json``).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Optional

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from gctune.analysis.tiers import UNDECIDED
from gctune.analysis.tune_search import Trial, trial_from
from gctune.measure.settings import parse_setting
from gctune.present.plots import DPI, chart_stem
from gctune.present.render import Block, Heading, Image, Para, Table
from gctune.sweep.tune import SEARCH_SHARE
from gctune.sweep.tune_resume import UNCOUNTED, cut_by_budget

__all__ = [
    "PATH_HEADERS",
    "budget_cut_lines",
    "path_rows",
    "decision_lines",
    "path_table",
    "tune_blocks",
    "tune_chart",
    "tune_progress",
]

PATH_HEADERS = ("#", "stage", "setting", "cost/def", "RSS/def", "budget", "note")


def _ratio(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.3f}"


def path_rows(doc: dict[str, Any]) -> list[tuple[str, ...]]:
    """One workload's trials in the order measured, as table cells."""
    rows: list[tuple[str, ...]] = []
    refit = doc.get("over_by_fit") or {}
    for n, t in enumerate(trial_from(d) for d in doc["trials"]):
        within = "within" if t.feasible else "over" if t.memory_ratio is not None else "?"
        fitted = refit.get(str(_t0(t.setting, 0)))
        if t.feasible and fitted is not None and parse_setting(t.setting).mode == "thresholds":
            within = f"over (fit {fitted:.3f})"
        cost = _ratio(t.cost_ratio)
        if t.whole_cycles is False:
            cost += " (bound)"
        mem = _ratio(t.memory_ratio) + ("" if t.memory_whole else " ≥")
        rows.append((str(n + 1), t.stage, t.setting, cost, mem, within, t.note))
    return rows


def _summary(doc: dict[str, Any], record: dict[str, Any]) -> str:
    if doc.get("failed"):
        return f"Not measured: {doc['failed']}. Nothing was searched or confirmed."
    budget = float(record["spec"]["max_memory_ratio"])
    edge = doc.get("edge")
    tier = "estimated cycles per step (counts)" if record["tier"] == "counts" else "time"
    text = (
        f"{len(doc['trials'])} settings tried; cost is {tier} over default's; memory "
        f"budget {budget:g}x default's peak RSS. Search ended: {doc.get('stopped')}. "
    )
    if edge is not None:
        text += (
            f"Feasible edge: threshold0 {edge:,} is the largest measured within the budget "
            f"({doc.get('edge_above'):,} is over it). "
        )
    refit = doc.get("over_by_fit") or {}
    if refit:
        named = ", ".join(
            f"{int(t0):,} ({r:.3f}x)" for t0, r in sorted(refit.items(), key=lambda kv: int(kv[0]))
        )
        text += (
            f"The probe was not monotone near the budget: read within it, but fitted over it "
            f"with the smaller threshold0 that read higher (memory grows with threshold0; "
            f"readings out of order are pooled): {named}. "
        )
    elif (
        record["tier"] == "counts"
        and doc["trials"]
        and all(t["feasible"] or t["memory_ratio"] is None for t in doc["trials"])
    ):
        text += "Every threshold0 measured was within the budget (no edge in range). "
    leader = doc.get("leader")
    text += f"Leader of the search: {leader or 'none'}."
    finals = record.get("finalists", {}).get(doc["workload"])
    if finals is not None:
        text += (
            f" Confirmed in time, interleaved with default: {', '.join(finals) or 'none'} "
            "(the decision rests on that time sweep)."
        )
    decision = record.get("decisions", {}).get(doc["workload"])
    if decision is not None:
        text += " " + " ".join(line.strip() for line in decision_lines(doc["workload"], decision))
    return text


def decision_lines(workload: str, decision: dict[str, Any]) -> list[str]:
    """tune's answer for one workload and each confirmed candidate's verdict, in words."""
    chosen = decision["chosen"]
    head = f"{workload}: use {chosen}" if chosen != "default" else f"{workload}: keep the default"
    lines = [f"{head} (rank in counts, confirm in time: {decision['rests_on']})."]
    if decision.get("decision_rounds"):
        lines.append(f"  decision rounds: {decision['decision_rounds']}")
    for v in decision["verdicts"]:
        lines.append(f"  {v['setting']}: {v['status']}: {v['reason']}")
    return lines


def longer_lines(decision: dict[str, Any], verify: Callable[[str], str]) -> list[str]:
    """Where default was kept and time left a candidate undecided (its interval reaches
    above its line: :func:`gctune.analysis.tiers.time_line`), even after decision rounds,
    the command that measures it longer (``verify(setting)``): request_loop's
    default+freeze read 0.974x [0.939, 1.011] in 6 rounds and 0.987x [0.954, 1.022] in 12,
    where a 29-setting reference put it 0.971x [0.953, 0.991]."""
    if decision.get("chosen") != "default":
        return []
    return [
        f"{v['setting']} is undecided in time; measure it longer: {verify(v['setting'])}"
        for v in decision.get("verdicts") or []
        if v.get("status") == UNDECIDED
    ]


def budget_cut_lines(record: dict[str, Any], resume: Callable[[int], str]) -> list[str]:
    """Where the budget cut a search in counts: what it left uncounted, about how long the
    rest of that stage would count here (its count points' own seconds, ``jobs`` side by
    side), and the command that goes on with more (``resume(minutes)``); else nothing."""
    spec = record.get("spec") or {}
    jobs, budget_s = max(1, int(spec.get("jobs") or 1)), float(spec.get("budget_s") or 0.0)
    cut = [d for d in record.get("workloads") or [] if cut_by_budget(d.get("stopped"))]
    if record.get("tier") != "counts" or not cut:
        return []
    left, need_s, stages, floored = 0, 0.0, [], False
    for doc in cut:
        trials = [trial_from(t) for t in doc.get("trials") or []]
        stages += [trials[-1].stage] if trials else []
        uncounted = sum(t.note.startswith(UNCOUNTED) for t in trials)
        took = [t.seconds for t in trials if t.cost is not None and t.seconds]
        left += uncounted
        # nothing counted yet: default's floor (the least its count point takes here)
        each = statistics.median_high(took) if took else float(doc.get("count_floor_s") or 0.0)
        floored = floored or (not took and uncounted > 0)
        need_s += -(-uncounted // jobs) * each
    # a resumed tune's budget counts from its start: the rest of the stage in the search's
    # share with a quarter to spare, and no less than the first budget, as the stages
    # after it count too
    minutes = int(-(-max(1.25 * need_s / SEARCH_SHARE, budget_s) // 60))
    stage = "/".join(dict.fromkeys(stages)) or "first"
    said = f"it stopped in the {stage} stage"
    if left:
        said += (
            f" with {left} setting(s) left uncounted ({'at least' if floored else 'about'} "
            f"{need_s / 60:.0f} min of counting here)"
        )
    said += ", the stages after it not reached"
    names = ", ".join(str(d["workload"]) for d in cut)
    return [
        f"The budget cut the search ({names}): {said}. Go on from what is measured, with "
        f"a new budget from then: {resume(minutes)}"
    ]


def path_table(record: dict[str, Any], doc: dict[str, Any]) -> RichTable:
    """The search path of one workload, for the terminal."""
    table = RichTable(title=f"{doc['workload']}: tune's search path", title_justify="left")
    for header in PATH_HEADERS:
        table.add_column(
            header, justify="left" if header in ("stage", "setting", "note") else "right"
        )
    for row in path_rows(doc):
        table.add_row(*(escape(c) for c in row))
    table.caption = _summary(doc, record)
    table.caption_justify = "left"
    return table


def _t0(setting: str, default_t0: int) -> int:
    parsed = parse_setting(setting)
    return parsed.thresholds[0] if parsed.mode == "thresholds" else default_t0


def tune_chart(record: dict[str, Any], doc: dict[str, Any], path: Path) -> Path:
    """Cost and peak memory (both over default's) against threshold0, the budget and the
    feasible edge marked; threshold1/2 and freeze trials drawn apart (hollow)."""
    default_t0 = int(doc["default_thresholds"][0])
    trials = [trial_from(d) for d in doc["trials"]]
    d = doc["default_thresholds"]

    def on_line(t: Trial) -> bool:
        p = parse_setting(t.setting)
        return t.setting == "default" or (
            p.mode == "thresholds" and not p.freeze and list(p.thresholds[1:]) == list(d[1:])
        )

    fig = Figure(figsize=(8.0, 4.6), layout="constrained")
    cost_ax = fig.add_subplot()
    mem_ax = cost_ax.twinx()
    for ax, key, color, label in (
        (cost_ax, "cost_ratio", "#1f77b4", "cost / default's"),
        (mem_ax, "memory_ratio", "#d62728", "peak RSS / default's"),
    ):
        line = sorted(
            (_t0(t.setting, default_t0), getattr(t, key))
            for t in trials
            if on_line(t) and getattr(t, key) is not None
        )
        if line:
            ax.plot(*zip(*line), "o-", color=color, label=label)
        off = [(_t0(t.setting, default_t0), getattr(t, key)) for t in trials if not on_line(t)]
        off = [p for p in off if p[1] is not None]
        if off:
            ax.plot(*zip(*off), "o", mfc="none", color=color, label=f"{label}, t1/t2/freeze")
        ax.set_ylabel(label, color=color)
    budget = float(record["spec"]["max_memory_ratio"])
    mem_ax.axhline(budget, color="#d62728", ls="--", lw=1, label=f"memory budget {budget:g}x")
    if doc.get("edge") is not None:
        cost_ax.axvline(int(doc["edge"]), color="#555555", ls=":", lw=1.2, label="feasible edge")
    cost_ax.set_xscale("log")
    cost_ax.set_xlabel("threshold0 (log scale)")
    cost_ax.set_title(f"{doc['workload']}: cost and peak memory against threshold0")
    handles = cost_ax.get_legend_handles_labels()
    more = mem_ax.get_legend_handles_labels()
    cost_ax.legend(handles[0] + more[0], handles[1] + more[1], fontsize=8, loc="upper center")
    FigureCanvasAgg(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
    return path


def tune_blocks(record: dict[str, Any], charts_dir: Path) -> list[Block]:
    """The report's section on the search: per workload its path and chart."""
    blocks: list[Block] = [
        Heading(2, "Tune: the search path"),
        Para(
            "gctune tune searched threshold0 on a log scale (the line), located the largest "
            "threshold0 within the memory budget (the edge), narrowed in on the cheapest "
            "(refine), then tried threshold1, threshold2 and freeze at the best threshold0. "
            "Memory: peak RSS of a native probe over default's (≥: no full collection "
            "within the probe, a lower bound). cost (bound): the counted spans held "
            "default's cycles, not a full cycle of the setting's own (a lower bound)."
        ),
    ]
    for doc in record["workloads"]:
        blocks.append(Heading(3, f"{doc['workload']}"))
        blocks.append(Para(_summary(doc, record)))
        rows = tuple(path_rows(doc))
        blocks.append(Table(PATH_HEADERS, rows, align="rllrrll"))
        if any(
            t.get("cost_ratio") is not None or t.get("memory_ratio") is not None
            for t in doc["trials"]
        ):
            png = tune_chart(record, doc, charts_dir / f"tune-{chart_stem(doc['workload'])}.png")
            blocks.append(
                Image(
                    png,
                    f"{doc['workload']}: cost and memory against threshold0",
                    "Cost (left) and peak RSS (right) over default's against threshold0; "
                    "dashed: the memory budget; dotted: the feasible edge.",
                )
            )
    return blocks


@contextmanager
def tune_progress(console: Console) -> Iterator[Callable[[Any], None]]:
    """A transient status line on ``console``: the workload and stage, settings tried,
    the current leader (cost over default's), time left of the budget."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    task = progress.add_task("tune", total=None)

    def update(event: Any) -> None:
        lead = event.leader
        leader = (
            f"leader {lead.setting} ({lead.cost_ratio:.3f}x)"
            if lead is not None and lead.cost_ratio is not None
            else "leader -"
        )
        left = max(0.0, event.budget_s - event.elapsed_s)
        text = (
            f"tune {event.workload} · {event.stage} · {event.tried} tried · {leader} · "
            f"{left / 60:.0f} min left"
        )
        progress.update(
            task,
            total=event.budget_s,
            completed=min(event.elapsed_s, event.budget_s),
            description=escape(text),
        )
        trial = event.trial
        if trial is not None and trial.note.startswith(("counts failed", "memory probe")):
            progress.console.print(
                f"[yellow]{escape(trial.setting)}[/]: {escape(trial.note)}", highlight=False
            )

    with progress:
        yield update


def charts_of(blocks: Sequence[Block]) -> list[Path]:
    """The chart files of blocks (what a report moves into place)."""
    return [b.path for b in blocks if isinstance(b, Image)]
