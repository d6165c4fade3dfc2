"""Sweeps in counts measured in shards and merged (``--shard K/N``, ``gctune merge``) on
real interpreters under valgrind (tiny spans; skipped without it)."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gctune.cli.main import app
from gctune.sweep.count_sweep import count_path, read_count_points
from tests.valgrind import needs_valgrind

pytestmark = [pytest.mark.integration, needs_valgrind]

PROGRAM = """
    import gc

    class Node:
        def __init__(self, parent):
            self.parent = parent

    def make(size=50):
        def step():
            for _ in range(size):
                Node(None).parent = Node(None)
            gc.collect()
        return step
"""


def _sweep(runner: CliRunner, out: Path, spec: str, *extra: str) -> None:
    args = ["sweep", "--measure", "counts", "--jobs", "2", "--out", str(out)]
    for s in ("default", "disabled", "5000,10,10", "20000,10,10+freeze"):
        args += ["-s", s]
    result = runner.invoke(app, [*args, *extra, spec])
    assert result.exit_code == 0, result.output


def test_shards_merge_into_the_whole_sweep(tmp_path: Path) -> None:
    (tmp_path / "prog.py").write_text(textwrap.dedent(PROGRAM))
    spec = f"{tmp_path}/prog.py:make"
    runner = CliRunner()
    _sweep(runner, tmp_path / "s1", spec, "--shard", "1/2")
    _sweep(runner, tmp_path / "s2", spec, "--shard", "2/2")
    one = {(d["setting"], d["status"]) for d in read_count_points(tmp_path / "s1")}
    two = {(d["setting"], d["status"]) for d in read_count_points(tmp_path / "s2")}
    # each shard counts default (the bound of the others) and half of the rest
    assert ("default", "ok") in one and ("default", "ok") in two
    assert (len(one), len(two), len(one | two)) == (3, 2, 4)  # 3 others: 2 and 1
    merged = runner.invoke(
        app, ["merge", str(tmp_path / "s1"), str(tmp_path / "s2"), "--out", str(tmp_path / "m")]
    )
    assert merged.exit_code == 0, merged.output
    assert "counts tier" in merged.output
    docs = read_count_points(tmp_path / "m")
    assert {(d["setting"], d["status"]) for d in docs} == one | two
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert [m["shard"] for m in manifest["gctune"]["spec"]["merged_from"]] == [[1, 2], [2, 2]]
    # the merged points are the shards' own
    for d in docs:
        source = "s1" if (d["setting"], d["status"]) in one else "s2"
        assert d == json.loads(
            count_path(tmp_path / source, d["workload"], d["setting"]).read_text()
        )
    # it reads as a sweep in counts: an A/A gate in it passes exactly
    same = runner.invoke(
        app, ["gate", str(tmp_path / "m"), "prog-make", "prog-make", "--fail-on", "instructions:0%"]
    )
    assert same.exit_code == 0, same.output

    # another build: refused, with one line naming both
    manifest["gctune"]["environment"]["python"]["build_id"] = "0123456789abcdef"
    other = tmp_path / "other"
    shutil.copytree(tmp_path / "s2", other)
    (other / "manifest.json").write_text(json.dumps(manifest))
    refused = runner.invoke(
        app, ["merge", str(tmp_path / "s1"), str(other), "--out", str(tmp_path / "x")]
    )
    assert refused.exit_code == 2 and "another interpreter build" in refused.output
    assert not (tmp_path / "x").exists()
    # the same build in name, but default counted differently: refused
    shutil.rmtree(other)
    shutil.copytree(tmp_path / "s2", other)
    path = count_path(other, "prog-make", "default")
    doc = json.loads(path.read_text())
    doc["point"]["instructions_per_step"] *= 1.01
    path.write_text(json.dumps(doc))
    refused = runner.invoke(
        app, ["merge", str(tmp_path / "s1"), str(other), "--out", str(tmp_path / "x")]
    )
    assert refused.exit_code == 2 and "not one build in fact" in refused.output
    # a shard of nothing else: one line
    bad = runner.invoke(app, ["sweep", "--measure", "counts", "--shard", "3/2", spec])
    assert bad.exit_code == 2 and "K must be from 1 to N" in bad.output
    timed = runner.invoke(app, ["sweep", "--shard", "1/2", spec])
    assert timed.exit_code == 2 and "--shard applies to --measure counts" in timed.output
