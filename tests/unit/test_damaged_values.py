"""Result files that are valid JSON but hold values no measurement produces.

Every reader (``report``, ``recommend``, ``compare``, ``history``, ``sweep --resume``)
either works — leaving a damaged point out with a one-line warning where it can go on —
or stops with one ``gctune: error: ...`` line and exit status 2; never a traceback.
Hypothesis mutates one value of a valid point file or manifest (or removes a key) and
runs each reader on the result, 200 mutated files per reader. Rows of the table in docs/faults.md.

To keep 1,000 runs of the readers within seconds, charts are built but not rasterised
(``Figure.savefig`` writes a stub; drawing PNGs is most of a report's time) and bootstrap
intervals use 100 resamples instead of 2,000: what is tested is how readers meet the
values, not the precision of an interval. No worker process starts here: every point of
the sweeps already exists.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Union

import pytest
import typer.main
import typer.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from typer.testing import CliRunner

from gctune.analysis.intervals import compare_samples
from gctune.cli.main import app
from gctune.store.results import ResultError, load_point, load_sweep_partial, point_path
from tests.unit.synthetic import Synth, scaled, write_sweep

runner = CliRunner()

Json = Union[None, bool, int, float, str, list[Any], dict[str, Any]]
JsonPath = tuple[Union[str, int], ...]


def pristine(directory: Path) -> Path:
    """A small valid sweep: one workload, default, disabled and one threshold setting."""
    requests = [50_000] * 95 + [900_000] * 5
    return write_sweep(
        directory,
        [
            Synth("w", "default", scaled(1.0e-3), collected=300, requests=requests, cpu=True),
            Synth("w", "disabled", scaled(0.8e-3), pauses={}, gc_enabled=False, cpu=True),
            Synth("w", "t9000", scaled(0.9e-3), thresholds=(9000, 10, 10), cpu=True),
        ],
    )


# --- the three values the issue found, one by one ------------------------------------------


def set_values(path: Path, values: Any) -> None:
    doc = json.loads(path.read_text())
    doc["gctune"]["runs"][0]["values"] = values
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([], "runs[0].values is [], not a non-empty list of times"),
        ([math.nan, math.inf], "runs[0].values[0] is nan, not a finite number of seconds > 0"),
        ([0.0, 0.0], "runs[0].values[0] is 0.0, not a finite number of seconds > 0"),
    ],
    ids=["empty", "nan-infinity", "zeros"],
)
def test_point_with_bad_values_is_left_out_by_readers_and_refused_by_resume(
    tmp_path: Path, values: list[float], message: str
) -> None:
    base = pristine(tmp_path / "base")
    new = pristine(tmp_path / "new")
    damaged = point_path(new, "w", "t9000")
    set_values(damaged, values)
    with pytest.raises(ResultError, match=f"^{damaged}: damaged gctune point: ") as info:
        load_point(damaged)
    assert message in str(info.value)
    warning = f"gctune: warning: {damaged}: damaged gctune point: {message}; left out"
    for args in (
        ["report", str(new)],
        ["recommend", str(new)],
        ["compare", str(base), str(new), "--allow-missing"],  # else: missing, exit 1
        ["history", str(base), str(new), "--out", str(tmp_path / "h.png")],
    ):
        result = runner.invoke(app, args, env={"COLUMNS": "400"})
        assert result.exception is None or isinstance(result.exception, SystemExit), args
        assert result.exit_code == 0, (args, result.output)
        assert result.stderr.strip().splitlines()[0] == warning, args
    resumed = runner.invoke(app, ["sweep", "--resume", "--out", str(new)])
    assert resumed.exit_code == 2
    assert resumed.stderr.strip() == (
        f"gctune: error: {damaged}: damaged gctune point: {message}; "
        "move it away and resume to measure that point again"
    )


# --- generated damage -------------------------------------------------------------------------

ODD_VALUES: list[Json] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    0.0,
    -0.0,
    5e-324,
    1e308,
    math.nan,
    math.inf,
    -math.inf,
    2**31,
    2**63,
    10**400,
    "",
    "x",
    "[/]",
    "\n",
    "3.11\rx",
    "t700-10-10",
    [],
    {},
    [None],
    [math.nan],
    {"0": None},
]

odd_json: st.SearchStrategy[Json] = st.one_of(
    st.sampled_from(ODD_VALUES),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.one_of(st.integers(), st.floats(), st.none()), max_size=3),
)


def all_paths(node: Json, prefix: JsonPath = ()) -> Iterator[JsonPath]:
    """The path of every value below ``node`` (containers included), depth first."""
    items: list[tuple[Union[str, int], Json]]
    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    else:
        return
    for key, child in items:
        yield (*prefix, key)
        yield from all_paths(child, (*prefix, key))


def mutate(doc: dict[str, Any], path: JsonPath, value: Json, remove: bool) -> None:
    parent: Any = doc
    for key in path[:-1]:
        parent = parent[key]
    if remove and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value


FILES = (
    "manifest.json",
    "points/w@default.json",
    "points/w@disabled.json",
    "points/w@t9000.json",
)


def stub_savefig(self: Figure, fname: Any, *args: Any, **kwargs: Any) -> None:
    Path(fname).write_bytes(b"\x89PNG\r\n\x1a\n")


READERS: dict[str, tuple[Any, set[int]]] = {
    # reader: (its arguments given the damaged copy and an intact one, allowed exit statuses)
    "report": (lambda d, ok: ["report", str(d)], {0}),
    "recommend": (lambda d, ok: ["recommend", str(d)], {0, 1}),  # 1: no recommendation
    "compare": (lambda d, ok: ["compare", str(ok), str(d), "--fail-on", "time:5%"], {0, 1}),
    "history": (lambda d, ok: ["history", str(ok), str(d), "--out", str(d / "h.png")], {0}),
    "resume": (lambda d, ok: ["sweep", "--resume", "--out", str(d)], {0, 3}),  # 3: failed points
}


@pytest.fixture(scope="module")
def intact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pristine(tmp_path_factory.mktemp("intact") / "sweep")


@pytest.fixture(scope="module", autouse=True)
def one_command() -> Iterator[None]:
    """typer's CliRunner builds the click command of ``app`` again for every invocation
    (18 ms each on the loaded 2-core machine, for 1,000 invocations here): build it once,
    as ``gctune`` does once per process. Used by every test of the module without being
    named: a change to the test function's source changes the examples Hypothesis draws."""
    build = typer.main.get_command
    built = build(app)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.testing, "_get_command", lambda a: built if a is app else build(a))
        yield


@pytest.mark.parametrize("reader", list(READERS))
@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_reader_works_or_refuses_in_one_line(
    intact: Path, reader: str, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(FILES), label="file")
    doc = json.loads((intact / name).read_text())
    path = data.draw(st.sampled_from(list(all_paths(doc))), label="path")
    remove = data.draw(st.booleans(), label="remove")
    value = None if remove else data.draw(odd_json, label="value")
    mutate(doc, path, value, remove)
    args_of, allowed = READERS[reader]
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        damaged = Path(tmp) / "sweep"
        shutil.copytree(intact, damaged)
        (damaged / name).write_text(json.dumps(doc))
        patch.setattr(Figure, "savefig", stub_savefig)
        patch.setattr(compare_samples, "__kwdefaults__", {"resamples": 100, "seed": 0})
        result = runner.invoke(app, args_of(damaged, intact), env={"COLUMNS": "400"})
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{reader} crashed on {name} {path} = {value!r}: {result.exception!r}"
    )
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("gctune: error: ")]
    if result.exit_code == 2:
        assert len(errors) == 1 and result.stderr.strip().endswith(errors[0]), result.stderr
    else:
        assert result.exit_code in allowed, (result.exit_code, result.output)
        assert not errors, result.stderr


def test_a_damaged_point_is_named_and_the_others_kept(tmp_path: Path) -> None:
    sweep = pristine(tmp_path / "sweep")
    damaged = point_path(sweep, "w", "disabled")
    doc = json.loads(damaged.read_text())
    doc["gctune"]["runs"][2]["peak_rss_bytes"] = 0
    damaged.write_text(json.dumps(doc))
    _, points, errors = load_sweep_partial(sweep)
    assert [p.setting for p in points] == ["default", "t9000"]
    assert [str(e) for e in errors] == [
        f"{damaged}: damaged gctune point: "
        "runs[2].peak_rss_bytes is 0, not a whole number > 0 (64-bit)"
    ]


def test_a_value_with_a_line_break_is_shown_escaped_on_one_line(tmp_path: Path) -> None:
    base = pristine(tmp_path / "base")
    new = pristine(tmp_path / "new")
    for setting in ("default", "disabled", "t9000"):
        path = point_path(new, "w", setting)
        doc = json.loads(path.read_text())
        doc["gctune"]["interpreter"] = {"version": "3.11\ngctune: error: forged", "gc_kind": "\r"}
        path.write_text(json.dumps(doc))
    result = runner.invoke(app, ["compare", str(base), str(new)])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("gctune: error: base was measured on ")
    assert "3.11\\ngctune: error: forged \\r" in line
