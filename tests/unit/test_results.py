from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gctune.measure.histogram import Histogram
from gctune.store.atomic import atomic_write_json
from gctune.store.documents import point_document
from gctune.store.results import (
    FORMAT_VERSION,
    Manifest,
    ResultError,
    load_point,
    load_sweep,
    point_path,
    read_manifest,
    write_manifest,
)


def probe_json(pauses: list[int]) -> str:
    hist = Histogram()
    for p in pauses:
        hist.add(p)
    snap = {
        "wall_ns": 10_000_000,
        "spans": 2,
        "pauses": {"0": hist.to_json()},
        "collected": {"0": 42},
        "uncollectable": {"0": 0},
        "requests": None,
        "peak_rss_bytes": 20 * 1024**2,
        "thresholds": [700, 10, 10],
        "gc_enabled": True,
        "frozen": 0,
    }
    return json.dumps(snap)


def pyperf_doc() -> dict[str, Any]:
    return {
        "version": "1.0",
        "metadata": {"loops": 8, "name": "w@default", "unit": "second"},
        "benchmarks": [
            {
                "runs": [
                    # a calibration run: warmups only, no values
                    {"metadata": {"gctune_probe": probe_json([1])}, "warmups": [[1, 0.1]]},
                    {"metadata": {"gctune_probe": probe_json([1000, 2000])}, "values": [0.5, 0.6]},
                    {"metadata": {"gctune_probe": probe_json([3000])}, "values": [0.7, 0.8]},
                ]
            }
        ],
    }


def write_point(tmp_path: Path) -> Path:
    doc = point_document(
        pyperf_data=pyperf_doc(),
        workload="w",
        setting="default",
        status="ok",
        reason=None,
        size=10,
        interpreter={"version": "3.11.7"},
        started="2026-01-01T00:00:00+00:00",
        duration_s=1.5,
    )
    path = point_path(tmp_path, "w", "default")
    atomic_write_json(path, doc)
    return path


def test_point_round_trip(tmp_path: Path) -> None:
    point = load_point(write_point(tmp_path))
    assert point.ok and point.workload == "w" and point.setting == "default"
    assert point.loops == 8 and point.size == 10
    assert point.values == (0.5, 0.6, 0.7, 0.8)  # the calibration run is not a measurement
    assert [run.collections for run in point.runs] == [2, 1]
    assert point.runs[0].pause_total_ns == 3000
    assert point.runs[0].collected == {0: 42}


def test_point_file_stays_readable_by_pyperf(tmp_path: Path) -> None:
    pyperf = pytest.importorskip("pyperf")
    suite = pyperf.BenchmarkSuite.load(str(write_point(tmp_path)))
    (bench,) = suite.get_benchmarks()
    assert bench.get_values() == (0.5, 0.6, 0.7, 0.8)
    # the probe's JSON moved into gctune's section, out of pyperf's metadata
    assert "gctune_probe" not in json.dumps(
        json.loads(Path(write_point(tmp_path)).read_text())["benchmarks"]
    )


def test_failed_point(tmp_path: Path) -> None:
    doc = point_document(
        pyperf_data=None,
        workload="w",
        setting="disabled",
        status="failed",
        reason="timed out after 5 s",
        size=None,
        interpreter={},
        started="x",
        duration_s=5.0,
    )
    path = point_path(tmp_path, "w", "disabled")
    atomic_write_json(path, doc)
    point = load_point(path)
    assert not point.ok and point.reason == "timed out after 5 s" and point.runs == ()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"gctune": {"format": 1, "kind": "point", "runs": [', "not valid JSON"),
        ("[1, 2]", "not a gctune result file"),
        ('{"version": "1.0", "benchmarks": []}', "not a gctune result file"),
        ('{"gctune": {"format": 99}}', "format 99 is not supported"),
        ('{"gctune": {"format": 1, "kind": "point", "status": "ok", "runs": []}}', "damaged"),
    ],
)
def test_bad_point_files_name_the_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(content)
    with pytest.raises(ResultError, match=message) as info:
        load_point(path)
    assert str(path) in str(info.value)


def test_manifest_round_trip_and_sweep(tmp_path: Path) -> None:
    manifest = Manifest("s1", {"workloads": ["w"]}, {"python": {"version": "3.11"}}, "now")
    write_manifest(tmp_path, manifest)
    assert read_manifest(tmp_path) == manifest
    write_point(tmp_path)
    again, points = load_sweep(tmp_path)
    assert again.sweep_id == "s1" and [p.setting for p in points] == ["default"]
    raw = json.loads((tmp_path / "manifest.json").read_text())
    assert raw["gctune"]["format"] == FORMAT_VERSION
    with pytest.raises(ResultError, match="not a gctune sweep"):
        read_manifest(tmp_path / "elsewhere")


def test_atomic_write_leaves_no_partial_file(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    atomic_write_json(path, {"a": 1})

    class Boom:
        pass

    with pytest.raises(TypeError):
        atomic_write_json(path, {"a": Boom()})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]
