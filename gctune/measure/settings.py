"""What a GC setting is, how it is spelled, and the grids a sweep runs.

A setting is one of ``default``, ``disabled`` or thresholds ``T0[,T1[,T2]]``, optionally
followed by ``+freeze`` (``gc.collect()`` then ``gc.freeze()`` after the workload's setup).
``freeze`` alone means ``default+freeze``.

A threshold setting is always spelled in full: a missing ``T1`` or ``T2`` is 10, the value
every supported CPython starts with (:data:`gctune.measure.collector.DEFAULT_THRESHOLD12`), so
``50000`` and ``50000,10,10`` are one setting, applied as ``gc.set_threshold(50000, 10,
10)``, with one id, ``t50000-10-10``. Ids written before that (``t50000``) read as the
full setting: :func:`canonical_id` maps them, so old result files still match new ones.

``T0 = 0`` is refused rather than read as ``disabled``: ``gc.set_threshold(0)`` does stop
automatic collection, but one meaning should have one spelling in file names and tables.

This module is imported inside measured worker processes, so it must run on every
interpreter gctune supports (3.9+) and import nothing heavy.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from gctune.errors import UserError
from gctune.measure.collector import DEFAULT_THRESHOLD12

__all__ = [
    "FULL_GRID",
    "QUICK_GRID",
    "Setting",
    "THRESHOLD_MAX",
    "SettingError",
    "apply_setting",
    "canonical_id",
    "change_size",
    "grid_from_toml",
    "parse_setting",
    "parse_settings",
    "with_references",
]


class SettingError(UserError, ValueError):
    """A setting, grid or sweep file the user gave cannot be understood."""


@dataclass(frozen=True)
class Setting:
    """One GC configuration: the collector's mode, its thresholds, and whether to freeze.

    ``mode`` is ``"default"``, ``"disabled"`` or ``"thresholds"``; ``thresholds`` holds
    the three thresholds of the ``"thresholds"`` mode (given one or two, the rest are
    filled in from :data:`gctune.measure.collector.DEFAULT_THRESHOLD12`).
    """

    mode: str
    thresholds: tuple[int, ...] = ()
    freeze: bool = False

    def __post_init__(self) -> None:
        if self.mode == "thresholds" and 1 <= len(self.thresholds) < 3:
            full = self.thresholds + DEFAULT_THRESHOLD12[len(self.thresholds) - 1 :]
            object.__setattr__(self, "thresholds", full)

    @property
    def id(self) -> str:
        """Stable, readable id used in file names and tables: ``t50000-20-100+freeze``."""
        if self.mode == "thresholds":
            base = "t" + "-".join(str(t) for t in self.thresholds)
        else:
            base = self.mode
        return base + ("+freeze" if self.freeze else "")

    @property
    def spec(self) -> str:
        """The spelling a user would type for this setting: ``50000,20,100+freeze``."""
        if self.mode == "thresholds":
            base = ",".join(str(t) for t in self.thresholds)
        else:
            base = self.mode
        return base + ("+freeze" if self.freeze else "")

    def __str__(self) -> str:
        return self.id


DEFAULT = Setting("default")
DISABLED = Setting("disabled")

_INT = re.compile(r"^\d+$")
_ID = re.compile(r"^t(\d+(?:-\d+){0,2})$")
# What a user may have meant as a number: a single part spelled like this is read as a
# threshold (and refused as one), not as an unknown word.
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$")
# gc.set_threshold takes C ints: anything larger fails in every worker with OverflowError.
THRESHOLD_MAX = 2**31 - 1
_RANGE = f"thresholds go from 0 to {THRESHOLD_MAX} (a C int), threshold0 from 1"


def parse_setting(text: str) -> Setting:
    """Parse a setting spelled as a user types it, or as its id (``t700-10-10``)."""
    raw = text.strip()
    if not raw:
        raise SettingError("empty GC setting")
    base, plus, extra = raw.partition("+")
    freeze = False
    if plus:
        if extra.strip() != "freeze":
            raise SettingError(
                f"unknown GC setting modifier {extra.strip()!r} in {text!r} (only '+freeze')"
            )
        freeze = True
    base = base.strip().lower()
    if base in ("default", "disabled"):
        return Setting(base, (), freeze)
    if base == "freeze" and not plus:
        return Setting("default", (), True)
    id_match = _ID.match(base)
    parts = id_match.group(1).split("-") if id_match else [p.strip() for p in base.split(",")]
    if len(parts) > 3:
        raise SettingError(f"GC setting {text!r} has {len(parts)} thresholds; give 1 to 3")
    values = [_threshold(part, text, alone=len(parts) == 1) for part in parts]
    if values[0] == 0:
        raise SettingError(
            f"threshold0 = 0 in {text!r} turns automatic collection off: say 'disabled'"
        )
    return Setting("thresholds", tuple(values), freeze)


def canonical_id(setting_id: str) -> str:
    """The id ``setting_id`` has today: ``t50000`` (an id of older results) → ``t50000-10-10``.

    A string that is not a setting (a point file written by hand) is returned as it is.
    """
    try:
        return parse_setting(setting_id).id
    except SettingError:
        return setting_id


def change_size(setting_id: str, default: Sequence[int]) -> tuple[int, int, float, float]:
    """How far a setting is from the interpreter's default: disabled, freeze, threshold0,
    then threshold1 and threshold2 (log distances from ``default``'s thresholds)."""
    try:
        s = parse_setting(setting_id)
    except SettingError:
        return (3, 0, 0.0, 0.0)
    mine = list(s.thresholds) if s.thresholds else list(default)
    mine += list(default[len(mine) :])

    def far(i: int) -> float:
        return abs(math.log(max(mine[i], 1) / max(default[i], 1))) if i < len(default) else 0.0

    return (int(s.mode == "disabled"), int(s.freeze), far(0), far(1) + far(2))


def _threshold(part: str, text: str, *, alone: bool) -> int:
    """One threshold of the setting ``text``; ``-0`` is 0, anything else signed is refused."""
    digits = part[1:] if part.startswith("-") else part
    if len(text) > 40:  # keep the message one readable line
        text, part = text[:37] + "...", part[:37] + ("..." if len(part) > 37 else "")
    if not _INT.match(digits):
        if alone and not _NUMBER.match(part):
            raise SettingError(
                f"unknown GC setting {text!r}: use default, disabled, freeze, "
                "T0[,T1[,T2]], optionally with +freeze"
            )
        raise SettingError(f"GC threshold {part!r} in {text!r} is not a whole number; {_RANGE}")
    # compare as text first: int() refuses strings of 4,300 digits and more
    digits = digits.lstrip("0") or "0"
    value = int(digits) if len(digits) <= len(str(THRESHOLD_MAX)) else THRESHOLD_MAX + 1
    if part.startswith("-") and value:
        raise SettingError(f"GC threshold {part} in {text!r} is negative; {_RANGE}")
    if value > THRESHOLD_MAX:
        raise SettingError(f"GC threshold {part} in {text!r} is out of range: {_RANGE}")
    return value


def parse_settings(texts: list[str]) -> list[Setting]:
    """Parse several settings, dropping repeats while keeping the first-seen order."""
    out: list[Setting] = []
    for text in texts:
        setting = parse_setting(text)
        if setting not in out:
            out.append(setting)
    return out


def with_references(settings: list[Setting]) -> list[Setting]:
    """``default`` and ``disabled`` first (the reference and the floor), then the rest."""
    rest = [s for s in settings if s not in (DEFAULT, DISABLED)]
    return [DEFAULT, DISABLED, *rest]


# ~10x to ~100x the 3.11 default threshold0, with a few threshold1/2 values; freeze on its own.
QUICK_GRID: tuple[str, ...] = (
    "default",
    "disabled",
    "freeze",
    "7000,10,10",
    "20000,10,10",
    "20000,50,100",
    "20000,50,100+freeze",
    "70000,20,100+freeze",
)

FULL_GRID: tuple[str, ...] = tuple(
    ["default", "disabled", "freeze"]
    + [
        f"{t0},{t1},{t2}"
        for t0 in (2000, 7000, 20000, 70000)
        for t1 in (10, 50)
        for t2 in (10, 100)
    ]
    + ["20000,10,10+freeze", "70000,50,100+freeze"]
)


def grid_from_toml(path: Path) -> list[Setting]:
    """Read a sweep file's ``settings = [...]`` list.

    The file may also carry ``[grid] threshold0 = [...]``, ``threshold1 = [...]``,
    ``threshold2 = [...]`` and ``freeze = [false, true]``, whose product is added.
    Every error names the file and, where it can be found, the line.
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised only on 3.9/3.10
        import tomli as tomllib
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingError(f"sweep file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingError(f"cannot read sweep file {path}: {exc}") from None
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise SettingError(f"{path}: {exc}") from None  # tomllib's message gives the line

    def where(*needles: str) -> str:
        return f"{path}{_line_of(source, needles)}"

    texts: list[str] = []
    listed = data.get("settings", [])
    if not isinstance(listed, list) or not all(isinstance(s, str) for s in listed):
        raise SettingError(f"{where('settings')}: 'settings' must be a list of strings")
    texts.extend(listed)
    grid = data.get("grid")
    if grid is not None:
        if not isinstance(grid, dict):
            raise SettingError(f"{where('grid')}: [grid] must be a table")
        unknown = sorted(set(grid) - {"threshold0", "threshold1", "threshold2", "freeze"})
        if unknown:
            raise SettingError(f"{where(*unknown)}: unknown key(s) in [grid]: {', '.join(unknown)}")
        t0s = _int_list(where, grid, "threshold0", None)
        t1s = _int_list(where, grid, "threshold1", 10)
        t2s = _int_list(where, grid, "threshold2", 10)
        freezes = grid.get("freeze", [False])
        if not isinstance(freezes, list) or not all(isinstance(f, bool) for f in freezes):
            raise SettingError(f"{where('freeze')}: [grid] freeze must be a list of true/false")
        for t0 in t0s:
            for t1 in t1s:
                for t2 in t2s:
                    for fr in freezes:
                        texts.append(f"{t0},{t1},{t2}" + ("+freeze" if fr else ""))
    if not texts:
        raise SettingError(f"{path}: no settings (give settings = [...] or a [grid] table)")
    for text in texts:
        try:
            parse_setting(text)
        except SettingError as exc:
            # a listed setting is found by its quoted text, a generated one by its keys
            raise SettingError(
                f"{where(repr(text), _quoted(text), 'threshold0', 'grid')}: {exc}"
            ) from None
    return parse_settings(texts)


def _quoted(text: str) -> str:
    """``text`` in double quotes, as TOML's basic strings spell it."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _line_of(source: str, needles: tuple[str, ...]) -> str:
    """``", line N"`` for the first of ``needles`` found in ``source``, else ``""``."""
    lines = source.splitlines()
    for needle in needles:
        for number, line in enumerate(lines, start=1):
            if needle in line.split("#", 1)[0]:
                return f", line {number}"
    return ""


def _int_list(
    where: Callable[..., str], grid: dict[str, object], key: str, fallback: Optional[int]
) -> list[int]:
    value = grid.get(key)
    if value is None:
        if fallback is None:
            raise SettingError(f"{where('grid')}: [grid] needs {key} = [...]")
        return [fallback]
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise SettingError(f"{where(key)}: [grid] {key} must be a list of whole numbers")
    return list(value)


def apply_setting(setting: Setting) -> dict[str, object]:
    """Apply ``setting`` to this interpreter's collector; return what is now in force.

    Called in the measured worker after the workload's setup. Every setting starts from a
    collected heap, so that freeze (which must collect first) is not the only one that
    begins without setup's garbage. Returns ``thresholds`` (in force), ``enabled``,
    ``frozen`` (objects in the permanent generation) and ``frozen_before`` (the count the
    interpreter had before gctune froze anything; not always 0 at start-up).
    """
    # One implementation, in the probe: a measured program's start-up applies settings
    # without importing this module (see gctune.measure.collector.setting_from_id).
    from gctune.measure.collector import apply_gc

    return apply_gc(setting.mode, setting.thresholds, setting.freeze)
