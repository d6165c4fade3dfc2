"""gctune's start-up hook for unchanged programs (``gctune run/sweep --command``).

gctune puts this directory first on ``PYTHONPATH`` of the measured program, so every
Python process of the program imports this module at start-up, after ``site`` has set
up ``sys.path`` and before the program's first line. Here it:

1. runs the ``sitecustomize`` that would have run without gctune (the next one found
   on ``sys.path`` once this directory is left out), so the program sees no difference;
2. reads the point's configuration: the environment variables ``GCTUNE_SETTING`` (the
   GC setting), ``GCTUNE_SNAPSHOT_DIR`` (where to write) and ``GCTUNE_MAX_MEMORY``
   (memory cap, bytes; the address space is limited to twice that). pyperf drops
   environment variables in the workers it spawns but keeps ``PYTHONPATH``, so gctune
   also writes them into a module
   ``gctune_point`` on ``PYTHONPATH``, read when the variables are missing;
3. applies the setting (``gc.collect()``, then freeze and thresholds; a freeze here
   freezes only the objects that exist at start-up), installs the probe and opens its
   span;
4. at exit (``atexit``, or ``os._exit``), closes the span and writes the probe's
   snapshot as ``<pid>-<start>.json`` into the snapshot directory. A process forked by
   the program starts a fresh probe, so each process reports only its own collections.

Nothing here may break the program: any failure is written to ``error-<pid>.txt`` in
the snapshot directory (the sweep reports it) and the program runs on unmeasured.
Every millisecond spent here is part of each measured run, so imports are kept few.
"""

from __future__ import annotations

import os
import sys

ENV_SETTING = "GCTUNE_SETTING"
ENV_SNAPSHOT_DIR = "GCTUNE_SNAPSHOT_DIR"
ENV_MAX_MEMORY = "GCTUNE_MAX_MEMORY"
POINT_MODULE = "gctune_point"

_HERE = os.path.dirname(os.path.abspath(__file__))


def _chain() -> None:
    """Run the next ``sitecustomize`` on ``sys.path``, as ``site`` would have."""
    from importlib.machinery import PathFinder

    path = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
    spec = PathFinder.find_spec("sitecustomize", path)
    if spec is None or spec.loader is None:
        return
    import importlib.util

    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # what site.py does with a failing sitecustomize
        print(
            "Error in sitecustomize; set PYTHONVERBOSE for traceback:\n"
            f"{type(exc).__name__}: {exc}",
            file=sys.stderr,
        )


def _config() -> tuple[str, str, int] | None:
    """(setting, snapshot directory, memory cap in bytes), or None outside gctune."""
    snapshot_dir = os.environ.get(ENV_SNAPSHOT_DIR)
    if snapshot_dir:
        setting = os.environ.get(ENV_SETTING, "default")
        max_memory = os.environ.get(ENV_MAX_MEMORY, "0")
    else:
        try:
            import gctune_point  # type: ignore[import-not-found]
        except ImportError:
            return None
        snapshot_dir, setting = gctune_point.SNAPSHOT_DIR, gctune_point.SETTING
        max_memory = str(gctune_point.MAX_MEMORY)
    return setting, snapshot_dir, int(max_memory or 0)


def _import_gctune() -> None:
    """Import gctune's probe from the installation this file belongs to.

    The program may run another interpreter or environment than gctune's: the package's
    parent directory is put on ``sys.path`` only while gctune's modules are imported.
    """
    parent = os.path.dirname(os.path.dirname(os.path.dirname(_HERE)))
    sys.path.insert(0, parent)
    try:
        import gctune.measure.probe  # noqa: F401
    finally:
        sys.path.remove(parent)


def _limit_memory(max_bytes: int) -> None:
    # The cap itself is the sweep's watch on resident memory; this address-space limit,
    # at twice the cap as for gctune's own workers, is only the kernel's backstop.
    import resource

    limit = 2 * max_bytes
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _report_error(snapshot_dir: str, exc: BaseException) -> None:
    text = " ".join(str(exc).split())
    line = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    message = (
        f"gctune cannot measure {sys.executable} "
        f"(Python {'.'.join(map(str, sys.version_info[:3]))}): {line}"
    )
    print(message, file=sys.stderr)
    try:
        path = os.path.join(snapshot_dir, f"error-{os.getpid()}.txt")
        with open(path, "w", encoding="utf-8") as out:
            out.write(message + "\n")
    except OSError:
        pass


def _start() -> None:
    config = _config()
    if config is None:
        return
    setting, snapshot_dir, max_memory = config
    try:
        _import_gctune()
        from gctune.measure.probe import start_program_probe

        if max_memory:
            _limit_memory(max_memory)
        start_program_probe(setting, snapshot_dir)
    except Exception as exc:
        _report_error(snapshot_dir, exc)


_chain()
_start()
