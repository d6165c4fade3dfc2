"""How numbers read in tables, warnings and reports: one spelling per kind of quantity."""

from __future__ import annotations

from typing import Optional

__all__ = ["fmt_bytes", "fmt_interval", "fmt_ns", "fmt_pct", "fmt_ratio", "fmt_size"]


def _missing(x: Optional[float]) -> bool:
    return x is None or x != x


def fmt_ns(ns: Optional[float]) -> str:
    """A duration in nanoseconds, in the unit that reads best."""
    if ns is None or _missing(ns):
        return "-"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.0f} ns"


def fmt_bytes(n: Optional[float]) -> str:
    """A size in bytes as MiB."""
    return "-" if n is None or _missing(n) else f"{n / 1024**2:.1f} MiB"


def fmt_size(n: Optional[float]) -> str:
    """A size or rate in bytes in the binary unit that reads best: ``12 KiB``, ``3.4 MiB``."""
    if n is None or _missing(n):
        return "-"
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if abs(n) >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.0f} B"


def fmt_ratio(r: Optional[float]) -> str:
    """A ratio to a reference setting: ``0.82x``."""
    return "-" if r is None or _missing(r) else f"{r:.2f}x"


def fmt_interval(low: Optional[float], high: Optional[float]) -> str:
    """A ratio's 95% interval: ``[0.80, 0.84]``."""
    if low is None or high is None or _missing(low) or _missing(high):
        return "-"
    return f"[{low:.2f}, {high:.2f}]"


def fmt_pct(x: Optional[float], *, signed: bool = False) -> str:
    """A fraction as a percentage: ``12.5%`` (``+12.5%`` when ``signed``)."""
    if x is None or _missing(x):
        return "-"
    return f"{x * 100:+.1f}%" if signed else f"{x * 100:.1f}%"


def every_chunk_mark(basis: Optional[str]) -> str:
    """``°`` after a time ratio taken over every chunk, where the table's other ratios are
    over the chunks run at full speed (:mod:`gctune.analysis.time_basis`); else nothing."""
    return "°" if basis is not None and basis.startswith("every chunk") else ""
