"""What each field of a result file may hold; :mod:`gctune.store.results` checks every file it
reads.

A file that is valid JSON can still hold values no measurement produces: an empty list of
timings, NaN or infinite times, zero or negative memory, counts that are not whole
numbers, histogram buckets beyond any duration. Statistics over them fail deep inside
analysis (a division by zero, ``statistics`` refusing a float NaN), far from the file
that caused it. Each check here raises ``ValueError`` naming the field
(``runs[2].values[0]``) and what it should hold; the reader adds the file's name.

The rules follow what the probe and the runner write: times and memory are positive,
counts are whole and not negative, thresholds fit a C int (``gc.set_threshold`` takes
C ints). Checks are on the parsed JSON, before any value is converted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "INT64_MAX",
    "check_histogram",
    "check_manifest_fields",
    "check_point_fields",
    "check_run_fields",
    "check_spec_fields",
]

# 1.02**2300 ns is about 6e19 ns (1,900 years): no collection lasts longer, and every
# bucket index a probe writes is within 0..2300 (a duration is at least 1 ns).
MAX_BUCKET = 2300
C_INT_MAX = 2**31 - 1
# Counts, nanoseconds and bytes are 64-bit counters where they are measured.
INT64_MAX = 2**63 - 1
# Generations: 0..2, a few to spare for collectors to come.
MAX_GENERATION = 9
# A setting's id (gctune.measure.settings.Setting.id); the range of thresholds is not checked, so
# that a sweep stored before thresholds were range-checked stays readable.
# The gc functions whose calls a span counts (gctune.measure.gcwatch.WATCHED)
GC_FUNCTIONS = ("collect", "set_threshold", "disable", "enable", "freeze", "unfreeze")
SETTING_ID = re.compile(r"(default|disabled|t[0-9]+(-[0-9]+){0,2})(\+freeze)?")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _bad(field: str, value: Any, expected: str) -> ValueError:
    return ValueError(f"{field} is {_show(value)}, not {expected}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    try:
        return _is_number(value) and math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def _count(field: str, value: Any) -> None:
    if not (_is_int(value) and 0 <= value <= INT64_MAX):
        raise _bad(field, value, "a whole number ≥ 0 (64-bit)")


def _positive_int(field: str, value: Any) -> None:
    if not (_is_int(value) and 0 < value <= INT64_MAX):
        raise _bad(field, value, "a whole number > 0 (64-bit)")


def _optional(check: Any, field: str, value: Any) -> None:
    if value is not None:
        check(field, value)


def _text(field: str, value: Any) -> None:
    if not (isinstance(value, str) and value):
        raise _bad(field, value, "a non-empty string")


def _any_text(field: str, value: Any) -> None:
    if not isinstance(value, str):
        raise _bad(field, value, "a string")


def _positive_seconds(field: str, value: Any) -> None:
    if not (_finite(value) and value > 0):
        raise _bad(field, value, "a finite number of seconds > 0")


def _mapping(field: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _bad(field, value, "a JSON object")
    return value


def _generations(field: str, value: Any) -> Mapping[str, Any]:
    """A JSON object keyed by generation numbers ("0", "1", ...)."""
    table = _mapping(field, value)
    for key in table:
        if not (key.isascii() and key.isdigit() and int(key) <= MAX_GENERATION):
            raise ValueError(f"{field} has key {_show(key)}, not a generation 0-{MAX_GENERATION}")
    return table


def check_histogram(field: str, value: Any) -> None:
    """A histogram as :meth:`gctune.measure.histogram.Histogram.to_json` writes it (durations,
    ns)."""
    hist = _mapping(field, value)
    for key in ("count", "sum", "min", "max", "zeros"):
        _count(f"{field}.{key}", hist.get(key))
    if hist["count"] and hist["min"] > hist["max"]:
        raise ValueError(f"{field}.min {hist['min']} is above its max {hist['max']}")
    buckets = _mapping(f"{field}.buckets", hist.get("buckets"))
    for key, n in buckets.items():
        if not (key.isascii() and key.isdigit() and int(key) <= MAX_BUCKET):
            raise ValueError(f"{field}.buckets has index {_show(key)}, not 0-{MAX_BUCKET}")
        _count(f"{field}.buckets[{key}]", n)
    if sum(buckets.values()) + hist["zeros"] != hist["count"]:
        raise ValueError(f"{field}: bucket counts do not add up to its count")


def _times(field: str, values: Any) -> None:
    """A non-empty list of positive, finite durations in seconds."""
    if not isinstance(values, list) or not values:
        raise _bad(field, values, "a non-empty list of times")
    for i, v in enumerate(values):
        _positive_seconds(f"{field}[{i}]", v)


def check_run_fields(field: str, run: Any) -> None:
    """One worker run's probe data (``runs[i]`` of a point file)."""
    data = _mapping(field, run)
    _times(f"{field}.values", data.get("values"))
    _positive_int(f"{field}.wall_ns", data.get("wall_ns"))
    _optional(_positive_int, f"{field}.cpu_ns", data.get("cpu_ns"))
    _positive_int(f"{field}.peak_rss_bytes", data.get("peak_rss_bytes"))
    for gen, hist in _generations(f"{field}.pauses", data.get("pauses")).items():
        check_histogram(f"{field}.pauses[{gen}]", hist)
    for key in ("collected", "uncollectable"):
        for gen, n in _generations(f"{field}.{key}", data.get(key)).items():
            _count(f"{field}.{key}[{gen}]", n)
    _optional(check_histogram, f"{field}.requests", data.get("requests"))
    thresholds = data.get("thresholds")
    if not isinstance(thresholds, list) or not 1 <= len(thresholds) <= 3:
        raise _bad(f"{field}.thresholds", thresholds, "a list of 1 to 3 thresholds")
    for i, t in enumerate(thresholds):
        if not (_is_int(t) and 0 <= t <= C_INT_MAX):
            raise _bad(f"{field}.thresholds[{i}]", t, f"a whole number 0-{C_INT_MAX}")
    if not isinstance(data.get("gc_enabled"), bool):
        raise _bad(f"{field}.gc_enabled", data.get("gc_enabled"), "true or false")
    _count(f"{field}.frozen", data.get("frozen"))
    _optional(_check_reference, f"{field}.reference", data.get("reference"))
    _optional(_check_gc_calls, f"{field}.gc_calls", data.get("gc_calls"))


def _check_gc_calls(field: str, calls: Any) -> None:
    """The program's own calls to gc functions: ``{"collect": 3, ...}`` (see gcwatch)."""
    for name, n in _mapping(field, calls).items():
        if name not in GC_FUNCTIONS:
            raise ValueError(f"{field} has key {_show(name)}, not one of {', '.join(GC_FUNCTIONS)}")
        _count(f"{field}[{name}]", n)


def _check_reference(field: str, reference: Any) -> None:
    """A span's speed-reference record (see :mod:`gctune.measure.reference`)."""
    data = _mapping(field, reference)
    _times(f"{field}.seconds", data.get("seconds"))
    _positive_int(f"{field}.ops", data.get("ops"))
    _text(f"{field}.python", data.get("python"))


def check_point_fields(section: Mapping[str, Any]) -> None:
    """The ``gctune`` section of a point file, its runs included."""
    for key in ("workload", "setting"):
        _text(key, section.get(key))
    _optional(_any_text, "reason", section.get("reason"))
    _optional(_any_text, "started", section.get("started"))
    for key in ("size", "loops"):
        _optional(_positive_int, key, section.get(key))
    _optional(_mapping, "interpreter", section.get("interpreter"))
    duration = section.get("duration_s")
    if duration is not None and not (_finite(duration) and duration >= 0):
        raise _bad("duration_s", duration, "a finite number of seconds ≥ 0")
    runs = section.get("runs")
    if not isinstance(runs, list):
        raise _bad("runs", runs, "a list")
    for i, run in enumerate(runs):
        check_run_fields(f"runs[{i}]", run)


def check_manifest_fields(section: Mapping[str, Any]) -> None:
    """The ``gctune`` section of a manifest: the sweep's spec and environment, where given.

    Missing keys are left to the reader, which names them.
    """
    if "spec" in section:
        check_spec_fields(_mapping("spec", section["spec"]))
    if "environment" in section:
        env = _mapping("environment", section["environment"])
        _optional(_positive_int, "environment.cpu_count", env.get("cpu_count"))
        # what names the machine (gctune.store.machine); absent or null in older manifests
        for key in ("machine", "hostname", "cpu_model"):
            _optional(_any_text, f"environment.{key}", env.get(key))
        if env.get("python") is not None:
            python = _mapping("environment.python", env["python"])
            for key in ("default_thresholds", "version_info"):
                listed = python.get(key)
                if listed is not None and not (
                    isinstance(listed, list) and all(_is_int(v) for v in listed)
                ):
                    raise _bad(f"environment.python.{key}", listed, "a list of whole numbers")


def check_spec_fields(spec: Mapping[str, Any], *, resume: bool = False) -> None:
    """A sweep's stored spec: types of the fields present.

    With ``resume``, also what ``--resume`` needs to measure from it: settings spelled as
    setting ids. Readers do not need that (a hand-made sweep may name its settings freely).
    """
    for key in ("workloads", "settings"):
        if key in spec and not isinstance(spec[key], list):
            raise _bad(f"spec.{key}", spec[key], "a list")
    for i, workload in enumerate(spec.get("workloads") or []):
        _text(f"spec.workloads[{i}]", workload)
    for i, setting in enumerate(spec.get("settings") or []):
        _text(f"spec.settings[{i}]", setting)
        if resume and not SETTING_ID.fullmatch(setting):
            raise _bad(f"spec.settings[{i}]", setting, "a setting id such as t700-10-10")
    for key in ("mode", "python"):
        _optional(_text, f"spec.{key}", spec.get(key))
    for key in ("size", "processes", "values", "max_memory"):
        _optional(_positive_int, f"spec.{key}", spec.get(key))
    for key in ("min_time", "timeout"):
        _optional(_positive_seconds, f"spec.{key}", spec.get(key))
    _optional(_any_text, "spec.cwd", spec.get("cwd"))
    command = spec.get("command")
    if command is not None and not (
        isinstance(command, list) and command and all(isinstance(a, str) for a in command)
    ):
        raise _bad("spec.command", command, "a list of strings")
