"""The interpreter a sweep measures, and the environment recorded with its results."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Optional

from gctune import __version__
from gctune.errors import UserError
from gctune.store.machine import machine_name

__all__ = [
    "MINIMUM_PYTHON",
    "InterpreterError",
    "check_interpreter",
    "environment",
    "interpreter_of",
    "lent_to",
]


class InterpreterError(UserError):
    """The interpreter to measure cannot run gctune's points; one line for the user."""


@contextmanager
def lent_to(python: str) -> Iterator[Optional[dict[str, str]]]:
    """The environment in which ``python`` runs gctune's points.

    For the interpreter running gctune: None (its own environment). For another one
    (``--python``), this gctune (with its built-in workloads, see
    :func:`gctune.measure.catalog.builtin_package`) and pyperf (all pure Python) are lent to it
    through ``PYTHONPATH``, which pyperf passes on to its workers, together with the
    entry point of the ``gctune`` pyperf hook, so that the measured interpreter needs
    nothing installed. Its own site-packages come after them.
    """
    # Not realpath: a virtualenv's python is a link to a base interpreter that lacks
    # the virtualenv's packages.
    if os.path.abspath(python) == os.path.abspath(sys.executable):
        yield None
        return
    import pyperf

    import gctune

    with tempfile.TemporaryDirectory(prefix="gctune-lent-") as tmp:
        root = Path(tmp)
        for module in (gctune, pyperf):
            package = Path(str(module.__file__)).parent
            (root / package.name).symlink_to(package, target_is_directory=True)
        dist = root / f"gctune-{__version__}.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: gctune\nVersion: {__version__}\n", encoding="utf-8"
        )
        (dist / "entry_points.txt").write_text(
            "[pyperf.hook]\ngctune = gctune.measure.probe:GCHook\n", encoding="utf-8"
        )
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [tmp, *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]
        )
        yield env


# Runs on any Python, 2.7 included, so that an old one is told apart from a broken one:
# gctune itself needs 3.9 (its modules fail to import on older ones, with errors that
# name no version).
_ASK = """\
import sys
if sys.version_info < MINIMUM:
    sys.stdout.write("%s %d.%d.%d" % ((MARK,) + tuple(sys.version_info[:3])))
    sys.exit(0)
import json, pyperf, gctune.measure.probe as p
print(json.dumps(p.interpreter_info()))
"""
_TOO_OLD = "gctune-python-too-old"
MINIMUM_PYTHON = (3, 9)


def interpreter_of(python: str, env: Optional[dict[str, str]] = None) -> dict[str, Any]:
    """Ask the measured interpreter (in a subprocess) what it is; checks it can run points.

    Raises :class:`InterpreterError` (one line) for a program that is not a Python, a
    Python older than 3.9, or one that cannot import gctune's worker.
    """
    code = _ASK.replace("MINIMUM", repr(MINIMUM_PYTHON)).replace("MARK", repr(_TOO_OLD))
    try:
        out = subprocess.run(
            [python, "-c", code],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=env,
        )
    except OSError as exc:
        raise InterpreterError(f"cannot run interpreter {python}: {exc.strerror}") from None
    except subprocess.TimeoutExpired:
        raise InterpreterError(f"interpreter {python} did not answer within 60 s") from None
    if out.stdout.startswith(_TOO_OLD):
        version = out.stdout.split()[-1]
        need = ".".join(map(str, MINIMUM_PYTHON))
        raise InterpreterError(
            f"interpreter {python} is Python {version}; gctune measures Python {need} or newer"
        )
    errors = out.stderr.strip().splitlines()
    if out.returncode != 0 and errors:
        raise InterpreterError(f"interpreter {python} cannot run gctune's worker: {errors[-1]}")
    try:
        info = json.loads(out.stdout)
    except ValueError:
        info = None
    if not isinstance(info, dict):
        said = repr(out.stdout.strip()[:40]) if out.stdout.strip() else "nothing"
        raise InterpreterError(
            f"{python} is not a Python interpreter: asked for its version, it printed "
            f"{said} (exit status {out.returncode})"
        )
    return info


def check_interpreter(python: str) -> dict[str, Any]:
    """:func:`interpreter_of` with the environment gctune lends it (see :func:`lent_to`)."""
    with lent_to(python) as env:
        return interpreter_of(python, env)


def environment(interpreter: dict[str, Any]) -> dict[str, Any]:
    """The sweep's environment, stored in the manifest."""
    import pyperf

    env: dict[str, Any] = {
        "gctune_version": __version__,
        "pyperf_version": pyperf.__version__,
        "python": interpreter,
        "platform": platform.platform(),
        "hostname": platform.node(),
        # the machine's name in history and compare (gctune.store.machine)
        "machine": machine_name(),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "git_commit": _git("rev-parse", "HEAD"),
        "git_date": _git("log", "-1", "--format=%cI"),
    }
    return env


def _cpu_model() -> Optional[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _git(*args: str) -> Optional[str]:
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None
