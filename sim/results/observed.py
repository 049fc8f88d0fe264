"""Observed files: what really happened, for scoring a forecast."""

from __future__ import annotations

import datetime as dt
import os
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from sim.engine.history import History
from sim.errors import UserError, did_you_mean
from sim.scenario.documents import Document
from sim.scenario.load import load_model
from sim.scenario.models import Date, Scenario, Slug
from sim.scenario.numbers import Probability


class Rounds(BaseModel):
    """The rounds of talks up to ``as_of``: the days they were held, and (where known) the days
    scheduled rounds were called off (``null``: not known, so not used)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    held: list[Date]
    cancelled: list[Date] | None = None


class OnRecord(BaseModel):
    """A forecast on record at the time (an expert quoted in the press, a prediction market):
    ``p`` that ``item`` would be agreed by ``by``, said on ``made`` by ``source``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Annotated[str, Field(min_length=1, max_length=300)]
    made: Date
    item: Slug
    by: Date
    p: Probability


class BaseRate(BaseModel):
    """The base-rate baseline: a constant chance per scheduled round for every item, from a row of
    a reference-class table (``row`` names it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_round: Annotated[Probability, Field(gt=0.0, lt=1.0)]
    row: Annotated[str, Field(min_length=1, max_length=300)]


class Observed(BaseModel):
    """What happened up to ``as_of``: the date each item was agreed (``null``: not agreed by
    ``as_of``), constraints first lifted, a breakdown, and the rounds held."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    as_of: Date
    checkpoints: list[Date] = []
    items: Annotated[dict[Slug, Date | None], Field(min_length=1)]
    constraints: dict[Slug, Date | None] = {}
    breakdown: Date | None = None
    rounds: Rounds | None = None
    forecasts: list[OnRecord] = []
    base_rate: BaseRate | None = None
    sources: list[Annotated[str, Field(max_length=500)]] = []


def as_at(obs: Observed, when: dt.date) -> Observed:
    """What the observed file says was known on ``when`` (before its ``as_of``): items and constraints
    dated after ``when`` were not yet agreed or lifted, and only rounds held (or called off) by then
    count. The history a forecast made on ``when`` is conditioned on (``negsim score --origins``)."""

    def by(d: dt.date | None) -> dt.date | None:
        return d if d is not None and d <= when else None

    rounds = obs.rounds
    if rounds is not None:
        rounds = Rounds(
            held=[d for d in rounds.held if d <= when],
            cancelled=None if rounds.cancelled is None else [d for d in rounds.cancelled if d <= when],
        )
    return obs.model_copy(
        update={
            "as_of": when,
            "checkpoints": [d for d in obs.checkpoints if d <= when],
            "items": {k: by(v) for k, v in obs.items.items()},
            "constraints": {k: by(v) for k, v in obs.constraints.items()},
            "breakdown": by(obs.breakdown),
            "rounds": rounds,
            "forecasts": [f for f in obs.forecasts if f.by <= when],
        }
    )


def history(obs: Observed, s: Scenario) -> History:
    """The conditions ``negsim run --given`` keeps replications by (see :mod:`sim.engine.history`)."""
    as_of = s.day(obs.as_of)
    rounds = obs.rounds
    return History(
        as_of=as_of,
        items=tuple((x, name, obs.items[name] is not None) for x, name in enumerate(s.items) if name in obs.items),
        constraints=tuple(
            (c, name, obs.constraints[name] is not None)
            for c, name in enumerate(s.constraints)
            if name in obs.constraints
        ),
        breakdown=obs.breakdown is not None,
        held=None if rounds is None else len(rounds.held),
        cancelled=None if rounds is None or rounds.cancelled is None else len(rounds.cancelled),
    )


def load_observed(path: str | os.PathLike[str], s: Scenario) -> Observed:
    """Read an observed file and check it against the scenario; every problem located."""
    obs, doc = load_model(path, Observed, "observed file", "'as_of' and 'items'")
    problems = list(_observed_problems(doc, obs, s))
    if problems:
        raise UserError(f"{path}: invalid observed file", problems)
    return obs


def load_observed_alone(path: str | os.PathLike[str], max_bytes: int | None = None) -> Observed:
    """Read an observed file on its own (``negsim validate``): everything that can be checked without
    a scenario (dates after ``as_of``, dates listed twice, forecasts made after their date)."""
    kw = {} if max_bytes is None else {"max_bytes": max_bytes}
    obs, doc = load_model(path, Observed, "observed file", "'as_of' and 'items'", **kw)
    problems = list(_self_problems(doc, obs))
    if problems:
        raise UserError(f"{path}: invalid observed file", problems)
    return obs


def _self_problems(doc: Document, obs: Observed) -> Any:
    """What an observed file says against itself: nothing is observed after ``as_of``, no date is
    listed twice, and a forecast on record is made before its date and by ``as_of``."""

    def after(path: tuple[Any, ...], d: dt.date | None, what: str) -> Any:
        if d is not None and d > obs.as_of:
            yield doc.problem(path, f"{d.isoformat()} is after as_of ({obs.as_of.isoformat()}): {what}")

    for i, c in enumerate(obs.checkpoints):
        yield from after(("checkpoints", i), c, "not yet observed")
        if c in obs.checkpoints[:i]:
            yield doc.problem(("checkpoints", i), f"{c.isoformat()} is listed twice")
    for section in ("items", "constraints"):
        for name, d in getattr(obs, section).items():
            yield from after((section, name), d, "it cannot have been observed")
    yield from after(("breakdown",), obs.breakdown, "it cannot have been observed")
    if obs.rounds is not None:
        for kind in ("held", "cancelled"):
            days = getattr(obs.rounds, kind) or []
            for i, d in enumerate(days):
                yield from after(("rounds", kind, i), d, "it cannot have been observed")
                if d in days[:i]:
                    yield doc.problem(("rounds", kind, i), f"{d.isoformat()} is listed twice")
    for i, f in enumerate(obs.forecasts):
        if f.by < f.made:
            yield doc.problem(("forecasts", i, "by"), f"{f.by.isoformat()} is before the forecast was made")
        if f.made > obs.as_of:
            yield doc.problem(("forecasts", i, "made"), f"{f.made.isoformat()} is after as_of: not yet on record")


def _observed_problems(doc: Document, obs: Observed, s: Scenario) -> Any:
    """The file against itself, then against the scenario: names it knows, nothing before its start,
    checkpoints within its horizon."""
    yield from _self_problems(doc, obs)
    start, end = s.calendar.start, s.date(s.horizon)

    def before(path: tuple[Any, ...], d: dt.date | None) -> Any:
        if d is not None and d < start:
            yield doc.problem(path, f"{d.isoformat()} is before the scenario's start ({start.isoformat()})")

    if obs.as_of < start:
        yield doc.problem(("as_of",), f"{obs.as_of.isoformat()} is before the scenario's start ({start.isoformat()})")
    for i, c in enumerate(obs.checkpoints):
        yield from before(("checkpoints", i), c)
        if c > end:
            yield doc.problem(("checkpoints", i), f"{c.isoformat()} is after the run's horizon ({end.isoformat()})")
    for section, known in (("items", s.items), ("constraints", s.constraints)):
        for name, d in getattr(obs, section).items():
            if name not in known:
                kind = section[:-1]
                yield doc.problem((section, name), f"unknown {kind} '{name}'{did_you_mean(name, known)}")
            yield from before((section, name), d)
    yield from before(("breakdown",), obs.breakdown)
    if obs.rounds is not None:
        for kind in ("held", "cancelled"):
            for i, d in enumerate(getattr(obs.rounds, kind) or []):
                yield from before(("rounds", kind, i), d)
    for i, f in enumerate(obs.forecasts):
        if f.item not in s.items:
            yield doc.problem(("forecasts", i, "item"), f"unknown item '{f.item}'{did_you_mean(f.item, s.items)}")
