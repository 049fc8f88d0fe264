"""Running a sweep point by point into a folder that survives crashes; ``--resume``.

Every point's plan is sent to the executor once; tasks are batches of a point's replications.
A point is written to the folder (:mod:`sim.results.sweepfolder`) as soon as its last batch is
in; a point that raises is recorded with its error and the others go on. ``--resume`` skips the
finished points. The command layer draws the figures once the folder is gathered.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.engine.plan import compile_plan
from sim.engine.records import Records
from sim.errors import Interrupted, plural
from sim.results.checks import sweep_manifest
from sim.results.files import give_back, versions
from sim.results.sweepfolder import finish_folder, finished_points, gather, prepare_folder, write_error, write_part
from sim.runs.executors import Executor, LocalProcesses
from sim.runs.sweep import SweepSpec
from sim.scenario.models import agrees_outside_rounds

SWEEP_BATCH = 4000
"""Replications per task in a sweep: a task takes ~0.05-0.1 s, so dispatch stays a small share."""

KNOWN_BYTES = 64 << 20
"""The most of the points' records kept in memory for gathering; the parts of the rest are read back
from the folder, so that the memory of a sweep's parent does not grow with its points."""

Progress = Callable[[int, int], None]
"""Called with (replications done, points done) as work finishes."""


@dataclass
class SweepOutcome:
    folder: Path
    points: int
    failed: int
    wall_seconds: float
    simulate_seconds: float
    workers: int = 1
    gather_seconds: float = 0.0
    finish_seconds: float = 0.0
    manifest: dict[str, Any] | None = None
    already_complete: bool = False
    up: float = 0.0
    """Seconds the local worker processes were up (0 in this process or on Dask)."""
    fewer: str | None = None
    """Why fewer workers were used than there are (None when all were)."""


def batches(n: int, size: int = SWEEP_BATCH) -> list[tuple[int, int]]:
    return [(a, min(a + size, n)) for a in range(0, n, size)]


def run_points(
    spec: SweepSpec,
    folder: Path,
    executor: Executor,
    progress: Progress | None = None,
    known: dict[int, Any] | None = None,
) -> tuple[int, float]:
    """Run every unfinished point; return (points that failed, seconds spent simulating). Points'
    records also go into ``known``, up to :data:`KNOWN_BYTES`, so that gathering need not read them back."""
    done = finished_points(folder)
    todo = {p.index: p for p in spec.points if p.index not in done}
    plans, scenarios = {}, {}
    for index, p in todo.items():  # each point's scenario made once, kept only where the base will not do
        s = p.scenario
        plans[index] = compile_plan(s)
        if agrees_outside_rounds(s) != agrees_outside_rounds(spec.base):  # its records have other columns
            scenarios[index] = s
    ranges = batches(spec.base.simulation.replications)
    tasks = [((index, b), index, a, z) for index in todo for b, (a, z) in enumerate(ranges)]
    pending: dict[int, dict[int, Records]] = {}
    failed: dict[int, str] = {}
    simulate_seconds = 0.0
    kept = finished = 0
    for (index, b), result in executor.map(plans, tasks):
        if isinstance(result, BaseException):
            failed.setdefault(index, f"{type(result).__name__}: {result}")
            pending.pop(index, None)
            write_error(folder, index, failed[index])
            if progress:
                progress(0, 1)
            continue
        if index in failed:
            continue
        simulate_seconds += result.seconds
        got = pending.setdefault(index, {})
        got[b] = result.records
        if progress:
            progress(result.records.n, 0)
        if len(got) == len(ranges):
            del pending[index]
            table = write_part(  # the items are the base's: a sweep sets numbers, never items
                scenarios.get(index, spec.base), folder, index, Records.concat([got[i] for i in range(len(ranges))])
            )
            if known is not None and kept + table.nbytes <= KNOWN_BYTES:
                known[index] = table
                kept += table.nbytes
            finished += 1
            if finished % 16 == 0:
                give_back()  # what the points' records took while they were written (a millisecond)
            if progress:
                progress(0, 1)
    return len(failed), simulate_seconds


def sweep(
    spec: SweepSpec,
    folder: Path,
    executor: Executor,
    *,
    resume: bool = False,
    force: bool = False,
    argv: list[str] | None = None,
    progress: Progress | None = None,
    finish: Callable[[Path, dict[str, Any]], None] | None = None,
) -> SweepOutcome:
    """Run a whole sweep into ``folder``: prepare (or resume) it, run the points, gather the
    parts; ``finish(folder, manifest)`` draws the figures and the report; then the manifest marks
    the sweep complete and the parts are removed. Any number of kills and resumes, in any order,
    end in the same files as an uninterrupted sweep; resuming a complete sweep changes nothing."""
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.perf_counter()
    prepared = prepare_folder(spec.describe(), spec.base, folder, resume=resume, force=force)
    if prepared.complete:  # resumed after it had finished: leftovers of a kill go, nothing else changes
        shutil.rmtree(folder / "parts", ignore_errors=True)
        made = sweep_manifest(folder / "manifest.json")
        return SweepOutcome(
            folder,
            len(spec.points),
            int(made.get("failed_points", 0)),
            0.0,
            0.0,
            executor.workers,
            manifest=made,
            already_complete=True,
        )
    work = prepared.work
    known: dict[int, Any] = {}
    try:
        _, sim_seconds = run_points(spec, work, executor, progress, known)
    except KeyboardInterrupt:
        executor.close(cancel=True)
        if prepared.staged:
            raise Interrupted(f"interrupted: the sweep that was in {folder} is kept as it was") from None
        kept = len(finished_points(work))
        raise Interrupted(
            f"interrupted: {kept} of {plural(len(spec.points), 'point')} are finished and kept in {folder}; "
            "run the same command with --resume to continue"
        ) from None
    t1 = time.perf_counter()
    if isinstance(executor, LocalProcesses):
        executor.close()  # the workers have done their share: close them before gathering, so their time is theirs
    failed = gather(
        spec.base, [p.path for p in spec.parameters], [(p.index, p.values) for p in spec.points], work, known
    )
    give_back()  # what gathering freed, before the figures are drawn
    t2 = time.perf_counter()
    manifest = {
        "format": 1,
        "kind": "sweep",
        "scenario": spec.base.name,
        "scenario_file": spec.scenario_file,
        "design": spec.design,
        "points": len(spec.points),
        "failed_points": failed,
        "replications_per_point": spec.base.simulation.replications,
        "seed": spec.base.simulation.seed,
        "executor": type(executor).__name__,
        "workers": executor.used,
        "command": argv,
        "started": started.isoformat(timespec="seconds"),
        "wall_seconds": round(t2 - t0, 3),
        "versions": versions(),
    }
    if finish is not None:
        finish(work, manifest)
    t3 = time.perf_counter()
    manifest["wall_seconds"] = round(t3 - t0, 3)
    finish_folder(prepared, manifest)
    return SweepOutcome(
        folder,
        len(spec.points),
        failed,
        t3 - t0,
        sim_seconds,
        executor.used,
        t2 - t1,
        t3 - t2,
        manifest,
        up=executor.up,
        fewer=executor.fewer,
    )
