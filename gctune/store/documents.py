"""Point documents as they are written: a pyperf command's output with gctune's part, and
a span worker's output appended to its point's runs (round by round), or a failure with
its reason. Reading them back is :mod:`gctune.store.results`."""

from __future__ import annotations

import json
from typing import Any, Optional

from gctune.store.race import FAILED, Stop
from gctune.store.results import FORMAT_VERSION


def point_document(
    *,
    pyperf_data: Optional[dict[str, Any]],
    workload: str,
    setting: str,
    status: str,
    reason: Optional[str],
    size: Optional[int],
    interpreter: dict[str, Any],
    started: str,
    duration_s: float,
) -> dict[str, Any]:
    """Build a point file's content from pyperf's output (moving probe data out of it)."""
    doc: dict[str, Any] = dict(pyperf_data) if pyperf_data else {}
    runs: list[dict[str, Any]] = []
    for bench in doc.get("benchmarks", []):
        for run in bench.get("runs", []):
            meta = run.get("metadata", {})
            probe_json = meta.pop("gctune_probe", None)
            if probe_json is None or not run.get("values"):
                continue  # calibration runs carry no values
            probe = json.loads(probe_json)
            probe["values"] = run["values"]
            runs.append(probe)
    loops = doc.get("metadata", {}).get("loops")
    doc["gctune"] = {
        "format": FORMAT_VERSION,
        "kind": "point",
        "workload": workload,
        "setting": setting,
        "status": status,
        "reason": reason,
        "size": size,
        "loops": loops,
        "interpreter": interpreter,
        "started": started,
        "duration_s": duration_s,
        "runs": runs,
    }
    return doc


def span_point_document(
    *,
    previous: Optional[dict[str, Any]],
    worker_output: Optional[dict[str, Any]],
    workload: str,
    setting: str,
    round_number: int,
    interpreter: dict[str, Any],
    horizon: Optional[dict[str, Any]],
    started: str,
    duration_s: float,
    failure: Optional[str] = None,
) -> dict[str, Any]:
    """A point file's content after one more round: ``previous`` plus one worker span.

    ``worker_output`` is the span worker's one-run pyperf file; its run is appended to
    the point's pyperf benchmark with its whole metadata (so runs of several rounds load
    in pyperf as one benchmark), and the probe's data moves into ``gctune.runs``. A
    ``failure`` marks the point failed with that reason; its earlier runs are kept.
    """
    if previous is None:
        doc: dict[str, Any] = {"version": "1.0", "metadata": {}, "benchmarks": []}
        section: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "kind": "point",
            "workload": workload,
            "setting": setting,
            "status": "ok",
            "reason": None,
            "size": None,
            "loops": None,
            "interpreter": interpreter,
            "started": started,
            "duration_s": 0.0,
            "runs": [],
            "horizon": horizon,
            "race": {"rounds": 0, "stopped": None},
        }
    else:
        doc = {k: v for k, v in previous.items() if k != "gctune"}
        section = dict(previous["gctune"])
    section["duration_s"] = round(float(section.get("duration_s") or 0.0) + duration_s, 3)
    unusable = unusable_span(worker_output) if worker_output is not None else None
    if unusable is not None:
        worker_output = None
        failure = failure or unusable
    if worker_output is not None:
        bench_in = worker_output["benchmarks"][0]
        common = {**worker_output.get("metadata", {}), **bench_in.get("metadata", {})}
        (run,) = bench_in["runs"]
        meta = {**common, **run.get("metadata", {})}
        probe = json.loads(meta.pop("gctune_probe"))
        meta["gctune_round"] = round_number
        if not doc["benchmarks"]:
            doc["benchmarks"].append({"metadata": {"name": meta["name"]}, "runs": []})
        doc["benchmarks"][0]["runs"].append({**run, "metadata": meta})
        probe["values"] = run["values"]
        probe["round"] = round_number
        probe["loops"] = meta.get("loops")
        section["runs"] = [*section["runs"], probe]
        section["size"] = meta.get("gctune_size", section.get("size"))
        section["loops"] = section.get("loops") or meta.get("loops")
    race = dict(section.get("race") or {})
    race["rounds"] = round_number
    section["race"] = race
    if failure is not None:
        section["status"] = "failed"
        section["reason"] = failure
        race.update(Stop(FAILED, "failed").fields())
    elif not section["runs"]:
        section["status"] = "failed"
        section["reason"] = "no run carried probe data"
    doc["gctune"] = section
    return doc


def unusable_span(worker_output: dict[str, Any]) -> Optional[str]:
    """Why a span worker's pyperf file cannot be appended as a round; None when it can."""
    try:
        bench = worker_output["benchmarks"][0]
        (run,) = bench["runs"]
        values = run.get("values")
        probe = {  # pyperf moves metadata shared by all runs up to the benchmark or file
            **worker_output.get("metadata", {}),
            **bench.get("metadata", {}),
            **run.get("metadata", {}),
        }.get("gctune_probe")
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        return "the span's result is not one pyperf run"
    if not values:  # pyperf leaves "values" out of a run that has none
        return "the span measured no step (every step went to warm-up or settling)"
    if not isinstance(probe, str):
        return "the span's result carries no probe data"
    return None
