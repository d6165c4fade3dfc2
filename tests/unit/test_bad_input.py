"""Bad input: settings, sweep files, workloads and result files that gctune must refuse
with one clear line (naming the file, and the line where there is one), never a traceback.

Rows of the table in docs/faults.md. No worker process starts here: every
refusal happens before anything is measured.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gctune.cli.main import app
from gctune.measure.settings import SettingError, grid_from_toml, parse_setting
from gctune.store.atomic import atomic_write_json
from gctune.store.documents import point_document
from gctune.store.results import (
    Manifest,
    ResultError,
    load_point,
    load_sweep,
    point_path,
    read_manifest,
    write_manifest,
)
from gctune.sweep.environment import InterpreterError
from gctune.sweep.spec import SweepSpec

runner = CliRunner()

PY311 = {"implementation": "CPython", "version": "3.11.7", "free_threaded": False}


def one_error_line(args: list[str]) -> str:
    """Run the CLI; check it failed with exit 2 and one line; return that line."""
    result = runner.invoke(app, args, env={"COLUMNS": "400"})
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("gctune: error: ")
    return lines[0]


# --- sweep files: the message names the file and the line ---------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ('settings = ["default"]\n\n[grid\n', r"line 3, column"),  # tomllib's own
        ('# mine\nsettings = [\n  "default",\n  "banana",\n]\n', r", line 4: unknown GC setting"),
        ("settings = ['700,x']\n", r", line 1: GC threshold 'x' .* not a whole number"),
        ("[grid]\nthreshold1 = [10]\nthreshold0 = [0]\n", r", line 3: threshold0 = 0"),
        ("[grid]\nthreshold0 = [700]\nthreshold9 = [1]\n", r", line 3: unknown key\(s\)"),
        ('[grid]\nthreshold0 = ["700"]\n', r", line 2: \[grid\] threshold0 must be"),
        ("[grid]\nthreshold0 = [700]\nfreeze = [1]\n", r", line 3: \[grid\] freeze must be"),
        ("settings = 7\n", r", line 1: 'settings' must be a list"),
        ("[grid]\nthreshold1 = [10]\n", r", line 1: \[grid\] needs threshold0"),
    ],
)
def test_sweep_file_errors_name_the_file_and_line(
    tmp_path: Path, source: str, message: str
) -> None:
    path = tmp_path / "sweep.toml"
    path.write_text(source)
    with pytest.raises(SettingError, match=f"^{path}.*{message}"):
        grid_from_toml(path)
    line = one_error_line(["sweep", "--grid", str(path)])
    assert str(path) in line


def test_invalid_settings_and_grids_through_the_cli(tmp_path: Path) -> None:
    for args, message in [
        (["sweep", "-s", "700,10,10,10"], "has 4 thresholds"),
        (["sweep", "-s", "700+thaw"], "unknown GC setting modifier"),
        (["sweep", "-s", ""], "empty GC setting"),
        (["sweep", "--grid", str(tmp_path / "none.toml")], "does not exist"),
        (["sweep", "--max-memory", "-1G"], "must be positive"),
    ]:
        assert message in one_error_line(args)


RANGE = "thresholds go from 0 to 2147483647 (a C int), threshold0 from 1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["sweep", "-s", "99999999999999999999"],
            f"99999999999999999999' is out of range: {RANGE}",
        ),
        (["sweep", "-s", "3000000000"], "GC threshold 3000000000 in '3000000000' is out of range"),
        (
            ["sweep", "-s", "700,10,2147483648"],
            "GC threshold 2147483648 in '700,10,2147483648' is out",
        ),
        (["run", "acyclic_churn", "-s", "3000000000"], "is out of range"),
        (["sweep", "-s", "-0"], "threshold0 = 0 in '-0' turns automatic collection off"),
        (["sweep", "-s", "1.5"], f"GC threshold '1.5' in '1.5' is not a whole number; {RANGE}"),
        (
            ["sweep", "-s", "1.5,10"],
            f"GC threshold '1.5' in '1.5,10' is not a whole number; {RANGE}",
        ),
        (["sweep", "-s", "1" * 5000], "is out of range"),
        (["sweep", "--max-memory", "1K"], "--max-memory 1K is below the smallest usable cap, 32M"),
        (["sweep", "--max-memory", "1e400G"], "cannot read memory size '1e400G'"),
        (["sweep", "--max-memory", "nan"], "cannot read memory size 'nan'"),
    ],
)
def test_thresholds_beyond_a_c_int_and_odd_numbers_are_refused_at_parse_time(
    args: list[str], message: str
) -> None:
    assert message in one_error_line(args)


def test_a_grid_threshold_beyond_a_c_int_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "sweep.toml"
    path.write_text("[grid]\nthreshold1 = [10]\nthreshold0 = [700, 5000000000]\n")
    line = one_error_line(["sweep", "--grid", str(path)])
    assert line == (
        f"gctune: error: {path}, line 3: GC threshold 5000000000 in '5000000000,10,10' "
        f"is out of range: {RANGE}"
    )
    assert parse_setting("700,-0").id == "t700-0-10"  # -0 is zero, not negative


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sweep", "--timeout", "0"], "Invalid value for '--timeout'"),
        (["sweep", "--processes", "0"], "Invalid value for '--processes'"),
        (["recommend", "--max-memory-ratio", "-1"], "Invalid value for '--max-memory-ratio'"),
        (["report", "--max-memory-ratio", "0"], "Invalid value for '--max-memory-ratio'"),
        (["history", "x", "--min-effect", "-5"], "Invalid value for '--min-effect'"),
        (["sweep", "--timeout", "soon"], "Invalid value for '--timeout'"),
        (["sweep", "--no-such-option"], "No such option: --no-such-option"),
        (["compare", "only-one"], "Missing argument"),
        (["no-such-command"], "No such command 'no-such-command'"),
    ],
)
def test_click_errors_are_one_line_like_gctunes_own(args: list[str], message: str) -> None:
    # typer/click would print a boxed panel of usage, hint and error over 4-6 lines
    assert message in one_error_line(args)


def test_gctune_without_a_command_still_shows_the_help() -> None:
    result = runner.invoke(app, [])
    assert "Usage" in result.output and "gctune: error" not in result.output


# --- workloads -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def step(state)\n    pass\n", "import: SyntaxError: expected ':' ({path}, line 1)"),
        ("x = 1\nraise RuntimeError('no')\n", "import: RuntimeError: no ({path}, line 2)"),
        ("import gctune_no_such_dependency\n", "ModuleNotFoundError: No module named"),
        ('"""Has no step."""\n', "has no step(state) function"),
        ("DEFAULT_SIZE = 0\ndef step(state):\n    pass\n", "DEFAULT_SIZE must be a positive"),
    ],
)
def test_broken_workload_files_are_one_line(tmp_path: Path, source: str, message: str) -> None:
    path = tmp_path / "broken.py"
    path.write_text(source)
    assert message.format(path=path) in one_error_line(["sweep", str(path)])


def test_unknown_or_missing_workloads(tmp_path: Path) -> None:
    assert "unknown workload 'no_such_workload'" in one_error_line(["sweep", "no_such_workload"])
    missing = tmp_path / "missing.py"
    assert f"workload file {missing} does not exist" in one_error_line(["run", str(missing)])
    text = tmp_path / "notes.txt"
    text.write_text("step")
    assert "is not a Python file" in one_error_line(["run", str(text)])


# --- result files: through the functions ---------------------------------------------------


def failed_point(workload: str, setting: str, interpreter: dict[str, Any]) -> dict[str, Any]:
    """A valid point file's content (a failed point needs no measurements)."""
    return point_document(
        pyperf_data=None,
        workload=workload,
        setting=setting,
        status="failed",
        reason="timed out after 5 s",
        size=None,
        interpreter=interpreter,
        started="2026-01-01T00:00:00+00:00",
        duration_s=5.0,
    )


PYPERF_ONLY = {"version": "1.0", "metadata": {}, "benchmarks": [{"runs": []}]}

DAMAGED_FILES: list[tuple[str, Any, str]] = [
    ("truncated", '{"gctune": {"format": 1, "kind": "point", "runs": [', "not valid JSON"),
    ("empty", "", "not valid JSON"),
    ("binary", b"\x80\x81\xfe\xff", "not valid JSON"),
    ("future format", {"gctune": {"format": 99, "kind": "point"}}, "format 99 is not supported"),
    ("pyperf's own file", PYPERF_ONLY, "not a gctune result file"),
    ("a JSON list", [1, 2], "not a gctune result file"),
    ("deeply nested", "[" * 100_000 + "]" * 100_000, "not a gctune result file"),
    ("a manifest", {"gctune": {"format": 1, "kind": "manifest"}}, "a gctune manifest file, not"),
    ("bad status", {"gctune": {"format": 1, "kind": "point", "status": "?", "runs": []}}, "damag"),
    ("bad run", {"gctune": {"format": 1, "kind": "point", "status": "ok", "runs": [{}]}}, "damag"),
]


def write_raw(path: Path, content: bytes | str | dict[str, Any] | list[Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    else:
        path.write_text(json.dumps(content))


@pytest.mark.parametrize(
    ("content", "message"),
    [(c, m) for _, c, m in DAMAGED_FILES],
    ids=[name for name, _, _ in DAMAGED_FILES],
)
def test_damaged_point_files_name_the_file(tmp_path: Path, content: Any, message: str) -> None:
    path = tmp_path / "p.json"
    write_raw(path, content)
    with pytest.raises(ResultError, match=message) as info:
        load_point(path)
    assert str(info.value).startswith(f"{path}: ")


def test_unreadable_result_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").mkdir()  # a directory where the manifest should be
    with pytest.raises(ResultError, match=f"^{tmp_path / 'manifest.json'}: cannot read"):
        read_manifest(tmp_path)


def sweep_dir(tmp_path: Path) -> Path:
    """A sweep directory as `gctune sweep` starts one: a manifest, no points yet."""
    out = tmp_path / "sweep"
    spec = SweepSpec(workloads=("acyclic_churn",), settings=("default", "disabled"))
    write_manifest(out, Manifest("sweep", spec.to_json(), {"python": PY311}, "2026-01-01"))
    return out


def test_a_point_file_named_for_another_point_is_refused(tmp_path: Path) -> None:
    out = sweep_dir(tmp_path)
    default = point_path(out, "acyclic_churn", "default")
    atomic_write_json(default, failed_point("acyclic_churn", "default", PY311))
    assert [p.setting for p in load_sweep(out)[1]] == ["default"]
    # copied over another point's file: that point would be counted twice
    atomic_write_json(default, failed_point("acyclic_churn", "disabled", PY311))
    with pytest.raises(ResultError, match=f"^{default}: holds point acyclic_churn@disabled$"):
        load_sweep(out)


# --- result files: through the CLI (resume is the command that reads them here) -----------


@pytest.mark.parametrize(
    ("content", "message"),
    [(c, m) for _, c, m in DAMAGED_FILES],
    ids=[name for name, _, _ in DAMAGED_FILES],
)
def test_resume_refuses_a_damaged_point_in_one_line(
    tmp_path: Path, content: Any, message: str
) -> None:
    out = sweep_dir(tmp_path)
    path = point_path(out, "acyclic_churn", "default")
    write_raw(path, content)
    before = path.read_bytes()
    line = one_error_line(["sweep", "--resume", "--out", str(out)])
    assert line.startswith(f"gctune: error: {path}: ")
    assert message in line
    assert line.endswith("; move it away and resume to measure that point again")
    assert path.read_bytes() == before  # neither measured over nor removed


def test_resume_refuses_a_point_file_named_for_another_point(tmp_path: Path) -> None:
    out = sweep_dir(tmp_path)
    path = point_path(out, "acyclic_churn", "default")
    atomic_write_json(path, failed_point("acyclic_churn", "disabled", PY311))
    line = one_error_line(["sweep", "--resume", "--out", str(out)])
    assert line.startswith(f"gctune: error: {path}: holds point acyclic_churn@disabled; move")


MANIFEST_DAMAGE: list[tuple[str, Any, str]] = [
    ("truncated", '{"gctune": {"format": 1, "kind": "manif', "not valid JSON"),
    ("future format", {"gctune": {"format": 2**31, "kind": "manifest"}}, "is not supported"),
    ("pyperf's own file", PYPERF_ONLY, "not a gctune result file"),
    ("a point file", failed_point("w", "default", PY311), "a gctune point file, not a manifest"),
    (
        "missing fields",
        {"gctune": {"format": 1, "kind": "manifest", "sweep_id": "s"}},
        "manifest is missing or has a bad field",
    ),
    (
        "damaged spec",
        {
            "gctune": {
                "format": 1,
                "kind": "manifest",
                "sweep_id": "s",
                "created": "now",
                "spec": {"workloads": ["acyclic_churn"], "colour": "blue"},
                "environment": {"python": PY311},
            }
        },
        "damaged sweep spec",
    ),
    (
        "a setting that is no setting id",
        {
            "gctune": {
                "format": 1,
                "kind": "manifest",
                "sweep_id": "s",
                "created": "now",
                "spec": {"workloads": ["acyclic_churn"], "settings": ["default", "banana"]},
                "environment": {"python": PY311},
            }
        },
        "spec.settings[1] is 'banana', not a setting id",
    ),
]


@pytest.mark.parametrize(
    ("content", "message"),
    [(c, m) for _, c, m in MANIFEST_DAMAGE],
    ids=[name for name, _, _ in MANIFEST_DAMAGE],
)
def test_resume_refuses_a_damaged_manifest_in_one_line(
    tmp_path: Path, content: Any, message: str
) -> None:
    out = tmp_path / "sweep"
    write_raw(out / "manifest.json", content)
    line = one_error_line(["sweep", "--resume", "--out", str(out)])
    assert line.startswith(f"gctune: error: {out / 'manifest.json'}: ")
    assert message in line


# --- refused sweeps leave nothing behind ---------------------------------------------------


def test_a_sweep_refused_before_it_starts_leaves_no_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(python: str, env: Any = None) -> dict[str, Any]:
        raise InterpreterError(f"interpreter {python} cannot run gctune's worker: broken")

    def refused(args: list[str]) -> str:
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and "Traceback" not in result.output
        return result.stderr.strip().splitlines()[-1]

    monkeypatch.setattr("gctune.sweep.runner.interpreter_of", refuse)  # refused under the lock
    monkeypatch.chdir(tmp_path)
    assert refused(["sweep", "acyclic_churn"]).endswith("cannot run gctune's worker: broken")
    assert list(tmp_path.iterdir()) == []  # neither results/<id> nor results/
    kept = tmp_path / "mine"
    kept.mkdir()
    (kept / "notes.txt").write_text("keep me")
    assert refused(["sweep", "acyclic_churn", "--out", str(kept)]).endswith("broken")
    assert sorted(p.name for p in kept.iterdir()) == [".lock", "notes.txt"]


# --- --resume takes the stored arguments ----------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["-s", "9000", "tree_parents"], "workload arguments, --setting"),
        (["--rigorous"], "--rigorous"),
        (["--max-memory", "1G"], "--max-memory"),
        (["--timeout", "600"], "--timeout"),  # even when it equals the default
        (["--python", "python3", "--grid", "full"], "--grid, --python"),
    ],
)
def test_resume_refuses_arguments_that_would_change_the_sweep(
    tmp_path: Path, extra: list[str], named: str
) -> None:
    out = sweep_dir(tmp_path)
    before = sorted(p.name for p in out.rglob("*"))
    line = one_error_line(["sweep", "--resume", "--out", str(out), *extra])
    assert line == (
        "gctune: error: --resume measures the rest of the sweep with the arguments it was "
        f"started with and takes only --out, not {named}; to measure with other arguments, "
        "start a new sweep with another --out"
    )
    assert sorted(p.name for p in out.rglob("*")) == before  # nothing measured or written
