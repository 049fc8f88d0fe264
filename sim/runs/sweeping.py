"""Running a sweep, point by point, into a folder that survives crashes.

Each finished point is written to ``parts/`` (atomically) as soon as its last batch is in; a
point that raises is recorded with its error. ``--resume`` skips the finished points. When all
points are done the parts are gathered into ``points.parquet``, ``points.csv`` and
``items.parquet`` (columnar, one file each, not a folder per point), the plots are drawn and
``parts/`` is removed: an interrupted and resumed sweep ends with the same files as one that ran
straight through.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.engine.plan import compile_plan
from sim.engine.records import Records
from sim.errors import Interrupted, UserError
from sim.results.folder import dumps, items_table, scenario_yaml, versions, write_text
from sim.results.stats import quantile_day, wilson
from sim.runs.executors import Executor
from sim.runs.sweep import SweepSpec
from sim.scenario.models import Scenario

SWEEP_BATCH = 4000
"""Replications per task in a sweep: a task takes ~0.05-0.1 s, so dispatch stays a small share."""


@dataclass
class SweepOutcome:
    folder: Path
    points: int
    failed: int
    wall_seconds: float
    simulate_seconds: float
    gather_seconds: float = 0.0
    plot_seconds: float = 0.0


def _part(folder: Path, index: int) -> Path:
    return folder / "parts" / f"point-{index:06d}.parquet"


def _error(folder: Path, index: int) -> Path:
    return folder / "parts" / f"point-{index:06d}.error.json"


def _write_parquet(table: Any, path: Path) -> None:
    import pyarrow.parquet as pq

    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(path)


def prepare_folder(spec: SweepSpec, folder: Path, *, resume: bool, force: bool) -> None:
    """Create the sweep folder, or check that ``--resume`` continues the same sweep."""
    described = yaml.safe_dump(spec.describe(), sort_keys=False, allow_unicode=True)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder}: exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()):
        if resume:
            previous = folder / "sweep.yaml"
            if not previous.is_file():
                raise UserError(f"{folder}: not a sweep folder (sweep.yaml is missing); cannot resume")
            if previous.read_text(encoding="utf-8") != described:
                raise UserError(f"{folder}: holds a different sweep (sweep.yaml differs); cannot resume it")
            if (folder / "scenario.yaml").read_text(encoding="utf-8") != scenario_yaml(spec.base):
                raise UserError(f"{folder}: the scenario has changed since the sweep began; cannot resume it")
            return
        if not force:
            raise UserError(
                f"{folder}: already exists and is not empty (pass --force to replace it, --resume to continue it)"
            )
        shutil.rmtree(folder)
    (folder / "parts").mkdir(parents=True, exist_ok=True)
    write_text(folder / "scenario.yaml", scenario_yaml(spec.base))
    write_text(folder / "sweep.yaml", described)


def finished_points(folder: Path) -> set[int]:
    parts = folder / "parts"
    if not parts.is_dir():
        return set()
    return {int(p.stem.split("-")[1]) for p in parts.glob("point-*.parquet")}


def batches(n: int, size: int = SWEEP_BATCH) -> list[tuple[int, int]]:
    return [(a, min(a + size, n)) for a in range(0, n, size)]


def run_points(
    spec: SweepSpec,
    folder: Path,
    executor: Executor,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, float]:
    """Run every unfinished point; return (points that failed, seconds spent simulating)."""
    done = finished_points(folder)
    todo = [p for p in spec.points if p.index not in done]
    n = spec.base.simulation.replications
    plan_of = {p.index: compile_plan(p.scenario) for p in todo}
    ranges = batches(n)
    tasks = (((p.index, b), plan_of[p.index], a, z) for p in todo for b, (a, z) in enumerate(ranges))
    pending: dict[int, dict[int, Records]] = {}
    failed: dict[int, str] = {}
    simulate_seconds = 0.0
    for (index, b), result in executor.run(tasks):
        if isinstance(result, BaseException):
            failed.setdefault(index, f"{type(result).__name__}: {result}")
            pending.pop(index, None)
            write_text(_error(folder, index), dumps({"point": index, "error": failed[index]}))
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
            rec = Records.concat([got[i] for i in range(len(ranges))])
            del pending[index]
            point = next(p for p in todo if p.index == index)
            _write_parquet(items_table(point.scenario, rec), _part(folder, index))
            _error(folder, index).unlink(missing_ok=True)
            if progress:
                progress(0, 1)
    return len(failed), simulate_seconds


# ---------------------------------------------------------------------- gathering


def _records_from_part(s: Scenario, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(agreed, day) arrays of shape (replications, items) from a point's part file."""
    import pyarrow.parquet as pq

    t = pq.read_table(path, columns=["agreed", "day"])
    k = len(s.items)
    agreed = t.column("agreed").to_numpy().reshape(-1, k)
    day = t.column("day").fill_null(float("nan")).to_numpy().astype(float).reshape(-1, k)
    return agreed, day


def point_rows(spec: SweepSpec, index: int, values: dict[str, float], folder: Path) -> list[dict[str, Any]]:
    """One row per item of a point: P(agreed by horizon) with its Wilson interval, median day."""
    s = spec.base
    rows = []
    part = _part(folder, index)
    if not part.exists():
        err = _error(folder, index)
        status = "error: " + (json.loads(err.read_text())["error"] if err.exists() else "not run")
        for name in s.items:
            rows.append(
                {
                    "point": index,
                    **values,
                    "item": name,
                    "p_agreed": math.nan,
                    "ci_low": math.nan,
                    "ci_high": math.nan,
                    "median_day": math.nan,
                    "status": status,
                }
            )
        return rows
    agreed, day = _records_from_part(s, part)
    n = agreed.shape[0]
    for x, name in enumerate(s.items):
        k = int(agreed[:, x].sum())
        low, high = wilson(k, n)
        med = quantile_day(day[:, x], 0.5)
        rows.append(
            {
                "point": index,
                **values,
                "item": name,
                "p_agreed": round(k / n, 6),
                "ci_low": round(low, 6),
                "ci_high": round(high, 6),
                "median_day": math.nan if med is None else round(med, 3),
                "status": "ok",
            }
        )
    return rows


def gather(spec: SweepSpec, folder: Path) -> int:
    """Build points.parquet, points.csv and items.parquet from the parts; return failed points."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows: list[dict[str, Any]] = []
    tables = []
    failed = 0
    for p in spec.points:
        r = point_rows(spec, p.index, p.values, folder)
        failed += r[0]["status"] != "ok"
        rows += r
        part = _part(folder, p.index)
        if part.exists():
            t = pq.read_table(part)
            tables.append(t.add_column(0, "point", pa.array(np.full(t.num_rows, p.index, np.int32))))
    paths = [pp.path for pp in spec.parameters]
    columns = ["point", *paths, "item", "p_agreed", "ci_low", "ci_high", "median_day", "status"]
    table = pa.table({c: [row[c] for row in rows] for c in columns})
    _write_parquet(table, folder / "points.parquet")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow(["" if isinstance(row[c], float) and math.isnan(row[c]) else row[c] for c in columns])
    write_text(folder / "points.csv", buf.getvalue())
    if tables:
        items = pa.concat_tables([t.cast(tables[0].schema) for t in tables])
        _write_parquet(items, folder / "items.parquet")
    return failed


def sweep(
    spec: SweepSpec,
    folder: Path,
    executor: Executor,
    *,
    resume: bool = False,
    force: bool = False,
    plots: bool = True,
    argv: list[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SweepOutcome:
    """Run a whole sweep into ``folder``; see the module docstring."""
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.perf_counter()
    prepare_folder(spec, folder, resume=resume, force=force)
    try:
        _, sim_seconds = run_points(spec, folder, executor, progress)
    except KeyboardInterrupt:
        executor.close(cancel=True)
        kept = len(finished_points(folder))
        raise Interrupted(
            f"interrupted: {kept} of {len(spec.points)} points are finished and kept in {folder}; "
            "run the same command with --resume to continue"
        ) from None
    t1 = time.perf_counter()
    failed = gather(spec, folder)
    t2 = time.perf_counter()
    if plots:
        from sim.views.plots.sweep import draw_sweep

        finished = load_sweep(folder)
        draw_sweep(finished, folder / "plots", spec.metric)
    t3 = time.perf_counter()
    wall = t3 - t0
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
        "workers": executor.workers,
        "command": argv,
        "started": started.isoformat(timespec="seconds"),
        "wall_seconds": round(wall, 3),
        "versions": versions(),
    }
    write_text(folder / "manifest.json", dumps(manifest))
    if plots:
        from sim.views.report import sweep_report

        finished.manifest = manifest
        write_text(folder / "report.html", sweep_report(finished))
    shutil.rmtree(folder / "parts", ignore_errors=True)
    return SweepOutcome(folder, len(spec.points), failed, wall, sim_seconds, t2 - t1, t3 - t2)


# ---------------------------------------------------------------------- reading back


@dataclass
class SweepResults:
    """A finished sweep: its description, base scenario, per-point rows and per-replication items.

    ``points`` and ``items`` are pandas DataFrames (for notebooks); the ``*_table`` attributes hold
    the same data as pyarrow Tables.
    """

    folder: Path
    described: dict[str, Any]
    base: Scenario
    points_table: Any
    items_table: Any
    manifest: dict[str, Any]

    @property
    def parameters(self) -> list[str]:
        return list(self.described["parameters"])

    @property
    def design(self) -> str:
        return str(self.described["design"])

    @property
    def points(self) -> Any:
        return self.points_table.to_pandas()

    @property
    def items(self) -> Any:
        return None if self.items_table is None else self.items_table.to_pandas()

    @property
    def summary(self) -> Any:
        """P(agreed by horizon) per point (rows) and item (columns)."""
        return self.points.pivot(index="point", columns="item", values="p_agreed")[list(self.base.items)]

    def plot(self, metric: str | None = None) -> Any:
        """The sweep's figure for a metric (p_agreed, median_day, p_by:DATE), as a matplotlib Figure."""
        from sim.views.plots.sweep import figure_for, parse_metric

        return figure_for(self, parse_metric(metric, self.base.calendar.start))[1]

    def _repr_html_(self) -> str:
        from sim.views.report import sweep_body

        return sweep_body(self, embed_plots=False)


def load_sweep(folder: str | Path) -> SweepResults:
    import pyarrow.parquet as pq

    from sim.scenario.checks import load_scenario

    path = Path(folder)
    for name in ("sweep.yaml", "scenario.yaml", "points.parquet"):
        if not (path / name).is_file():
            raise UserError(f"{path}: not a finished sweep folder ({name} is missing)")
    described = yaml.safe_load((path / "sweep.yaml").read_text(encoding="utf-8"))
    base = load_scenario(path / "scenario.yaml")
    items = pq.read_table(path / "items.parquet") if (path / "items.parquet").exists() else None
    manifest = {}
    if (path / "manifest.json").is_file():
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    return SweepResults(path, described, base, pq.read_table(path / "points.parquet"), items, manifest)
