"""A sweep in counts' plan: which points a shard counts (``--shard K/N``) and in what
order points start (no valgrind here; the shards measured and merged for real are
tests/integration/test_count_merge.py)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from gctune.sweep import count_sweep
from gctune.sweep.count_sweep import CountSpec, _tasks, parse_shard, run_counts

SETTINGS = ("default", "disabled", "t7000-10-10", "t20000-10-10", "t70000-10-10+freeze")


def _counted(shard: tuple[int, int] | None) -> set[tuple[str, str]]:
    spec = CountSpec("python3", ("acyclic_churn", "short_cycles"), SETTINGS, shard=shard)
    defaults, others = _tasks(spec, None)
    return {(t.workload_id, t.setting) for t in (*defaults, *others)}


def test_shards_count_every_default_and_split_the_rest() -> None:
    whole = _counted(None)
    parts = [_counted((k, 3)) for k in (1, 2, 3)]
    defaults = {(w, "default") for w in ("acyclic_churn", "short_cycles")}
    for part in parts:
        assert defaults <= part
    rest = [part - defaults for part in parts]
    assert set().union(*rest) == whole - defaults
    assert sum(len(r) for r in rest) == len(whole - defaults)  # no point twice
    assert sorted(len(r) for r in rest) == [2, 3, 3]


def test_a_shard_round_trips_through_the_manifest() -> None:
    spec = CountSpec("python3", ("acyclic_churn",), SETTINGS, shard=(2, 3))
    assert CountSpec.from_json(spec.to_json()) == spec
    assert CountSpec.from_json(CountSpec("p", ("w",), ("default",)).to_json()).shard is None


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/2/3"])
def test_a_bad_shard_is_one_line(text: str) -> None:
    with pytest.raises(ValueError, match="--shard"):
        parse_shard(text)
    assert parse_shard("2/3") == (2, 3)


def test_a_workloads_points_start_when_its_own_default_has_ended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the valgrind span is replaced by a stand-in that only records the order (the real
    # spans: tests/integration/test_counts.py); the sweep's scheduling is what is tested:
    # a slow default of one workload must not hold back another workload's points
    other_started = threading.Event()
    order: list[str] = []
    lock = threading.Lock()

    def fake_point(python: str, workload: str, setting: str, **kw: Any) -> None:
        with lock:
            order.append(f"{workload}@{setting}")
        if workload == "short_cycles" and setting != "default":
            other_started.set()
        if workload == "acyclic_churn" and setting == "default":
            # the slow one: ends only once short_cycles' other points have started
            assert other_started.wait(timeout=20), "short_cycles' points waited for it"
        raise RuntimeError("stand-in: not counted")

    monkeypatch.setattr(count_sweep, "measure_point", fake_point)
    monkeypatch.setattr(count_sweep, "valgrind", lambda: "valgrind")
    spec = CountSpec(sys.executable, ("acyclic_churn", "short_cycles"), SETTINGS, jobs=2)
    _, docs = run_counts(spec, tmp_path / "sweep")
    assert len(docs) == 2 * len(SETTINGS)
    assert set(order[:2]) == {"acyclic_churn@default", "short_cycles@default"}
    slow = next(d for d in docs if d["workload"] == "acyclic_churn" and d["setting"] == "default")
    assert slow["reason"] == "stand-in: not counted"  # not the assertion's timeout
    bounds = {d["bound"] for d in docs if d["setting"] != "default"}
    assert bounds == {"gctune's step bound (no default)"}
