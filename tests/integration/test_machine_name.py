"""A sweep records the machine it ran on: ``--machine NAME``, else ``$GCTUNE_MACHINE``,
else the host name (real sweeps, in real processes)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gctune.store.results import read_manifest

GCTUNE = str(Path(sys.executable).with_name("gctune"))


def sweep(out: Path, fast_args: tuple[str, ...], *args: str, machine_env: str = "") -> str:
    env = {k: v for k, v in os.environ.items() if k != "GCTUNE_MACHINE"}
    if machine_env:
        env["GCTUNE_MACHINE"] = machine_env
    done = subprocess.run(
        [GCTUNE, "sweep", "short_cycles", "-s", "disabled", "--out", str(out), *fast_args, *args],
        capture_output=True, text=True, timeout=300, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return str(read_manifest(out).environment["machine"])


def test_the_machine_name_is_recorded(tmp_path: Path, fast_args: tuple[str, ...]) -> None:
    # three sweeps side by side: what is checked is their manifests, not their times
    with ThreadPoolExecutor(max_workers=3) as pool:
        given = pool.submit(
            sweep, tmp_path / "a", fast_args, "--machine", "bench box", machine_env="ci"
        )
        from_env = pool.submit(sweep, tmp_path / "b", fast_args, machine_env="ci")
        host = pool.submit(sweep, tmp_path / "c", fast_args)
    assert given.result() == "bench box"
    assert from_env.result() == "ci"
    assert host.result() == platform.node()
    resumed = subprocess.run(
        [GCTUNE, "sweep", "--resume", "--out", str(tmp_path / "c"), "--machine", "other"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert resumed.returncode == 2 and "--machine" in resumed.stderr
