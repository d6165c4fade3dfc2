"""The benchmarked call of a pytest test, kept in pytest and rebuilt in a measured worker.

In the pytest process (the plugin, :mod:`gctune.integrations.pytest_plugin`), each call a
test hands to a benchmark fixture — pytest-benchmark's ``benchmark(f, *args)`` and
``benchmark.pedantic(f, args, kwargs, setup=...)``, or the plugin's
``gctune_benchmark(f, *args)`` — is recorded (pytest-benchmark still times it). For each
test, the plugin writes a factory ``make(size)`` that calls :func:`factory`; gctune runs
it in each fresh worker interpreter before it applies the GC setting, and times the call
it returns. The call comes back one of two ways:

- ``import``: when the function is found by its module and qualified name and its
  arguments are Python literals (numbers, strings, bytes, None, and tuples, lists, sets
  and dicts of them: written into the factory as they are, nothing deserialized), the
  worker imports the function's module, and holds nothing of pytest;
- ``pytest``: otherwise (a lambda, a local function, an object argument),
  the test runs once here, under pytest, with the fixtures' calls recorded instead of
  timed. The worker's heap then holds pytest and its plugins, as pytest-benchmark's
  process does; and the test's fixtures are torn down before the first step, so a call
  that needs a yield fixture's open resource fails its point, with the reason.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import io
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

__all__ = [
    "Call",
    "benchmarked_call",
    "factory",
    "patch_pytest_benchmark",
    "portable",
    "recording",
]

Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


@dataclass
class _Recorder:
    """The calls handed to a benchmark fixture while :func:`recording` is open."""

    active: bool = False
    calls: list[Call] = field(default_factory=list)


_RECORDER = _Recorder()


@contextlib.contextmanager
def recording() -> Any:
    """Record benchmark fixtures' calls inside the block; yields the list they go to."""
    _RECORDER.active, _RECORDER.calls = True, []
    try:
        yield _RECORDER.calls
    finally:
        _RECORDER.active = False


def benchmarked_call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``function`` once and return its result, recording the call when asked."""
    if _RECORDER.active:
        _RECORDER.calls.append((function, args, kwargs))
    return function(*args, **kwargs)


_PATCHED: list[bool] = []


def patch_pytest_benchmark(*, keep_timing: bool) -> None:
    """pytest-benchmark's fixture records its call: and still times it (``keep_timing``,
    the pytest process), or only calls it once (a worker). Its public ``benchmark(...)``
    and ``pedantic(...)`` keep their checks and delegate to ``_raw``/``_raw_pedantic``."""
    try:
        from pytest_benchmark.fixture import BenchmarkFixture
    except ImportError:
        return
    if _PATCHED:
        return
    _PATCHED.append(True)
    timed_raw: Callable[..., Any] = BenchmarkFixture._raw
    timed_pedantic: Callable[..., Any] = BenchmarkFixture._raw_pedantic

    def raw(self: Any, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if keep_timing:
            if _RECORDER.active:
                _RECORDER.calls.append((function, args, kwargs))
            return timed_raw(self, function, *args, **kwargs)
        return benchmarked_call(function, *args, **kwargs)

    def raw_pedantic(self: Any, target: Callable[..., Any], *a: Any, **kw: Any) -> Any:
        args, kwargs = kw.get("args", a[0] if a else ()), kw.get("kwargs") or {}
        setup = kw.get("setup")
        if setup is not None and (_RECORDER.active or not keep_timing):
            # pedantic's setup makes the arguments: made once more here for the record
            made = setup()
            if made is not None:
                args, kwargs = made[0], made[1] or {}
        if keep_timing:
            if _RECORDER.active:
                _RECORDER.calls.append((target, tuple(args), dict(kwargs)))
            return timed_pedantic(self, target, *a, **kw)
        return benchmarked_call(target, *args, **kwargs)

    setattr(BenchmarkFixture, "_raw", raw)  # noqa: B010 (typed by pytest-benchmark otherwise)
    setattr(BenchmarkFixture, "_raw_pedantic", raw_pedantic)  # noqa: B010


class _Outcome:
    """pytest hooks: the first failure's one-line reason."""

    def __init__(self) -> None:
        self.failure: Optional[str] = None

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.failed and self.failure is None:
            lines = [line for line in str(report.longreprtext).splitlines() if line.strip()]
            self.failure = f"{report.when}: {lines[-1].strip() if lines else 'failed'}"


def _run_test(pytest_args: list[str]) -> Call:
    import pytest

    patch_pytest_benchmark(keep_timing=False)
    outcome = _Outcome()
    output = io.StringIO()
    with recording() as calls, contextlib.redirect_stdout(output):
        # the test's output stays out of the worker's
        status = pytest.main([*pytest_args, "-q", "-p", "no:cacheprovider"], plugins=[outcome])
    if status != 0:
        last = output.getvalue().strip().splitlines()[-1:] or ["no output"]
        reason = outcome.failure or last[0]
        raise RuntimeError(f"the test did not pass here (pytest exit {status}): {reason}")
    if not calls:
        raise RuntimeError("the test called no benchmark fixture (benchmark, gctune_benchmark)")
    call: Call = calls[-1]
    return call


Reference = tuple[str, str, tuple[Any, ...], dict[str, Any]]
"""A call by import: the function's module and qualified name, literal arguments."""


def _resolve(module: str, qualname: str) -> Any:
    found: Any = importlib.import_module(module)
    for name in qualname.split("."):
        found = getattr(found, name)
    return found


def _load_call(reference: Reference, sys_path: list[str]) -> Call:
    for entry in reversed(sys_path):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    module, qualname, args, kwargs = reference
    try:
        function = _resolve(module, qualname)
    except Exception as exc:
        raise RuntimeError(f"cannot import {module}.{qualname} here: {exc!r}") from None
    return function, args, kwargs


def factory(
    pytest_args: list[str],
    reference: Optional[Reference] = None,
    sys_path: Optional[list[str]] = None,
) -> Callable[[], Any]:
    """The step of a benchmark test: its call by ``reference`` (imported, with the pytest
    process's ``sys_path`` entries added), else the test run here under pytest. Raises
    ``RuntimeError`` (the point's failure reason) when the test fails, is skipped, calls
    no benchmark fixture, or the function does not import."""
    if reference is not None:
        function, args, kwargs = _load_call(reference, sys_path or [])
    else:
        function, args, kwargs = _run_test(pytest_args)

    def step() -> Any:
        return function(*args, **kwargs)

    return step


def portable(call: Call) -> Optional[str]:
    """The call as the source of a :data:`Reference` literal, when the function is found
    again by its module and qualified name and the arguments are literals that read back
    equal (``ast.literal_eval``); else None."""
    function, args, kwargs = call
    module = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or "<" in qualname:
        return None
    try:
        if _resolve(module, qualname) is not function:
            return None
        text = repr((module, qualname, args, kwargs))
        if ast.literal_eval(text) != (module, qualname, args, kwargs):
            return None
    except Exception:
        return None
    return text
