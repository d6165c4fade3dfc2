"""``--shard K/N`` of a sweep in counts: which points a shard counts (no valgrind here;
the shards measured and merged for real are tests/integration/test_count_merge.py)."""

from __future__ import annotations

import pytest

from gctune.sweep.count_sweep import CountSpec, _tasks, parse_shard

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
