"""The example CI workflow cannot run here: parse it and check everything it calls exists."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import typer
import yaml

from gctune.analysis.comparison import parse_threshold
from gctune.analysis.count_gate import COUNT_GATES, parse_count_threshold
from gctune.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "gc-perf.yml"


def workflow() -> dict[Any, Any]:
    doc = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(doc, dict)
    return doc


def steps() -> list[dict[str, Any]]:
    (job,) = workflow()["jobs"].values()
    return list(job["steps"])


def command_lines() -> list[list[str]]:
    """Every shell command of every `run:` script, continuation lines joined, comments cut."""
    lines = []
    for step in steps():
        script = step.get("run", "").replace("\\\n", " ")
        for line in script.splitlines():
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                lines.append(shlex.split(line))
    return lines


def gctune_calls() -> list[list[str]]:
    """The arguments after each `gctune` program in the scripts."""
    calls = []
    for words in command_lines():
        for i, word in enumerate(words):
            if word.endswith("/gctune") or word == "gctune":
                calls.append(words[i + 1 :])
    return calls


def commands() -> dict[str, Any]:
    """gctune's registered commands by name, as the command line sees them."""
    group = typer.main.get_command(app)
    return dict(group.commands)  # type: ignore[attr-defined]


def test_runs_on_pull_requests_and_uploads_the_results() -> None:
    doc = workflow()
    triggers = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers is not None and "pull_request" in triggers
    used = [s.get("uses", "").split("@")[0] for s in steps()]
    for action in ("actions/checkout", "actions/setup-python", "actions/upload-artifact"):
        assert action in used
    upload = next(s for s in steps() if s.get("uses", "").startswith("actions/upload-artifact"))
    assert "results/pr" in upload["with"]["path"]


def test_every_make_target_exists() -> None:
    targets = set(re.findall(r"^([a-zA-Z_-]+):", (ROOT / "Makefile").read_text(), re.M))
    called = [w[-1] for w in command_lines() if w[0] == "make"]
    assert called, "the workflow installs gctune with make"
    assert set(called) <= targets


def test_every_gctune_command_and_option_exists() -> None:
    registered = commands()
    calls = gctune_calls()
    assert {c[0] for c in calls} >= {"sweep", "compare", "report"}
    for call in calls:
        name = call[0]
        assert name in registered, f"workflow calls unknown command gctune {name}"
        options = {o for p in registered[name].params for o in getattr(p, "opts", [])}
        options |= {"--help"}
        for word in call[1:]:
            if word.startswith("--"):
                assert word.split("=")[0] in options, f"gctune {name} has no option {word}"


def test_gates_parse() -> None:
    gates = [c[i + 1] for c in gctune_calls() for i, w in enumerate(c) if w == "--fail-on"]
    counted = [g for g in gates if g.split(":")[0] in COUNT_GATES]
    timed = [g for g in gates if g not in counted]
    assert {parse_count_threshold(g).metric for g in counted} == {"instructions"}
    assert {parse_threshold(g).metric for g in timed} == {"time", "collections"}


def test_the_job_fails_on_counts_and_shows_time() -> None:
    # the gate in counts reads the sweep in counts and its failure fails the job; the time
    # gate is printed and never fails it (20 rounds resolve ~5 % on a shared runner)
    calls = [c for c in gctune_calls() if c[0] in ("sweep", "gate")]
    counted = [c for c in calls if c[0] == "sweep" and "--measure" in c]
    assert len(counted) == 1 and counted[0][counted[0].index("--measure") + 1] == "counts"
    count_dir = counted[0][counted[0].index("--out") + 1]
    gate_step = next(s for s in steps() if s.get("name", "").startswith("Gate"))
    script = gate_step["run"].replace("\\\n", " ")
    lines = [line.strip() for line in script.splitlines() if "gctune gate" in line]
    counts = [line for line in lines if "instructions:" in line]
    times = [line for line in lines if "time:" in line]
    assert counts and times
    for line in counts:
        assert f"gate {count_dir} " in line and line.endswith("|| status=$?")
    for line in times:
        assert line.endswith("|| true")
    assert any("apt-get install -y valgrind" in s.get("run", "") for s in steps())


def test_sweep_matches_the_committed_baseline() -> None:
    sweep = workflow()["env"]["SWEEP"]
    make_args = re.search(r"^BASELINE_ARGS \?= (.*)$", (ROOT / "Makefile").read_text(), re.M)
    assert make_args and make_args.group(1).strip() == sweep
    manifest = json.loads((ROOT / "results" / "baseline" / "manifest.json").read_text())
    pinned = next(s for s in steps() if s.get("uses", "").startswith("actions/setup-python"))
    # gctune compare refuses another Python version, so CI must run the baseline's
    assert (
        pinned["with"]["python-version"] == manifest["gctune"]["environment"]["python"]["version"]
    )
    spec = manifest["gctune"]["spec"]
    assert " ".join(spec["workloads"]) in sweep and spec["mode"] == "fast"
