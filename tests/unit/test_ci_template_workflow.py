"""The CI template's workflow cannot run here: it must call the template's script (which
tests/integration/test_ci_template.py runs) and upload what that script writes, and the
script's default arguments must be options gctune has."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import typer
import yaml

from gctune.analysis.comparison import parse_threshold
from gctune.cli.main import app

TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "ci"
SCRIPT = TEMPLATE / "ci" / "gctune-gate.sh"


def steps() -> list[dict[str, Any]]:
    doc = yaml.safe_load((TEMPLATE / ".github" / "workflows" / "gctune.yml").read_text())
    (job,) = doc["jobs"].values()
    return list(job["steps"])


def default(variable: str) -> str:
    """The default the script gives ``variable`` (``${NAME:-default}``)."""
    match = re.search(r"\$\{" + variable + r":-([^}]*)\}", SCRIPT.read_text())
    assert match, variable
    return match.group(1)


def test_the_workflow_installs_gctune_with_pip_runs_the_script_and_uploads_its_output() -> None:
    runs = [s.get("run", "") for s in steps()]
    assert any("pip install" in r and "gctune" in r for r in runs)
    assert any(r.startswith("ci/gctune-gate.sh") for r in runs)
    checkout = next(s for s in steps() if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0  # the base branch is checked out beside
    upload = next(s for s in steps() if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "always()"
    assert upload["with"]["path"] == default("GCTUNE_OUT")
    gate = next(s for s in steps() if s.get("run", "").startswith("ci/gctune-gate.sh"))
    assert "GCTUNE_WORKLOADS" in gate["env"]


def test_the_scripts_defaults_are_gctune_options() -> None:
    commands = dict(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    for command, variable in (("sweep", "GCTUNE_SWEEP_ARGS"), ("gate", "GCTUNE_FAIL_ON")):
        options = {o for p in commands[command].params for o in getattr(p, "opts", [])}
        words = shlex.split(default(variable))
        assert {w for w in words if w.startswith("-")} <= options, (command, words)
    gates = shlex.split(default("GCTUNE_FAIL_ON"))[1::2]
    assert {parse_threshold(g).metric for g in gates} == {"time", "collections"}
    assert SCRIPT.stat().st_mode & 0o111, "the script must be executable as copied"
