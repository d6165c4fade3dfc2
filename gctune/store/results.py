"""The one on-disk format of gctune results; every read and write goes through here.

A sweep directory holds ``manifest.json`` and ``points/<workload>@<setting>.json``.
A point file is a pyperf JSON file (``python -m pyperf show`` reads it) with one more
top-level key, ``"gctune"``, that pyperf ignores: the point's identity, status and the
probe's metrics of each worker run. A failed point has the ``"gctune"`` part only
(status ``"failed"`` and a reason), so pyperf will not read it.

Files are read with ``json`` only and validated: a file that is truncated, damaged, of a
newer format, not gctune's, or named for another point raises :class:`ResultError`
naming it. Writes are atomic (temporary file in the same directory,
fsync, ``os.replace``, fsync of the directory), so a file is whole or absent; a
temporary file left by a killed writer is removed by :func:`remove_partial_files`.

Format history (``FORMAT_VERSION``):

1 - first version: manifest and point files as above. Each run may carry ``cpu_ns``
    (process CPU time of its timed spans); readers treat a missing one as unknown.
2 - steady-state spans in rounds. Each run is one worker span and may carry ``round``
    (the sweep round it was measured in), ``span`` (measured and warm-up steps, steps
    per value, why it stopped, full collections seen and at which step, budget),
    ``memory`` (RSS and allocated-block samples through the span) and ``startup``
    (process start-up and workload set-up seconds). A point may carry ``horizon`` (the
    span planned for it: predicted full-collection period, step limits) and ``race``
    (rounds measured, and why its measuring stopped). Format 1 files are still read:
    their runs have no span, so their steady state is unknown. On 3.15+, runs of either
    version may also carry ``reported_pauses`` and ``pause_excess_ppm`` (the
    interpreter's own duration of each collection, see :mod:`gctune.analysis.agreement`).
    Span runs may also carry ``gc_calls`` (the program's own calls to gc.collect(),
    gc.set_threshold(), gc.disable(), ... while measured, see :mod:`gctune.measure.gcwatch`);
    files without it load as runs whose calls were not counted. A point's ``race`` may
    also carry ``end`` (the kind of stop) and ``twin`` (see :mod:`gctune.store.race`);
    files without them are read from the ``stopped`` sentence.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from gctune.errors import UserError
from gctune.measure.histogram import Histogram
from gctune.store.atomic import PARTIAL, atomic_write_json
from gctune.store.fields import check_manifest_fields, check_point_fields

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST",
    "POINTS",
    "Manifest",
    "Point",
    "ResultError",
    "RunMetrics",
    "atomic_write_json",
    "check_point_name",
    "load_point",
    "load_sweep",
    "load_sweep_partial",
    "point_path",
    "read_manifest",
    "read_point_document",
    "remove_partial_files",
    "write_manifest",
]

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
POINTS = "points"


class ResultError(UserError, ValueError):
    """A result file that is missing, damaged, of another format version, or not gctune's."""


@dataclass(frozen=True)
class RunMetrics:
    """What the probe measured in one pyperf worker run (its measured values only).

    Durations in nanoseconds, memory in bytes. ``pauses`` maps a generation to the
    histogram of its collections' durations.
    """

    values: tuple[float, ...]
    wall_ns: int
    pauses: dict[int, Histogram]
    collected: dict[int, int]
    uncollectable: dict[int, int]
    requests: Optional[Histogram]
    peak_rss_bytes: int
    thresholds: tuple[int, ...]
    gc_enabled: bool
    frozen: int
    cpu_ns: Optional[int] = None
    round: Optional[int] = None
    span: Optional[dict[str, Any]] = None
    memory: tuple[tuple[int, int, int], ...] = ()
    """(steps done, RSS bytes, allocated blocks) samples through the span."""
    startup: Optional[dict[str, Any]] = None
    loops: Optional[int] = None
    reference: Optional[dict[str, Any]] = None
    """The span's speed reference: ``seconds`` (one more than values), ``ops``, ``python``."""
    gc_calls: dict[str, int] = field(default_factory=dict)
    """The program's own calls to gc functions while measured (see
    :mod:`gctune.measure.gcwatch`)."""

    @property
    def steps(self) -> Optional[int]:
        """Measured steps of this run: the span's, else values × loops when known."""
        if self.span is not None:
            return int(self.span["steps"])
        if self.loops:
            return len(self.values) * self.loops
        return None

    @property
    def full_collections(self) -> Optional[int]:
        """Full collections seen in the span (None for runs without a span)."""
        return int(self.span["full_collections"]) if self.span is not None else None

    @property
    def pause_total_ns(self) -> int:
        """Sum of every collection's duration in this run, nanoseconds."""
        return sum(h.total for h in self.pauses.values())

    @property
    def collections(self) -> int:
        """Number of collections in this run, all generations."""
        return sum(h.count for h in self.pauses.values())


@dataclass(frozen=True)
class Point:
    """One (workload, setting) point of a sweep, finished or failed."""

    workload: str
    setting: str
    status: str
    reason: Optional[str]
    size: Optional[int]
    loops: Optional[int]
    interpreter: dict[str, Any]
    runs: tuple[RunMetrics, ...]
    path: Path
    started: Optional[str] = None
    duration_s: Optional[float] = None
    load_avg_1min: tuple[float, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    """pyperf's metadata of the point (interpreter build, CPU, ...); empty when failed."""
    horizon: Optional[dict[str, Any]] = None
    """The span planned for this point (see :mod:`gctune.sweep.horizon`), format 2."""
    race: Optional[dict[str, Any]] = None
    """Rounds measured and why measuring stopped (see :mod:`gctune.sweep.rounds`), format 2."""

    @property
    def ok(self) -> bool:
        """True for a finished point with measurements."""
        return self.status == "ok"

    @property
    def values(self) -> tuple[float, ...]:
        """Every timing value of every run, seconds per step."""
        return tuple(v for run in self.runs for v in run.values)


@dataclass(frozen=True)
class Manifest:
    """A sweep's plan and environment."""

    sweep_id: str
    spec: dict[str, Any]
    environment: dict[str, Any]
    created: str
    data: dict[str, Any] = field(default_factory=dict)


def point_path(sweep_dir: Path, workload_id: str, setting_id: str) -> Path:
    """Where the point of ``workload_id`` under ``setting_id`` lives in a sweep directory."""
    return sweep_dir / POINTS / f"{workload_id}@{setting_id}.json"


def remove_partial_files(sweep_dir: Path) -> list[Path]:
    """Remove temporary files that a killed writer left in a sweep directory; return them.

    Only call it while holding the sweep's lock: another writer's temporary file would
    otherwise be removed under it.
    """
    removed = []
    for folder in (sweep_dir, sweep_dir / POINTS):
        for partial in folder.glob(f".*.json.*{PARTIAL}"):
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
                removed.append(partial)
    return removed


def _read_json(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as fp:
            data = json.load(fp)
    except FileNotFoundError:
        raise ResultError(f"{path}: no such file") from None
    except OSError as exc:
        raise ResultError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an int of 4300+ digits
        raise ResultError(f"{path}: not valid JSON (truncated or damaged?): {exc}") from None
    except RecursionError:
        raise ResultError(f"{path}: not a gctune result file (nested too deeply)") from None
    if not isinstance(data, dict):
        raise ResultError(f"{path}: not a gctune result file")
    return data


def _check_version(path: Path, section: Any, kind: str) -> dict[str, Any]:
    if not isinstance(section, dict) or "format" not in section:
        raise ResultError(f"{path}: not a gctune result file")
    version = section["format"]
    if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
        raise ResultError(
            f"{path}: result format {version!r} is not supported by this gctune "
            f"(reads format 1 to {FORMAT_VERSION}); upgrade gctune"
        )
    found = section.get("kind")
    if found != kind:
        if found in ("point", "manifest"):
            raise ResultError(f"{path}: a gctune {found} file, not a {kind} file")
        raise ResultError(f"{path}: damaged gctune {kind}: kind is {found!r}")
    return section


def write_manifest(sweep_dir: Path, manifest: Manifest) -> None:
    """Write the sweep's manifest atomically."""
    atomic_write_json(
        sweep_dir / MANIFEST,
        {
            "gctune": {
                "format": FORMAT_VERSION,
                "kind": "manifest",
                "sweep_id": manifest.sweep_id,
                "created": manifest.created,
                "spec": manifest.spec,
                "environment": manifest.environment,
                **manifest.data,
            }
        },
    )


def read_manifest(sweep_dir: Path) -> Manifest:
    """Read and validate a sweep directory's manifest."""
    path = sweep_dir / MANIFEST
    try:
        present = path.exists()
    except OSError as exc:  # a folder on the way that cannot be searched
        raise ResultError(f"{sweep_dir}: cannot read: {exc.strerror or exc}") from None
    if not present:
        raise ResultError(f"{sweep_dir}: not a gctune sweep directory (no {MANIFEST})")
    section = _check_version(path, _read_json(path).get("gctune"), "manifest")
    try:
        check_manifest_fields(section)
        return Manifest(
            sweep_id=str(section["sweep_id"]),
            spec=dict(section["spec"]),
            environment=dict(section["environment"]),
            created=str(section["created"]),
            data={
                k: v
                for k, v in section.items()
                if k not in ("format", "kind", "sweep_id", "spec", "environment", "created")
            },
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ResultError(f"{path}: manifest is missing or has a bad field: {exc}") from None


def read_point_document(path: Path) -> dict[str, Any]:
    """A point file's raw content, validated as a gctune point (for appending a round)."""
    data = _read_json(path)
    _check_version(path, data.get("gctune"), "point")
    return data


def load_point(path: Path) -> Point:
    """Read and validate one point file."""
    data = _read_json(path)
    section = _check_version(path, data.get("gctune"), "point")
    try:
        check_point_fields(section)
        runs = tuple(_run_from_json(r) for r in section["runs"])
        status = str(section["status"])
        if status not in ("ok", "failed"):
            raise ValueError(f"unknown status {status!r}")
        if status == "ok" and not runs:
            raise ValueError("finished point without measured runs")
        return Point(
            workload=str(section["workload"]),
            setting=str(section["setting"]),
            status=status,
            reason=section.get("reason"),
            size=section.get("size"),
            loops=section.get("loops"),
            interpreter=dict(section.get("interpreter") or {}),
            runs=runs,
            path=path,
            started=section.get("started"),
            duration_s=section.get("duration_s"),
            load_avg_1min=_load_averages(data),
            metadata=_common_metadata(data),
            horizon=_optional_dict(section.get("horizon")),
            race=_optional_dict(section.get("race")),
        )
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise ResultError(f"{path}: damaged gctune point: {exc}") from None


def _load_averages(data: dict[str, Any]) -> tuple[float, ...]:
    """The 1-minute load average pyperf recorded with each measured run, where it did."""
    out = []
    for bench in data.get("benchmarks", []):
        for run in bench.get("runs", []):
            load = run.get("metadata", {}).get("load_avg_1min")
            if run.get("values") and isinstance(load, (int, float)):
                out.append(float(load))
    return tuple(out)


def _optional_dict(value: Any) -> Optional[dict[str, Any]]:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, found {type(value).__name__}")
    return dict(value)


def _common_metadata(data: dict[str, Any]) -> dict[str, Any]:
    """pyperf's metadata of the point: the file's, else its first run's (format 2 files
    keep every run's metadata with the run)."""
    meta = dict(data.get("metadata") or {})
    for bench in data.get("benchmarks", []):
        meta = {**bench.get("metadata", {}), **meta}
        for run in bench.get("runs", []):
            if run.get("values"):
                return {**run.get("metadata", {}), **meta}
    return meta


def _gen_map(data: dict[str, Any]) -> dict[int, int]:
    return {int(k): int(v) for k, v in data.items()}


def _run_from_json(data: dict[str, Any]) -> RunMetrics:
    requests = data.get("requests")
    return RunMetrics(
        values=tuple(float(v) for v in data["values"]),
        wall_ns=int(data["wall_ns"]),
        pauses={int(g): Histogram.from_json(h) for g, h in data["pauses"].items()},
        collected=_gen_map(data["collected"]),
        uncollectable=_gen_map(data["uncollectable"]),
        requests=Histogram.from_json(requests) if requests else None,
        peak_rss_bytes=int(data["peak_rss_bytes"]),
        thresholds=tuple(int(t) for t in data["thresholds"]),
        gc_enabled=bool(data["gc_enabled"]),
        frozen=int(data["frozen"]),
        cpu_ns=int(data["cpu_ns"]) if data.get("cpu_ns") is not None else None,
        round=int(data["round"]) if data.get("round") is not None else None,
        span=_optional_dict(data.get("span")),
        memory=tuple(
            (int(a), int(b), int(c)) for a, b, c in (data.get("memory") or {}).get("samples", [])
        ),
        startup=_optional_dict(data.get("startup")),
        loops=int(data["loops"]) if data.get("loops") is not None else None,
        reference=_optional_dict(data.get("reference")),
        gc_calls={str(k): int(v) for k, v in (data.get("gc_calls") or {}).items()},
    )


def load_sweep(sweep_dir: Path) -> tuple[Manifest, list[Point]]:
    """Read a sweep directory: its manifest and every point file, validated."""
    manifest = read_manifest(sweep_dir)
    points = [load_point(p) for p in _point_paths(sweep_dir)]
    for point in points:
        check_point_name(point)
    return manifest, points


def load_sweep_partial(sweep_dir: Path) -> tuple[Manifest, list[Point], list[ResultError]]:
    """Like :func:`load_sweep`, for readers that can go on without a damaged point: each
    point file that cannot be read is set aside with its error (naming the file) instead
    of refusing the whole sweep. A damaged manifest is still refused."""
    manifest = read_manifest(sweep_dir)
    points, damaged = [], []
    for path in _point_paths(sweep_dir):
        try:
            point = load_point(path)
            check_point_name(point)
        except ResultError as exc:
            damaged.append(exc)
            continue
        points.append(point)
    return manifest, points, damaged


def _point_paths(sweep_dir: Path) -> list[Path]:
    """The point files of a sweep directory, sorted; a folder that cannot be listed is an
    error, not an empty sweep."""
    points_dir = sweep_dir / POINTS
    try:
        names = os.listdir(points_dir)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ResultError(f"{points_dir}: cannot read: {exc.strerror or exc}") from None
    return sorted(points_dir / n for n in names if n.endswith(".json"))


def check_point_name(point: Point) -> None:
    """Refuse (ResultError naming the file) a point file that holds another point than its
    name says, such as one copied over another; two of them would count one point twice."""
    expected = point_path(point.path.parent.parent, point.workload, point.setting)
    if point.path.name != expected.name:
        raise ResultError(f"{point.path}: holds point {point.workload}@{point.setting}")
