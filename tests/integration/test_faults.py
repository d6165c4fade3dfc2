"""Fault injection on real sweeps: points that crash, exit, run out of memory; sweeps that
are interrupted, killed, doubled or cannot write. Each fault ends as a recorded reason or
one line to the user, and nothing finished is lost.

Every test here is a row of the table in docs/faults.md.
"""

from __future__ import annotations

import errno
import json
import os
import random
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Callable

import pytest
from typer.testing import CliRunner

from gctune.cli.main import app
from gctune.present.next_steps import program
from gctune.store.results import load_point, load_sweep
from gctune.sweep.runner import run_sweep
from gctune.sweep.spec import SweepSpec, plan_points
from tests.signals import default_sigint

pytestmark = pytest.mark.integration

GCTUNE = str(Path(sys.executable).with_name("gctune"))
PROGRAM = shlex.join(program())  # how printed commands name gctune from here
MiB = 1024**2

# Each workload misbehaves in one way; the sweep must name the way.
POINT_FAULTS = {
    "own_memory_error": """
        '''Raises MemoryError itself (its own budget, not the cap) on its third step.'''
        def setup(size):
            return {"n": 0}
        def step(state):
            state["n"] += 1
            if state["n"] == 3:
                raise MemoryError("cache budget exceeded")
    """,
    "sigkilled": """
        '''Killed by SIGKILL, as the kernel's OOM killer would kill it.'''
        import os, signal
        def step(state):
            os.kill(os.getpid(), signal.SIGKILL)
    """,
    "exits_quietly": """
        '''Exits with status 0 in the middle of a measurement, writing nothing.'''
        import os
        def step(state):
            os._exit(0)
    """,
    "exits_3": """
        '''Calls sys.exit(3) from a step.'''
        import sys
        def step(state):
            sys.exit(3)
    """,
    "setup_fails": """
        '''Its setup raises.'''
        def setup(size):
            raise ValueError("bad size")
        def step(state):
            pass
    """,
    "import_fails": """
        '''Raises while being imported.'''
        raise RuntimeError("broken at import")
    """,
    "huge_allocation": """
        '''Asks for 1 GiB in one allocation.'''
        def step(state):
            bytearray(1 << 30)
    """,
    "noisy": """
        '''Prints text that is not JSON to stdout on every step (pyperf reads a pipe).'''
        def step(state):
            print("{not json")
    """,
    "limits": """
        '''Records its own address-space limit and its parent's (the sweep).'''
        import json, os, resource
        OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "limits.json")
        def setup(size):
            with open(f"/proc/{os.getppid()}/limits") as f:
                line = next(row for row in f if row.startswith("Max address space"))
            with open(OUT, "w") as f:
                json.dump({"worker": resource.getrlimit(resource.RLIMIT_AS)[0],
                           "manager": line.split()[3]}, f)
        def step(state):
            pass
    """,
}

GATED = """
    '''Blocks its step while the file ``gate`` beside it exists.'''
    import os, time
    GATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gate")
    def step(state):
        while os.path.exists(GATE):
            time.sleep(0.01)
"""


def write_workload(directory: Path, name: str, source: str) -> Path:
    path = directory / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return path


def spec(workloads: tuple[str, ...], settings: tuple[str, ...], **kw: Any) -> SweepSpec:
    opts: dict[str, Any] = dict(size=20, rounds=1, max_point_time=0.05, timeout=120)
    opts.update(kw)
    return SweepSpec(workloads=workloads, settings=settings, **opts)


def wait_for(condition: Callable[[], object], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


def processes_mentioning(text: str) -> list[int]:
    """Live processes (other than this one) whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def point_files(sweep_dir: Path) -> dict[str, int]:
    """Every entry of ``points/`` (temporary files included) and its mtime in ns."""
    points = sweep_dir / "points"
    return {p.name: p.stat().st_mtime_ns for p in points.iterdir()} if points.is_dir() else {}


def leftovers(sweep_dir: Path) -> list[str]:
    """Temporary files or directories in a sweep directory (the lock file is not one)."""
    hidden = [p for p in sweep_dir.glob(".*") if p.name != ".lock"]
    hidden += list((sweep_dir / "points").glob(".*"))
    return sorted(str(p) for p in hidden)


def first_round(path: Path) -> Any:
    """The saved probe data of a point's round-1 span."""
    runs = json.loads(path.read_text())["gctune"]["runs"]
    return next(r for r in runs if r["round"] == 1)


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    # a wide terminal, so that rich does not wrap the paths in messages
    return subprocess.run(
        [GCTUNE, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "400"},
    )


def start_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [GCTUNE, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "400"},
        preexec_fn=default_sigint,
    )


# --- faults in a point ------------------------------------------------------------------


def test_point_faults_are_recorded_and_the_sweep_goes_on(tmp_path: Path) -> None:
    paths = [write_workload(tmp_path, name, src) for name, src in POINT_FAULTS.items()]
    cap = 256 * MiB
    points = run_sweep(
        spec((*map(str, paths), "acyclic_churn"), ("default",), max_memory=cap, timeout=60),
        tmp_path / "sweep",
    )
    reasons = {p.workload: p.reason for p in points}
    import_reason = reasons.pop("import_fails") or ""
    assert reasons == {
        "own_memory_error": "worker raised MemoryError: cache budget exceeded",
        "sigkilled": "worker crashed: killed by SIGKILL (the kernel's OOM killer sends SIGKILL)",
        "exits_quietly": "worker exited without a result (status 0)",
        "exits_3": "worker exited with status 3",
        "setup_fails": "worker raised ValueError: bad size",
        "huge_allocation": (
            "exceeded the memory cap (0.25 GiB): MemoryError at the address-space limit (0.50 GiB)"
        ),
        "noisy": None,
        "limits": None,
        "acyclic_churn": None,  # the sweep went on
    }
    assert import_reason.startswith(f"workload {tmp_path / 'import_fails.py'} failed to import: ")
    assert "RuntimeError: broken at import" in import_reason
    for p in points:
        assert load_point(p.path).status == p.status == ("ok" if p.reason is None else "failed")
    # the address-space limit is the workers' alone, never pyperf's manager's
    limits = json.loads((tmp_path / "limits.json").read_text())
    assert limits == {"worker": 2 * cap, "manager": "unlimited"}


def test_runaway_point_is_stopped_at_the_memory_cap(tmp_path: Path) -> None:
    # With the collector off every step's rings stay alive: memory grows without bound.
    # Many loops under a small cap must end at the cap, not at the timeout.
    s = spec(("short_cycles",), ("disabled",), size=2000, max_memory=256 * MiB, max_point_time=100)
    (point,) = run_sweep(s, tmp_path / "sweep")
    assert not point.ok
    assert (point.reason or "").startswith(
        "exceeded the memory cap (0.25 GiB): a worker's resident memory reached "
    ), point.reason


# --- faults in the sweep ----------------------------------------------------------------


def gated_sweep(tmp_path: Path, fast_args: tuple[str, ...]) -> tuple[Path, Path, Any]:
    """Start a real sweep whose third point blocks until ``gate`` is removed."""
    gated = write_workload(tmp_path, "gated", GATED)
    (tmp_path / "gate").touch()
    out = tmp_path / "sweep"
    proc = start_cli(
        "sweep", "acyclic_churn", str(gated), "-s", "default", "--out", str(out), *fast_args
    )
    wait_for(
        lambda: (
            (out / "logs" / "gated@pilot.log").exists()
            and [p for p in processes_mentioning(str(gated)) if p != proc.pid]
        ),
        "the gated point to start",
    )
    return gated, out, proc


EXPECTED = {
    "acyclic_churn@default.json",
    "acyclic_churn@disabled.json",
    "gated@default.json",
    "gated@disabled.json",
}


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_mid_point_keeps_finished_points_and_resume_completes(
    tmp_path: Path, fast_args: tuple[str, ...], signum: int
) -> None:
    gated, out, proc = gated_sweep(tmp_path, fast_args)
    finished = point_files(out)
    assert set(finished) == {"acyclic_churn@default.json", "acyclic_churn@disabled.json"}

    # a second sweep into the same directory is refused while the first one runs
    second = cli("sweep", "--resume", "--out", str(out))
    assert second.returncode == 2
    assert second.stderr.strip() == (
        f"gctune: error: another gctune sweep (pid {proc.pid}) is writing to {out}"
    )

    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert f"Resume with: {PROGRAM} sweep --resume --out {out}" in stderr
    assert "Traceback" not in stderr
    assert point_files(out) == finished  # kept, untouched; the partial point discarded
    assert leftovers(out) == []
    wait_for(lambda: not processes_mentioning(str(gated)), "the point's processes to end", 10)

    (tmp_path / "gate").unlink()
    (printed,) = [x.split("Resume with: ")[1] for x in stderr.splitlines() if "Resume" in x]
    assert shlex.split(printed)[0] == PROGRAM  # gctune as a fresh shell finds it
    resumed = cli(*shlex.split(printed)[1:])  # the command printed, run as printed
    assert resumed.returncode == 0, resumed.stderr
    now = point_files(out)
    assert set(now) == EXPECTED
    assert all(now[name] == mtime for name, mtime in finished.items())
    assert all(p.ok for p in load_sweep(out)[1])


def test_sigkill_takes_the_point_down_and_resume_cleans_up(
    tmp_path: Path, fast_args: tuple[str, ...]
) -> None:
    gated, out, proc = gated_sweep(tmp_path, fast_args)
    finished = point_files(out)
    proc.kill()  # no handler runs: the point's processes must end by themselves
    proc.communicate(timeout=30)
    wait_for(lambda: not processes_mentioning(str(gated)), "the orphaned point to die", 10)
    assert any(p.name.startswith(".point-") for p in out.iterdir())  # left behind

    (tmp_path / "gate").unlink()
    resumed = cli("sweep", "--resume", "--out", str(out))
    assert resumed.returncode == 0, resumed.stderr
    assert leftovers(out) == []
    now = point_files(out)
    assert set(now) == EXPECTED
    assert all(now[name] == mtime for name, mtime in finished.items())


def test_failing_write_stops_the_sweep_without_half_a_file(
    tmp_path: Path, fast_args: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The disk "fills up" as the second point is saved. This runs in-process with a
    # patched os.replace, because the tests run as root, for whom a read-only
    # directory does not stop writes.
    out = tmp_path / "sweep"
    real_replace = os.replace

    def disk_full(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if Path(dst).name == "acyclic_churn@disabled.json":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
        real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", disk_full)
    runner = CliRunner()
    result = runner.invoke(
        app, ["sweep", "acyclic_churn", "-s", "default", "--out", str(out), *fast_args]
    )
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        f"gctune: error: {out}/points/acyclic_churn@disabled.json: No space left on device; "
        f"the sweep in {out} stopped, its finished points are kept"
    )
    assert "Traceback" not in result.output
    finished = point_files(out)
    assert set(finished) == {"acyclic_churn@default.json"}  # whole, and nothing else
    assert load_point(out / "points" / "acyclic_churn@default.json").ok
    assert leftovers(out) == []
    round_one = first_round(out / "points" / "acyclic_churn@default.json")

    monkeypatch.undo()
    resumed = runner.invoke(app, ["sweep", "--resume", "--out", str(out)])
    assert resumed.exit_code == 0, resumed.output
    now = point_files(out)
    assert set(now) == {"acyclic_churn@default.json", "acyclic_churn@disabled.json"}
    # the finished round is kept as it was; the resume added the missing spans
    assert first_round(out / "points" / "acyclic_churn@default.json") == round_one


# --- acceptance: kill a sweep at random moments, resume, lose nothing --------------------


def kill_and_resume(
    sweep_args: list[str], out: Path, *, kills: int, rng: random.Random, window: float
) -> dict[str, Any]:
    """Start ``gctune sweep``, kill it at a random moment ``kills`` times (SIGINT, SIGTERM
    or SIGKILL, each after up to ``window`` seconds), resuming each time; then let the last
    resume finish. Checks after every kill that every span saved before is still there,
    unchanged, each round at most once, and that ``points/`` holds nothing but point files.
    Returns what happened."""
    seen: dict[str, dict[int, str]] = {}
    kills_done: list[tuple[float, str, int]] = []  # (seconds after start, signal, points)

    def command() -> list[str]:
        if (out / "manifest.json").exists():
            return ["sweep", "--resume", "--out", str(out)]
        return ["sweep", *sweep_args, "--out", str(out)]  # killed before it saved anything

    for _ in range(kills):
        proc = start_cli(*command())
        delay = rng.uniform(0.2, window)
        time.sleep(delay)
        signum = rng.choice([signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
        proc.send_signal(signum)
        proc.communicate(timeout=60)
        files = point_files(out)
        now = saved_spans(out)
        kills_done.append((round(delay, 2), signal.Signals(signum).name, len(now)))
        assert all(n.endswith(".json") and not n.startswith(".") for n in files), files
        assert_kept(seen, now)
        seen = now
    final = cli(*command(), timeout=600)
    assert final.returncode == 0, final.stderr
    now = saved_spans(out)
    assert_kept(seen, now)
    return {"kills": kills_done, "points": set(point_files(out)), "spans": now}


def saved_spans(sweep_dir: Path) -> dict[str, dict[int, str]]:
    """Each point file's saved spans by round (as JSON text); a round twice fails."""
    out: dict[str, dict[int, str]] = {}
    for path in sorted((sweep_dir / "points").glob("*.json")):
        runs = json.loads(path.read_text())["gctune"]["runs"]
        rounds = [r["round"] for r in runs]
        assert len(rounds) == len(set(rounds)), f"{path.name}: a round saved twice"
        out[path.name] = {r["round"]: json.dumps(r, sort_keys=True) for r in runs}
    return out


def assert_kept(before: dict[str, dict[int, str]], after: dict[str, dict[int, str]]) -> None:
    for name, spans in before.items():
        for number, text in spans.items():
            assert after.get(name, {}).get(number) == text, f"{name}: round {number} changed"


def test_random_kills_then_resume_end_with_every_point_once(
    tmp_path: Path, fast_args: tuple[str, ...]
) -> None:
    out = tmp_path / "sweep"
    settings = ["-s", "default", "-s", "9000", "-s", "20000,10,10+freeze"]
    outcome = kill_and_resume(
        ["acyclic_churn", "short_cycles", *settings, *fast_args],
        out,
        kills=5,
        rng=random.Random(6),
        window=3.0,
    )
    # the same set of points as an uninterrupted sweep plans (and test_sweep checks it
    # writes), each exactly once, nothing else
    planned = ("default", "disabled", "t9000-10-10", "t20000-10-10+freeze")
    s = spec(("acyclic_churn", "short_cycles"), planned)
    expected = {f"{p.workload_id}@{p.setting}.json" for p in plan_points(s)}
    assert outcome["points"] == expected
    # rounds 1 and 2 for every point; decision rounds (3 on) only for a workload's
    # default and one candidate, the same rounds for both
    assert all(sorted(spans)[:2] == [1, 2] for spans in outcome["spans"].values())
    for workload in ("acyclic_churn", "short_cycles"):
        extra = {
            name: sorted(r for r in spans if r > 2)
            for name, spans in outcome["spans"].items()
            if name.startswith(f"{workload}@") and any(r > 2 for r in spans)
        }
        assert not extra or (
            len(extra) == 2
            and f"{workload}@default.json" in extra
            and len({tuple(v) for v in extra.values()}) == 1
        ), extra
    assert leftovers(out) == []
    _, points = load_sweep(out)
    assert len(points) == len(expected) and all(p.ok for p in points)
