"""Reading input files into validated models: scenarios, and the other files negsim reads."""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from sim.errors import Problem, ScenarioWarning, UserError
from sim.scenario.checks import check_document, scenario_warnings, shape_problems
from sim.scenario.documents import MAX_FILE_BYTES, Document, load_document
from sim.scenario.models import Scenario, with_table
from sim.scenario.table import LoadedTable, Table, citations, library_table, substitute

M = TypeVar("M", bound=BaseModel)


TableSource = LoadedTable | str | os.PathLike[str] | None
"""A table given on the command line: a file, one already read, or none (the scenario's own)."""


def load_scenario(
    path: str | os.PathLike[str], *, max_bytes: int = MAX_FILE_BYTES, table: TableSource = None
) -> Scenario:
    """Read and check a scenario file (its ``{row: R}`` citations resolved from ``table``, or the
    table it names, or its backtest library's); raise :class:`UserError` listing every problem, and
    warn (:class:`ScenarioWarning`) of what it says that can never happen."""
    doc, scenario, problems = check_file(path, max_bytes=max_bytes, table=table)
    if problems or scenario is None:
        raise UserError(f"{path}: invalid scenario", problems)
    for warning in scenario_warnings(doc, scenario):
        warnings.warn(ScenarioWarning(str(warning)), stacklevel=2)  # already "file:line: field: warning: ..."
    return scenario


def check_file(
    path: str | os.PathLike[str], *, max_bytes: int = MAX_FILE_BYTES, table: TableSource = None
) -> tuple[Document, Scenario | None, list[Problem]]:
    """A scenario file read, its rows resolved and checked: the document as checked, the scenario
    (None if invalid) and every problem."""
    raw = load_document(path, max_bytes=max_bytes)
    doc_data = {k: v for k, v in raw.data.items() if k != "table"} if isinstance(raw.data, dict) else raw.data
    doc, loaded, problems = resolve_rows(raw, table)
    if problems:
        return doc, None, problems
    scenario, problems = check_document(doc)
    if scenario is not None and loaded is not None:
        cited = {".".join(str(k) for k in path): str(ref) for path, ref in citations(doc_data)}
        scenario = with_table(scenario, loaded, cited)
    return doc, scenario, problems


def resolve_rows(doc: Document, table: TableSource = None) -> tuple[Document, LoadedTable | None, list[Problem]]:
    """The document with its ``{row: R}`` citations replaced (and its top-level ``table:`` taken
    out), the table used (None if it cites no row), and the problems (an unknown row, no table)."""
    data = doc.data
    if not isinstance(data, dict):
        return doc, None, []
    named = data.get("table")
    doc = Document(doc.file, {k: v for k, v in data.items() if k != "table"}, doc.lines)
    cited = citations(doc.data)
    if named is not None and not isinstance(named, str):
        return doc, None, [doc.problem(("table",), "must be the path of a table file (relative to this file)")]
    if not cited:  # nothing is read from it, but a table named and not there is a mistake all the same
        if named is not None and table is None and not (Path(doc.file).parent / named).is_file():
            return doc, None, [doc.problem(("table",), f"{named}: no such file (relative to this file)")]
        return doc, None, []
    try:
        if isinstance(table, LoadedTable):
            loaded: LoadedTable | None = table
        elif table is not None:
            loaded = load_table(table)
        elif named is not None:
            loaded = load_table(Path(doc.file).parent / named)
        else:
            found = library_table(doc.file)
            loaded = None if found is None else load_table(found)
    except UserError as exc:
        where = ("table",) if named is not None and table is None else cited[0][0]
        return doc, None, [doc.problem(where, f"the table cannot be read: {str(exc).splitlines()[0]}")]
    if loaded is None:
        path, ref = cited[0]
        message = (
            f"cites row {ref!r}, but no table is given: pass --table FILE, or name one with a top-level 'table: PATH'"
        )
        return doc, None, [doc.problem(path, message)]
    resolved, problems = substitute(doc, loaded)
    return resolved, loaded, problems


def load_table(path: str | os.PathLike[str]) -> LoadedTable:
    """Read and check a reference-class table file; every problem located."""
    table, _ = load_model(path, Table, "table", "'name', 'version' and 'rows'")
    return LoadedTable(table, str(path), hashlib.sha256(Path(path).read_bytes()).hexdigest())


def load_model(
    path: str | os.PathLike[str], model: type[M], kind: str, needs: str, *, max_bytes: int = MAX_FILE_BYTES
) -> tuple[M, Document]:
    """Read a file of another kind than a scenario (a sweep file, an observed file) into ``model``,
    every problem located. ``kind`` names it ("sweep file"), ``needs`` its required fields."""
    doc = load_document(path, max_bytes=max_bytes)
    if not isinstance(doc.data, dict):
        article = "an" if kind[0] in "aeiou" else "a"
        raise UserError(f"{path}:1: {article} {kind} must be a mapping with {needs}, not {type(doc.data).__name__}")
    try:
        return model.model_validate(doc.data), doc
    except ValidationError as exc:
        raise UserError(f"{path}: invalid {kind}", list(shape_problems(doc, exc, model))) from None
