"""The built wheel: what ``pip install .`` gives a user, checked without the checkout.

The wheel is built once (a few seconds; hatchling comes with the ``dev`` extra), then
installed with ``pip install --target`` into a folder of its own and run with ``-S``, so
that neither the editable install's path to the repository nor its copy of gctune is
seen; the runtime dependencies come from this environment's site-packages.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from gctune.measure.catalog import builtin_names

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
TEST_TOOLS = {"pytest", "pytest-benchmark", "ruff", "mypy", "pyyaml", "hatchling"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip", "-q"]
    done = subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (path,) = out.glob("gctune-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    pip = [sys.executable, "-m", "pip", "-q"]
    done = subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return target


def _requirement_name(line: str) -> str:
    name = line.split(":", 1)[1].strip()
    for stop in " ;<>=!~[(":
        name = name.split(stop, 1)[0]
    return name.lower().replace("_", "-")


def test_wheel_installs_the_workloads_under_gctune(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if n.startswith(("workloads/", "tests/", "benchmarks/"))]
    for name in ("__init__", *builtin_names()):
        assert f"gctune/workloads/{name}.py" in names
    top = {n.split("/", 1)[0] for n in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"gctune"}


def test_wheel_runtime_requirements_leave_test_tools_to_extras(wheel: Path) -> None:
    meta = next(n for n in zipfile.ZipFile(wheel).namelist() if n.endswith("/METADATA"))
    lines = zipfile.ZipFile(wheel).read(meta).decode().splitlines()
    requires = [line for line in lines if line.startswith("Requires-Dist:")]
    runtime = {_requirement_name(line) for line in requires if "extra ==" not in line}
    assert {"pyperf", "pandas", "matplotlib", "typer"} <= runtime
    assert not runtime & TEST_TOOLS, runtime
    extras = {line.split(":", 1)[1].strip() for line in lines if line.startswith("Provides-Extra")}
    assert {"ci", "dev"} <= extras
    in_ci = {_requirement_name(line) for line in requires if "'ci'" in line.replace('"', "'")}
    assert {"pytest", "pytest-benchmark"} <= in_ci


def _run(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # -S: no site-packages, no .pth files (the editable install's path to this checkout);
    # the installed wheel first, then the runtime dependencies of this environment
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(installed), sysconfig.get_paths()["purelib"]])
    return subprocess.run(
        [sys.executable, "-S", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )


def test_installed_wheel_has_no_top_level_workloads_and_lists_the_builtins(
    installed: Path, tmp_path: Path
) -> None:
    shadow = _run(installed, tmp_path, "-c", "import workloads")
    assert shadow.returncode != 0 and "No module named 'workloads'" in shadow.stderr
    where = _run(
        installed,
        tmp_path,
        "-c",
        "import gctune.measure.catalog as c; print(c.builtin_package().__file__)",
    )
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(installed)
    listed = _run(installed, tmp_path, "-m", "gctune.cli.main", "list")
    assert listed.returncode == 0, listed.stderr
    for name in builtin_names():
        assert name in listed.stdout


def test_installed_wheel_lends_its_workloads_to_another_interpreter(
    installed: Path, tmp_path: Path
) -> None:
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    done = _run(
        installed,
        tmp_path,
        "-m",
        "gctune.cli.main",
        "run",
        "short_cycles",
        "--python",
        str(base),
        "--rounds",
        "1",
        "--max-point-time",
        "0.05",
        "--size",
        "20",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "short_cycles" in done.stdout
    assert list(tmp_path.iterdir()) == []  # run writes nothing unless given --out
