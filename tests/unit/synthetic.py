"""Synthetic sweeps with known answers, written through gctune's own result writers.

Each run's values are ``mean * (1 ± spread)``, so every run mean is exactly the number
asked for; pauses and requests are the listed durations, in every run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from gctune.measure.histogram import Histogram
from gctune.store.atomic import atomic_write_json
from gctune.store.documents import point_document
from gctune.store.results import Manifest, point_path, write_manifest

MIB = 1024**2
SWEEP_PYTHON = {
    "version": "3.11.7",
    "implementation": "CPython",
    "executable": "/usr/bin/python3.11",
    "free_threaded": False,
    "gc_kind": "generational",
    "default_thresholds": [700, 10, 10],
}


@dataclass(frozen=True)
class Synth:
    """One point to write: its workload, setting and what each worker run measured."""

    workload: str
    setting: str
    run_means: Sequence[float] = (1e-3,) * 6
    spread: float = 0.001
    pauses: dict[int, Sequence[int]] = field(default_factory=lambda: {0: [20_000] * 10})
    collected: int = 0
    peak_rss_bytes: int = 100 * MIB
    requests: Optional[Sequence[int]] = None
    thresholds: tuple[int, ...] = (700, 10, 10)
    gc_enabled: bool = True
    reason: Optional[str] = None  # set: a failed point
    loops: int = 10
    # Format 2 (steady-state spans in rounds): each run is round i+1's span, with
    # ``full`` full collections and RSS growing ``grow`` bytes per step from 50 MiB.
    spans: bool = False
    full: int = 2
    grow: float = 0.0
    steps: int = 1000
    predicted: Optional[float] = 400.0  # predicted steps between full collections
    samples: int = 20  # memory samples per span
    cpu: bool = False  # record process CPU time (as much as wall time)
    # Speed reference: run i timed its reference loop at ``reference[i]`` seconds (every
    # pass alike), on the interpreter ``reference_python``; None: runs without one.
    reference: Optional[Sequence[float]] = None
    reference_python: str = "/usr/bin/python3.11 3.11.7"


def _hist(values: Sequence[int]) -> dict[str, Any]:
    hist = Histogram()
    for v in values:
        hist.add(v)
    return hist.to_json()


def _span_parts(p: Synth, index: int) -> dict[str, Any]:
    if not p.spans:
        return {}
    step = p.steps // 20
    # allocated blocks grow with memory (one block per 100 bytes): live objects piling up
    samples = [
        [k * step, int(50 * MIB + p.grow * k * step), int(1000 + p.grow * k * step / 100)]
        for k in range(1, p.samples + 1)
    ]
    return {
        "round": index + 1,
        "span": {
            "steps": p.steps,
            "chunk": step,
            "stop": "full-collections" if p.full >= 2 else "budget",
            "full_collections": p.full,
            # a span stopped by its full collections ends with the chunk of the last one
            "full_at": [p.steps * (i + 1) // (p.full + 1) for i in range(p.full - 1)]
            + [p.steps] * (p.full > 0),
        },
        "memory": {"samples": samples},
        "startup": {"process_s": 0.2, "setup_s": 0.1},
    }


def _probe(p: Synth, index: int = 0) -> str:
    wall = int(sum(p.run_means) / len(p.run_means) * p.loops * 3 * 1e9)
    return json.dumps(
        {
            **_span_parts(p, index),
            **({"cpu_ns": wall} if p.cpu else {}),
            "wall_ns": wall,
            "spans": 3,
            "pauses": {str(g): _hist(v) for g, v in p.pauses.items() if v},
            "collected": {str(g): p.collected if g == 0 else 0 for g in p.pauses},
            "uncollectable": {str(g): 0 for g in p.pauses},
            "requests": _hist(p.requests) if p.requests else None,
            "peak_rss_bytes": p.peak_rss_bytes,
            "thresholds": list(p.thresholds),
            "gc_enabled": p.gc_enabled,
            "frozen": 0,
            **(
                {
                    "reference": {
                        "seconds": [p.reference[index]] * 3,  # two values per run
                        "ops": 1500,
                        "python": p.reference_python,
                    }
                }
                if p.reference is not None
                else {}
            ),
        }
    )


def write_sweep(
    directory: Path,
    points: Sequence[Synth],
    sweep_id: str = "synthetic",
    *,
    command: Optional[Sequence[str]] = None,
    interpreter: Optional[dict[str, Any]] = None,
) -> Path:
    """Write a sweep directory holding ``points``; returns the directory.

    ``command``: a sweep of an unchanged program (``--command``); ``interpreter``: what
    the points record they ran on (default: the sweep's own, 3.11.7).
    """
    settings = list(dict.fromkeys(p.setting for p in points))
    write_manifest(
        directory,
        Manifest(
            sweep_id=sweep_id,
            spec={
                "workloads": sorted({p.workload for p in points}),
                "settings": settings,
                "mode": "fast",
                "command": list(command) if command is not None else None,
            },
            environment={
                "python": SWEEP_PYTHON,
                "cpu_model": "Test CPU",
                "cpu_count": 2,
                "pyperf_version": "2.10.0",
                "gctune_version": "0.1.0",
                "git_commit": "0123abc",
            },
            created="2026-01-01T00:00:00+00:00",
        ),
    )
    for p in points:
        pyperf_data = None
        if p.reason is None:
            runs = [
                {
                    "metadata": {"gctune_probe": _probe(p, i)},
                    "values": [m * (1 - p.spread), m * (1 + p.spread)],
                }
                for i, m in enumerate(p.run_means)
            ]
            pyperf_data = {
                "version": "1.0",
                "metadata": {"loops": p.loops, "unit": "second", "python_compiler": "GCC 12"},
                "benchmarks": [{"runs": runs}],
            }
        doc = point_document(
            pyperf_data=pyperf_data,
            workload=p.workload,
            setting=p.setting,
            status="ok" if p.reason is None else "failed",
            reason=p.reason,
            size=100,
            interpreter=interpreter or SWEEP_PYTHON,
            started="2026-01-01T00:00:00+00:00",
            duration_s=1.0,
        )
        if p.spans:
            doc["gctune"]["horizon"] = {"predicted_period": p.predicted, "step_s": 1e-3}
        atomic_write_json(point_path(directory, p.workload, p.setting), doc)
    return directory


def scaled(mean: float, n: int = 6, jitter: float = 0.01) -> list[float]:
    """``n`` run means around ``mean``, alternating ±``jitter`` (relative), mean exact."""
    return [mean * (1 + (jitter if i % 2 else -jitter)) for i in range(n)]
