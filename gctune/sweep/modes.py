"""What each measuring mode means, in one place: ``--quick``, ``--fast``, ``--normal`` and
``--rigorous`` set the rounds (fewest and most; racing stops settings in between), the
time one span may measure, the decision rounds after the last round, and the pyperf
options of a ``--command`` program's points. The CLI's help is written from it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MODES", "Mode", "mode"]


@dataclass(frozen=True)
class Mode:
    """One measuring mode."""

    name: str
    min_rounds: int
    max_rounds: int
    span_budget_s: float
    """Seconds one span of a point may measure (``--max-point-time``)."""
    decide_rounds: int
    """Most extra rounds of default and a close candidate (see :mod:`gctune.sweep.decide`)."""
    pyperf_args: tuple[str, ...]
    """pyperf's options for a ``--command`` program's points (explicit counts win)."""
    note: str = ""

    def help(self) -> str:
        """The mode's line in ``gctune sweep --help``."""
        if self.min_rounds == self.max_rounds:
            rounds = f"{self.max_rounds} rounds"
        else:
            rounds = f"{self.min_rounds} to {self.max_rounds} rounds with racing"
        note = f" ({self.note})" if self.note else ""
        return f"{rounds}, spans of up to {self.span_budget_s:g} s{note}."


MODES: dict[str, Mode] = {
    m.name: m
    for m in (
        Mode("quick", 3, 3, 1.0, 3, ("--processes", "6", "--values", "3"),
             "the quick grid's default"),
        # fast: the CI baseline, measured as it always was (no decision rounds)
        Mode("fast", 3, 3, 0.8, 0, ("--fast",)),
        Mode("normal", 3, 8, 3.0, 4, ()),
        Mode("rigorous", 5, 15, 6.0, 4, ("--rigorous",)),
    )
}  # fmt: skip


def mode(name: str) -> Mode:
    """The mode called ``name`` (``normal`` for a name of no mode, as older manifests may
    hold)."""
    return MODES.get(name, MODES["normal"])
