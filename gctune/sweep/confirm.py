"""The confirmation of a sweep in counts: its best settings measured in time.

Counts rank settings exactly, but they model time. A confirmation measures, per
workload, ``default`` and the few best settings in counts (those whose counts gain is at
least the minimum gain; :func:`gctune.analysis.tiers.confirmation_candidates`) in time:
an ordinary time sweep, interleaved in every round, no racing, ``rounds`` rounds of
spans of up to ``span_s`` seconds — the time tier's own machinery, as ``gctune verify``
uses it — then up to ``decide_rounds`` more of default and a candidate the rule of both
tiers leaves undecided (:mod:`gctune.sweep.tier_judge`). Each workload's is a sweep
directory of its own (its settings differ), ``<count sweep>/time/<workload id>/``,
readable by every time command.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Optional

from gctune.measure.catalog import workload_ids
from gctune.store.results import MANIFEST
from gctune.sweep.count_sweep import CountSpec
from gctune.sweep.environment import interpreter_of, lent_to
from gctune.sweep.spec import DEFAULT_MAX_MEMORY, SweepSpec
from gctune.sweep.tune_probe import DEFAULT_PROBE_STEPS, PROBE_LIMIT_S, probe_memory, probe_steps

__all__ = [
    "CONFIRM_DECIDE_ROUNDS",
    "CONFIRM_DIR",
    "CONFIRM_ROUNDS",
    "CONFIRM_SPAN_S",
    "confirmation_dir",
    "confirmation_dirs",
    "confirmation_spec",
    "within_memory",
]

CONFIRM_DIR = "time"
CONFIRM_ROUNDS = 12
"""Rounds of a confirmation: the long time checks' 12. At the ~4.5% median round-to-round
spread of time ratios of this machine when quiet, 8 paired rounds give a 95% interval of
about ±4%, but a workload's own rounds move more: longlived_heap's 17-40%, where 8 rounds
left default+freeze undecided twice (0.975x [0.614, 1.549], 0.820x [0.658, 1.021]) and
12 admitted it (0.852x [0.768, 0.946]; its 12-round check: 0.755x). Loaded (spread
17-39%, docs/counts-validity.md) rounds gave ±15-38%, and ``--rounds`` must grow."""
CONFIRM_DECIDE_ROUNDS = 12
"""Most decision rounds of a confirmation (:mod:`gctune.sweep.tier_judge`): as many again
as its rounds, where the rule of both tiers leaves a candidate undecided."""
CONFIRM_SPAN_S = 3.0
"""Seconds one span may measure: ``gctune verify``'s, long enough for whole cycles."""


def confirmation_dir(count_dir: Path, workload_id: str) -> Path:
    """Where the time sweep confirming ``workload_id`` of ``count_dir`` is kept."""
    return count_dir / CONFIRM_DIR / workload_id


def confirmation_dirs(count_dir: Path) -> dict[str, Path]:
    """The confirmations of ``count_dir`` that were started, by workload id."""
    folder = count_dir / CONFIRM_DIR
    if not folder.is_dir():
        return {}
    return {p.name: p for p in sorted(folder.iterdir()) if (p / MANIFEST).exists()}


def confirmation_spec(
    count: CountSpec,
    workload_id: str,
    settings: Sequence[str],
    *,
    rounds: int = CONFIRM_ROUNDS,
    decide_rounds: int = CONFIRM_DECIDE_ROUNDS,
    span_s: float = CONFIRM_SPAN_S,
    max_memory: int = DEFAULT_MAX_MEMORY,
    cwd: Optional[str] = None,
) -> SweepSpec:
    """The time sweep of ``default`` and ``settings`` on one workload of a count sweep
    (its decision rounds run where a judge is given: :mod:`gctune.sweep.tier_judge`)."""
    by_id = dict(zip(workload_ids(list(count.workloads)), count.workloads))
    chosen = ("default", *(s for s in settings if s != "default"))
    return SweepSpec(
        python=count.python,
        workloads=(by_id[workload_id],),
        cwd=cwd if cwd is not None else os.getcwd(),
        settings=chosen,
        size=count.size,
        mode="normal",
        max_memory=max_memory,
        rounds=rounds,
        min_rounds=rounds,
        max_point_time=span_s,
        racing=False,
        decide_rounds=decide_rounds,
    )


def within_memory(
    count: CountSpec,
    workload_id: str,
    choose: Callable[[set[str]], list[str]],
    *,
    max_memory_ratio: float,
    on_skip: Callable[[str, str], None],
) -> list[str]:
    """The settings ``choose(excluded)`` names once none of them is over the memory
    budget in a native memory probe (``gctune tune``'s: peak RSS of whole cycles, over
    default's). The counts tier measures no memory: without this, settings whose memory
    grows or sits over the budget took every place of the confirmation (tree_parents:
    disabled, t20000-50-100 and its freeze twin, 1.48x-7x default's peak RSS in time),
    and a setting within it that time finds 11 % faster was never timed. A probe that
    ends before its full collections reads a lower bound: such a setting stays a
    candidate, and the time tier judges its memory."""
    by_id = dict(zip(workload_ids(list(count.workloads)), count.workloads))
    workload = by_id[workload_id]
    excluded: set[str] = set()
    fine: set[str] = set()
    with lent_to(count.python) as env:
        thresholds = [int(v) for v in interpreter_of(count.python, env)["default_thresholds"]]
        base = probe_memory(
            count.python, workload, "default", size=count.size, max_steps=DEFAULT_PROBE_STEPS,
            kill_bytes=0, env=env, timeout=PROBE_LIMIT_S,
        )  # fmt: skip
        if base.cycle_steps is None or base.peak_rss_bytes <= 0:
            return choose(excluded)  # no reference: the time tier judges memory alone
        kill = int(base.peak_rss_bytes * max_memory_ratio * 1.05)
        while True:
            chosen = choose(excluded)
            unprobed = [s for s in chosen if s not in fine]
            if not unprobed:
                return chosen
            for setting in unprobed:
                probe = probe_memory(
                    count.python, workload, setting, size=count.size,
                    max_steps=probe_steps(base.cycle_steps, setting, thresholds),
                    kill_bytes=kill,
                    env=env, timeout=PROBE_LIMIT_S,
                )  # fmt: skip
                ratio = probe.peak_rss_bytes / base.peak_rss_bytes
                if probe.ended == "over-budget" or ratio > max_memory_ratio:
                    excluded.add(setting)
                    on_skip(setting, f"peak RSS {ratio:.2f}x default's in a native memory "
                            f"probe, over the {max_memory_ratio:g}x budget")  # fmt: skip
                else:
                    fine.add(setting)
