"""The collector setting itself, as a measured interpreter applies it: a setting id read
without imports (:func:`setting_from_id`) and the calls that put the collector in it
(:func:`apply_gc`).

Imports nothing of gctune: it runs at the start-up of every measured process, and
:mod:`gctune.measure.settings` (every spelling of a setting) builds on it."""

from __future__ import annotations

import gc
from typing import Any

# threshold1 and threshold2 as every supported CPython starts: 10 and 10 on 3.9-3.13,
# 3.14.5+ and 3.15; the incremental collector of 3.14.0-3.14.4 starts at (2000, 10, 0)
# and ignores threshold2. A threshold setting that leaves them out means these, so
# ``50000`` and ``50000,10,10`` are one setting with one id (see gctune.measure.settings).
DEFAULT_THRESHOLD12 = (10, 10)


def setting_from_id(setting_id: str) -> tuple[str, tuple[int, ...], bool]:
    """``(mode, thresholds, freeze)`` of a setting id such as ``t50000-20-100+freeze``.

    Ids only (as gctune writes them), with no imports: this runs at the start-up of
    every measured program process, where :mod:`gctune.measure.settings` and its imports
    (dataclasses, re, pathlib) would be charged to each run. Raises ``ValueError`` for
    anything else; :func:`gctune.measure.settings.parse_setting` reads every spelling.
    """
    base, plus, extra = setting_id.partition("+")
    if plus and extra != "freeze":
        raise ValueError(f"not a setting id: {setting_id!r}")
    if base in ("default", "disabled"):
        return base, (), bool(plus)
    parts = base[1:].split("-") if base.startswith("t") else []
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() and p.isascii() for p in parts):
        raise ValueError(f"not a setting id: {setting_id!r}")
    thresholds = tuple(int(p) for p in parts)
    if thresholds[0] == 0 or str(thresholds[0]) != parts[0]:
        raise ValueError(f"not a setting id: {setting_id!r}")
    # ids written before settings were spelled in full (``t50000``) mean the same
    return "thresholds", thresholds + DEFAULT_THRESHOLD12[len(thresholds) - 1 :], bool(plus)


def apply_gc(mode: str, thresholds: tuple[int, ...], freeze: bool) -> dict[str, Any]:
    """Put this interpreter's collector in ``mode``; the body of ``apply_setting``.

    Every setting starts from a collected heap, so that freeze (which must collect
    first) is not the only one that begins without setup's garbage. Returns
    ``thresholds`` (in force), ``enabled``, ``frozen`` (objects in the permanent
    generation) and ``frozen_before`` (the count before gctune froze anything; not
    always 0 at start-up).
    """
    frozen_before = gc.get_freeze_count() if hasattr(gc, "get_freeze_count") else 0
    gc.collect()
    if freeze:
        gc.freeze()
    if mode == "thresholds":
        gc.set_threshold(*thresholds)
    if mode == "disabled":
        gc.disable()
    else:
        gc.enable()
    return {
        "thresholds": list(gc.get_threshold()),
        "enabled": gc.isenabled(),
        "frozen": gc.get_freeze_count() if hasattr(gc, "get_freeze_count") else 0,
        "frozen_before": frozen_before,
    }
