"""The run folder: written whole or not at all, and read back.

A folder holds ``scenario.yaml`` (as run, defaults filled in), ``manifest.json`` (how it was
made), ``items.parquet``, ``constraints.parquet``, ``replications.parquet`` (long, columnar),
``summary.json`` and ``summary.csv``; the command layer adds ``plots/`` and ``report.html``. It is
written under a temporary name beside its destination and renamed into place, so a crash leaves
either nothing or a complete folder.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import platform
import sys
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.engine.plan import compile_plan, judgement_paths
from sim.engine.records import HOW, HOW_BEFORE, HOW_ROUND, Records
from sim.errors import UserError
from sim.results.atomic import staged_folder, write_text
from sim.results.checks import (
    NAMES,
    NUMBER,
    WHOLE,
    check_counts,
    check_days,
    check_finite,
    check_long,
    check_replications,
    check_rounds,
    check_schema,
    kind_of,
    run_manifest,
)
from sim.results.files import (
    give_back,
    json_text,
    numpy_of,
    read_batches,
    read_column,
    read_parquet,
    sha256_file,
    stamped_folder,
    versions,
)
from sim.results.summary import summarize, summary_csv
from sim.scenario.documents import to_plain
from sim.scenario.load import load_scenario
from sim.scenario.models import Scenario, agrees_outside_rounds, can_pause

FORMAT = 1
"""Version of the result folder layout."""


def scenario_yaml(s: Scenario) -> str:
    """The scenario as run, every default filled in; it loads back to an equal scenario."""
    data = to_plain(s.model_dump(by_alias=True, exclude_none=True))
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


@dataclass
class RunResults:
    """A finished run: the scenario, the records, and the manifest (the notebook API's
    :class:`sim.api.Results` adds figures and an HTML view)."""

    scenario: Scenario
    records: Records
    manifest: dict[str, Any] = field(default_factory=dict)
    folder: Path | None = None
    _summary: dict[str, Any] | None = None

    @property
    def summary_data(self) -> dict[str, Any]:
        """Everything ``summary.json`` holds, as plain data."""
        if self._summary is None:
            given = self.manifest.get("given") if isinstance(self.manifest, dict) else None
            origin = given.get("as_of_day", 0.0) if isinstance(given, dict) else 0.0
            self._summary = summarize(
                self.scenario, self.records, float(origin) if isinstance(origin, int | float) else 0.0
            )
        return self._summary

    # -- pandas views, for notebooks (pandas is imported on first use)

    @property
    def summary(self) -> Any:
        """One row per item: P(agreed by horizon), its interval, median date, P by each milestone."""
        import pandas as pd

        return pd.read_csv(io.StringIO(summary_csv(self.summary_data)))

    @property
    def items(self) -> Any:
        """replication, item, agreed, day, round: one row per replication and item."""
        return items_table(self.scenario, self.records).to_pandas()

    @property
    def constraints(self) -> Any:
        return constraints_table(self.scenario, self.records).to_pandas()

    @property
    def replications(self) -> Any:
        return replications_table(self.scenario, self.records).to_pandas()


# ------------------------------------------------------------------ parquet


_ARROW = {np.dtype(np.int32): "int32", np.dtype(np.int64): "int64", np.dtype(np.uint64): "uint64"}


def column(values: np.ndarray, mask: np.ndarray | None = None) -> Any:
    """A numpy column as an Arrow array, with ``mask`` marking nulls: built from the numpy buffers
    directly, because ``pyarrow.array`` of a numpy array imports pandas (a fifth of a second)."""
    import pyarrow as pa

    values = np.ascontiguousarray(values)
    n = values.size
    validity = None if mask is None else pa.py_buffer(np.packbits(~mask, bitorder="little"))
    nulls = 0 if mask is None else int(mask.sum())
    if values.dtype == np.bool_:
        kind, data = pa.bool_(), pa.py_buffer(np.packbits(values, bitorder="little"))
    elif values.dtype == np.float64:
        kind, data = pa.float64(), pa.py_buffer(values)
    else:
        kind, data = getattr(pa, _ARROW[values.dtype])(), pa.py_buffer(values)
    return pa.Array.from_buffers(kind, n, [validity, data], null_count=nulls)


def strings(texts: list[str]) -> Any:
    """Text as an Arrow string array, from its buffers (as :func:`column`, without pandas)."""
    import pyarrow as pa

    data = [t.encode("utf-8") for t in texts]
    offsets = np.concatenate([[0], np.cumsum([len(d) for d in data])]).astype(np.int32)
    return pa.Array.from_buffers(pa.string(), len(data), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))])


def table_of(columns: dict[str, list[Any]]) -> Any:
    """An Arrow table from lists of plain values (whole numbers, numbers, text), typed as pyarrow
    would type them, without importing pandas."""
    import pyarrow as pa

    arrays = {}
    for name, values in columns.items():
        if values and all(isinstance(v, str) for v in values):
            arrays[name] = strings(values)
        elif all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            arrays[name] = column(np.array(values, dtype=np.int64))
        else:
            arrays[name] = column(np.array(values, dtype=np.float64))
    return pa.table(arrays)


def _long(names: tuple[str, ...], reps: np.ndarray) -> tuple[Any, Any]:
    """Replication and name columns of a long table: every name for every replication."""
    import pyarrow as pa

    k = len(names)
    codes = column(np.tile(np.arange(k, dtype=np.int32), reps.size))
    return column(np.repeat(reps, k)), pa.DictionaryArray.from_arrays(codes, strings(list(names)))


def items_table(s: Scenario, rec: Records) -> Any:
    """replication, item, agreed, day, round: one row per replication and item; and ``how`` (in a
    round, enacted, outside the rounds, before the start) where the scenario can agree items other
    than in rounds."""
    import pyarrow as pa

    reps = rec.replication
    rep_col, item_col = _long(tuple(s.items), reps)
    agreed = rec.item_agreed.ravel()
    cols = {
        "replication": rep_col,
        "item": item_col,
        "agreed": column(agreed),
        "day": column(rec.item_day.ravel(), ~agreed),
        "round": column(rec.item_round.ravel(), ~agreed),
    }
    if agrees_outside_rounds(s):
        codes = column(rec.item_how.ravel().astype(np.int32), ~agreed)
        cols["how"] = pa.DictionaryArray.from_arrays(codes, strings(list(HOW)))
    return pa.table(cols)


def constraints_table(s: Scenario, rec: Records) -> Any:
    """replication, constraint, lifted, day (of the first lift), lifts, active_at_horizon."""
    import pyarrow as pa

    reps = rec.replication
    rep_c, con_col = _long(tuple(s.constraints), reps)
    lifted = rec.constraint_lifted.ravel()
    return pa.table(
        {
            "replication": rep_c,
            "constraint": con_col,
            "lifted": column(lifted),
            "day": column(rec.constraint_day.ravel(), ~lifted),
            "lifts": column(rec.constraint_lifts.ravel()),
            "active_at_horizon": column(rec.constraint_active.ravel()),
            "in_force": column(rec.constraint_in_force.ravel()),
        }
    )


def replications_table(s: Scenario, rec: Records) -> Any:
    """One row per replication: rounds, breakdown, trust, a count per event kind."""
    import pyarrow as pa

    cols: dict[str, Any] = {
        "replication": column(rec.replication),
        "rounds_held": column(rec.rounds_held),
        "rounds_cancelled": column(rec.rounds_cancelled),
        "rounds_suspended": column(rec.rounds_suspended),
        "breakdown": column(rec.breakdown),
        "breakdown_day": column(rec.breakdown_day, ~rec.breakdown),
        "trust": column(rec.trust),
        "next_round_day": column(rec.next_round_day, np.isnan(rec.next_round_day)),
    }
    for e, name in enumerate(s.events):
        cols[f"events.{name}"] = column(rec.event_count[:, e])
    if s.regime is not None:
        names = strings(list(compile_plan(s).regime.names))  # type: ignore[union-attr]
        cols["regime_start"] = pa.DictionaryArray.from_arrays(column(rec.regime_start.astype(np.int32)), names)
        cols["regime"] = pa.DictionaryArray.from_arrays(column(rec.regime.astype(np.int32)), names)
        cols["regime_switches"] = column(rec.regime_switches)
    if can_pause(s):
        cols["rounds_paused"] = column(rec.rounds_paused)
        cols["pauses"] = column(rec.pauses)
        cols["paused_at_horizon"] = column(rec.paused)
        cols["paused_record"] = column(rec.paused_record)
    return pa.table(cols)


def parameters_table(s: Scenario, rec: Records) -> Any:
    """One row per replication: the draw of each uncertain judgement, a column per path."""
    import pyarrow as pa

    cols: dict[str, Any] = {"replication": column(rec.replication)}
    for j, path in enumerate(judgement_paths(s)):
        cols[path] = column(rec.parameters[:, j])
    return pa.table(cols)


TABLES = {"items": items_table, "constraints": constraints_table, "replications": replications_table}
"""The three Parquet files of every result folder, and how each is built from records; a scenario
with uncertain judgements adds ``parameters.parquet`` (:func:`parameters_table`)."""


def tables_of(s: Scenario) -> dict[str, Any]:
    """The Parquet files of a run of ``s``."""
    return {**TABLES, "parameters": parameters_table} if judgement_paths(s) else dict(TABLES)


GROUP = 50_000
"""Replications per Parquet row group. Fixed, so that the files are the same bytes however the
replications were batched (jobs, executors, --precision)."""


class ParquetSink:
    """Writes records to items/constraints/replications.parquet as they arrive, in row groups of
    ``GROUP`` replications, so a run of millions never holds its Arrow tables in memory at once."""

    def __init__(self, s: Scenario, folder: Path) -> None:
        self.scenario = s
        self.folder = folder
        self.pending: list[Records] = []
        self.count = 0
        self.writers: dict[str, Any] = {}

    def write(self, rec: Records) -> None:
        """Take the next replications (in replication order); write every full row group."""
        self.pending.append(rec)
        self.count += rec.n
        while self.count >= GROUP:
            joined = Records.concat(self.pending)
            self._group(joined.take(GROUP))
            rest = joined.drop(GROUP)
            self.pending, self.count = ([rest] if rest.n else []), rest.n

    def close(self) -> None:
        if self.count or not self.writers:
            self._group(Records.concat(self.pending) if self.pending else None)
        for writer in self.writers.values():
            writer.close()

    def _group(self, rec: Records | None) -> None:
        import pyarrow.parquet as pq

        if rec is None:
            k, m, e = len(self.scenario.items), len(self.scenario.constraints), len(self.scenario.events)
            rec = Records.empty(0, k, m, e, n_parameters=len(judgement_paths(self.scenario)))
        for name, make in tables_of(self.scenario).items():
            table = make(self.scenario, rec)
            if name not in self.writers:
                self.writers[name] = pq.ParquetWriter(self.folder / f"{name}.parquet", table.schema, compression="zstd")
            self.writers[name].write_table(table)


def write_parquet(s: Scenario, rec: Records, folder: Path) -> None:
    """The three Parquet files of a folder, from records in memory."""
    sink = ParquetSink(s, folder)
    sink.write(rec)
    sink.close()


FIELDS: dict[str, tuple[str, str, Any, Any, str]] = {
    # field: (file, column, fill for nulls, dtype, shape: "item" | "constraint" | "replication")
    "item_agreed": ("items", "agreed", None, bool, "item"),
    "item_day": ("items", "day", float("nan"), float, "item"),
    "item_round": ("items", "round", -1, np.int32, "item"),
    "constraint_lifted": ("constraints", "lifted", None, bool, "constraint"),
    "constraint_day": ("constraints", "day", float("nan"), float, "constraint"),
    "constraint_lifts": ("constraints", "lifts", None, np.int32, "constraint"),
    "constraint_active": ("constraints", "active_at_horizon", None, bool, "constraint"),
    "constraint_in_force": ("constraints", "in_force", None, np.uint64, "constraint"),
    "rounds_held": ("replications", "rounds_held", None, np.int32, "replication"),
    "rounds_cancelled": ("replications", "rounds_cancelled", None, np.int32, "replication"),
    "rounds_suspended": ("replications", "rounds_suspended", None, np.int32, "replication"),
    "breakdown": ("replications", "breakdown", None, bool, "replication"),
    "breakdown_day": ("replications", "breakdown_day", float("nan"), float, "replication"),
    "trust": ("replications", "trust", None, float, "replication"),
    "replication": ("replications", "replication", None, np.int64, "replication"),
    "rounds_paused": ("replications", "rounds_paused", None, np.int32, "replication"),
    "pauses": ("replications", "pauses", None, np.int32, "replication"),
    "paused": ("replications", "paused_at_horizon", None, bool, "replication"),
    "paused_record": ("replications", "paused_record", None, np.uint64, "replication"),
    "next_round_day": ("replications", "next_round_day", float("nan"), float, "replication"),
    "regime_switches": ("replications", "regime_switches", None, np.int32, "replication"),
}
UNWRITTEN = (
    "held_by_census",
    "cancelled_by_census",
    "paused_at_census",
    "pauses_by_census",
    "constraint_active_at_census",
    "constraint_imposed_by_census",
    "regime_at_census",
)
"""Fields a run folder does not keep (read back as zeros): the counts ``--given`` conditions on."""
"""Where each field of the records is kept in a run folder."""


REQUIRED = {
    "items": {"replication", "item", "agreed", "day", "round"},
    "constraints": {"replication", "constraint", "lifted", "day", "lifts", "active_at_horizon"},
    "replications": {"replication", "rounds_held", "rounds_cancelled", "breakdown", "breakdown_day", "trust"},
}
"""Columns every run folder has; the others of FIELDS came later, and older folders read as empty."""
NAMED = {"items": ("item", "how"), "constraints": ("constraint",), "replications": ("regime", "regime_start")}
"""Columns of names (text, or a dictionary of text)."""
DAYS = {
    "item_day": ("item_agreed", "of agreement", "for an item not agreed"),
    "constraint_day": ("constraint_lifted", "of the first lift", "for a constraint not lifted"),
    "breakdown_day": ("breakdown", "of the breakdown", "without a breakdown"),
}
"""Day columns, each with the field that says whether it happened."""


KEEP_BYTES = 72 << 20
"""The most a folder's records keep of the columns they have read (a million replications of the
bundled scenario have 234 MiB of them): the least recently used are dropped before another is read,
and read again if wanted. Enough for what any one summary section or figure uses at once (at a
million replications of the bundled scenario, 65 MiB: an item's day, round and how, or the judgements'
draws and the items agreed)."""


class FolderRecords:
    """The records of a run folder, each field read from its Parquet column when first used: a
    figure of a million replications reads the columns it draws, not the whole folder, and at most
    :data:`KEEP_BYTES` of what was read stays in memory.

    The folder is untrusted input (:mod:`sim.results.checks`): the column types and the order of
    the long tables are checked when it is opened, each column's values when it is read.
    """

    def __init__(self, s: Scenario, folder: Path) -> None:
        import pyarrow.parquet as pq

        self._scenario, self._folder = s, folder
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        rows = {}
        self._names: dict[str, list[str]] = {}
        for name in tables_of(s):
            path = folder / f"{name}.parquet"
            if name == "parameters" and not path.is_file():
                raise UserError(
                    f"{path}: missing (the scenario has uncertain judgements, and their draws are kept here)"
                )
            try:
                meta = pq.ParquetFile(path)
                rows[name], schema = meta.metadata.num_rows, meta.schema_arrow
            except Exception as exc:  # pyarrow raises many kinds on a damaged file
                raise UserError(f"{path}: not a readable Parquet file ({type(exc).__name__})") from None
            self._names[name] = list(schema.names)
            check_schema(path, schema, self._kinds(name), self._required(name))
        n, k, m = rows["replications"], len(s.items), len(s.constraints)
        want = {"items": (n * k, f"{k} items"), "constraints": (n * m, f"{m} constraints"), "parameters": (n, "")}
        for name, (size, each) in want.items():
            if name in rows and rows[name] != size:
                per = f", a row for each of the scenario's {each} in each" if each else ", one for each"
                raise UserError(
                    f"{folder / (name + '.parquet')}: {rows[name]:,} rows, where the {n:,} replications of "
                    f"replications.parquet need {size:,}{per} (rows missing, repeated or from another run)"
                )
        self.n = n
        ids = self.replication
        for name, column, names in (("items", "item", s.items), ("constraints", "constraint", s.constraints)):
            path = folder / f"{name}.parquet"
            check_long(path, column, read_batches(path, ["replication", column]), tuple(names), ids)
        self.start = int(ids[0]) if n else 0

    def _kinds(self, file: str) -> dict[str, str]:
        """The kind of each column negsim writes in ``file``."""
        kinds = {"replication": WHOLE, **{col: NAMES for col in NAMED.get(file, ())}}
        kinds.update({col: kind_of(dtype) for f, col, _, dtype, _ in FIELDS.values() if f == file})
        if file == "replications":
            kinds.update({f"events.{e}": WHOLE for e in self._scenario.events})
        if file == "parameters":
            kinds.update({path: NUMBER for path in judgement_paths(self._scenario)})
        return kinds

    def _required(self, file: str) -> set[str]:
        s = self._scenario
        if file == "parameters":
            return {"replication", *judgement_paths(s)}
        extra = {f"events.{e}" for e in s.events} if file == "replications" else set()
        return REQUIRED[file] | extra

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or (
            name not in FIELDS
            and name not in ("event_count", "parameters", "item_how", "regime", "regime_start", *UNWRITTEN)
        ):
            raise AttributeError(name)
        cache = self._cache
        if name in cache:
            cache.move_to_end(name)
            return cache[name]
        kept, size = sum(v.nbytes for v in cache.values()), self._nbytes(name)
        if cache and kept + size > KEEP_BYTES:  # the column read and the ones kept are never above it
            while cache and kept + size > KEEP_BYTES:
                kept -= cache.popitem(last=False)[1].nbytes
            give_back()
        values = cache[name] = self._read(name)
        return values

    def _nbytes(self, name: str) -> int:
        """The size of a field's array, before it is read."""
        s, n = self._scenario, self.__dict__.get("n", 0)
        if name in FIELDS:
            _, _, _, dtype, shape = FIELDS[name]
            width = {"item": len(s.items), "constraint": len(s.constraints), "replication": 1}[shape]
            return n * width * np.dtype(dtype).itemsize
        if name == "parameters":
            return n * len(judgement_paths(s)) * 8
        if name == "event_count":
            return n * len(s.events) * 4
        return n * (len(s.items) if name == "item_how" else 1)  # the rest: a byte or so each

    def forget(self) -> None:
        """Drop every column read so far, and give back what pyarrow holds: a process forked to draw
        then reads only what its figure draws, instead of inheriting all of it."""
        self._cache.clear()
        give_back()

    def _read(self, name: str) -> np.ndarray:
        n, s = self.n, self._scenario
        if name in UNWRITTEN:
            if name.startswith("constraint_"):
                return np.zeros(
                    (n, len(s.constraints)), bool if name.endswith("census") and "active" in name else np.int32
                )
            kind = {"paused_at_census": bool, "regime_at_census": np.int8}.get(name, np.int32)
            return np.zeros(n, kind)
        if name == "item_how":
            return self._how()
        if name in ("regime", "regime_start"):
            return self._regime(name)
        if name == "parameters":
            paths = judgement_paths(s)
            if not paths:
                return np.zeros((n, 0))
            path = self._folder / "parameters.parquet"
            values = np.empty((n, len(paths)), order="F")  # a judgement's draws side by side in memory
            for j, c in enumerate(paths):
                values[:, j] = read_column(path, c, None, float)
                check_finite(path, c, values[:, j])
            return values
        if name == "event_count":
            names = [f"events.{e}" for e in s.events]
            if not names:
                return np.zeros((n, 0), np.int32)
            path = self._folder / "replications.parquet"
            columns = [read_column(path, c, None, np.int32) for c in names]
            for c, values in zip(names, columns, strict=True):
                check_counts(path, c, values)
            return np.stack(columns, axis=1)
        file, col, fill, dtype, shape = FIELDS[name]
        path = self._folder / f"{file}.parquet"
        width = {"item": len(s.items), "constraint": len(s.constraints), "replication": 0}[shape]
        if col not in self._names[file]:  # folders from before it existed
            return np.full((n, width) if width or shape != "replication" else n, 0 if fill is None else fill, dtype)
        values = read_column(path, col, fill, dtype)
        values = values.reshape(n, width) if shape != "replication" else values
        self._check(name, path, col, values)
        return values

    def _check(self, name: str, path: Path, col: str, values: np.ndarray) -> None:
        """The values of a field are in its range (:mod:`sim.results.checks`)."""
        if name in DAYS:
            happened, of, none = DAYS[name]
            check_days(path, col, values, getattr(self, happened), self._scenario.horizon, of, none)
        elif name == "item_round":
            check_rounds(path, values, self.item_agreed)
        elif name == "replication":
            check_replications(path, values)
        elif name in ("trust", "next_round_day"):
            check_finite(path, col, values, missing=name == "next_round_day")
        elif values.dtype.kind == "i":
            check_counts(path, col, values)

    def _how(self) -> np.ndarray:
        """How each item was agreed: its column where the folder has one, else implied by ``round``
        (a scenario that can agree items only in rounds: 0 is before the start)."""
        s = self._scenario
        if "how" in self._names["items"]:
            codes = read_parquet(self._folder / "items.parquet", ["how"]).column("how").combine_chunks()
            if not hasattr(codes, "dictionary"):
                raise UserError(f"{self._folder / 'items.parquet'}: column 'how' holds values negsim does not write")
            names = codes.dictionary.to_pylist() if self.n else list(HOW)
            if any(name not in HOW for name in names):
                raise UserError(f"{self._folder / 'items.parquet'}: column 'how' holds values negsim does not write")
            lookup = np.array([HOW.index(name) for name in names] or [0], np.int8)
            how = lookup[numpy_of(codes.indices, 0)]
            if codes.null_count:
                how[numpy_of(codes.is_null())] = 0  # none: not agreed, whatever the dictionary's first name
            how = how.reshape(self.n, len(s.items)).astype(np.int8)
            bad = (how != 0) != self.item_agreed
            if bad.any():
                row = int(np.flatnonzero(bad.ravel())[0])
                said = (
                    "missing: an agreed item says how it was agreed"
                    if self.item_agreed.ravel()[row]
                    else f"{HOW[how.ravel()[row]]}: an item not agreed was agreed no way"
                )
                raise UserError(f"{self._folder / 'items.parquet'}: column 'how', row {row}: {said}")
            return how
        r = self.item_round
        return np.where(r == 0, HOW_BEFORE, np.where(r > 0, HOW_ROUND, 0)).astype(np.int8)

    def _regime(self, col: str) -> np.ndarray:
        s = self._scenario
        if s.regime is None or col not in self._names["replications"]:
            return np.zeros(self.n, np.int8)
        path = self._folder / "replications.parquet"
        codes = read_parquet(path, [col]).column(col).combine_chunks()
        if not hasattr(codes, "dictionary") or codes.null_count:
            raise UserError(f"{path}: column '{col}' holds values negsim does not write")
        names = list(compile_plan(s).regime.names)  # type: ignore[union-attr]
        stored = codes.dictionary.to_pylist() if self.n else names
        if any(name not in names for name in stored):
            raise UserError(f"{path}: column '{col}' names states the scenario lacks")
        lookup = np.array([names.index(name) for name in stored] or [0], np.int8)
        return lookup[numpy_of(codes.indices)].astype(np.int8)

    def check(self) -> None:
        """Read every column once and check its values, keeping none of them: a damaged folder is
        refused when it is opened, by every command, whichever columns the command then reads."""
        for name in (*FIELDS, "event_count", "parameters", "item_how", "regime", "regime_start"):
            if name not in self._cache:
                self._read(name)
        give_back()

    def materialize(self) -> Records:
        """Every field, as :class:`Records`."""
        return Records(
            start=self.start, **{f.name: getattr(self, f.name) for f in fields(Records) if f.name != "start"}
        )

    def equals(self, other: Records) -> bool:
        return self.materialize().equals(other)


def read_records(s: Scenario, folder: Path) -> Records:
    """Every record of a run folder."""
    return FolderRecords(s, folder).materialize()


# ------------------------------------------------------------------ the folder


def default_folder(s: Scenario, root: str | os.PathLike[str] = "results") -> Path:
    """``results/<name>/<run-id>``, the run id a UTC time stamp (made unique if needed)."""
    return stamped_folder(Path(root) / s.name)


def save(
    results: RunResults,
    target: Path,
    *,
    force: bool = False,
    before_rename: Callable[[Path], None] | None = None,
) -> Path:
    """Write the whole result folder at ``target`` (atomically), from records in memory."""
    with staged_folder(target, force, kind="run") as tmp:
        write_run(results, tmp)
        if before_rename:
            before_rename(tmp)
    return target


def write_run(results: RunResults, folder: Path, *, parquet: bool = True) -> None:
    """The data files of a run folder; ``parquet=False`` when a :class:`ParquetSink` wrote the records."""
    s = results.scenario
    write_text(folder / "scenario.yaml", scenario_yaml(s))
    if parquet:
        write_parquet(s, results.records, folder)
    write_text(folder / "summary.json", json_text(results.summary_data))
    write_text(folder / "summary.csv", summary_csv(results.summary_data))
    write_text(folder / "manifest.json", json_text(results.manifest))


def load(folder: str | os.PathLike[str]) -> RunResults:
    """Read a run folder, as untrusted input (:mod:`sim.results.checks`): every column is checked
    before anything is drawn or compared from it. Its summary is computed
    again from the records when it is wanted, never taken from summary.json, so that what is drawn
    and reported is what the records say."""
    path = Path(folder)
    if not path.is_dir():
        raise UserError(f"{path}: no such result folder")
    for name in ("scenario.yaml", "items.parquet", "constraints.parquet", "replications.parquet"):
        if not (path / name).is_file():
            raise UserError(f"{path}: not a result folder ({name} is missing)")
    s = load_scenario(path / "scenario.yaml")
    rec = FolderRecords(s, path)
    rec.check()
    return RunResults(s, rec, run_manifest(path / "manifest.json", s), path)  # type: ignore[arg-type]


def manifest(
    s: Scenario,
    *,
    scenario_file: str | None,
    replications: int,
    jobs: int,
    executor: str = "local",
    started: dt.datetime,
    wall_seconds: float,
    argv: list[str] | None = None,
    precision: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """How a run was made: enough to make it again."""
    return {
        "format": FORMAT,
        "kind": "run",
        "scenario": s.name,
        "scenario_file": scenario_file,
        "scenario_sha256": sha256_file(scenario_file) if scenario_file else None,
        **({"table": s.table} if s.table is not None else {}),
        "seed": s.simulation.seed,
        "replications": replications,
        "jobs": jobs,
        "executor": executor,
        "precision": precision,
        "command": list(sys.argv if argv is None else argv),
        "started": started.isoformat(timespec="seconds"),
        "wall_seconds": round(wall_seconds, 3),
        "random_streams": "Philox4x64-10 keyed by (seed, blake2b(stream name)), counter by replication",
        "versions": versions(),
        "platform": platform.platform(),
    }
