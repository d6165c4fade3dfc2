"""Finding and loading workloads: built-in names, importable modules and files.

A workload module follows one protocol (see ``workloads/`` and the README):
a one-line docstring, ``DEFAULT_SIZE``, ``setup(size) -> state`` and ``step(state)``.

This module is imported inside measured workers: 3.9+, standard library only.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

__all__ = ["Workload", "WorkloadError", "builtin_names", "load_workload", "workload_id"]


class WorkloadError(ValueError):
    """A workload that cannot be found or does not follow the protocol."""


@dataclass(frozen=True)
class Workload:
    """A loaded workload: how to build its state and run one unit of work."""

    id: str
    spec: str
    description: str
    default_size: int
    size_help: str
    setup: Callable[[int], Any]
    step: Callable[[Any], object]


def builtin_names() -> tuple[str, ...]:
    """Names of the built-in workloads, in catalogue order."""
    import workloads

    return tuple(workloads.BUILTIN)


def workload_id(spec: str) -> str:
    """A file-name-safe id for a workload spec: the built-in name, or a cleaned spec."""
    if spec in builtin_names():
        return spec
    text = spec
    if ".py" in text:
        path, _, func = text.partition(":")
        text = Path(path).stem + (f"-{func}" if func else "")
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "workload"


def load_workload(spec: str) -> Workload:
    """Load a workload by built-in name, dotted module name, or path to a ``.py`` file."""
    module = _import(spec)
    return _from_module(spec, module)


def _import(spec: str) -> ModuleType:
    if spec in builtin_names():
        return importlib.import_module(f"workloads.{spec}")
    if spec.endswith(".py") or "/" in spec:
        path = Path(spec)
        if not path.is_file():
            raise WorkloadError(f"workload file {spec} does not exist")
        if path.suffix != ".py":
            raise WorkloadError(f"workload file {spec} is not a Python file (.py)")
        name = f"gctune_user_{re.sub(r'[^A-Za-z0-9_]', '_', path.stem)}"
        loader_spec = importlib.util.spec_from_file_location(name, path)
        if loader_spec is None or loader_spec.loader is None:
            raise WorkloadError(f"cannot import {spec}")
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[name] = module
        try:
            loader_spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[name]
            raise WorkloadError(f"workload {spec} failed to import: {_describe(exc)}") from None
        return module
    try:
        return importlib.import_module(spec)
    except ModuleNotFoundError as exc:
        if exc.name is not None and spec != exc.name and not spec.startswith(exc.name + "."):
            raise WorkloadError(
                f"workload {spec!r} failed to import: {_describe(exc)}"
            ) from None
        known = ", ".join(builtin_names())
        raise WorkloadError(
            f"unknown workload {spec!r} ({exc.name} not found); built-in: {known}"
        ) from None
    except Exception as exc:
        raise WorkloadError(f"workload {spec!r} failed to import: {_describe(exc)}") from None


def _describe(exc: Exception) -> str:
    """One line for an exception raised while importing a workload, with file and line."""
    if isinstance(exc, SyntaxError):
        return f"{type(exc).__name__}: {exc.msg} ({exc.filename}, line {exc.lineno})"
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({frames[-1].filename}, line {frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _from_module(spec: str, module: ModuleType) -> Workload:
    setup = getattr(module, "setup", None)
    step = getattr(module, "step", None)
    if not callable(step):
        raise WorkloadError(f"workload {spec!r} has no step(state) function")
    if setup is None:
        setup = _no_state
    elif not callable(setup):
        raise WorkloadError(f"workload {spec!r}: setup is not a function")
    doc = (module.__doc__ or "").strip().splitlines()
    default_size = getattr(module, "DEFAULT_SIZE", 1)
    if not isinstance(default_size, int) or default_size < 1:
        raise WorkloadError(f"workload {spec!r}: DEFAULT_SIZE must be a positive integer")
    return Workload(
        id=workload_id(spec),
        spec=spec,
        description=doc[0] if doc else "",
        default_size=default_size,
        size_help=str(getattr(module, "SIZE_HELP", "size")),
        setup=setup,
        step=step,
    )


def _no_state(size: int) -> None:
    return None
