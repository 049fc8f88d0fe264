"""The reference-class table as data: rows of figures a scenario cites instead of copying numbers.

A table file (``scenarios/backtests/table.yaml``) has a name, a version and rows. Each row has a
kind (what it is the figure of), a figure (a number, or a distribution in the scenario format) or
several named figures, and the anchors it rests on, each with its date. Anywhere a number or a
distribution can stand in a scenario, ``{row: R2}`` (or ``{row: R8.cancel}`` for a named figure)
may stand instead; it is replaced by the row's figure when the scenario is read, and then checked
as if it had been written there, so a row can never put a value where the field does not take it.

Which table: ``--table FILE`` on the command line; else the scenario's own top-level ``table:``
(a path, relative to the scenario's folder); else, for a case of a backtest library
(``LIBRARY/<case>/scenario.yaml``), the library's ``LIBRARY/table.yaml``.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from sim.errors import Problem, did_you_mean
from sim.scenario.documents import Document, PathKey
from sim.scenario.judgements import Uncertain

ROW_PATTERN = r"^R[0-9]{1,3}[a-z]?$"
RowId = Annotated[str, StringConstraints(pattern=ROW_PATTERN)]
FIGURE_PATTERN = r"^[a-z][a-z0-9_]{0,40}$"


class Anchor(BaseModel):
    """What a row's figure rests on: a source and its date (a year, a month or a day)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Annotated[str, Field(min_length=1, max_length=500)]
    date: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$")]


class Row(BaseModel):
    """One row: what it is the figure of, its figure (or named figures), and its anchors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Annotated[str, Field(min_length=1, max_length=500)]
    figure: Any = None
    figures: dict[Annotated[str, StringConstraints(pattern=FIGURE_PATTERN)], Any] | None = None
    anchors: list[Anchor] = []
    note: str | None = None
    interval: dict[str, Any] | None = None
    """A calibrated row's 90% interval on its figure's mean (``negsim calibrate`` writes it)."""

    @model_validator(mode="after")
    def _one_figure_or_named(self) -> Row:
        if (self.figure is None) == (self.figures is None):
            raise ValueError("give 'figure' (one value) or 'figures' (named values), not both or neither")
        for value in [self.figure] if self.figures is None else self.figures.values():
            if isinstance(value, bool) or not isinstance(value, int | float | dict):
                raise ValueError("a figure is a number or a distribution ({dist: ..., ...})")
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"a figure must be a finite number, not {value}")
            if isinstance(value, dict):  # judged as a distribution is anywhere (its field's range when cited)
                Uncertain.model_validate(value)
        return self


class Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=120)]
    version: Annotated[int, Field(ge=1)]
    protocol: Annotated[int, Field(ge=1)] | None = None
    title: str | None = None
    description: str | None = None
    rows: Annotated[dict[RowId, Row], Field(min_length=1)]


@dataclass(frozen=True)
class LoadedTable:
    """A table and where it came from (for manifests)."""

    table: Table
    file: str
    sha256: str

    def provenance(self) -> dict[str, Any]:
        return {"file": self.file, "name": self.table.name, "version": self.table.version, "sha256": self.sha256}

    def figure(self, ref: str) -> Any:
        """The figure a reference names (``R2`` or ``R8.cancel``), as plain data; KeyError if none."""
        row_id, _, name = ref.partition(".")
        row = self.table.rows[row_id]
        if name:
            if row.figures is None or name not in row.figures:
                raise KeyError(ref)
            return copy.deepcopy(row.figures[name])
        if row.figure is None:
            raise KeyError(ref)
        return copy.deepcopy(row.figure)

    def references(self) -> list[str]:
        out = []
        for row_id, row in self.table.rows.items():
            out += [row_id] if row.figures is None else [f"{row_id}.{k}" for k in row.figures]
        return out


def citations(data: Any, path: PathKey = ()) -> list[tuple[PathKey, Any]]:
    """Every ``{row: ...}`` in a document, with its path."""
    out: list[tuple[PathKey, Any]] = []
    if isinstance(data, dict):
        if set(data) == {"row"}:
            return [(path, data["row"])]
        for key, value in data.items():
            out += citations(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out += citations(value, (*path, i))
    return out


def library_table(file: str) -> Path | None:
    """The table of the backtest library a case's scenario belongs to (``LIBRARY/table.yaml``)."""
    here = Path(file).resolve().parent
    for folder in (here, here.parent):
        candidate = folder / "table.yaml"
        if candidate.is_file() and candidate.resolve() != Path(file).resolve():
            return candidate
    return None


def substitute(doc: Document, loaded: LoadedTable) -> tuple[Document, list[Problem]]:
    """The document with every ``{row: R}`` replaced by the table's figure, and the unknown rows."""
    data = copy.deepcopy(doc.data)
    problems = []
    for path, ref in citations(data):
        try:
            value = loaded.figure(ref) if isinstance(ref, str) else None
        except KeyError:
            value = None
        if value is None:
            hint = did_you_mean(str(ref), loaded.references())
            problems.append(
                doc.problem(path, f"no row {ref!r} in {loaded.table.name} version {loaded.table.version}{hint}")
            )
            continue
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return Document(doc.file, data, doc.lines), problems


def markdown(loaded: LoadedTable) -> str:
    """The table as a Markdown table (the README's, generated so that the two cannot disagree)."""
    t = loaded.table
    out = [
        f"Table `{t.name}`, version {t.version}" + (f" (protocol {t.protocol})" if t.protocol else "") + ".",
        "",
        "| row | kind | figure | anchored on |",
        "|---|---|---|---|",
    ]
    for row_id, row in t.rows.items():
        if row.figures is None:
            shown = describe(row.figure)
        else:
            shown = "; ".join(f"{k}: {describe(v)}" for k, v in row.figures.items())
        anchors = "; ".join(f"{a.source} ({a.date})" for a in row.anchors)
        if row.note:
            anchors = f"{anchors}. {row.note}" if anchors else row.note
        out.append(f"| {row_id} | {row.kind} | {shown} | {anchors} |")
    return "\n".join(out) + "\n"


def describe(value: Any) -> str:
    """A figure in words: ``0.15``, ``beta(mean 0.25, concentration 6)``, ``lognormal(mu 4.1, sigma 1)``."""
    if isinstance(value, dict):
        kind = value.get("dist", "?")
        rest = ", ".join(
            f"{k} {v:g}" if isinstance(v, int | float) else f"{k} {v}" for k, v in value.items() if k != "dist"
        )
        return f"{kind}({rest})"
    return f"{value:g}" if isinstance(value, int | float) else str(value)
