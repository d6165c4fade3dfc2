"""A clock for pytest-benchmark that advances only by time measured in another process.

pytest-benchmark times ``timer(); target(); timer()`` in its own process. The suite's
steps run in fresh processes (see ``one_process.py``), so the round's target advances
this clock by the time per step that process measured, and pytest-benchmark records
exactly that. Selected per test with ``@pytest.mark.benchmark(timer=external_clock)``.
"""

from __future__ import annotations

__all__ = ["advance", "external_clock"]

_now = 0.0


def external_clock() -> float:
    """Seconds measured elsewhere so far (only differences are meaningful)."""
    return _now


def advance(seconds: float) -> None:
    """Move the clock on by ``seconds`` measured in a benchmark's process."""
    global _now
    if seconds < 0:
        raise ValueError("a measured duration cannot be negative")
    _now += seconds
