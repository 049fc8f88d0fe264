"""Reading input files into validated models: scenarios, and the other files negsim reads."""

from __future__ import annotations

import os
import warnings
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from sim.errors import ScenarioWarning, UserError
from sim.scenario.checks import check_document, scenario_warnings, shape_problems
from sim.scenario.documents import MAX_FILE_BYTES, Document, load_document
from sim.scenario.models import Scenario

M = TypeVar("M", bound=BaseModel)


def load_scenario(path: str | os.PathLike[str], *, max_bytes: int = MAX_FILE_BYTES) -> Scenario:
    """Read and check a scenario file; raise :class:`UserError` listing every problem, and warn
    (:class:`ScenarioWarning`) of what it says that can never happen."""
    doc = load_document(path, max_bytes=max_bytes)
    scenario, problems = check_document(doc)
    if problems or scenario is None:
        raise UserError(f"{path}: invalid scenario", problems)
    for warning in scenario_warnings(doc, scenario):
        warnings.warn(ScenarioWarning(str(warning)), stacklevel=2)  # already "file:line: field: warning: ..."
    return scenario


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
