from __future__ import annotations

import gc
import importlib
from collections.abc import Iterator
from types import ModuleType

import pytest

from gctune.measure.catalog import BUILTIN_PACKAGE, builtin_package

workloads = builtin_package()
TINY = 10
CYCLIC = ("short_cycles", "longlived_heap", "tree_parents", "request_loop")


def _load(name: str) -> ModuleType:
    return importlib.import_module(f"{BUILTIN_PACKAGE}.{name}")


@pytest.fixture
def gc_disabled() -> Iterator[None]:
    """Automatic collection off for the test body, restored even if it fails."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.collect()


def test_builtin_lists_the_five_modules_in_catalogue_order() -> None:
    assert workloads.BUILTIN == (
        "acyclic_churn",
        "short_cycles",
        "longlived_heap",
        "tree_parents",
        "request_loop",
    )


@pytest.mark.parametrize("name", workloads.BUILTIN)
def test_module_follows_the_protocol(name: str) -> None:
    module = _load(name)
    doc = (module.__doc__ or "").strip().splitlines()
    assert doc and doc[0].strip(), "needs a one-line description"
    assert len(doc) >= 3 and not doc[1].strip(), "one-line summary, blank line, paragraph"
    assert type(module.DEFAULT_SIZE) is int and module.DEFAULT_SIZE > 0
    assert isinstance(module.SIZE_HELP, str) and module.SIZE_HELP.strip()

    state = module.setup(TINY)
    for _ in range(5):
        module.step(state)


@pytest.mark.parametrize("name", workloads.BUILTIN)
def test_same_size_gives_the_same_checksums(name: str) -> None:
    module = _load(name)
    first, second = module.setup(TINY), module.setup(TINY)
    seen = []
    for _ in range(5):
        module.step(first)
        module.step(second)
        assert first.checksum == second.checksum
        seen.append(first.checksum)
    assert len(set(seen)) == len(seen), "checksum must follow the data each step builds"


def test_acyclic_churn_leaves_no_cyclic_garbage(gc_disabled: None) -> None:
    module = _load("acyclic_churn")
    state = module.setup(200)
    for _ in range(20):
        module.step(state)
    assert gc.collect() == 0


def test_short_cycles_garbage_is_only_freed_by_the_collector(gc_disabled: None) -> None:
    module = _load("short_cycles")
    state = module.setup(TINY)
    steps = 5
    for _ in range(steps):
        module.step(state)
    # Every node and its payload list must still be waiting for the collector.
    assert gc.collect() >= 2 * TINY * steps


@pytest.mark.parametrize("name", CYCLIC)
def test_cyclic_workloads_leave_cyclic_garbage(name: str, gc_disabled: None) -> None:
    module = _load(name)
    state = module.setup(TINY)
    for _ in range(3):
        module.step(state)
    assert gc.collect() > 0


@pytest.mark.parametrize("name", workloads.BUILTIN)
def test_steps_keep_nothing_alive_beyond_their_state(name: str) -> None:
    module = _load(name)
    state = module.setup(TINY)
    # longlived_heap keeps a window of 16 steps' sessions; let it fill first.
    for _ in range(20):
        module.step(state)
    gc.collect()
    before = len(gc.get_objects())
    for _ in range(20):
        module.step(state)
    gc.collect()
    # Not ==: the interpreter may untrack or free a few of its own objects meanwhile.
    assert len(gc.get_objects()) <= before


def test_request_loop_records_one_latency_per_request(monkeypatch: pytest.MonkeyPatch) -> None:
    module = _load("request_loop")
    recorded: list[int] = []
    monkeypatch.setattr(module, "record_request", recorded.append)
    state = module.setup(TINY)
    module.step(state)
    module.step(state)
    assert len(recorded) == 2 * TINY
    assert all(type(ns) is int and ns > 0 for ns in recorded)
