"""The report of a sweep: environment, per-workload tables, charts, recommendations.

Built from saved files only (record, then report): :func:`build_report` loads a sweep
directory, draws the charts, lays the content out as plain blocks
(:mod:`gctune.present.render`) and writes one document per format. Every number comes from
:mod:`gctune.analysis.stats` and :mod:`gctune.analysis.recommend`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

import matplotlib

from gctune.analysis.evidence import (
    workload_warnings,
)
from gctune.analysis.fmt import fmt_ratio
from gctune.analysis.frame import SweepData, load
from gctune.analysis.recommend import (
    DEFAULT_MAX_MEMORY_RATIO,
    Recommendation,
    RecommendError,
    gap_text,
    recommend,
)
from gctune.analysis.stats import pareto_front
from gctune.analysis.time_basis import round_spread
from gctune.errors import UserError
from gctune.present.advice import describe, headline, program_of, snippet
from gctune.present.next_steps import workload_args
from gctune.present.plots import chart_stem, trajectory_chart, workload_charts
from gctune.present.render import (
    Block,
    Bullets,
    Code,
    Folds,
    Heading,
    HtmlRenderer,
    Image,
    MarkdownRenderer,
    Para,
    Renderer,
    Table,
)
from gctune.present.report_sections import claims, environment
from gctune.present.report_tables import (
    GAP_CAPTION,
    generations_table,
    points_table,
    ratio_cell,
    requests_table,
)

__all__ = ["FORMATS", "ReportError", "build_report", "report_blocks", "write_report"]

FORMATS = ("md", "html")
_RENDERERS: dict[str, Renderer] = {"md": MarkdownRenderer(), "html": HtmlRenderer()}
REPORT_NAME = "report"


def build_report(
    directory: Path,
    *,
    out_dir: Optional[Path] = None,
    formats: Sequence[str] = FORMATS,
    objective: str = "throughput",
    max_memory_ratio: float = DEFAULT_MAX_MEMORY_RATIO,
) -> list[Path]:
    """Write the report of the sweep in ``directory``; return the documents' paths.

    ``out_dir`` defaults to ``<directory>/report``; charts go to ``<out_dir>/charts``.
    """
    return write_report(
        load(directory),
        out_dir=out_dir,
        formats=formats,
        objective=objective,
        max_memory_ratio=max_memory_ratio,
    )


class ReportError(UserError):
    """A report that cannot be written; the message names the file, one line for the user."""


def write_report(
    data: SweepData,
    *,
    out_dir: Optional[Path] = None,
    formats: Sequence[str] = FORMATS,
    objective: str = "throughput",
    max_memory_ratio: float = DEFAULT_MAX_MEMORY_RATIO,
) -> list[Path]:
    """Write the report of a loaded sweep (see :func:`build_report`); its damaged point
    files, left out, are listed under Warnings.

    The report is written whole or not at all: documents and charts are first written to
    a temporary folder inside ``out_dir`` and then moved into place, the documents last.
    A file that cannot be written (disk full, a path that is not a folder, permissions)
    raises :class:`ReportError` naming it, and the temporary folder is removed; if a move
    fails, the report's documents are removed rather than left linking a mix of old and
    new charts.
    """
    unknown = [f for f in formats if f not in _RENDERERS]
    if unknown:
        raise ValueError(f"unknown report format {unknown[0]!r}: use md or html")
    out = out_dir if out_dir is not None else data.directory / REPORT_NAME
    stage: Optional[Path] = None
    created = not os.path.lexists(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=_STAGE, dir=out) as tmp:
            stage = Path(tmp)
            blocks = report_blocks(
                data, stage / "charts", objective=objective, max_memory_ratio=max_memory_ratio
            )
            for fmt in formats:
                renderer = _RENDERERS[fmt]
                text = renderer.render(blocks, out_dir=stage)
                _write_document(stage / f"{REPORT_NAME}{renderer.suffix}", text)
            return _publish(stage, out, [_RENDERERS[f].suffix for f in formats])
    except OSError as exc:
        if created:  # leave no empty report folder behind
            with contextlib.suppress(OSError):
                out.rmdir()
        raise ReportError(_cannot_write(exc, out, stage)) from None


_STAGE = ".report-"


def _tune(directory: Path, charts_dir: Path) -> list[Block]:
    """The search path and chart of a sweep written by ``gctune tune`` (none otherwise)."""
    from gctune.analysis.tune_search import read_tune
    from gctune.present.tune_view import tune_blocks

    try:
        record = read_tune(directory)
    except ValueError as exc:
        return [Para(f"The tune record could not be read: {exc}")]
    return [] if record is None else tune_blocks(record, charts_dir)


def _write_document(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        if exc.filename is None:  # a full disk fails a write() that names no file
            exc.filename = str(path)
        raise


def _publish(stage: Path, out: Path, suffixes: Sequence[str]) -> list[Path]:
    """Move a report written in ``stage`` into ``out``: charts first, documents last."""
    documents = [out / f"{REPORT_NAME}{suffix}" for suffix in suffixes]
    try:
        charts = stage / "charts"
        if charts.is_dir():
            (out / "charts").mkdir(exist_ok=True)
            for chart in sorted(charts.iterdir()):
                os.replace(chart, out / "charts" / chart.name)
        for document in documents:
            os.replace(stage / document.name, document)
    except BaseException:
        for document in documents:
            with contextlib.suppress(OSError):
                document.unlink(missing_ok=True)
        raise
    return documents


def _cannot_write(exc: OSError, out: Path, stage: Optional[Path]) -> str:
    """One line naming the report file that failed (its final path, not the temporary)."""
    # mkdir of a folder that exists as a file says "File exists"
    reason = "not a directory" if isinstance(exc, FileExistsError) else exc.strerror or str(exc)
    failed = Path(os.fsdecode(exc.filename)) if exc.filename else out
    if stage is not None and failed.is_relative_to(stage):
        failed = out / failed.relative_to(stage)
    if failed == out or failed.is_relative_to(out):
        return f"{failed}: cannot write the report: {reason}"
    return f"{out}: cannot write the report: {failed}: {reason}"


def report_blocks(
    data: SweepData, charts_dir: Path, *, objective: str, max_memory_ratio: float
) -> list[Block]:
    """The whole report as blocks, drawing each workload's charts into ``charts_dir``."""
    warnings: list[str] = []
    recs: dict[str, Recommendation] = {}
    for workload in data.workloads:
        try:
            recs[workload] = recommend(
                data.stats[workload],
                data.points_of(workload),
                objective=objective,
                max_memory_ratio=max_memory_ratio,
                per=data.unit,
            )
        except RecommendError as exc:
            warnings.append(f"{workload}: no recommendation: {exc}")

    n_ok = sum(p.ok for p in data.points)
    blocks: list[Block] = [
        Heading(1, f"gctune report: sweep {data.manifest.sweep_id}"),
        Para(
            f"{len(data.workloads)} workload(s), {len(data.points)} point(s) "
            f"({n_ok} finished, {len(data.points) - n_ok} failed), created "
            f"{data.manifest.created}. Recommendations optimise {objective} within a "
            f"memory budget of {max_memory_ratio:g}x default's peak RSS."
        ),
        *_headlines(data, recs),
        *_summary(data, recs),
        *environment(data),
    ]
    for workload in data.workloads:
        blocks += _workload(
            data, workload, recs.get(workload), charts_dir, max_memory_ratio, warnings
        )
    blocks += _tune(data.directory, charts_dir)
    # the check of the premise of GC tuning comes after the user's own workloads
    blocks += claims(data)
    blocks += _warnings(data, warnings)
    blocks += _glossary(data.unit)
    return blocks


def _headlines(data: SweepData, recs: dict[str, Recommendation]) -> list[Block]:
    """The answer first: per workload, what GC costs now and what to do."""
    lines = [headline(recs[w]) for w in data.workloads if w in recs]
    if not lines:
        return []
    return [Heading(2, "The answer, per workload"), Bullets(tuple(lines))]


def _summary(data: SweepData, recs: dict[str, Recommendation]) -> list[Block]:
    rows = []
    for workload in data.workloads:
        rec = recs.get(workload)
        if rec is None:
            rows.append((workload, "none", "-", "-", "-", "-"))
            continue
        s = rec.stats
        rows.append(
            (
                workload,
                s.setting,
                ratio_cell(s),
                gap_text(s, rec.floor),
                fmt_ratio(s.rss_ratio),
                "kept default: no significant gain" if rec.is_default else rec.metric,
            )
        )
    return [
        Heading(2, "Recommendations"),
        Table(
            (
                "workload",
                "recommended",
                "time vs default [95%]",
                "gap closed",
                "RSS vs default",
                "chosen on",
            ),
            tuple(rows),
            align="llrrrw",
            caption=f"time: mean per {data.unit}; time vs default: round-paired in seconds over "
            "the chunks run at the machine's full speed (° over every chunk: too few rounds "
            "ran at full speed). " + GAP_CAPTION,
        ),
    ]


def _workload(
    data: SweepData,
    workload: str,
    rec: Optional[Recommendation],
    charts_dir: Path,
    max_memory_ratio: float,
    warnings: list[str],
) -> list[Block]:
    rows = data.stats[workload]
    ok = [s for s in rows if s.ok]
    point = next((p for p in data.points_of(workload) if p.ok), None)
    blocks: list[Block] = [Heading(2, f"Workload {workload}")]
    if point is not None and data.unit == "run":
        blocks.append(
            Para(
                f"A program run as a whole: each value times {point.loops or '?'} run(s) of "
                f"it, start-up included; {ok[0].n_runs} worker process(es) per point. The "
                "setting is applied at interpreter start-up, before the program's imports."
            )
        )
    elif point is not None:
        blocks.append(
            Para(
                f"size {point.size if point.size is not None else '?'}; each point measured "
                f"in up to {max(s.rounds or s.n_runs for s in ok)} interleaved round(s), one "
                "fresh worker span per round."
            )
        )
    doubts = workload_warnings(rows)
    spread = round_spread(data.points_of(workload))
    if spread is not None:
        doubts.append(spread.line())
    if doubts:
        blocks.append(Para("Read these numbers with:"))
        blocks.append(Bullets(tuple(doubts)))
        warnings += [f"{workload}: {d}" for d in doubts]
    blocks += [Heading(3, "Points"), points_table(rows, data.unit)]
    latency = requests_table(rows)
    if latency is not None:
        blocks += [Heading(3, "Request latency"), latency]
    front = pareto_front(ok)
    if front:
        blocks.append(
            Para(
                f"Pareto front over (time per {data.unit}, peak RSS, p99 pause): "
                + ", ".join(s.setting for s in front)
                + " (no other setting is better on all three)."
            )
        )
    if any(s.pauses_by_gen for s in ok):
        blocks += [Heading(3, "Pauses per generation"), generations_table(ok)]
    blocks.append(Heading(3, "Recommendation"))
    if rec is None:
        blocks.append(Para("No recommendation: see Warnings."))
    else:
        target = workload_args(data.manifest.spec, workload)
        program = program_of(data.manifest.spec, workload)
        first, *rest = describe(rec, target=target, program=program)
        blocks += [Para(first), Bullets(tuple(line.strip() for line in rest))]
        blocks.append(Code(snippet(rec.setting, at_startup=data.applied_at_startup)))
    blocks.append(Heading(3, "Charts"))
    charts = workload_charts(data, workload, charts_dir, max_memory_ratio=max_memory_ratio)
    if ok:
        path = charts_dir / f"{chart_stem(workload)}-trajectory.png"
        with matplotlib.rc_context({"text.parse_math": False}):
            charts.append(
                trajectory_chart(
                    data.points_of(workload), ok, path, workload,
                    max_memory_ratio=max_memory_ratio,
                )
            )  # fmt: skip
    for chart in charts:
        if chart.path is None:
            blocks.append(Para(f"{chart.title}: {chart.caption}"))
            warnings.append(f"{workload}: chart {chart.kind}: {chart.caption}")
        else:
            blocks.append(Image(chart.path, f"{workload}: {chart.title}", chart.caption))
    return blocks


# The kinds warnings are folded by, most serious first: a title and the words that mark
# a warning of that kind (the first kind whose words it holds); the rest are "Other".
WARNING_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Failed points", (": failed: ",)),
    ("Damaged files, left out", ("left out of this report",)),
    ("No recommendation", ("no recommendation",)),
    ("The program changes the collector itself", ("changes the collector",)),
    ("Memory that grows", ("memory grows", "memory still rising", "memory rose")),
    ("Not at steady state", ("not at steady state", "steady state")),
    ("Identical GC work and round-to-round spread", ("identical GC work", "round to round")),
    (
        "Noisy or thin points (pyperf check)",
        ("standard deviation", "outlier", "too few samples", "raw value", "no collection ran"),
    ),
    ("Skipped charts", (": chart ",)),
)
OPEN_KINDS = frozenset({"Failed points", "Damaged files, left out", "No recommendation"})


def warning_groups(items: Sequence[str]) -> list[tuple[str, tuple[str, ...]]]:
    """``items`` by kind (:data:`WARNING_KINDS`, in its order, then "Other"), each kept
    in its order."""
    groups: dict[str, list[str]] = {}
    for item in items:
        kind = next((k for k, words in WARNING_KINDS if any(w in item for w in words)), "Other")
        groups.setdefault(kind, []).append(item)
    order = [k for k, _ in WARNING_KINDS] + ["Other"]
    return [(k, tuple(groups[k])) for k in order if k in groups]


def _warnings(data: SweepData, extra: list[str]) -> list[Block]:
    items = [f"{line}; left out of this report" for line in data.damaged]
    items += extra
    for workload in data.workloads:
        for s in data.stats[workload]:
            if not s.ok:
                items.append(f"{workload} · {s.setting}: failed: {s.reason}")
            items += [f"{workload} · {s.setting}: {w}" for w in s.warnings]
    blocks: list[Block] = [Heading(2, "Warnings")]
    if not items:
        return [*blocks, Para("None: every point finished and passed the checks.")]
    groups = warning_groups(items)
    return [
        *blocks,
        Para(
            f"{len(items)} warning(s) of {len(groups)} kind(s), folded by kind (open one to "
            "read it). Doubtful points are flagged in the spirit of pyperf check (stdev ≥ "
            "10% of the mean, min or max ≥ 50% from the mean, fewer than 3 rounds, raw "
            "values under 1 ms); failed points, settings not at steady state or whose "
            "memory grows, and skipped charts are listed too. The time intervals are over "
            "rounds, round-paired: to narrow them, measure more rounds (--rounds, or "
            "--rigorous: 5 to 15 rounds of longer spans), or check one setting against "
            "default with gctune verify; a quieter machine helps."
        ),
        Folds(tuple(groups), OPEN_KINDS),
    ]


def _glossary(unit: str) -> list[Block]:
    return [
        Heading(2, "How to read this report"),
        Bullets(
            (
                f"T: mean time per {unit} of a setting, the mean over its spans (one fresh "
                "worker process per round); every time in this report is a mean.",
                "vs default: T / T_default, round-paired: the geometric mean of the "
                "per-round ratios with its 95% t-interval over rounds; significant when "
                "the interval excludes 1 (results of gctune before rounds: a bootstrap "
                "interval over worker processes).",
                "overhead vs floor: (T - T_disabled) / T_disabled, the cost of collecting "
                "compared with not collecting at all.",
                "gap closed: (T_default - T) / (T_default - T_disabled), shown only when "
                "disabled is significantly faster than default.",
                "GC %: sum of pause durations / measured wall time.",
                "pause p50/p99/max: from every collection's duration (start to stop "
                "callback), within 1% (log-bucketed histogram).",
                "peak RSS: the largest VmHWM of the setting's worker processes (spans).",
                "memory charts start at 0: a line is as steep as it is against its level.",
                f"Pareto front: settings no other setting beats on all of time per {unit}, "
                "peak RSS and p99 pause.",
            )
        ),
    ]
