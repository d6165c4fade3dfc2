"""Result sets with chosen numbers, written through gctune.store.results like a real sweep.

Unit tests of compare and history need timings whose truth they know; real sweeps on a
shared machine cannot give that. Everything else about the files is the real format.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from gctune.measure.histogram import Histogram
from gctune.store.atomic import atomic_write_json
from gctune.store.documents import point_document
from gctune.store.results import Manifest, point_path, write_manifest

PY311 = {
    "version": "3.11.7",
    "version_info": [3, 11, 7],
    "implementation": "CPython",
    "free_threaded": False,
    "gc_kind": "generational",
}


@dataclass(frozen=True)
class Spec:
    """One synthetic point: ``runs`` worker runs whose means scatter around ``mean_s``."""

    workload: str = "w"
    setting: str = "default"
    mean_s: float = 1e-3
    noise: float = 0.02
    runs: int = 10
    values: int = 2
    loops: int = 64
    size: int = 100
    collections: dict[int, int] = field(default_factory=lambda: {0: 100, 1: 9, 2: 1})
    collected: int = 1000
    pause_ns: int = 50_000
    rss: int = 30 * 1024**2
    status: str = "ok"
    load_avg: float = 0.5
    cpu_s: Optional[float] = None  # CPU time per step; None: the same as the wall time


def _hist(count: int, ns: int, rng: random.Random) -> dict[str, Any]:
    hist = Histogram()
    for _ in range(count):
        hist.add(int(ns * rng.uniform(0.9, 1.1)))
    return hist.to_json()


def _run(spec: Spec, rng: random.Random) -> dict[str, Any]:
    mean = spec.mean_s * (1 + rng.gauss(0, spec.noise))
    probe = {
        "wall_ns": int(mean * spec.values * spec.loops * 1e9),
        "cpu_ns": int(
            (spec.cpu_s if spec.cpu_s is not None else mean)
            * (1 + rng.gauss(0, 0.01))
            * spec.values
            * spec.loops
            * 1e9
        ),
        "spans": spec.values,
        "pauses": {str(g): _hist(n, spec.pause_ns, rng) for g, n in spec.collections.items()},
        "collected": {"0": spec.collected},
        "uncollectable": {"0": 0},
        "requests": None,
        "peak_rss_bytes": spec.rss,
        "thresholds": [700, 10, 10],
        "gc_enabled": True,
        "frozen": 0,
    }
    values = [mean * (1 + rng.gauss(0, spec.noise / 4)) for _ in range(spec.values)]
    meta = {"gctune_probe": json.dumps(probe), "load_avg_1min": spec.load_avg}
    return {"metadata": meta, "values": values}


def make_sweep(
    root: Path,
    specs: Sequence[Spec],
    *,
    python: Optional[dict[str, Any]] = None,
    commit: Optional[str] = None,
    date: str = "2026-01-01T00:00:00+00:00",
    seed: int = 0,
) -> Path:
    """Write a sweep directory holding ``specs``; returns its path."""
    py = python or PY311
    rng = random.Random(seed)
    write_manifest(
        root,
        Manifest(
            sweep_id=root.name,
            spec={"workloads": sorted({s.workload for s in specs})},
            environment={"python": py, "git_commit": commit, "git_date": date, "cpu_count": 2},
            created=date,
        ),
    )
    for spec in specs:
        pyperf = {
            "version": "1.0",
            "metadata": {"loops": spec.loops, "name": f"{spec.workload}@{spec.setting}"},
            "benchmarks": [{"runs": [_run(spec, rng) for _ in range(spec.runs)]}],
        }
        ok = spec.status == "ok"
        doc = point_document(
            pyperf_data=pyperf if ok else None,
            workload=spec.workload,
            setting=spec.setting,
            status=spec.status,
            reason=None if ok else "timed out after 5 s",
            size=spec.size,
            interpreter=py,
            started=date,
            duration_s=1.0,
        )
        atomic_write_json(point_path(root, spec.workload, spec.setting), doc)
    return root
