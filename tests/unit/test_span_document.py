"""Appending a span to a point file: a span without data fails its round, never a writer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gctune.store.atomic import atomic_write_json
from gctune.store.documents import span_point_document
from gctune.store.results import load_point


def worker_output(values: list[float] | None, *, probe: bool = True) -> dict[str, Any]:
    run: dict[str, Any] = {"metadata": {"name": "w@default", "loops": 1}}
    if values is not None:
        run["values"] = values  # pyperf leaves the key out of a run without values
    if probe:
        snap = {"wall_ns": 1, "pauses": {}, "collected": {}, "uncollectable": {},
                "peak_rss_bytes": 1, "thresholds": [700, 10, 10], "gc_enabled": True,
                "frozen": 0}  # fmt: skip
        run["metadata"]["gctune_probe"] = json.dumps(snap)
    return {"version": "1.0", "metadata": {}, "benchmarks": [{"metadata": {}, "runs": [run]}]}


def document(previous: dict[str, Any] | None, output: dict[str, Any], rnd: int) -> dict[str, Any]:
    return span_point_document(
        previous=previous, worker_output=output, workload="w", setting="default",
        round_number=rnd, interpreter={}, horizon=None, started="now", duration_s=0.1,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        (worker_output(None), "the span measured no step"),
        (worker_output([]), "the span measured no step"),
        (worker_output([0.1], probe=False), "carries no probe data"),
        ({"benchmarks": []}, "not one pyperf run"),
    ],
    ids=["no values key", "empty values", "no probe", "no run"],
)
def test_a_span_without_data_fails_its_round_and_keeps_earlier_ones(
    tmp_path: Path, output: dict[str, Any], reason: str
) -> None:
    first = document(None, worker_output([0.1, 0.2]), 1)
    second = document(first, output, 2)
    section = second["gctune"]
    assert section["status"] == "failed" and reason in section["reason"]
    assert len(section["runs"]) == 1 and section["race"]["stopped"] == "failed"
    path = tmp_path / "points" / "w@default.json"
    atomic_write_json(path, second)
    point = load_point(path)  # a reader takes it too
    assert not point.ok and point.values == (0.1, 0.2)
