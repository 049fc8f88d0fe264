"""A result folder read back is untrusted input: its columns, values and manifest are checked.

A folder may come from a colleague, an older negsim, a disk that failed or someone who edited it.
What negsim reads back is checked as a scenario file is: each Parquet column must have the type
negsim writes (``agreed`` as true/false, never text that would count every "no" as agreed), each
value its range (days within the run, counts not negative, draws finite), the long tables their
order, and the manifest the shape negsim gives it. Every failure is one line naming the file and
the field (exit 2), never a wrong number or a traceback further on.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Annotated, Any, NoReturn

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from sim.errors import UserError, plural
from sim.results.files import numpy_of
from sim.scenario.checks import shape_problems
from sim.scenario.documents import load_document
from sim.scenario.models import Scenario
from sim.scenario.numbers import Count, NonNegative, Probability

BOOL, WHOLE, NUMBER, NAMES = "true/false", "whole numbers", "numbers", "names"
"""What a column holds, as the messages say it."""


def kind_of(dtype: Any) -> str:
    """What a numpy dtype of the records holds: true/false, whole numbers or numbers."""
    kind = np.dtype(dtype).kind
    return BOOL if kind == "b" else WHOLE if kind in "iu" else NUMBER


def holds(arrow_type: Any, kind: str) -> bool:
    """Whether an Arrow column type holds ``kind``: booleans, integers, floating point (or integers)
    numbers, and names (text, or a dictionary of text)."""
    import pyarrow as pa

    t = arrow_type
    if kind == BOOL:
        return bool(pa.types.is_boolean(t))
    if kind == WHOLE:
        return bool(pa.types.is_integer(t))
    if kind == NUMBER:
        return bool(pa.types.is_floating(t) or pa.types.is_integer(t))
    if pa.types.is_dictionary(t):
        t = t.value_type
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def _described(arrow_type: Any) -> str:
    import pyarrow as pa

    t = arrow_type.value_type if pa.types.is_dictionary(arrow_type) else arrow_type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "text"
    if pa.types.is_boolean(t):
        return "true/false"
    if pa.types.is_integer(t):
        return "whole numbers"
    if pa.types.is_floating(t):
        return "numbers"
    return str(arrow_type)


def check_schema(path: Path | str, schema: Any, columns: dict[str, str], required: set[str]) -> None:
    """Each of ``columns`` (name: kind) that ``schema`` has holds its kind; every ``required`` one is there."""
    names = set(schema.names)
    for name in sorted(required - names):
        raise UserError(f"{path}: column '{name}' is missing")
    for name, kind in columns.items():
        if name in names and not holds(schema.field(name).type, kind):
            found = _described(schema.field(name).type)
            raise UserError(f"{path}: column '{name}' holds {found}, not {kind}")


def _value(x: Any) -> str:
    return f"{x:g}" if isinstance(x, float | np.floating) else str(x)


def _first(bad: np.ndarray) -> int:
    return int(np.flatnonzero(bad.ravel())[0])


def check_days(
    path: Path | str, column: str, days: np.ndarray, happened: np.ndarray, horizon: float, of: str, none: str
) -> None:
    """Days of events that happened lie in [0, horizon]; rows where nothing happened have none
    (``of`` and ``none`` say which: "of agreement", "for an item not agreed")."""
    inside = np.isfinite(days) & (days >= 0) & (days <= horizon)
    bad = (happened & ~inside) | (~happened & ~np.isnan(days))
    if bad.any():
        row = _first(bad)
        value = days.ravel()[row]
        if happened.ravel()[row]:
            why = f"the day {of} must lie between 0 and the horizon, {horizon:g}"
        else:
            why = f"a day {none}"
        raise UserError(f"{path}: column '{column}', row {row}: {_value(value)}: {why}")


def check_rounds(path: Path | str, rounds: np.ndarray, agreed: np.ndarray) -> None:
    """The round of an agreement is 0 (before the start) or more; no round where nothing was agreed."""
    bad = (agreed & (rounds < 0)) | (~agreed & (rounds != -1))
    if bad.any():
        row = _first(bad)
        why = "a round must be 0 or more" if agreed.ravel()[row] else "a round where nothing was agreed"
        raise UserError(f"{path}: column 'round', row {row}: {rounds.ravel()[row]}: {why}")


def check_counts(path: Path | str, column: str, values: np.ndarray) -> None:
    """Counts are never negative."""
    if values.size and (values < 0).any():
        row = _first(values < 0)
        raise UserError(f"{path}: column '{column}', row {row}: {values.ravel()[row]}: a count cannot be negative")


def check_finite(path: Path | str, column: str, values: np.ndarray, missing: bool = False) -> None:
    """Numbers are finite (``missing``: or NaN, for a value that may be absent)."""
    bad = ~np.isfinite(values) & ~(np.isnan(values) if missing else False)
    if bad.any():
        row = _first(bad)
        raise UserError(f"{path}: column '{column}', row {row}: {_value(values.ravel()[row])}: must be a finite number")


def check_replications(path: Path | str, ids: np.ndarray) -> None:
    """Replication numbers are 0 or more and strictly increasing: each replication once, in order."""
    bad = ids < 0
    if ids.size > 1:
        bad[1:] |= np.diff(ids) <= 0
    if bad.any():
        row = _first(bad)
        why = "cannot be negative" if ids[row] < 0 else "each replication once, in increasing order"
        raise UserError(f"{path}: column 'replication', row {row}: {ids[row]}: {why}")


def check_long(
    path: Path | str, column: str, table: Any, names: tuple[str, ...], ids: np.ndarray, by: str = "replication"
) -> None:
    """A long table (items.parquet, constraints.parquet, a sweep's points) lists every name, in the
    scenario's order, for each of ``ids`` in turn (column ``by``): so that each value is read as what it is.

    ``table`` is a table or its record batches in order (a file read batch by batch: checking a million
    replications then takes a batch's memory, not the whole column's)."""
    k, n = len(names), ids.size
    at = 0
    for batch in table.to_batches() if hasattr(table, "to_batches") else table:
        rows = batch.num_rows
        if not rows:
            continue
        where = at + np.arange(rows)
        codes = _codes(batch.column(column), names)
        expected = where % k if k else np.full(rows, -2)
        if at + rows > n * k or (codes != expected).any():
            row = at + _first(codes != expected) if (codes != expected).any() else n * k
            _other(path, column, row, names, by)
        got, want = numpy_of(batch.column(by)), ids[where // k]
        if not np.array_equal(got, want):
            row = at + _first(got != want)
            raise UserError(f"{path}: column '{by}', row {row}: the rows are not in {by} order, each {by} once")
        at += rows
    if at != n * k:
        _other(path, column, at, names, by)


def _codes(labels: Any, names: tuple[str, ...]) -> np.ndarray:
    """Each label's position in ``names`` (-1 for a label not there or missing)."""
    import pyarrow as pa

    labels = labels.combine_chunks() if hasattr(labels, "combine_chunks") else labels
    if pa.types.is_dictionary(labels.type):
        stored = labels.dictionary.to_pylist()
        lookup = np.array([names.index(x) if x in names else -1 for x in stored] or [-1], np.int64)
        codes = lookup[numpy_of(labels.indices, 0)]
        if labels.null_count:
            codes[numpy_of(labels.is_null())] = -1
        return codes
    where = {x: i for i, x in enumerate(names)}
    return np.array([where.get(x, -1) for x in labels.to_pylist()], np.int64)


def _other(path: Path | str, column: str, row: int, names: tuple[str, ...], by: str) -> NoReturn:
    raise UserError(
        f"{path}: column '{column}', row {row}: lists other {column}s than scenario.yaml "
        f"(which has {', '.join(names) or 'none'}, listed in turn for each {by})"
    )


# ---------------------------------------------------------------------- the manifest


def _text(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be text")
    return value


def _flag(value: Any) -> Any:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _iso_date(value: Any) -> Any:
    try:
        dt.date.fromisoformat(_text(value))
    except ValueError:
        raise ValueError("must be a date, YYYY-MM-DD") from None
    return value


Text = Annotated[str, BeforeValidator(_text)]


class _Condition(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    condition: Text
    met: Probability


class _Given(BaseModel):
    """The ``given`` section of a --given run's manifest: what the report and ``score`` read."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    as_of: Annotated[str, BeforeValidator(_iso_date)]
    as_of_day: NonNegative
    tried: Count
    kept: Count
    acceptance: Probability
    conditions: list[_Condition] = Field(default_factory=list)
    observed_file: Text = ""


class _Manifest(BaseModel):
    """A run folder's manifest.json, as far as negsim reads it back."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    kind: Text | None = None
    given: _Given | None = None


def run_manifest(path: Path, s: Scenario) -> dict[str, Any]:
    """A run folder's manifest.json (empty if there is none), its fields checked: a ``given`` section
    whose ``as_of_day`` is a day of the run before its horizon, and its date."""
    if not path.is_file():
        return {}
    doc = load_document(path)
    if not isinstance(doc.data, dict):
        raise UserError(f"{path}: not a manifest (a mapping of fields)")
    try:
        made = _Manifest.model_validate(doc.data)
    except ValidationError as exc:
        raise UserError(str(next(iter(shape_problems(doc, exc, _Manifest))))) from None
    given, horizon = made.given, s.horizon
    if given is not None:
        line = doc.line(("given", "as_of_day"))
        where = f"{path}:{line}" if line else str(path)
        if not given.as_of_day < horizon or not math.isfinite(given.as_of_day):
            raise UserError(
                f"{where}: given.as_of_day: {given.as_of_day:g} is not a day before the horizon ({horizon:g})"
            )
        if s.date(given.as_of_day).isoformat() != given.as_of:
            raise UserError(f"{where}: given.as_of_day: {given.as_of_day:g} is not the day of as_of {given.as_of}")
    return dict(doc.data)


# ---------------------------------------------------------------------- sweep folders


POINT_RECORDS = {"replication": WHOLE, "item": NAMES, "agreed": BOOL, "day": NUMBER, "round": WHOLE, "how": NAMES}
"""The columns of a sweep point's records (a part file, or its rows of items.parquet)."""
POINT_REQUIRED = {"replication", "item", "agreed", "day"}


def check_point_records(
    path: Path | str, table: Any, names: tuple[str, ...], replications: int, horizon: float
) -> None:
    """The records of one sweep point: every item, in order, for replications 0..n-1, agreed on a
    day of the run or not at all."""
    check_schema(path, table.schema, POINT_RECORDS, POINT_REQUIRED)
    k = len(names)
    if table.num_rows != replications * k:
        raise UserError(
            f"{path}: {plural(table.num_rows, 'row')}, not {plural(replications, 'replication')} x "
            f"{plural(k, 'item')} = {replications * k:,}"
        )
    check_long(path, "item", table, names, np.arange(replications))
    agreed = table.column("agreed").fill_null(False).to_numpy(zero_copy_only=False).astype(bool)
    day = table.column("day").fill_null(float("nan")).to_numpy(zero_copy_only=False).astype(float)
    check_days(path, "day", day, agreed, horizon, "of agreement", "for an item not agreed")


def check_sweep_records(
    path: Path | str, batches: Any, names: tuple[str, ...], replications: int, ran: set[int], horizon: float
) -> None:
    """A finished sweep's items.parquet, read batch by batch (``batches``, every column; its schema is
    checked by the caller): the records of exactly the points that ran (``ran``), in point order, each
    as :func:`check_point_records` says."""
    k, size = len(names), replications * len(names)
    found = set()
    for p, part in points_of(path, batches):
        if p not in ran:
            raise UserError(f"{path}: column 'point': records of point {p}, which did not run (see points.csv)")
        if part.num_rows != size:
            raise UserError(
                f"{path}: point {p} has {plural(part.num_rows, 'row')}, not {plural(replications, 'replication')} x "
                f"{plural(k, 'item')} = {size:,}"
            )
        check_point_records(f"{path}: point {p}", part, names, replications, horizon)
        found.add(p)
    for p in sorted(ran - found):
        raise UserError(f"{path}: no records of point {p}, which ran (points.csv says so)")


def points_of(path: Path | str, batches: Any) -> Any:
    """(point, its rows without the point column) for each point of a sweep's items.parquet read
    batch by batch, in order: a point's rows at a time in memory. Points out of order are refused."""
    import pyarrow as pa

    rows, last, at = [], None, 0
    for batch in batches:
        column = batch.column("point")
        if column.null_count:
            row = at + _first(numpy_of(column.is_null()))
            raise UserError(f"{path}: column 'point', row {row}: missing (every row names its point)")
        point = numpy_of(column)
        if point.size and ((last is not None and point[0] < last) or (np.diff(point) < 0).any()):
            down = np.flatnonzero(np.diff(np.r_[point[0] if last is None else last, point]) < 0)[0]
            raise UserError(f"{path}: column 'point', row {at + int(down)}: the points are out of order")
        body = batch.drop_columns(["point"])
        edges = np.flatnonzero(np.diff(point)) + 1
        for a, z in zip(np.r_[0, edges], np.r_[edges, point.size], strict=True):
            if a == z:
                continue
            p = int(point[a])
            if last is not None and p != last and rows:
                yield last, pa.Table.from_batches(rows)
                rows = []
            rows.append(body.slice(int(a), int(z - a)))
            last = p
        at += point.size
    if rows:
        yield last, pa.Table.from_batches(rows)


POINT_ROWS = {
    "point": WHOLE,
    "item": NAMES,
    "p_agreed": NUMBER,
    "ci_low": NUMBER,
    "ci_high": NUMBER,
    "median_day": NUMBER,
    "status": NAMES,
}


def check_points(
    path: Path | str, table: Any, names: tuple[str, ...], points: list[dict[str, float]], paths: list[str]
) -> set[int]:
    """A finished sweep's points.parquet: a row per point (in sweep.yaml's order) and item, with the
    values it sets of the swept ``paths`` (empty where it leaves one as written); P(agreed by horizon)
    and its interval in [0, 1] where the point ran. Returns the points that ran."""
    check_schema(path, table.schema, {**POINT_ROWS, **dict.fromkeys(paths, NUMBER)}, {*POINT_ROWS, *paths})
    k = len(names)
    index = np.array([pt["point"] for pt in points], np.int64)
    if table.num_rows != index.size * k:
        raise UserError(
            f"{path}: {plural(table.num_rows, 'row')}, not {plural(index.size, 'point')} x {plural(k, 'item')} "
            f"= {index.size * k:,}"
        )
    check_long(path, "item", table, names, index, by="point")
    for key in paths:
        got = table.column(key).fill_null(float("nan")).to_numpy(zero_copy_only=False).astype(float)
        want = np.repeat([pt.get(key, math.nan) for pt in points], k)
        if not np.array_equal(got, want, equal_nan=True):
            row = _first(got != want)
            raise UserError(f"{path}: column '{key}', row {row}: {_value(got[row])}: not the value sweep.yaml gives it")
    status = table.column("status").to_pylist()
    ok = np.array([x == "ok" for x in status], bool)
    for col in ("p_agreed", "ci_low", "ci_high"):
        p = table.column(col).fill_null(float("nan")).to_numpy(zero_copy_only=False).astype(float)
        bad = (ok & ~((p >= 0) & (p <= 1))) | (~ok & ~np.isnan(p))
        if bad.any():
            row = _first(bad)
            why = "a probability lies between 0 and 1" if ok[row] else "a point that did not run has none"
            raise UserError(f"{path}: column '{col}', row {row}: {_value(p[row])}: {why}")
    ran = ok.reshape(-1, k) if k else np.zeros((index.size, 0), bool)
    every: np.ndarray = np.all(ran, axis=1)
    mixed: np.ndarray = np.any(ran, axis=1) & ~every
    if mixed.any():
        raise UserError(f"{path}: column 'status': point {index[_first(mixed)]} ran for some items and not others")
    return {int(p) for p, r in zip(index.tolist(), every.tolist(), strict=True) if r and k}


class _SweepManifest(BaseModel):
    """A sweep folder's manifest.json, as far as negsim reads it back."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    kind: Text | None = None
    complete: Annotated[bool, BeforeValidator(_flag)] = False
    failed_points: Count = 0


def sweep_manifest(path: Path) -> dict[str, Any]:
    """A sweep folder's manifest.json (empty if there is none, as while it runs), its fields checked."""
    if not path.is_file():
        return {}
    doc = load_document(path)
    if not isinstance(doc.data, dict):
        raise UserError(f"{path}: not a manifest (a mapping of fields)")
    try:
        _SweepManifest.model_validate(doc.data)
    except ValidationError as exc:
        raise UserError(str(next(iter(shape_problems(doc, exc, _SweepManifest))))) from None
    return dict(doc.data)
