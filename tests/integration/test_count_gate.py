"""The collections gate on real spans: a change that doubles a workload's full collections
fails ``collections:0%``, an identical copy passes (one interleaved sweep, real workers)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

GCTUNE = str(Path(sys.executable).with_name("gctune"))

# Cycles kept alive long enough to reach the oldest generation, over a long-lived heap:
# a full collection every few hundred steps. REPEAT = 2 doubles every generation's work.
WORKLOAD = textwrap.dedent(
    '''
    """Cycles that reach the oldest generation, then die."""
    from collections import deque
    DEFAULT_SIZE = 50
    REPEAT = 1
    def setup(size):
        return [[] for _ in range(1000 * size)], deque(maxlen=20 * size)
    def step(state):
        _, keep = state
        for _ in range(REPEAT * keep.maxlen // 20):
            a = []; b = [a]; a.append(b)
            keep.append(a)
    '''
)


def test_doubled_full_collections_fail_and_a_copy_passes(tmp_path: Path) -> None:
    for side, repeat in (("base", 1), ("double", 2), ("same", 1)):
        (tmp_path / side).mkdir()
        (tmp_path / side / "w.py").write_text(WORKLOAD.replace("REPEAT = 1", f"REPEAT = {repeat}"))
    out = tmp_path / "ab"
    swept = subprocess.run(
        [GCTUNE, "sweep", "base/w.py", "double/w.py", "same/w.py", "--interleave",
         "-s", "default", "--rounds", "3", "--max-point-time", "3", "--no-racing",
         "--out", str(out)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert swept.returncode == 0, swept.stderr

    def gate(new: str) -> tuple[int, dict[str, dict[str, object]]]:
        done = subprocess.run(
            [GCTUNE, "gate", str(out), "base.w", new, "--fail-on", "collections:0%", "--json"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        rows = json.loads(done.stdout)["rows"]
        return done.returncode, {r["metric"]: r for r in rows if r["setting"] == "default"}

    status, rows = gate("double.w")
    assert status == 1
    full = max(m for m in rows if m.startswith("gen"))
    assert rows[full]["regression"], rows[full]
    assert 1.6 < float(rows[full]["ratio"]) < 2.5  # type: ignore[arg-type]
    status, rows = gate("same.w")
    assert status == 0, rows
