"""The probe: what gctune measures inside a measured process.

It times every collection from the ``start`` to the ``stop`` callback of ``gc.callbacks``
(``perf_counter_ns``), by generation, and counts collections, objects collected and
uncollectable objects per generation. It only records while a measured span is open, so
its pause total and the span's wall time describe the same work. Memory stays bounded
(see :mod:`gctune.histogram`).

``GCHook`` is the probe as a pyperf hook (entry point ``gctune`` in group ``pyperf.hook``):
pyperf opens a span around each value it measures and calls ``teardown`` at the end of
each worker, where the probe's snapshot is stored in the run's metadata under
``gctune_probe`` (a one-line JSON string; pyperf metadata values must be scalars).

This module is imported inside measured workers: 3.9+, standard library only.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import sys
import sysconfig
import time
from typing import Any, Optional

from gctune.histogram import Histogram

__all__ = [
    "METADATA_KEY",
    "GCHook",
    "Probe",
    "gc_kind",
    "interpreter_info",
    "peak_rss_bytes",
    "record_request",
]

METADATA_KEY = "gctune_probe"
SETTING_ENV = "GCTUNE_SETTING"

_active: Optional[Probe] = None


def record_request(duration_ns: int) -> None:
    """Record one request's latency (nanoseconds) in the active probe; no-op without one.

    Request-shaped workloads call this once per request they serve.
    """
    probe = _active
    if probe is not None and probe.measuring:
        probe.requests.add(duration_ns)


class Probe:
    """Collects GC pauses and counts in this process between ``start()`` and ``stop()``."""

    def __init__(self) -> None:
        self.pauses: dict[int, Histogram] = {}
        self.collected: dict[int, int] = {}
        self.uncollectable: dict[int, int] = {}
        self.requests = Histogram()
        self.wall_ns = 0
        self.cpu_ns = 0
        self.spans = 0
        self.measuring = False
        self._span_start = 0
        self._cpu_start = 0
        self._gc_start: Optional[int] = None
        self._installed = False

    def install(self) -> None:
        """Register the GC callback and make this the probe that ``record_request`` feeds."""
        global _active
        if not self._installed:
            gc.callbacks.append(self._callback)
            self._installed = True
        _active = self

    def close(self) -> None:
        """Unregister the GC callback."""
        global _active
        if self._installed:
            gc.callbacks.remove(self._callback)
            self._installed = False
        if _active is self:
            _active = None

    def start(self) -> None:
        """Open a measured span."""
        self.measuring = True
        self._cpu_start = time.process_time_ns()
        self._span_start = time.perf_counter_ns()

    def stop(self) -> None:
        """Close the measured span; its wall and CPU time are added to ``wall_ns``, ``cpu_ns``.

        CPU time is what a busy machine disturbs least: time spent waiting for a core
        counts in wall time only.
        """
        self.wall_ns += time.perf_counter_ns() - self._span_start
        self.cpu_ns += time.process_time_ns() - self._cpu_start
        self.spans += 1
        self.measuring = False
        self._gc_start = None

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        # Kept short: it runs inside every collection of the measured process.
        if phase == "start":
            self._gc_start = time.perf_counter_ns() if self.measuring else None
            return
        started = self._gc_start
        if started is None:
            return
        duration = time.perf_counter_ns() - started
        self._gc_start = None
        generation = info["generation"]
        hist = self.pauses.get(generation)
        if hist is None:
            hist = self.pauses[generation] = Histogram()
            self.collected[generation] = 0
            self.uncollectable[generation] = 0
        hist.add(duration)
        self.collected[generation] += info.get("collected", 0)
        self.uncollectable[generation] += info.get("uncollectable", 0)

    def snapshot(self) -> dict[str, Any]:
        """Everything measured so far, JSON-ready. Durations in ns, memory in bytes."""
        return {
            "wall_ns": self.wall_ns,
            "cpu_ns": self.cpu_ns,
            "spans": self.spans,
            "pauses": {str(g): h.to_json() for g, h in sorted(self.pauses.items())},
            "collected": {str(g): n for g, n in sorted(self.collected.items())},
            "uncollectable": {str(g): n for g, n in sorted(self.uncollectable.items())},
            "requests": self.requests.to_json() if self.requests.count else None,
            "peak_rss_bytes": peak_rss_bytes(),
            "thresholds": list(gc.get_threshold()),
            "gc_enabled": gc.isenabled(),
            "frozen": gc.get_freeze_count() if hasattr(gc, "get_freeze_count") else 0,
        }


def peak_rss_bytes() -> int:
    """Peak resident set size of this process in bytes (VmHWM, else ru_maxrss)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is KiB on Linux, bytes on macOS.
    return int(peak if sys.platform == "darwin" else peak * 1024)


def gc_kind() -> str:
    """``free-threaded``, ``incremental`` (3.14.0–3.14.4) or ``generational``."""
    if sysconfig.get_config_var("Py_GIL_DISABLED"):
        return "free-threaded"
    if sys.version_info[:2] == (3, 14) and sys.version_info[2] <= 4:
        return "incremental"
    return "generational"


def interpreter_info() -> dict[str, Any]:
    """Version, implementation, build and GC kind of this interpreter."""
    return {
        "version": platform.python_version(),
        "version_info": list(sys.version_info[:3]),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "gc_kind": gc_kind(),
        "default_thresholds": list(gc.get_threshold()),
    }


class GCHook:
    """pyperf hook: ``--hook gctune`` adds the probe's metrics to each run's metadata.

    Used by gctune's own point script and by any pyperf benchmark. When the environment
    variable ``GCTUNE_SETTING`` holds a setting (``50000,20,100+freeze``), it is applied
    once per process, at the first hook (the benchmark's setup has run by then).
    """

    _applied: Optional[dict[str, Any]] = None

    def __init__(self) -> None:
        spec = os.environ.get(SETTING_ENV)
        if spec and GCHook._applied is None:
            from gctune.settings import apply_setting, parse_setting

            GCHook._applied = apply_setting(parse_setting(spec))
            GCHook._applied["setting"] = parse_setting(spec).id
        self.probe = Probe()
        self.probe.install()

    def __enter__(self) -> None:
        self.probe.start()

    def __exit__(self, *exc: object) -> None:
        self.probe.stop()

    def teardown(self, metadata: dict[str, Any]) -> None:
        """Store the snapshot as one JSON line under ``gctune_probe``; unregister."""
        self.probe.close()
        snap = self.probe.snapshot()
        if GCHook._applied is not None:
            snap["applied"] = GCHook._applied
            metadata["gctune_setting"] = GCHook._applied["setting"]
        metadata[METADATA_KEY] = json.dumps(snap, separators=(",", ":"), sort_keys=True)
        summary_gc = sum(h["count"] for h in snap["pauses"].values())
        metadata["gc_collections"] = summary_gc
        metadata["gc_pause_total_s"] = sum(h["sum"] for h in snap["pauses"].values()) / 1e9
