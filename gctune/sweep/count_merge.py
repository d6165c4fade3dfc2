"""``gctune merge``: sweeps in counts measured apart (shards on several machines, or one
sweep measured in parts) combined into one sweep directory.

Counts do not depend on the machine that ran them, only on the interpreter build, the
program and its hash seed: a point counted on one machine is the point counted on
another of the same build. So sweeps combine when they measured the same workloads,
sizes and step bounds with the same build (``build_id`` in each manifest: a hash of the
interpreter's executable and libpython, :func:`gctune.measure.probe.build_id`), whatever
their settings or shards. A point measured in more than one of them (every shard counts
each workload's default, which bounds the others) must agree within
:data:`AGREE` in instructions per step, or the merge refuses: that is the check that the
builds are one in fact, not just in name. Nothing is measured; the merged directory is
an ordinary sweep in counts (``summary``, ``report``, ``recommend``, ``gate`` read it).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from gctune.store.atomic import atomic_write_json
from gctune.store.results import Manifest, ResultError, read_manifest, write_manifest
from gctune.sweep.count_sweep import (
    COUNTS_DIR,
    CountSpec,
    count_path,
    is_count_sweep,
    read_count_points,
)
from gctune.sweep.spec import SweepError

__all__ = ["AGREE", "merge_counts"]

AGREE = 0.002
"""Two counts of one point from different sweeps may differ by this share (0.2 %: the
counts tier's exactness bound; one build counts identically, another differs by up to
~0.4 %)."""


def _spec(sweep: Path) -> tuple[Manifest, CountSpec]:
    if not is_count_sweep(sweep):
        raise SweepError(f"{sweep} is not a sweep in counts (no manifest saying measure: counts)")
    manifest = read_manifest(sweep)
    try:
        return manifest, CountSpec.from_json(manifest.spec)
    except (KeyError, TypeError, ValueError) as exc:
        raise ResultError(f"{sweep}: damaged spec: {exc!r}") from None


def _build(sweep: Path, manifest: Manifest) -> str:
    python = manifest.environment.get("python") or {}
    build = python.get("build_id") if isinstance(python, dict) else None
    if not build:
        raise SweepError(
            f"{sweep} records no interpreter build (measured before gctune recorded one): "
            "measure it again to merge it"
        )
    return str(build)


def _comparable(spec: CountSpec) -> CountSpec:
    """What must be equal for two sweeps' points to be one sweep's."""
    return replace(spec, python="", settings=(), workloads=(), jobs=1, shard=None, timeout=0.0)


def merge_counts(out: Path, sources: Sequence[Path]) -> tuple[CountSpec, list[dict[str, Any]]]:
    """Combine the sweeps in counts ``sources`` into the new directory ``out``."""
    if len(sources) < 2:
        raise SweepError("merge combines two or more sweeps in counts")
    if out.exists():
        raise SweepError(f"{out} already exists: merge writes a new directory")
    read = [(s, *_spec(s)) for s in sources]
    first_dir, first_manifest, first_spec = read[0]
    build = _build(first_dir, first_manifest)
    for sweep, manifest, spec in read[1:]:
        other = _build(sweep, manifest)
        if other != build:
            raise SweepError(
                f"{sweep} was counted with another interpreter build ({other}) than "
                f"{first_dir} ({build}): counts of two builds differ, they do not combine"
            )
        if _comparable(spec) != _comparable(first_spec):
            raise SweepError(
                f"{sweep} measured with other size or step bounds than {first_dir}: "
                f"{_comparable(spec)} vs {_comparable(first_spec)}"
            )
    chosen: dict[tuple[str, str], tuple[Path, dict[str, Any]]] = {}
    for sweep, _, _ in read:
        for doc in read_count_points(sweep):
            key = (str(doc["workload"]), str(doc["setting"]))
            seen = chosen.get(key)
            if seen is None or (seen[1]["status"] != "ok" and doc["status"] == "ok"):
                chosen[key] = (sweep, doc)
            elif doc["status"] == "ok" and seen[1]["status"] == "ok":
                _agree(key, seen, (sweep, doc))
    workloads = tuple(dict.fromkeys(w for _, _, s in read for w in s.workloads))
    settings = tuple(dict.fromkeys(x for _, _, s in read for x in s.settings))
    spec = replace(first_spec, workloads=workloads, settings=settings, shard=None)
    doc_spec = spec.to_json()
    doc_spec["merged_from"] = [
        {
            "sweep": str(sweep),
            "shard": None if s.shard is None else list(s.shard),
            "machine": m.environment.get("machine"),
            "hostname": m.environment.get("hostname"),
        }
        for sweep, m, s in read
    ]
    (out / COUNTS_DIR).mkdir(parents=True)
    write_manifest(
        out,
        Manifest(
            sweep_id=out.name,
            spec=doc_spec,
            environment=first_manifest.environment,
            created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        ),
    )
    for (workload, setting), (_, doc) in sorted(chosen.items()):
        atomic_write_json(count_path(out, workload, setting), doc)
    return spec, read_count_points(out)


def _agree(
    key: tuple[str, str], a: tuple[Path, dict[str, Any]], b: tuple[Path, dict[str, Any]]
) -> None:
    x = float(a[1]["point"]["instructions_per_step"])
    y = float(b[1]["point"]["instructions_per_step"])
    if x <= 0 or abs(y / x - 1.0) > AGREE:
        raise SweepError(
            f"{key[0]} · {key[1]} counts {x:,.1f} instructions per step in {a[0]} and "
            f"{y:,.1f} in {b[0]} ({y / x - 1.0:+.2%}): not one build in fact; they do not "
            "combine"
        )
