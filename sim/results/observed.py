"""Observed files: what really happened, for scoring a forecast."""

from __future__ import annotations

import datetime as dt
import os
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from sim.errors import UserError, did_you_mean
from sim.scenario.documents import Document
from sim.scenario.load import load_model
from sim.scenario.models import Date, Scenario, Slug


class Observed(BaseModel):
    """What happened: the date each item was agreed (``null``: not agreed by ``as_of``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    as_of: Date
    checkpoints: Annotated[list[Date], Field(min_length=1)]
    items: Annotated[dict[Slug, Date | None], Field(min_length=1)]
    constraints: dict[Slug, Date | None] = {}
    breakdown: Date | None = None


def load_observed(path: str | os.PathLike[str], s: Scenario) -> Observed:
    """Read an observed file and check it against the scenario; every problem located."""
    obs, doc = load_model(path, Observed, "observed file", "'as_of', 'checkpoints' and 'items'")
    problems = list(_observed_problems(doc, obs, s))
    if problems:
        raise UserError(f"{path}: invalid observed file", problems)
    return obs


def _observed_problems(doc: Document, obs: Observed, s: Scenario) -> Any:
    start, end = s.calendar.start, s.date(s.horizon)

    def check_date(path: tuple[Any, ...], d: dt.date | None, what: str) -> Any:
        if d is None:
            return
        if d < start:
            yield doc.problem(path, f"{d.isoformat()} is before the scenario's start ({start.isoformat()})")
        elif d > obs.as_of:
            yield doc.problem(path, f"{d.isoformat()} is after as_of ({obs.as_of.isoformat()}): {what}")

    if obs.as_of < start:
        yield doc.problem(("as_of",), f"{obs.as_of.isoformat()} is before the scenario's start ({start.isoformat()})")
    for i, c in enumerate(obs.checkpoints):
        yield from check_date(("checkpoints", i), c, "not yet observed")
        if c > end:
            yield doc.problem(("checkpoints", i), f"{c.isoformat()} is after the run's horizon ({end.isoformat()})")
    for name, d in obs.items.items():
        if name not in s.items:
            yield doc.problem(("items", name), f"unknown item '{name}'{did_you_mean(name, s.items)}")
        yield from check_date(("items", name), d, "it cannot have been observed")
    for name, d in obs.constraints.items():
        if name not in s.constraints:
            yield doc.problem(("constraints", name), f"unknown constraint '{name}'{did_you_mean(name, s.constraints)}")
        yield from check_date(("constraints", name), d, "it cannot have been observed")
    yield from check_date(("breakdown",), obs.breakdown, "it cannot have been observed")
