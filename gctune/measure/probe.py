"""The probe: what gctune measures inside a measured process.

It times every collection from the ``start`` to the ``stop`` callback of ``gc.callbacks``
(``perf_counter_ns``), by generation, and counts collections, objects collected and
uncollectable objects per generation. It only records while a measured span is open, so
its pause total and the span's wall time describe the same work. Memory stays bounded
(see :mod:`gctune.measure.histogram`).

``GCHook`` is the probe as a pyperf hook (entry point ``gctune`` in group ``pyperf.hook``):
pyperf opens a span around each value it measures and calls ``teardown`` at the end of
each worker, where the probe's snapshot is stored in the run's metadata under
``gctune_probe`` (a one-line JSON string; pyperf metadata values must be scalars).

Where the interpreter reports each collection's own duration (``info["duration"]``,
seconds, since 3.15, gh-140638), the probe records it beside its own pause, as an
independent check of the probe's timing (see :mod:`gctune.analysis.agreement`). CPython times
less than the probe: from after the ``start`` callbacks to before the legacy
finalizers and, in a full collection, the clearing of free lists; the probe adds
those and the callbacks' own cost. Elsewhere only the probe's timing is recorded.

``start_program_probe`` is the probe for a whole process: gctune's ``sitecustomize``
(``gctune/measure/startup/``) calls it at the start-up of each Python process of a program run
with ``--command``; it writes one snapshot file per process at exit.

This module is imported inside measured workers: 3.9+, standard library only.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from typing import Any, Callable, Optional

from gctune.measure.collector import DEFAULT_THRESHOLD12, apply_gc, setting_from_id
from gctune.measure.histogram import Histogram

__all__ = [
    "DEFAULT_THRESHOLD12",
    "METADATA_KEY",
    "GCHook",
    "Probe",
    "apply_gc",
    "apply_setting_id",
    "gc_kind",
    "interpreter_info",
    "peak_rss_bytes",
    "record_request",
    "setting_from_id",
    "start_program_probe",
]

METADATA_KEY = "gctune_probe"
SETTING_ENV = "GCTUNE_SETTING"
ROOT_ENV = "GCTUNE_ROOT"

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
        # 3.15+: the interpreter's own duration of the same collections (ns), and per
        # collection (probe - interpreter) / interpreter in parts per million
        self.reported: dict[int, Histogram] = {}
        self.excess_ppm: dict[int, Histogram] = {}
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

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
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
        reported = info.get("duration")
        if reported is not None:
            self._add_reported(generation, duration, reported)

    def _add_reported(self, generation: int, pause_ns: int, reported_s: float) -> None:
        reported_ns = round(reported_s * 1e9)
        hist = self.reported.get(generation)
        if hist is None:
            hist = self.reported[generation] = Histogram()
            self.excess_ppm[generation] = Histogram()
        hist.add(reported_ns)
        if reported_ns > 0:
            self.excess_ppm[generation].add(round((pause_ns - reported_ns) * 1e6 / reported_ns))

    def snapshot(self) -> dict[str, Any]:
        """Everything measured so far, JSON-ready. Durations in ns, memory in bytes.

        Where the interpreter reports durations (3.15+), two more keys, per generation:
        ``reported_pauses`` (histogram of its ``duration``, ns) and ``pause_excess_ppm``
        (histogram of each collection's (probe − reported) / reported, parts per million;
        a difference ≤ 0 counts among its ``zeros``). Readers must not expect them.
        """
        snap = {
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
        if self.reported:
            snap["reported_pauses"] = {
                str(g): h.to_json() for g, h in sorted(self.reported.items())
            }
            snap["pause_excess_ppm"] = {
                str(g): h.to_json() for g, h in sorted(self.excess_ppm.items())
            }
        return snap


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
    import sysconfig

    if sysconfig.get_config_var("Py_GIL_DISABLED"):
        return "free-threaded"
    if sys.version_info[:2] == (3, 14) and sys.version_info[2] <= 4:
        return "incremental"
    return "generational"


def build_id() -> str:
    """A fingerprint of this interpreter's build: SHA-256 (first 16 hex digits) of
    ``sys.version`` and the bytes of the executable and of every ``libpython`` it mapped
    (Linux: ``/proc/self/maps``; elsewhere the executable only). Two installs of one
    package have the same; two compilations of one version differ — and count
    instructions up to ~0.4 % apart (docs/counts.md)."""
    import hashlib

    paths = {os.path.realpath(sys.executable)}
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            for line in maps:
                fields = line.split()
                if len(fields) >= 6 and "libpython" in os.path.basename(fields[-1]):
                    paths.add(os.path.realpath(fields[-1]))
    except OSError:
        pass
    digest = hashlib.sha256(sys.version.encode("utf-8"))
    for path in sorted(paths):
        try:
            with open(path, "rb") as binary:
                for block in iter(lambda: binary.read(1 << 20), b""):
                    digest.update(block)
        except OSError:
            digest.update(path.encode("utf-8"))
    return digest.hexdigest()[:16]


def interpreter_info() -> dict[str, Any]:
    """Version, implementation, build and GC kind of this interpreter."""
    import platform
    import sysconfig

    return {
        "build": sys.version,
        "build_id": build_id(),
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
    once per process, at the first hook (the benchmark's setup has run by then). pyperf
    drops environment variables in its workers: run the benchmark with
    ``--inherit-environ GCTUNE_SETTING``.

    Run metadata written (durations in seconds, as pyperf's own): ``gctune_probe`` (the
    whole snapshot, JSON), ``gctune_setting`` (when one was applied), and
    ``gc_collections``, ``gc_pause_total_s``, ``gc_pause_p99_s``, ``gc_pause_max_s``,
    each also per generation as ``gc_gen<N>_collections`` and so on.
    """

    _applied: Optional[dict[str, Any]] = None

    def __init__(self) -> None:
        spec = os.environ.get(SETTING_ENV)
        if spec and GCHook._applied is None:
            GCHook._applied = _apply_from_env(spec)
        self.probe = Probe()
        self.probe.install()

    def __enter__(self) -> None:
        self.probe.start()

    def __exit__(self, *exc: object) -> None:
        self.probe.stop()

    def teardown(self, metadata: dict[str, Any]) -> None:
        """Store the snapshot under ``gctune_probe`` and the summary keys; unregister."""
        import json

        self.probe.close()
        snap = self.probe.snapshot()
        if GCHook._applied is not None:
            snap["applied"] = GCHook._applied
            metadata["gctune_setting"] = GCHook._applied["setting"]
        metadata[METADATA_KEY] = json.dumps(snap, separators=(",", ":"), sort_keys=True)
        metadata.update(_summary("gc_", list(self.probe.pauses.values())))
        for gen, hist in sorted(self.probe.pauses.items()):
            metadata.update(_summary(f"gc_gen{gen}_", [hist]))


def _apply_from_env(spec: str) -> dict[str, Any]:
    from gctune.measure.settings import SettingError, apply_setting, parse_setting

    try:
        setting = parse_setting(spec)
    except SettingError as exc:
        from pyperf._hooks import HookError  # pyperf prints it as one error and exits

        raise HookError(f"{SETTING_ENV}: {exc}") from None
    applied: dict[str, Any] = dict(apply_setting(setting))
    applied["setting"] = setting.id
    return applied


def _summary(prefix: str, hists: list[Histogram]) -> dict[str, Any]:
    """Collections, pause total, p99 and max (seconds) of ``hists`` taken together."""
    merged = Histogram()
    for hist in hists:
        merged.merge(hist)
    out: dict[str, Any] = {
        f"{prefix}collections": merged.count,
        f"{prefix}pause_total_s": merged.total / 1e9,
    }
    if merged.count:
        out[f"{prefix}pause_p99_s"] = merged.quantile(0.99) / 1e9
        out[f"{prefix}pause_max_s"] = merged.max / 1e9
    return out


class ProgramProbe:
    """The probe over a whole process's life, written to a snapshot file when it ends.

    The snapshot is :meth:`Probe.snapshot` plus who wrote it: ``pid``, ``ppid``,
    ``started_ns`` and ``ended_ns`` (``time.monotonic_ns``, comparable between the
    processes of one machine), ``root`` (``<pid>-<started_ns>`` of the first measured
    process above this one, passed down in the environment variable ``GCTUNE_ROOT``;
    null in that first process), ``argv``, ``setting``, ``applied``, ``python``
    (version) and ``executable``. Files are named ``<pid>-<started_ns>.json`` and written
    atomically, so a reader sees whole files only.
    """

    def __init__(self, setting_id: str, applied: dict[str, Any], snapshot_dir: str) -> None:
        self.setting_id = setting_id
        self.applied = applied
        self.snapshot_dir = snapshot_dir
        self._begin()

    def _begin(self) -> None:
        self.pid = os.getpid()
        self.ppid = os.getppid()
        self.written = False
        self.probe = Probe()
        self.probe.install()
        self.started_ns = time.monotonic_ns()
        self.root = os.environ.get(ROOT_ENV)
        if self.root is None:
            # descendants, even behind a shell, find the top process of their tree
            os.environ[ROOT_ENV] = f"{self.pid}-{self.started_ns}"
        self.probe.start()

    def after_fork(self) -> None:
        """In a forked child: forget the parent's collections, measure the child alone."""
        self.probe.close()
        self._begin()

    def finish(self) -> None:
        """Close the span and write this process's snapshot (once)."""
        if self.written or os.getpid() != self.pid:
            return
        self.written = True
        self.probe.stop()
        self.probe.close()
        snap = self.probe.snapshot()
        snap.update(
            pid=self.pid,
            ppid=self.ppid,
            root=self.root,
            started_ns=self.started_ns,
            ended_ns=time.monotonic_ns(),
            argv=list(sys.argv),
            setting=self.setting_id,
            applied=self.applied,
            python=".".join(map(str, sys.version_info[:3])),
            executable=sys.executable,
        )
        import json

        name = f"{self.pid}-{self.started_ns}"
        tmp = os.path.join(self.snapshot_dir, f".{name}.tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as out:
                json.dump(snap, out, separators=(",", ":"))
            os.replace(tmp, os.path.join(self.snapshot_dir, f"{name}.json"))
        except OSError as exc:  # the sweep reports the missing snapshot
            print(f"gctune: cannot write the GC snapshot: {exc}", file=sys.stderr)


def start_program_probe(setting: str, snapshot_dir: str) -> ProgramProbe:
    """Apply ``setting`` to this process now and measure it until it exits.

    Called at interpreter start-up by gctune's ``sitecustomize``. The snapshot is written
    at exit (``atexit``) or at ``os._exit`` (used by forked children such as
    multiprocessing's); collections during interpreter finalization, after that, are
    not seen.
    """
    import atexit

    setting_id, applied = apply_setting_id(setting)
    recorder = ProgramProbe(setting_id, applied, snapshot_dir)
    atexit.register(recorder.finish)
    os.register_at_fork(after_in_child=recorder.after_fork)
    real_exit: Callable[[int], Any] = os._exit

    def exit_measured(status: int) -> None:
        recorder.finish()
        real_exit(status)

    os._exit = exit_measured  # type: ignore[assignment]
    return recorder


def apply_setting_id(setting: str) -> tuple[str, dict[str, Any]]:
    """Apply a setting given as an id (or any spelling); return its id and :func:`apply_gc`'s."""
    try:
        mode, thresholds, freeze = setting_from_id(setting)
    except ValueError:
        from gctune.measure.settings import parse_setting

        parsed = parse_setting(setting)
        mode, thresholds, freeze = parsed.mode, parsed.thresholds, parsed.freeze
    setting_id = ("t" + "-".join(map(str, thresholds)) if mode == "thresholds" else mode) + (
        "+freeze" if freeze else ""
    )
    return setting_id, apply_gc(mode, thresholds, freeze)
