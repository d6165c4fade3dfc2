"""``gctune verify``: an independent long check of one setting against default.

A verification is a sweep of its own — ``default`` and the setting, interleaved in every
round, no racing, longer spans (fresh processes, whole collector cycles, memory
trajectories) — ending in a verdict:

* **confirmed**: the setting is at steady state (or collects nothing), its memory is
  bounded (or, with recycling, stays within the budget), and the whole 95% interval of
  its round-paired time ratio to default lies below 1;
* **unsafe**: its memory grows (without recycling), or a recycled worker's memory went
  over the budget;
* **not confirmed**: anything else, with why.

With ``recycle_steps`` every span of the setting runs exactly that many steps: one
recycled worker's whole life, so its peak memory is what recycling keeps it to; its
start-up cost, spread over those steps, is added to each step's time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from gctune.analysis.fmt import fmt_bytes, fmt_interval, fmt_ratio, fmt_size
from gctune.analysis.intervals import Change
from gctune.analysis.recycle import recycled_change, restart_seconds
from gctune.analysis.stats import PointStats, workload_stats
from gctune.analysis.time_basis import TimeChange, time_change
from gctune.store.results import Point

__all__ = ["VERIFY_ROUNDS", "VERIFY_SPAN_S", "Verdict", "verdict"]

VERIFY_ROUNDS = 6
VERIFY_SPAN_S = 3.0


@dataclass(frozen=True)
class Verdict:
    """The outcome of a verification: ``status`` is confirmed, not confirmed or unsafe."""

    workload: str
    setting: str
    status: str
    why: str
    change: Optional[Change]
    stats: PointStats
    recycle_steps: Optional[int] = None

    @property
    def exit_code(self) -> int:
        """0 when confirmed, else 1 (for scripts and CI)."""
        return 0 if self.status == "confirmed" else 1

    def lines(self) -> list[str]:
        """The verdict in words."""
        c = self.change
        ratio = f"{fmt_ratio(c.ratio)} {fmt_interval(c.low, c.high)}" if c else "-"
        if isinstance(c, TimeChange):
            ratio += f" ({c.basis_text()})"
        s = self.stats
        g = s.growth
        memory = g.status if g else "unknown"
        if g is not None and g.status == "growing" and g.bytes_per_step:
            memory += f" ({fmt_size(g.bytes_per_step)} per step)"
        return [
            f"{self.workload} · {self.setting}: {self.status.upper()}: {self.why}",
            f"  time vs default, round-paired over {s.rounds} rounds: {ratio}",
            f"  steady state: {s.steady}; memory: {memory}; peak RSS "
            f"{fmt_bytes(s.peak_rss_bytes)} ({fmt_ratio(s.rss_ratio)} default's)",
        ]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (``verify --json``)."""
        c = self.change
        g = self.stats.growth
        return {
            "workload": self.workload,
            "setting": self.setting,
            "verdict": self.status,
            "why": self.why,
            "change": None
            if c is None
            else {
                "ratio": c.ratio,
                "low": c.low,
                "high": c.high,
                # recycled: round-paired over every chunk, with the restart cost added
                "basis": c.basis_text() if isinstance(c, TimeChange) else "every chunk",
            },
            "rounds": self.stats.rounds,
            "steady": self.stats.steady,
            "memory": {
                "status": g.status if g else "unknown",
                "bytes_per_step": g.bytes_per_step if g else None,
                "peak_rss_bytes": self.stats.peak_rss_bytes,
            },
            "recycle_steps": self.recycle_steps,
        }


def verdict(
    points: list[Point],
    setting: str,
    *,
    max_memory_ratio: float,
    recycle_steps: Optional[int] = None,
) -> Verdict:
    """The verdict on ``setting`` from a verification's ``points`` (default and it)."""
    by_setting = {p.setting: p for p in points}
    (workload,) = {p.workload for p in points}
    stats = {s.setting: s for s in next(iter(workload_stats(points).values()))}
    s, d = stats[setting], stats["default"]
    default, point = by_setting["default"], by_setting[setting]

    def made(status: str, why: str, change: Optional[Change] = None) -> Verdict:
        return Verdict(workload, setting, status, why, change, s, recycle_steps)

    if not s.ok or not d.ok:
        failed = s if not s.ok else d
        return made("not confirmed", f"{failed.setting} failed: {failed.reason}")
    budget = max_memory_ratio * d.peak_rss_bytes
    if recycle_steps is not None:
        change = recycled_change(default, point, recycle_steps, restart_seconds(point) or 0.0)
        if s.peak_rss_bytes > budget:
            return made(
                "unsafe",
                f"recycled every {recycle_steps:,} steps, a worker still reached "
                f"{fmt_bytes(s.peak_rss_bytes)}, over the budget ({fmt_bytes(budget)})",
                change,
            )
    else:
        change = time_change(default, point)
        g = s.growth
        if g is not None and g.status == "growing":
            rate = f"{fmt_size(g.bytes_per_step)} per step" if g.bytes_per_step else "growing"
            if g.few_cycles:
                return made(
                    "not confirmed",
                    f"memory rose ({rate}) over spans of {g.fulls_words}: too few to tell "
                    "growth from the heap filling its first cycles",
                    change,
                )
            return made("unsafe", f"memory grows at steady state ({rate})", change)
        if s.steady == "not steady":
            return made(
                "not confirmed",
                "not at steady state: its spans saw fewer than 2 full collections "
                "(measure longer with --max-point-time)",
                change,
            )
    if change is None:
        return made("not confirmed", "too few rounds to compare")
    if change.high < 1.0:
        return made(
            "confirmed", f"faster than default: {fmt_ratio(change.ratio)} of its time", change
        )
    if change.low > 1.0:
        return made("not confirmed", "slower than default", change)
    return made("not confirmed", "no difference from default beyond noise", change)
