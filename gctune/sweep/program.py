"""Unchanged programs as gctune points: ``gctune run/sweep --command -- python app.py``.

How one point of a command is measured:

* Timing is pyperf's ``python -m pyperf command``: each value is the wall time of whole
  runs of the program (start-up and exit included), over several pyperf worker
  processes with warmups and a calibrated number of runs per value (``loops``). It is
  run with ``--copy-env``, so the program sees the environment it would see when run by
  hand (pyperf otherwise keeps only a few variables).
* The GC setting and the probe reach the program through ``PYTHONPATH``: gctune puts its
  ``startup/`` directory first, whose ``sitecustomize`` applies the setting at start-up
  and writes one snapshot per Python process at exit (see ``gctune/measure/startup``). The
  program is run as ``env PYTHONPATH=... GCTUNE_SETTING=... COMMAND`` so that pyperf's
  own processes are not measured.
* Python processes the program starts (``subprocess``, ``multiprocessing``, pyperf
  workers of a program that is itself a pyperf benchmark) inherit ``PYTHONPATH`` and so
  get the same setting and probe, each writing its own snapshot. They count in the
  point: a run's collections, pauses and objects collected are those of all its
  processes, its peak RSS the largest of any one process, and its GC share the pause
  total over the wall time of the program's top process.

Pairing snapshots with pyperf's runs: pyperf runs its workers one after another, and in
each worker the warmups, then the values, each value being ``loops`` runs of the
program in a row. Top processes (those whose parent is not itself measured) sorted by
start time therefore split into pyperf's runs by count; the snapshots of a run's
measured values (not its warmups or calibration) and of their descendants make that
run's GC metrics. If the counts disagree (a program that ends with ``os.kill`` or by a
signal writes no snapshot), the point fails rather than pair them wrongly.

The point file is an ordinary one (:mod:`gctune.store.results`, format unchanged): its size is
null, and each run's probe data also carries ``processes`` (how many processes it covers)
and ``applied`` (what the setting put in force in the top process), which readers ignore.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

from gctune.errors import UserError
from gctune.measure.histogram import Histogram
from gctune.measure.probe import ROOT_ENV
from gctune.sweep.environment import InterpreterError, check_interpreter
from gctune.sweep.worker_failure import last_line, signal_name

__all__ = [
    "STARTUP_DIR",
    "Launch",
    "ProgramError",
    "attach_snapshots",
    "check_command",
    "command_id",
    "program_failure",
    "prepare_launch",
    "program_interpreter",
    "pyperf_command",
]

STARTUP_DIR = Path(__file__).resolve().parents[1] / "measure" / "startup"

_PYTHON = re.compile(r"^(python|pypy)[0-9.]*t?$")
_VALUE_OPTIONS = ("-X", "-W", "-Q")


class ProgramError(UserError, ValueError):
    """A command that cannot be run as given; the message is one line for the user."""


def _python_target(args: Sequence[str]) -> tuple[str, str]:
    """What ``python ARGS`` runs: ``("module", name)``, ``("script", path)``, or ``("", "")``
    for code given with ``-c``, standard input, or nothing."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "-m":
            return ("module", args[i + 1]) if i + 1 < len(args) else ("", "")
        if arg.startswith("-m"):
            return "module", arg[2:]
        if arg == "-" or arg.startswith("-c"):
            return "", ""
        if arg.startswith("-"):
            i += 2 if arg in _VALUE_OPTIONS else 1
            continue
        return "script", arg
    return "", ""


def command_id(command: Sequence[str]) -> str:
    """A file-name-safe id for a command: its script's or module's name.

    ``python app.py ARGS`` → ``app``, ``python -m json.tool f`` → ``json.tool``,
    ``python -c ...`` → ``python-c``, ``./tool --x`` → ``tool``.
    """
    exe = os.path.basename(command[0])
    name = Path(exe).stem
    if _PYTHON.match(exe):
        kind, target = _python_target(command[1:])
        name = {"module": target, "script": Path(target).stem}.get(kind, f"{name}-c")
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "command"


def check_command(command: Sequence[str], cwd: str) -> None:
    """Fail in one line, before any measuring, when the program cannot start at all."""
    if not command:
        raise ProgramError(
            "--command needs a program to run: gctune run --command -- python app.py"
        )
    exe = command[0]
    if os.sep in exe:  # a path: relative to where the program will run
        path = Path(cwd, exe)
        found = path.is_file() and os.access(path, os.X_OK)
    else:
        found = shutil.which(exe) is not None
    if not found:
        raise ProgramError(f"program {exe!r} not found (or not executable)")
    if _PYTHON.match(os.path.basename(exe)):
        kind, script = _python_target(command[1:])
        if kind == "script" and not Path(cwd, script).is_file():
            raise ProgramError(f"{exe} cannot open {script!r}: no such file")
    if shutil.which("env") is None:
        raise ProgramError("gctune needs the 'env' program to launch commands")


@dataclass(frozen=True)
class Launch:
    """Where one point's program writes, and the environment that instruments it."""

    command: tuple[str, ...]
    snapshot_dir: Path
    variables: dict[str, str]

    def env_prefix(self) -> list[str]:
        """``env -u GCTUNE_ROOT VAR=value ...``: put before the command."""
        return ["env", "-u", ROOT_ENV, *(f"{k}={v}" for k, v in self.variables.items())]


def prepare_launch(tmp: Path, command: Sequence[str], setting_id: str, max_memory: int) -> Launch:
    """Make the point's snapshot and configuration directories under ``tmp``.

    The configuration module ``gctune_point`` carries the same values as the environment
    variables, for processes whose environment pyperf filtered (see ``startup/``).
    """
    snapshot_dir = tmp / "snapshots"
    config_dir = tmp / "config"
    snapshot_dir.mkdir()
    config_dir.mkdir()
    (config_dir / "gctune_point.py").write_text(
        "# Written by gctune for one measured point; read by gctune's sitecustomize.\n"
        f"SETTING = {setting_id!r}\nSNAPSHOT_DIR = {str(snapshot_dir)!r}\n"
        f"MAX_MEMORY = {int(max_memory)}\n",
        encoding="utf-8",
    )
    user_path = os.environ.get("PYTHONPATH")
    pythonpath = os.pathsep.join(
        [str(STARTUP_DIR), str(config_dir), *([user_path] if user_path else [])]
    )
    return Launch(
        command=tuple(command),
        snapshot_dir=snapshot_dir,
        variables={
            "PYTHONPATH": pythonpath,
            "GCTUNE_SETTING": setting_id,
            "GCTUNE_SNAPSHOT_DIR": str(snapshot_dir),
            "GCTUNE_MAX_MEMORY": str(int(max_memory)),
        },
    )


def pyperf_command(
    python: str, launch: Launch, name: str, output: Path, pyperf_options: Sequence[str]
) -> list[str]:
    """``python -m pyperf command ... env ... COMMAND``: time the program's whole runs."""
    return [
        python,
        "-m",
        "pyperf",
        "command",
        "--copy-env",
        "--name",
        name,
        "-o",
        str(output),
        *pyperf_options,
        *launch.env_prefix(),
        *launch.command,
    ]


# --- after pyperf: snapshots → runs ------------------------------------------------


def _load_snapshots(snapshot_dir: Path) -> list[dict[str, Any]]:
    snaps = []
    for path in sorted(snapshot_dir.glob("*.json")):
        try:
            snaps.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):
            continue  # written atomically: a bad file is not ours
    return snaps


def _key(snap: dict[str, Any]) -> str:
    return f"{snap['pid']}-{snap['started_ns']}"


def _families(
    snaps: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """Top processes in start order, and each top's descendants (by key)."""
    by_key = {_key(s): s for s in snaps}
    by_pid: dict[int, list[dict[str, Any]]] = {}
    for snap in snaps:
        by_pid.setdefault(snap["pid"], []).append(snap)

    def parent_of(snap: dict[str, Any]) -> Optional[dict[str, Any]]:
        for cand in by_pid.get(snap["ppid"], []):
            if cand["started_ns"] <= snap["started_ns"] <= cand["ended_ns"]:
                return cand
        return None

    def top_of(snap: dict[str, Any]) -> Optional[dict[str, Any]]:
        root = snap.get("root")
        if root and root in by_key and by_key[root] is not snap:
            return by_key[root]  # through any non-Python process between them
        parent = parent_of(snap)
        return None if parent is None else (top_of(parent) or parent)

    tops: list[dict[str, Any]] = []
    family: dict[str, list[dict[str, Any]]] = {}
    for snap in snaps:
        top = top_of(snap)
        if top is None:
            tops.append(snap)
            family.setdefault(_key(snap), []).insert(0, snap)
        else:
            family.setdefault(_key(top), []).append(snap)
    tops.sort(key=lambda s: s["started_ns"])
    return tops, family


def _program_runs(run: dict[str, Any], loops: int) -> tuple[int, int]:
    """(program runs in this pyperf run, of which measured ones, the last)."""
    warmups = sum(int(n) for n, _ in run.get("warmups", []))
    measured = len(run.get("values", [])) * loops
    return warmups + measured, measured


def _merge(tops: list[dict[str, Any]], procs: list[dict[str, Any]]) -> dict[str, Any]:
    """One run's probe data (the probe snapshot's shape) from its processes."""
    collected: dict[str, int] = {}
    uncollectable: dict[str, int] = {}
    requests = Histogram()
    for proc in procs:
        for gen, n in proc["collected"].items():
            collected[gen] = collected.get(gen, 0) + n
        for gen, n in proc["uncollectable"].items():
            uncollectable[gen] = uncollectable.get(gen, 0) + n
        if proc.get("requests"):
            requests.merge(Histogram.from_json(proc["requests"]))
    first = tops[0]
    optional: dict[str, Any] = {}
    if all("cpu_ns" in p for p in procs):  # probes that time CPU too: all processes' CPU
        optional["cpu_ns"] = sum(int(p["cpu_ns"]) for p in procs)
    if all("reported_pauses" in p for p in procs):  # 3.15+: the interpreter's durations too
        for key in ("reported_pauses", "pause_excess_ppm"):
            optional[key] = _merged_by_gen(p[key] for p in procs)
    return {
        **optional,
        "wall_ns": sum(t["wall_ns"] for t in tops),
        "spans": len(tops),
        "pauses": _merged_by_gen(p["pauses"] for p in procs),
        "collected": collected,
        "uncollectable": uncollectable,
        "requests": requests.to_json() if requests.count else None,
        "peak_rss_bytes": max(p["peak_rss_bytes"] for p in procs),
        "thresholds": first["thresholds"],
        "gc_enabled": first["gc_enabled"],
        "frozen": first["frozen"],
        "applied": first.get("applied"),
        "processes": len(procs),
    }


def _merged_by_gen(parts: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Histograms per generation (JSON, as the probe writes them), merged."""
    merged: dict[str, Histogram] = {}
    for part in parts:
        for gen, data in part.items():
            merged.setdefault(gen, Histogram()).merge(Histogram.from_json(data))
    return {g: h.to_json() for g, h in sorted(merged.items(), key=lambda x: int(x[0]))}


def attach_snapshots(pyperf_data: dict[str, Any], snapshot_dir: Path) -> Optional[str]:
    """Put each measured pyperf run's GC data in its metadata as ``gctune_probe``.

    Returns None, or why the snapshots cannot be paired with pyperf's runs (one line).
    """
    snaps = _load_snapshots(snapshot_dir)
    if not snaps:
        return (
            "no Python process of the program wrote a GC snapshot: is it a Python "
            "program, run without -E, -I or -S (which skip PYTHONPATH or site)?"
        )
    tops, family = _families(snaps)
    runs = [r for bench in pyperf_data.get("benchmarks", []) for r in bench.get("runs", [])]
    common_loops = int(pyperf_data.get("metadata", {}).get("loops", 1))
    counts = [_program_runs(r, int(r.get("metadata", {}).get("loops", common_loops))) for r in runs]
    expected = sum(total for total, _ in counts)
    if expected != len(tops):
        return (
            f"pyperf ran the program {expected} times but {len(tops)} top processes "
            "wrote a GC snapshot; cannot pair GC data with timings"
        )
    start = 0
    for run, (total, measured) in zip(runs, counts):
        chunk = tops[start : start + total]
        start += total
        if not measured:
            continue  # calibration: no values
        mine = chunk[total - measured :]
        procs = [p for top in mine for p in family[_key(top)]]
        merged = _merge(mine, procs)
        run.setdefault("metadata", {})["gctune_probe"] = json.dumps(merged, sort_keys=True)
    return None


# --- diagnosis and interpreter ------------------------------------------------------


def program_failure(launch: Launch, cwd: Optional[str], log_text: str, timeout: float) -> str:
    """Why the program failed under pyperf, in one line.

    pyperf discards the program's output, so the program is run once more, directly,
    with the same instrumentation, to read the last line it wrote (stderr, else stdout).
    """
    errors = sorted(launch.snapshot_dir.glob("error-*.txt"))
    if errors:
        return errors[0].read_text(encoding="utf-8").strip()
    status = re.search(r"Command failed with exit code (-?\d+)", log_text)
    code = int(status.group(1)) if status else None
    try:
        done = subprocess.run(
            list(launch.command),
            cwd=cwd,
            env={**os.environ, **launch.variables},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"program exited with status {code} under pyperf (re-run: {exc})"
    last = last_line(done.stderr) or last_line(done.stdout) or "no output"
    if "MemoryError" in last:
        return f"exceeded the memory cap: {last}"
    if done.returncode == 0:
        return f"program exited with status {code} under pyperf, but 0 when run again"
    if done.returncode < 0:
        return f"program killed by {signal_name(-done.returncode)}: {last}"
    return f"program exited with status {done.returncode}: {last}"


def program_interpreter(snapshot_dir: Path) -> dict[str, Any]:
    """What interpreter ran the program's top process (``interpreter_info`` keys)."""
    snaps = _load_snapshots(snapshot_dir)
    if not snaps:
        return {}
    tops, _ = _families(snaps)
    return dict(_interpreter_of(str(tops[0]["executable"]), str(tops[0]["python"])))


@lru_cache(maxsize=8)
def _interpreter_of(executable: str, version: str) -> dict[str, Any]:
    """Asked as a sweep asks the interpreter it measures (:func:`check_interpreter`); an
    interpreter that cannot run gctune's modules is known by its version only."""
    try:
        return check_interpreter(executable)
    except InterpreterError:
        return {"version": version, "executable": executable}
