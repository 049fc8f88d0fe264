"""The sweep folder: parts written point by point, gathered when the sweep is done, read back.

Each finished point is written to ``parts/`` (atomically) as soon as its last batch is in; a
point that raises is recorded with its error. When all points are done the parts are gathered
into ``points.parquet``, ``points.csv`` and ``items.parquet`` (columnar, one file each, not a
folder per point) and ``parts/`` is removed, so an interrupted and resumed sweep ends with the
same files as one that ran straight through. The metrics a sweep's figures show per point are
computed here too.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.engine.records import Records
from sim.errors import UserError
from sim.results.atomic import check_target, folder_kind, make_temporary, place, remove_stale, write_text
from sim.results.checks import (
    WHOLE,
    check_point_records,
    check_points,
    check_schema,
    check_sweep_records,
    points_of,
    sweep_manifest,
)
from sim.results.files import (
    csv_text,
    give_back,
    json_text,
    numpy_of,
    read_batches,
    read_json,
    read_parquet,
    read_schema,
)
from sim.results.folder import column, items_table, scenario_yaml, table_of
from sim.results.stats import paired, quantile_day, wilson
from sim.scenario.checks import shape_problems
from sim.scenario.documents import load_document, read_text
from sim.scenario.load import load_scenario
from sim.scenario.models import Scenario
from sim.scenario.paths import scenario_data, written_number


def part_path(folder: Path, index: int) -> Path:
    return folder / "parts" / f"point-{index:06d}.parquet"


def error_path(folder: Path, index: int) -> Path:
    return folder / "parts" / f"point-{index:06d}.error.json"


def write_table(table: Any, path: Path) -> None:
    """A Parquet file written under a temporary name and renamed into place."""
    import pyarrow.parquet as pq

    path.parent.mkdir(exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(path)


def write_part(s: Scenario, folder: Path, index: int, rec: Records) -> Any:
    """A finished point's records, kept until the sweep is gathered; returns them as an Arrow table."""
    table = items_table(s, rec)
    path = part_path(folder, index)
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise UserError(f"{path}: not a part negsim wrote (a folder or a link); delete it, and --resume runs it again")
    write_table(table, path)
    error_path(folder, index).unlink(missing_ok=True)
    return table


def write_error(folder: Path, index: int, error: str) -> None:
    write_text(error_path(folder, index), json_text({"point": index, "error": error}))


@dataclass(frozen=True)
class Prepared:
    """Where a sweep is written: ``work`` (the folder itself, or, when ``--force`` replaces an old
    sweep, a hidden folder beside it that is swapped in when complete) and whether it is complete."""

    work: Path
    final: Path
    staged: bool
    complete: bool


def is_complete(folder: Path) -> bool:
    """A sweep folder whose manifest says it was finished (figures, report and all)."""
    try:
        return sweep_manifest(folder / "manifest.json").get("complete") is True
    except UserError:
        return False


def prepare_folder(
    described_data: dict[str, Any], base: Scenario, folder: Path, *, resume: bool, force: bool
) -> Prepared:
    """Create the sweep folder, or check that ``--resume`` continues the same sweep.

    A new sweep is written in place, point by point, so that ``--resume`` can continue it. A sweep
    that replaces another (``--force``) is built beside it and swapped in only when complete, so a
    crash never loses the old one.
    """
    described = yaml.safe_dump(described_data, sort_keys=False, allow_unicode=True)
    if resume and folder.is_dir() and not folder.is_symlink() and any(folder.iterdir()):
        previous = folder / "sweep.yaml"
        if not previous.is_file() or folder_kind(folder) not in ("sweep", None):
            raise UserError(f"{folder}: not a sweep folder (sweep.yaml is missing); cannot resume")
        if _text_or_none(previous) != described:
            raise UserError(f"{folder}: holds a different sweep (sweep.yaml differs); cannot resume it")
        if _text_or_none(folder / "scenario.yaml") != scenario_yaml(base):
            raise UserError(f"{folder}: the scenario has changed since the sweep began; cannot resume it")
        sweep_manifest(folder / "manifest.json")  # a finished sweep's, checked before it is believed
        (folder / "parts").mkdir(exist_ok=True)
        return Prepared(folder, folder, False, is_complete(folder))
    try:
        replace = check_target(folder, force, "sweep")
    except UserError as exc:
        if "pass --force" in str(exc):
            raise UserError(f"{exc}, or --resume to continue it") from None
        raise
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{folder.parent}: cannot create the folder ({exc.strerror or exc})") from None
    remove_stale(folder)
    if replace:
        work = make_temporary(folder)
    else:
        work = folder
        try:
            work.mkdir(exist_ok=True)
        except OSError as exc:
            raise UserError(f"{folder}: cannot create the folder ({exc.strerror or exc})") from None
    try:
        (work / "parts").mkdir()
    except FileExistsError:
        raise UserError(f"{folder}: another sweep began writing here at the same time; it is left to finish") from None
    write_text(work / "scenario.yaml", scenario_yaml(base))
    write_text(work / "sweep.yaml", described)
    return Prepared(work, folder, replace, False)


def _text_or_none(path: Path) -> str | None:
    """A file negsim wrote as text, or None if it is not one (missing, binary, not UTF-8, too large)."""
    try:
        return read_text(path)
    except UserError:
        return None


def finish_folder(prepared: Prepared, manifest: dict[str, Any]) -> None:
    """Mark the sweep complete, remove its parts, and (``--force``) swap it in for the old one."""
    write_text(prepared.work / "manifest.json", json_text({**manifest, "complete": True}))
    shutil.rmtree(prepared.work / "parts", ignore_errors=True)
    if prepared.staged:
        place(prepared.work, prepared.final, replace=True)


PART = re.compile(r"point-([0-9]{6})\.parquet")
"""A part's name, as :func:`part_path` makes it (ASCII digits only)."""


def finished_points(folder: Path) -> set[int]:
    """The points whose part is written; anything else in ``parts/`` (a stray file) is not a part."""
    parts = folder / "parts"
    if not parts.is_dir():
        return set()
    found = set()
    for p in parts.iterdir():
        match = PART.fullmatch(p.name)
        if match and p.is_file() and not p.is_symlink():
            found.add(int(match[1]))
    return found


def horizon_of(s: Scenario, values: dict[str, float]) -> float:
    """The horizon of a sweep point: the base scenario's, unless the sweep sets it."""
    return float(values["calendar.horizon"]) if "calendar.horizon" in values else s.horizon


def read_part(s: Scenario, folder: Path, index: int, values: dict[str, float]) -> Any:
    """A point's part written by an earlier run of the sweep (None if there is none), checked as
    untrusted input: a damaged one is named, to be deleted so that ``--resume`` runs it again."""
    path = part_path(folder, index)
    if not path.is_file():
        return None
    table = read_parquet(path)
    try:
        check_point_records(path, table, tuple(s.items), s.simulation.replications, horizon_of(s, values))
    except UserError as exc:
        raise UserError(f"{exc}; delete it, and --resume runs point {index} again") from None
    return table


def failure(folder: Path, index: int) -> str:
    """Why a point did not run, as its error record says (or "not run")."""
    path = error_path(folder, index)
    if not path.is_file():
        return "not run"
    try:
        data = read_json(path)
    except UserError:
        data = None
    return str(data.get("error", "")) if isinstance(data, dict) else f"(unreadable record in {path.name})"


def _records_from_part(s: Scenario, t: Any) -> tuple[np.ndarray, np.ndarray]:
    """(agreed, day) arrays of shape (replications, items) from a point's part (an Arrow table)."""
    k = len(s.items)
    agreed = t.column("agreed").to_numpy().reshape(-1, k)
    day = t.column("day").fill_null(float("nan")).to_numpy().astype(float).reshape(-1, k)
    return agreed, day


def point_rows(
    s: Scenario, index: int, values: dict[str, float], folder: Path, part: Any = None
) -> list[dict[str, Any]]:
    """One row per item of a point: P(agreed by horizon) with its Wilson interval, median day.
    ``part`` is the point's records (an Arrow table) if at hand; else its part file, if any, is read."""
    rows = []
    if part is None:
        part = read_part(s, folder, index, values)
    if part is None:
        status = "error: " + failure(folder, index)
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


def gather(
    s: Scenario,
    paths: list[str],
    points: list[tuple[int, dict[str, float]]],
    folder: Path,
    known: dict[int, Any] | None = None,
) -> int:
    """Build points.parquet, points.csv and items.parquet from the parts of ``points`` (index,
    swept values); return the number of points that failed. ``known`` holds the parts this process
    wrote (Arrow tables), so that only the parts of earlier runs are read back."""
    rows: list[dict[str, Any]] = []
    failed = 0
    with GroupWriter(folder / "items.parquet") as items:
        for index, values in points:
            t = (known or {}).pop(index, None)
            if t is None:
                t = read_part(s, folder, index, values)
            r = point_rows(s, index, values, folder, t)
            failed += r[0]["status"] != "ok"
            rows += r
            if t is not None:
                items.write(t.add_column(0, "point", column(np.full(t.num_rows, index, np.int32))))
            if index % 16 == 15:
                give_back()  # what reading the parts took
    columns = ["point", *paths, "item", "p_agreed", "ci_low", "ci_high", "median_day", "status"]
    # A path a point does not set keeps the scenario's own value: an empty cell (NaN in Parquet).
    table = table_of({c: [row.get(c) for row in rows] for c in columns})
    write_table(table, folder / "points.parquet")
    write_text(folder / "points.csv", csv_text(columns, ([row.get(c) for c in columns] for row in rows)))
    return failed


GROUP_ROWS = 1 << 20
"""Rows per row group of a sweep's items.parquet: pyarrow's default, so that a file written a point
at a time is the same bytes as one written whole."""


class GroupWriter:
    """A Parquet file written table by table in row groups of :data:`GROUP_ROWS` rows, under a
    temporary name renamed into place when it closes without error (and none at all if nothing was
    written): at most a row group in memory, whatever the number of points."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self.writer: Any = None
        self.held: list[Any] = []
        self.rows = 0

    def write(self, table: Any) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.writer is None:
            self.schema = table.schema
            self.writer = pq.ParquetWriter(self.tmp, self.schema, compression="zstd")
        self.held.append(table.cast(self.schema))
        self.rows += table.num_rows
        while self.rows >= GROUP_ROWS:
            whole = pa.concat_tables(self.held)
            self.writer.write_table(whole.slice(0, GROUP_ROWS), row_group_size=GROUP_ROWS)
            rest = whole.slice(GROUP_ROWS)
            self.held, self.rows = [rest], rest.num_rows

    def __enter__(self) -> GroupWriter:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        import pyarrow as pa

        if self.writer is None:
            return
        try:
            if kind is None and self.rows:
                self.writer.write_table(pa.concat_tables(self.held), row_group_size=GROUP_ROWS)
            self.writer.close()
        finally:
            self.held = []
            if kind is None:
                self.tmp.replace(self.path)
            else:
                self.tmp.unlink(missing_ok=True)


@dataclass
class SweepResults:
    """A finished sweep: its description, base scenario, per-point rows and per-replication items
    (the notebook API's :class:`sim.api.SweepResults` adds figures and an HTML view).

    ``points`` and ``items`` are pandas DataFrames (for notebooks); the ``*_table`` attributes hold
    the same data as pyarrow Tables.
    """

    folder: Path
    described: dict[str, Any]
    base: Scenario
    points_table: Any
    items_file: Path | None
    """items.parquet (None for a sweep in which no point ran), checked when the folder was loaded and
    read when wanted: whole by :attr:`items_table`, a point at a time by :meth:`point_days`."""
    manifest: dict[str, Any]

    @property
    def items_table(self) -> Any:
        """Every point's records, as one Arrow table (None when no point ran)."""
        return None if self.items_file is None else read_parquet(self.items_file)

    def point_days(self) -> Iterator[tuple[int, np.ndarray]]:
        """Each point that ran, in order, with the day each replication agreed each item (inf where it
        did not): (replications, items) arrays, read a point at a time, so that drawing a sweep of any
        number of points takes a point's memory."""
        if self.items_file is None:
            raise UserError(f"{self.folder}: items.parquet is missing; only p_agreed can be drawn")
        k = len(self.base.items)
        for point, table in points_of(self.items_file, read_batches(self.items_file, ["point", "day"])):
            yield point, numpy_of(table.column("day"), np.inf).astype(float).reshape(-1, k)

    @property
    def parameters(self) -> list[str]:
        return list(self.described["parameters"])

    @property
    def design(self) -> str:
        return str(self.described["design"])

    @property
    def points(self) -> Any:
        return self.points_table.to_pandas()

    def values(self, point: int) -> dict[str, float]:
        """The values a point sets (a swept path it leaves out keeps the scenario's own value)."""
        return {k: v for k, v in self.described["points"][point].items() if k != "point"}

    @property
    def baseline(self) -> int | None:
        """The point that is the scenario as written, run as ``negsim run`` runs it (every judgement
        drawn from its distribution): a point that sets nothing, or only the plain numbers the
        scenario already writes. None for a sweep without one (a Latin hypercube, or a sweep made
        by an earlier negsim, which fixed swept judgements at their means)."""
        data = scenario_data(self.base)
        written = {p: written_number(data, p) for p in self.parameters}
        for point in self.described["points"]:
            values = {k: v for k, v in point.items() if k != "point"}
            if all(written.get(k) is not None and written[k] == v for k, v in values.items()):
                return int(point["point"])
        return None

    def is_full(self, point: int) -> bool:
        """Whether a point sets every swept path (a point of the design, not the added baseline)."""
        return set(self.values(point)) == set(self.parameters)

    @property
    def items(self) -> Any:
        return None if self.items_table is None else self.items_table.to_pandas()

    @property
    def summary(self) -> Any:
        """P(agreed by horizon) per point (rows) and item (columns)."""
        return self.points.pivot(index="point", columns="item", values="p_agreed")[list(self.base.items)]


def load_sweep(folder: str | Path) -> SweepResults:
    """Read a finished sweep folder."""

    path = Path(folder)
    for name in ("sweep.yaml", "scenario.yaml", "points.parquet"):
        if not (path / name).is_file():
            raise UserError(f"{path}: not a finished sweep folder ({name} is missing)")
    described = described_sweep(path / "sweep.yaml")
    base = load_scenario(path / "scenario.yaml")
    manifest = sweep_manifest(path / "manifest.json")
    items = path / "items.parquet" if (path / "items.parquet").is_file() else None
    points = read_parquet(path / "points.parquet")
    names = tuple(base.items)
    ran = check_points(path / "points.parquet", points, names, described["points"], list(described["parameters"]))
    if items is not None:
        horizon = sweep_horizon(base, described["points"])
        check_schema(items, read_schema(items), {"point": WHOLE}, {"point"})
        check_sweep_records(items, read_batches(items), names, int(described["replications"]), ran, horizon)
    elif ran and base.items:
        raise UserError(f"{path}: items.parquet is missing, though points ran")
    return SweepResults(path, described, base, points, items, manifest)


class _Described(BaseModel):
    """sweep.yaml as negsim writes it, checked when read back (a folder may come from anyone)."""

    model_config = ConfigDict(extra="allow")

    design: str
    replications: Annotated[int, Field(ge=1)]
    seed: int
    parameters: dict[str, list[float]]
    points: list[dict[str, float]]
    seeds: list[Annotated[int, Field(ge=0, le=2**64 - 1)]] | None = None
    """Each point's seed, where points have their own (the sobol design)."""
    sobol: dict[str, Any] | None = None


SWEEP_YAML_BYTES = 1 << 28
"""The largest sweep.yaml read back. It lists every point, so it outgrows the 1 MiB of a scenario
file: 2,816 points of 8 judgements (a sobol design of 256 rows) take 1.2 MB; 100,000 points of 8, 40 MB."""


def described_sweep(path: Path) -> dict[str, Any]:
    """A sweep folder's sweep.yaml, read with the care of a scenario file (up to SWEEP_YAML_BYTES) and checked."""
    doc = load_document(path, max_bytes=SWEEP_YAML_BYTES)
    try:
        described = _Described.model_validate(doc.data)
    except ValidationError as exc:
        first = next(iter(shape_problems(doc, exc, _Described)))
        raise UserError(f"{path}: not the description of a sweep ({first})") from None
    for i, point in enumerate(described.points):  # a point lists the paths it sets (none: the scenario as written)
        if not set(point) <= {"point", *described.parameters} or point.get("point") != i:
            raise UserError(f"{path}: point {i} does not match the sweep's parameters")
    if described.seeds is not None and len(described.seeds) != len(described.points):
        raise UserError(f"{path}: {len(described.seeds)} seeds for {len(described.points)} points")
    if described.sobol is not None:
        samples, blocks = described.sobol.get("samples"), described.sobol.get("blocks")
        if (
            not isinstance(samples, int)
            or not isinstance(blocks, list)
            or samples * len(blocks) != len(described.points)
            or described.seeds is None
        ):
            raise UserError(f"{path}: the sobol design's samples and blocks do not match its points")
    return dict(doc.data)


# ---------------------------------------------------------------------- metrics


@dataclass(frozen=True)
class Metric:
    """What a sweep plot shows per point and item."""

    key: str
    kind: str  # "p_agreed", "median_day", "p_by"
    day: float | None = None

    @property
    def is_probability(self) -> bool:
        return self.kind != "median_day"

    def label(self, start: dt.date) -> str:
        if self.kind == "p_agreed":
            return "P(agreed by horizon)"
        if self.kind == "median_day":
            return "median date of agreement"
        return f"P(agreed by {(start + dt.timedelta(days=self.day or 0)).isoformat()})"


def parse_metric(text: str | None, start: dt.date, horizon: float | None = None, where: str = "--metric") -> Metric:
    """``p_agreed`` (default), ``median_day``, or ``p_by:DATE`` (or ``p_by:DAYS``); with ``horizon``,
    a p_by date must lie within the run. ``where`` names the option or the field in messages."""
    if text in (None, "", "p_agreed"):
        return Metric("p_agreed", "p_agreed")
    if text == "median_day":
        return Metric("median_day", "median_day")
    if text.startswith("p_by:"):
        arg = text[5:]
        try:
            day = float(arg)
        except ValueError:
            try:
                day = float((dt.date.fromisoformat(arg) - start).days)
            except ValueError:
                raise UserError(f"{where} {text}: give p_by:YYYY-MM-DD or p_by:DAYS") from None
        if math.isnan(day):
            raise UserError(f"{where} {text}: give p_by:YYYY-MM-DD or p_by:DAYS")
        if horizon is not None and not 0 <= day <= horizon:
            end = (start + dt.timedelta(days=int(horizon))).isoformat()
            side = f"before the start, {start.isoformat()}" if day < 0 else f"after the horizon, {end}"
            raise UserError(f"{where} {text}: {side} (choose a date from {start.isoformat()} to {end})")
        return Metric(f"p_by_{arg}", "p_by", day)
    raise UserError(f"{where} {text}: choose p_agreed, median_day, or p_by:YYYY-MM-DD")


def sweep_horizon(base: Scenario, points: list[dict[str, float]]) -> float:
    """The latest horizon of a sweep's points (the base scenario's, unless the sweep sets it)."""
    return max([base.horizon, *(horizon_of(base, pt) for pt in points)])


def metric_values(
    res: SweepResults, metric: Metric
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Per item: (point indices, metric, low, high) for the points that ran."""
    pts = res.points_table.to_pydict()
    ok = [i for i, s in enumerate(pts["status"]) if s == "ok"]
    out: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
    items = list(res.base.items)
    if metric.kind == "p_agreed":
        for name in items:
            rows = [i for i in ok if pts["item"][i] == name]
            out[name] = tuple(
                np.array([pts[c][i] for i in rows], float)  # type: ignore[assignment]
                for c in ("point", "p_agreed", "ci_low", "ci_high")
            )
        return out
    from scipy import stats

    columns: dict[str, tuple[list[float], list[float], list[float], list[float]]] = {
        name: ([], [], [], []) for name in items
    }
    for pt, day in res.point_days():
        for x, name in enumerate(items):
            d = day[:, x]
            n = d.size
            if metric.kind == "p_by":
                hits = int((d <= (metric.day or 0.0)).sum())
                low, high = wilson(hits, n)
                row = (pt, hits / n, low, high)
            else:
                med = float(np.quantile(d, 0.5, method="inverted_cdf"))
                ci = stats.quantile_test(d, q=med, p=0.5).confidence_interval(0.95)
                row = (pt, med, float(ci.low), float(ci.high))
            for col, value in zip(columns[name], row, strict=True):
                col.append(value)
    for name in items:
        arrays = [np.array(v, float) for v in columns[name]]
        for a in arrays[1:]:
            a[~np.isfinite(a)] = np.nan
        out[name] = (arrays[0], arrays[1], arrays[2], arrays[3])
    return out


def point_indicators(res: SweepResults, metric: Metric) -> dict[int, np.ndarray]:
    """Per point, per replication and item, whether the metric's event happened (agreed by the
    horizon, or by the metric's day): (replications, items) booleans, for paired differences."""
    if res.items_file is None:
        raise UserError(f"{res.folder}: items.parquet is missing; paired differences need it")
    limit = res.base.horizon if metric.kind == "p_agreed" else (metric.day or 0.0)
    return {point: day <= limit for point, day in res.point_days()}


def paired_differences(
    res: SweepResults, metric: Metric, base_point: int = 0
) -> dict[str, dict[int, tuple[float, float, float]]]:
    """Per item and point: the difference of the metric from the base point, with its 95% paired
    interval (replication i of every point shares its random numbers). Probabilities only."""
    if not metric.is_probability:
        raise ValueError("paired differences are for probabilities")
    hits = point_indicators(res, metric)
    out: dict[str, dict[int, tuple[float, float, float]]] = {}
    if base_point not in hits:
        return out
    for x, name in enumerate(res.base.items):
        base = hits[base_point][:, x]
        out[name] = {p: paired(base, h[:, x]) for p, h in hits.items() if h.shape[0] == base.shape[0]}
    return out
