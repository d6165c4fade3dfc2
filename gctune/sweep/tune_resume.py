"""``gctune tune --resume``: finish an interrupted tune from what its directory holds.

A tune writes its search record (``tune.json``) after every batch, and every count point
to ``counts/`` as it ends; the confirming time sweep keeps its finished points as any
sweep does. An interrupted tune (Ctrl-C, SIGTERM, a lost session) keeps all three.

Resuming replays the search. :class:`gctune.analysis.tune_search.Search` is deterministic
given its trials, so it proposes the same batches in the same order: a candidate whose
trial is stored is recorded as stored (its memory probe and its count point are not run
again: a probe's peak moves a few percent from run to run, and replaying the stored one
keeps the path the same); the first batch holding a candidate not stored is measured from
there as in a new tune, its count points found on disk read, not counted again. A trial
the budget left uncounted is measured. Where the confirming time sweep had started
(``manifest.json``), the search is not extended: its stored finalists are confirmed, the
time sweep resumed where it stopped; unless the user gives a new ``--budget`` to a tune
whose search the budget had cut (:meth:`StoredTune.cut_by_budget`): then the search goes
on from its stored trials, and where it ends with other finalists, the earlier confirming
sweep is set aside (:func:`set_aside`: kept, not deleted) and the new finalists confirmed
in a new one.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from gctune.analysis.tune_search import Trial, read_tune, trial_from
from gctune.sweep.spec import SweepError
from gctune.sweep.tune_probe import MemoryProbe

__all__ = ["StoredTune", "cut_by_budget", "read_stored_tune", "set_aside"]

UNCOUNTED = "not counted"  # the note of a trial the search's budget left uncounted
BUDGET_CUT = "budget:"  # how the reason begins where the search's budget ended it
SUPERSEDED = "superseded"  # where an extended tune keeps its earlier confirming sweeps
# what a confirming time sweep writes into the tune's directory
CONFIRMATION = ("manifest.json", "points", "pilots", "logs", "report")


@dataclass(frozen=True)
class StoredWorkload:
    """One workload's stored search: its trials by setting, default's probe, why it
    stopped."""

    trials: dict[str, Trial] = field(default_factory=dict)
    default_probe: Optional[MemoryProbe] = None
    stopped: Optional[str] = None

    def replayed(self, frozen: bool) -> dict[str, Trial]:
        """The trials a resumed search records as stored: every one where its search had
        ended (``frozen``), else those not left uncounted by the budget."""
        if frozen:
            return self.trials
        return {s: t for s, t in self.trials.items() if not t.note.startswith(UNCOUNTED)}


@dataclass(frozen=True)
class StoredTune:
    """What an interrupted tune left: its record, spec and stored searches."""

    record: dict[str, Any]
    spec_doc: dict[str, Any]
    workloads: dict[str, StoredWorkload]
    confirm_started: bool  # the confirming time sweep has a manifest: the search is done

    def workload(self, workload_id: str) -> StoredWorkload:
        """The stored search of a workload (empty where it had not started)."""
        return self.workloads.get(workload_id, StoredWorkload())

    def finalists(self) -> Optional[dict[str, list[str]]]:
        """The finalists the confirming sweep was started with, where stored."""
        finals = self.record.get("finalists")
        if not isinstance(finals, dict):
            return None
        return {str(w): [str(s) for s in settings] for w, settings in finals.items()}

    def cut_by_budget(self) -> bool:
        """Whether the budget ended some workload's search before its stages were done."""
        return any(cut_by_budget(w.stopped) for w in self.workloads.values())

    def prior(self, key: str) -> float:
        """A cost figure of the earlier runs (``elapsed_s``, ``worker_cpu_s``)."""
        value = self.record.get(key)
        return float(value) if isinstance(value, (int, float)) else 0.0


def cut_by_budget(stopped: Optional[str]) -> bool:
    """Whether a search's stop reason says its budget ended it."""
    return (stopped or "").startswith(BUDGET_CUT)


def _probe(doc: dict[str, Any]) -> Optional[MemoryProbe]:
    peak = doc.get("default_peak_rss_bytes")
    steps = doc.get("default_probe_steps")
    if steps is None and doc.get("default_cycle_steps") is not None:
        steps = 2 * int(doc["default_cycle_steps"])  # records before the probe's own steps
    if not isinstance(peak, int) or not isinstance(steps, int) or steps <= 0:
        return None
    cpu_s = doc.get("default_probe_cpu_s")
    cpu_s = float(cpu_s) if isinstance(cpu_s, (int, float)) else 0.0
    return MemoryProbe(peak, steps, "full-collections", cpu_s=cpu_s)


def read_stored_tune(out: Path) -> StoredTune:
    """What ``out`` holds of a tune; SweepError (one line) where it holds none."""
    try:
        record = read_tune(out)
    except (OSError, ValueError) as exc:
        raise SweepError(f"{out}: cannot resume: {exc}") from None
    if record is None:
        raise SweepError(f"{out} holds no tune to resume (no tune.json)")
    spec_doc = record.get("spec")
    if not isinstance(spec_doc, dict) or not spec_doc.get("workloads"):
        raise SweepError(f"{out}/tune.json holds no tune spec to resume")
    workloads: dict[str, StoredWorkload] = {}
    for doc in record.get("workloads") or []:
        trials = [trial_from(t) for t in doc.get("trials") or []]
        workloads[str(doc["workload"])] = StoredWorkload(
            {t.setting: t for t in trials},
            _probe(doc),
            doc.get("stopped"),
        )
    return StoredTune(record, spec_doc, workloads, (out / "manifest.json").exists())


def spec_fields(spec_doc: dict[str, Any], cls: type) -> dict[str, Any]:
    """The stored spec's fields that ``cls`` (a dataclass: the tune spec) has."""
    names = {f.name for f in dataclasses.fields(cls)}
    fields = {k: v for k, v in spec_doc.items() if k in names}
    fields["workloads"] = tuple(fields.get("workloads") or ())
    return fields


def set_aside(out: Path) -> str:
    """Move the confirming time sweep in ``out`` to ``out/superseded/N`` (N: the next free
    number), so that a new one can be measured there; its path relative to ``out``."""
    n = 1
    while (out / SUPERSEDED / str(n)).exists():
        n += 1
    dest = out / SUPERSEDED / str(n)
    dest.mkdir(parents=True)
    for name in CONFIRMATION:
        if (out / name).exists():
            shutil.move(str(out / name), str(dest / name))
    return str(dest.relative_to(out))
