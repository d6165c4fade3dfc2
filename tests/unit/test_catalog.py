"""User workloads: the callable protocol and its errors, on real files outside the repo."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from gctune.measure.catalog import (
    WorkloadError,
    load_workload,
    resolve_specs,
    split_spec,
    workload_id,
    workload_ids,
)

USER_MODULE = '''
"""Functions a user wants measured."""
import gc

DEFAULT_SIZE = 40
CALLS = []


def plain():
    """Makes one cycle."""
    a = []
    a.append(a)
    CALLS.append("plain")


def make_step(size=25):
    data = [[i] for i in range(size)]

    def step():
        CALLS.append(("made", len(data)))

    return step


def make_step_without_default(size):
    return lambda: None


def churn(state):
    CALLS.append(("churn", state))


def churn_setup(size):
    return ("own", size)


def uses_module_setup(state):
    CALLS.append(("module", state))


def setup(size=7):
    return ("module", size)


def two(a, b):
    pass


def not_a_factory(size):
    return 42


CONSTANT = 3
'''


@pytest.fixture
def user_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "user_bench.py"
    path.write_text(textwrap.dedent(USER_MODULE))
    yield path
    sys.modules.pop("gctune_user_user_bench", None)


def run_once(spec: str, size: int | None = None) -> list[object]:
    wl = load_workload(spec)
    state = wl.setup(wl.size_for(size))
    if wl.step is None:
        state()
    else:
        wl.step(state)
    module = sys.modules["gctune_user_user_bench"]
    calls: list[object] = module.CALLS
    return calls


def test_a_function_without_arguments_is_the_step(user_file: Path) -> None:
    wl = load_workload(f"{user_file}:plain")
    assert wl.step is None and wl.id == "user_bench-plain"
    assert wl.description == "Makes one cycle."
    assert run_once(f"{user_file}:plain") == ["plain"]


def test_a_size_parameter_makes_a_factory(user_file: Path) -> None:
    wl = load_workload(f"{user_file}:make_step")
    assert wl.default_size == 25  # its own default wins over DEFAULT_SIZE
    assert run_once(f"{user_file}:make_step", size=3) == [("made", 3)]


def test_a_stateful_step_takes_its_own_setup_then_the_modules(user_file: Path) -> None:
    assert run_once(f"{user_file}:churn", size=5) == [("churn", ("own", 5))]
    wl = load_workload(f"{user_file}:uses_module_setup")
    assert wl.default_size == 7
    assert run_once(f"{user_file}:uses_module_setup") == [("module", ("module", 7))]


@pytest.mark.parametrize(
    ("func", "message"),
    [
        ("nope", "has no 'nope'; its functions: churn, churn_setup, make_step"),
        ("two", "takes 2 arguments"),
        ("CONSTANT", "is not a function"),
    ],
)
def test_bad_functions_are_one_clear_line(user_file: Path, func: str, message: str) -> None:
    with pytest.raises(WorkloadError, match=message.replace("(", r"\(")) as err:
        load_workload(f"{user_file}:{func}")
    assert "\n" not in str(err.value)


def test_the_default_size_falls_back_to_default_size_else_is_required(
    user_file: Path, tmp_path: Path
) -> None:
    assert load_workload(f"{user_file}:make_step_without_default").default_size == 40
    bare = tmp_path / "bare.py"
    bare.write_text("def make(size):\n    return lambda: size\n\ndef bench(n):\n    return n\n")
    for func in ("make", "bench"):
        wl = load_workload(f"{bare}:{func}")
        assert wl.size_for(9) == 9
        with pytest.raises(WorkloadError, match="has no default size: give --size N"):
            wl.size_for(None)
    with pytest.raises(WorkloadError, match="has no default size"):
        resolve_specs([f"{bare}:bench"], python=sys.executable)
    assert resolve_specs([f"{bare}:bench"], python=sys.executable, size=3) == [f"{bare}:bench"]


def test_one_parameter_and_no_setup_is_a_step_given_the_size(tmp_path: Path) -> None:
    # as in benchmarks written bench(n): each step calls bench(size)
    path = tmp_path / "sized.py"
    path.write_text("DEFAULT_SIZE = 4\nSEEN = []\n\ndef bench(n):\n    SEEN.append(n)\n")
    wl = load_workload(f"{path}:bench")
    assert wl.step is not None
    wl.step(wl.setup(wl.size_for(None)))
    assert sys.modules["gctune_user_sized"].SEEN == [4]
    sys.modules.pop("gctune_user_sized")


def test_a_factory_must_return_a_callable(user_file: Path) -> None:
    wl = load_workload(f"{user_file}:not_a_factory")
    with pytest.raises(WorkloadError, match="must return the step"):
        wl.setup(1)


def test_files_and_modules_that_cannot_load(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "broken.py").write_text("def f(:\n")
    (tmp_path / "needs.py").write_text("import no_such_dependency_xyz\n")
    cases = {
        f"{tmp_path}/notes.txt:f": "not a Python file",
        f"{tmp_path}/missing.py:f": "does not exist",
        f"{tmp_path}/broken.py:f": "SyntaxError",
        f"{tmp_path}/needs.py:f": "No module named 'no_such_dependency_xyz'",
        "no_such_module_xyz:f": "unknown workload 'no_such_module_xyz'",
    }
    for spec, message in cases.items():
        with pytest.raises(WorkloadError, match=message):
            load_workload(spec)


def test_module_function_from_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cwd_bench_mod.py").write_text("def go():\n    return 1\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    wl = load_workload("cwd_bench_mod:go")
    assert wl.id == "cwd_bench_mod-go" and wl.setup(1)() == 1
    sys.modules.pop("cwd_bench_mod", None)


def test_a_file_imports_the_modules_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as ``python bench.py`` would: a helper module in the file's folder is importable
    (tmp_path / "bench_helper_xyz.py").write_text("N = 3\n")
    (tmp_path / "bench_with_helper.py").write_text(
        "import bench_helper_xyz\n\ndef go():\n    return bench_helper_xyz.N\n"
    )
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(tmp_path)])
    wl = load_workload(f"{tmp_path}/bench_with_helper.py:go")
    assert wl.setup(1)() == 3
    sys.modules.pop("bench_helper_xyz", None)


def test_spec_syntax() -> None:
    assert split_spec("pkg.mod:func") == ("pkg.mod", "func")
    assert split_spec("dir/a.py:Cls.meth") == ("dir/a.py", "Cls.meth")
    assert split_spec("short_cycles") == ("short_cycles", None)
    assert workload_id("/x/y/bench.py:run") == "bench-run"
    assert workload_id("pkg.mod:func") == "pkg.mod-func"


def test_files_of_the_same_name_get_their_folders_name() -> None:
    specs = ["/b/bm_go/run_benchmark.py:main", "/b/bm_nbody/run_benchmark.py:main", "short_cycles"]
    assert workload_ids(specs) == [
        "bm_go.run_benchmark-main",
        "bm_nbody.run_benchmark-main",
        "short_cycles",
    ]
    with pytest.raises(WorkloadError, match=r"would share the id 'a\.x-f'"):
        workload_ids(["/a/x.py:f", "/a/x.py:f"])


def test_resolve_specs_checks_in_a_subprocess_and_makes_files_absolute(
    user_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(user_file.parent)
    resolved = resolve_specs(["short_cycles", "user_bench.py:plain"], python=sys.executable)
    assert resolved == ["short_cycles", f"{user_file}:plain"]
    with pytest.raises(WorkloadError, match="has no 'missing'"):
        resolve_specs(["user_bench:missing"], python=sys.executable)
