"""Finding and loading workloads: built-in names, modules, files and callables.

A workload spec is one of:

``name``
    A built-in workload (``gctune list``).
``package.module`` or ``path/to/file.py``
    A workload module: a one-line docstring, ``DEFAULT_SIZE``, ``setup(size) -> state``
    (optional) and ``step(state)``, as the built-in ones (``gctune.workloads``).
``package.module:function`` or ``path/to/file.py:function``
    A callable. Its signature says how gctune calls it:

    * ``function()`` — no required parameter: it is the step, called with no arguments.
    * ``function(size)`` — first parameter named ``size``: a factory. gctune calls
      ``function(size)`` once, before the GC setting is applied, and times the callable
      it returns (called with no arguments). Build long-lived state in the factory.
    * ``function(state)`` — one required parameter with another name: a step called
      with a state, from ``function_setup(size)`` when the module defines it, else from
      the module's ``setup(size)``; with neither, the state is the size itself, so a
      benchmark written ``bench(n)`` runs ``bench(size)`` at each step.

    A step must run its work to the end when called: an ``async def`` or generator
    function (called, it only creates a coroutine or generator) is refused with how to
    wrap it, e.g. ``lambda: asyncio.run(step())``.

    ``size`` reaches only the factory or the setup function (or, with no setup, the
    step). Its default is the default value of that size parameter, else the module's
    ``DEFAULT_SIZE``; ``--size`` overrides both, and is required when neither exists.
    A step without parameters ignores it.

A dotted module name is imported the way ``python -m`` would: the current directory
first, then ``PYTHONPATH`` and the installed packages. A file is imported from its
path, so it need not be on ``sys.path``.

This module is imported inside measured workers: 3.9+, standard library only.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Optional

from gctune.errors import UserError

__all__ = [
    "BUILTIN_PACKAGE",
    "Workload",
    "WorkloadError",
    "builtin_names",
    "builtin_package",
    "load_workload",
    "resolve_specs",
    "split_spec",
    "workload_id",
    "workload_ids",
]


class WorkloadError(UserError, ValueError):
    """A workload that cannot be found or does not follow the protocol."""


@dataclass(frozen=True)
class Workload:
    """A loaded workload: how to build its state and run one unit of work.

    ``setup(size)`` runs once per worker, before the GC setting is applied. ``step`` is
    called with that state; when ``step`` is None, the state *is* the step and is called
    with no arguments (plain functions and factories).
    """

    id: str
    spec: str
    description: str
    default_size: Optional[int]  # None: the workload needs --size
    size_help: str
    setup: Callable[[int], Any]
    step: Optional[Callable[[Any], object]]

    def size_for(self, size: Optional[int]) -> int:
        """The size to run: ``size`` when given, else the default; fails without either."""
        if size is not None:
            return size
        if self.default_size is None:
            raise WorkloadError(
                f"{self.spec!r} has no default size: give --size N (or a default value "
                "for its size parameter, or DEFAULT_SIZE in the module)"
            )
        return self.default_size

    def run_steps(self, state: Any, count: int) -> None:
        """Run ``count`` steps on ``state`` (the timed loop of every measurement).

        Two loops rather than a wrapper, so a tiny user function is not charged for an
        extra call per step.
        """
        step = self.step
        if step is None:
            call: Callable[[], object] = state
            for _ in range(count):
                call()
        else:
            for _ in range(count):
                step(state)


# The built-in workloads install under a name gctune owns: a top-level ``workloads``
# would shadow (or be shadowed by) a user's module of that name.
BUILTIN_PACKAGE = "gctune.workloads"


def builtin_package() -> ModuleType:
    """The package of the built-in workloads, imported as ``gctune.workloads``.

    An installed gctune (a wheel) holds it as a subpackage. A source checkout (an
    editable install, the tests, or a checkout lent to another interpreter through
    ``PYTHONPATH``) keeps it in the repository's top-level ``workloads/`` folder, beside
    ``gctune/``, which is then imported under the same name.
    """
    found = sys.modules.get(BUILTIN_PACKAGE)
    if found is not None:
        return found
    try:
        return importlib.import_module(BUILTIN_PACKAGE)
    except ModuleNotFoundError as exc:
        if exc.name != BUILTIN_PACKAGE:
            raise
    # resolve(): a checkout lent through a symlinked gctune/ keeps workloads/ beside it
    folder = Path(__file__).resolve().parents[2] / "workloads"
    init = folder / "__init__.py"
    loader_spec = importlib.util.spec_from_file_location(
        BUILTIN_PACKAGE, init, submodule_search_locations=[str(folder)]
    )
    if not init.is_file() or loader_spec is None or loader_spec.loader is None:
        raise WorkloadError(f"gctune's built-in workloads are missing (no {BUILTIN_PACKAGE})")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[BUILTIN_PACKAGE] = module
    try:
        loader_spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[BUILTIN_PACKAGE]
        raise
    import gctune

    setattr(gctune, "workloads", module)  # noqa: B010 - as the import system would
    return module


def builtin_names() -> tuple[str, ...]:
    """Names of the built-in workloads, in catalogue order."""
    return tuple(builtin_package().BUILTIN)


_IDENT = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def split_spec(spec: str) -> tuple[str, Optional[str]]:
    """Split ``target:function`` into its target (module or file) and function name."""
    target, colon, func = spec.rpartition(":")
    if colon and target and _IDENT.match(func):
        return target, func
    return spec, None


def _is_file_spec(target: str) -> bool:
    """A path rather than a module name (by spelling: ids must not depend on the disk)."""
    return target.endswith(".py") or "/" in target or os.sep in target


def _names_a_file(target: str) -> bool:
    return _is_file_spec(target) or os.path.isfile(target)


def workload_id(spec: str) -> str:
    """A file-name-safe id for a workload spec: the built-in name, or a cleaned spec."""
    if spec in builtin_names():
        return spec
    target, func = split_spec(spec)
    text = Path(target).stem if _is_file_spec(target) else target
    if func:
        text += f"-{func}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "workload"


def workload_ids(specs: list[str]) -> list[str]:
    """Ids of a sweep's workloads, made unique: files that share a name get their folder's.

    ``a/run_benchmark.py:main`` and ``b/run_benchmark.py:main`` become
    ``a.run_benchmark-main`` and ``b.run_benchmark-main``. Depends only on the specs, so a
    resumed sweep finds the same ids; specs that still clash raise :class:`WorkloadError`.
    """
    base = [workload_id(spec) for spec in specs]
    ids = list(base)
    for n, spec in enumerate(specs):
        target, _ = split_spec(spec)
        if base.count(base[n]) > 1 and _is_file_spec(target):
            ids[n] = f"{Path(target).resolve().parent.name}.{base[n]}"
    for n, wid in enumerate(ids):
        if ids.count(wid) > 1:
            other = specs[ids.index(wid, n + 1)]
            raise WorkloadError(f"workloads {specs[n]!r} and {other!r} would share the id {wid!r}")
    return ids


def load_workload(spec: str) -> Workload:
    """Load a workload by built-in name, module, ``.py`` file, or ``target:function``."""
    target, func = split_spec(spec)
    module = _import(target)
    if func is None:
        return _from_module(spec, module)
    return _from_callable(spec, module, func)


def _import(target: str) -> ModuleType:
    if target in builtin_names():
        return importlib.import_module(f"{BUILTIN_PACKAGE}.{target}")
    if _names_a_file(target):
        return _import_file(target)
    if os.getcwd() not in sys.path and "" not in sys.path:
        # as ``python -m``: a module in the current directory is found first
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as exc:
        if exc.name and (target == exc.name or target.startswith(exc.name + ".")):
            known = ", ".join(builtin_names())
            raise WorkloadError(
                f"unknown workload {target!r} (no module named {exc.name!r} in the current "
                f"directory or on sys.path); built-in: {known}"
            ) from None
        raise WorkloadError(f"workload {target!r} failed to import: {_describe(exc)}") from None
    except Exception as exc:
        raise WorkloadError(f"workload {target!r} failed to import: {_describe(exc)}") from None


def _import_file(target: str) -> ModuleType:
    path = Path(target)
    if not path.exists():
        raise WorkloadError(f"workload file {target} does not exist")
    if not path.is_file():
        raise WorkloadError(f"workload file {target} is not a file")
    if path.suffix != ".py":
        raise WorkloadError(f"workload file {target} is not a Python file (.py)")
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        # as ``python FILE``: the modules beside the file are found first
        sys.path.insert(0, folder)
    name = f"gctune_user_{re.sub(r'[^A-Za-z0-9_]', '_', path.stem)}"
    loader_spec = importlib.util.spec_from_file_location(name, path)
    if loader_spec is None or loader_spec.loader is None:
        raise WorkloadError(f"cannot import {target}")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[name] = module
    try:
        loader_spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise WorkloadError(f"workload {target} failed to import: {_describe(exc)}") from None
    return module


def _describe(exc: BaseException) -> str:
    """One line for an exception raised while importing a workload, with file and line."""
    if isinstance(exc, SyntaxError):
        return f"{type(exc).__name__}: {exc.msg} ({exc.filename}, line {exc.lineno})"
    text = " ".join(str(exc).split())
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({frames[-1].filename}, line {frames[-1].lineno})" if frames else ""
    return (f"{type(exc).__name__}: {text}" if text else type(exc).__name__) + where


def _description(module: ModuleType, obj: object = None) -> str:
    for source in (obj, module):
        doc = (getattr(source, "__doc__", None) or "").strip().splitlines() if source else []
        if doc:
            return doc[0].strip()
    return ""


def _from_module(spec: str, module: ModuleType) -> Workload:
    setup = getattr(module, "setup", None)
    step = getattr(module, "step", None)
    if not callable(step):
        raise WorkloadError(
            f"workload {spec!r} has no step(state) function (or name a function: {spec}:FUNCTION)"
        )
    _check_step(spec, step)
    if setup is None:
        setup = _no_state
    elif not callable(setup):
        raise WorkloadError(f"workload {spec!r}: setup is not a function")
    default_size = getattr(module, "DEFAULT_SIZE", 1)
    if not isinstance(default_size, int) or default_size < 1:
        raise WorkloadError(f"workload {spec!r}: DEFAULT_SIZE must be a positive integer")
    return Workload(
        id=workload_id(spec),
        spec=spec,
        description=_description(module),
        default_size=default_size,
        size_help=str(getattr(module, "SIZE_HELP", "size")),
        setup=setup,
        step=step,
    )


def _attribute(module: ModuleType, spec: str, name: str) -> Any:
    obj: Any = module
    for part in name.split("."):
        if not hasattr(obj, part):
            public = sorted(
                n
                for n, v in vars(module).items()
                if callable(v)
                and not n.startswith("_")
                and not isinstance(v, type)
                and getattr(v, "__module__", None) == module.__name__
            )
            hint = f"; its functions: {', '.join(public[:8])}" if public else ""
            raise WorkloadError(f"{spec!r}: the module has no {name!r}{hint}")
        obj = getattr(obj, part)
    return obj


def _parameters(func: Callable[..., Any]) -> list[inspect.Parameter]:
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature: call with none
        return []
    return [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _size_default(module: ModuleType, receiver: Callable[..., Any]) -> Optional[int]:
    """``receiver``'s default for its first (size) parameter, else ``DEFAULT_SIZE``."""
    params = _parameters(receiver)
    if params and params[0].default is not inspect.Parameter.empty:
        value = params[0].default
    else:
        value = getattr(module, "DEFAULT_SIZE", None)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise WorkloadError(f"the default size of {receiver.__name__} must be a positive integer")
    return value


def _from_callable(spec: str, module: ModuleType, name: str) -> Workload:
    func = _attribute(module, spec, name)
    if not callable(func):
        raise WorkloadError(f"{spec!r} is not a function")
    params = _parameters(func)
    required = [p for p in params if p.default is inspect.Parameter.empty]

    def workload(default_size: Optional[int], setup: Callable[[int], Any], step: Any) -> Workload:
        return Workload(
            id=workload_id(spec),
            spec=spec,
            description=_description(module, func),
            default_size=default_size,
            size_help=str(getattr(module, "SIZE_HELP", "size")),
            setup=setup,
            step=step,
        )

    if params and params[0].name == "size":
        if inspect.iscoroutinefunction(func) or inspect.isgeneratorfunction(func):
            _check_step(spec, func)  # an async factory: its step is never returned
        if len(required) > 1:
            raise WorkloadError(f"{spec!r}: a factory takes only size")
        return workload(_size_default(module, func), _factory(spec, func), None)
    _check_step(spec, func)
    if not required:
        return workload(1, lambda size: func, None)  # size unused
    if len(required) > 1:
        raise WorkloadError(
            f"{spec!r} takes {len(required)} arguments; a step takes none, "
            "or one (its state, or its size), or a factory takes size"
        )
    own = f"{name.rpartition('.')[2]}_setup"
    setup = getattr(module, own, None) or getattr(module, "setup", None)
    if setup is None:
        # no setup: the state is the size itself, as in benchmarks written bench(n)
        return workload(_size_default(module, func), _identity, func)
    if not callable(setup):
        raise WorkloadError(
            f"{spec!r}: {own if hasattr(module, own) else 'setup'} is not a function"
        )
    return workload(_size_default(module, setup), setup, func)


def _factory(spec: str, func: Callable[[int], Any]) -> Callable[[int], Any]:
    def setup(size: int) -> Any:
        step = func(size)
        if not callable(step):
            raise WorkloadError(
                f"{spec!r}: a factory must return the step (a callable), got {type(step).__name__}"
            )
        _check_step(spec, step)
        return step

    return setup


def _check_step(spec: str, step: Any) -> None:
    """Refuse a step whose call only creates a coroutine or generator and runs nothing.

    Calling an ``async def`` function (or a generator function) returns an object
    without running its body: timed as a step it measures a few microseconds of nothing.
    A step must run the work to its end, so gctune asks for a wrapper rather than
    guessing an event loop (the program's own loop policy, or a long-lived loop, is the
    program's choice).
    """
    if inspect.iscoroutinefunction(step) or inspect.isasyncgenfunction(step):
        kind = "an async generator" if inspect.isasyncgenfunction(step) else "a coroutine"
        raise WorkloadError(
            f"{spec!r}: the step is an async function; calling it only creates {kind} "
            "that never runs: wrap it so a call runs it to the end, e.g. "
            "return lambda: asyncio.run(step()) from the factory"
        )
    if inspect.isgeneratorfunction(step):
        raise WorkloadError(
            f"{spec!r}: the step is a generator function; calling it only creates a "
            "generator that never runs: wrap it so a call exhausts it, e.g. "
            "return lambda: collections.deque(step(), maxlen=0)"
        )


def _no_state(size: int) -> None:
    return None


def _identity(size: int) -> int:
    return size


def resolve_specs(specs: list[str], *, python: str, size: Optional[int] = None) -> list[str]:
    """Check that every workload loads in ``python`` here; return them with files absolute.

    Built-in names are checked in this process. Anything else (user code, which may
    change the collector when imported) is imported in a subprocess of the measured
    interpreter, in the current directory as the workers will be; the first failure
    raises :class:`WorkloadError` with its one-line reason.
    """
    resolved = []
    for spec in specs:
        target, func = split_spec(spec)
        if target not in builtin_names() and _names_a_file(target):
            target = str(Path(target).resolve())
        resolved.append(target + (f":{func}" if func else ""))
    user = [s for s in resolved if s not in builtin_names()]
    if user:
        import subprocess

        sized = ["--size", str(size)] if size is not None else []
        done = subprocess.run(
            [python, "-m", "gctune.measure.catalog", *sized, *user],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines() or ["no output"]
            raise WorkloadError(lines[-1].removeprefix("gctune: "))
    return resolved


def main(argv: Optional[list[str]] = None) -> int:
    """``python -m gctune.measure.catalog [--size N] SPEC...``: check each workload loads here.

    Run by the sweep in the measured interpreter and directory, so that a workload that
    would fail in every worker fails once, in one line, before the sweep starts.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    size = None
    if args[:1] == ["--size"]:
        size, args = int(args[1]), args[2:]
    for spec in args:
        try:
            load_workload(spec).size_for(size)
        except WorkloadError as exc:
            print(f"gctune: {exc}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
