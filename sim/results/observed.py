"""Observed files: what really happened, for scoring a forecast."""

from __future__ import annotations

import datetime as dt
import os
import warnings
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Discriminator, Field, StrictBool, Tag

from sim.engine.history import History
from sim.errors import ScenarioWarning, UserError, did_you_mean
from sim.scenario.documents import Document
from sim.scenario.load import load_model
from sim.scenario.models import Date, Scenario, Slug, can_pause
from sim.scenario.numbers import Probability

DistinctDates = Annotated[list[Date], Field(json_schema_extra={"uniqueItems": True})]
"""Dates none of which may be listed twice."""


class Rounds(BaseModel):
    """The rounds of talks up to ``as_of``: the days they were held, and (where known) the days
    scheduled rounds were called off (``null``: not known, so not used)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    held: DistinctDates
    """The days rounds were held, up to as_of."""
    cancelled: DistinctDates | None = None
    """The days scheduled rounds were called off (null: not known, so not used)."""


class ConstraintRecord(BaseModel):
    """What happened to a constraint up to ``as_of``: the day it was first lifted (``null``: not),
    the days events imposed it again, and whether it was in force at ``as_of`` (``null``: not known)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    lifted: Date | None = None
    """The day the constraint was first lifted (null: not by as_of)."""
    imposed: DistinctDates = []
    """The days events imposed it again."""
    in_force: StrictBool | None = None
    """Whether it was in force at as_of (null: not known)."""


def _record_or_date(value: Any) -> str:
    """A mapping is a constraint's record; anything else is judged as the day it was lifted."""
    return "@record" if isinstance(value, dict | ConstraintRecord) else "@lifted"


ConstraintValue = Annotated[
    Annotated[ConstraintRecord, Tag("@record")] | Annotated[Date | None, Tag("@lifted")],
    Discriminator(_record_or_date),
]
"""A constraint's entry: the day it was lifted (or null), or its record; one kind of message, not both."""


class Talks(BaseModel):
    """The days the talks paused and resumed up to ``as_of`` (a pause with no resumption after it:
    paused at ``as_of``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    paused: list[Date] = []
    """The days the talks paused."""
    resumed: list[Date] = []
    """The days they resumed (pauses and resumptions alternate, a pause first)."""

    def paused_at_end(self) -> bool:
        return len(self.paused) > len(self.resumed)


class OnRecord(BaseModel):
    """A forecast on record at the time (an expert quoted in the press, a prediction market):
    ``p`` that ``item`` would be agreed by ``by``, said on ``made`` by ``source``."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    source: Annotated[str, Field(min_length=1, max_length=300)]
    """Who made the forecast (a person quoted in the press, a market)."""
    made: Date
    """The date the forecast was made."""
    item: Slug
    """The item it is about."""
    by: Date
    """The date by which it said the item would be agreed."""
    p: Probability
    """The chance it gave."""


class BaseRate(BaseModel):
    """The base-rate baseline: a constant chance per scheduled round for every item, from a row of
    a reference-class table (``row`` names it)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    per_round: Annotated[Probability, Field(gt=0.0, lt=1.0)]
    """The chance of agreement per scheduled round, for every item."""
    row: Annotated[str, Field(min_length=1, max_length=300)]
    """The row of the reference-class table it comes from."""


class Observed(BaseModel):
    """What happened up to ``as_of``: the date each item was agreed (``null``: not agreed by
    ``as_of``), constraints first lifted, a breakdown, and the rounds held."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    as_of: Date
    """The date up to which the file says what happened."""
    checkpoints: DistinctDates = []
    """Dates of the checkpoint Brier and log scores (default: quarter ends)."""
    items: Annotated[dict[Slug, Date | None], Field(min_length=1)]
    """Each item's date of agreement (null: not agreed by as_of)."""
    constraints: dict[Slug, ConstraintValue] = {}
    """Each constraint's first lift (a date, or ``null``), or a mapping that also says when it was
    imposed again and whether it was in force at ``as_of``."""
    breakdown: Date | None = None
    """The date the talks ended for good (null: they did not by as_of)."""
    rounds: Rounds | None = None
    """The rounds held (and called off) up to as_of."""
    talks: Talks | None = None
    """When the talks paused and resumed up to as_of."""
    forecasts: list[OnRecord] = []
    """Forecasts on record at the time, scored beside the simulation's."""
    base_rate: BaseRate | None = None
    """The base-rate baseline's chance per round, from a reference-class table."""
    sources: list[Annotated[str, Field(max_length=500)]] = []
    """Where what happened is recorded, by title and date."""


def lifted(obs: Observed, name: str) -> dt.date | None:
    """The day a constraint the observed file names was first lifted (None: not by ``as_of``)."""
    v = obs.constraints.get(name)
    return v.lifted if isinstance(v, ConstraintRecord) else v


def as_at(obs: Observed, when: dt.date) -> Observed:
    """What the observed file says was known on ``when`` (before its ``as_of``): items and constraints
    dated after ``when`` were not yet agreed or lifted, and only rounds held (or called off) by then
    count. The history a forecast made on ``when`` is conditioned on (``negsim score --origins``)."""

    def by(d: dt.date | None) -> dt.date | None:
        return d if d is not None and d <= when else None

    def constraint(v: dt.date | ConstraintRecord | None) -> dt.date | ConstraintRecord | None:
        if not isinstance(v, ConstraintRecord):
            return by(v)
        imposed = [d for d in v.imposed if d <= when]
        # In force at an earlier day is known only where nothing happened to it since: otherwise unknown.
        since = [d for d in [*v.imposed, *([v.lifted] if v.lifted else [])] if when < d]
        return ConstraintRecord(lifted=by(v.lifted), imposed=imposed, in_force=None if since else v.in_force)

    talks = obs.talks
    if talks is not None:
        talks = Talks(paused=[d for d in talks.paused if d <= when], resumed=[d for d in talks.resumed if d <= when])
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
            "constraints": {k: constraint(v) for k, v in obs.constraints.items()},
            "talks": talks,
            "breakdown": by(obs.breakdown),
            "rounds": rounds,
            "forecasts": [f for f in obs.forecasts if f.by <= when],
        }
    )


def history(obs: Observed, s: Scenario) -> History:
    """The conditions ``negsim run --given`` keeps replications by (see :mod:`sim.engine.history`)."""
    as_of = s.day(obs.as_of)
    rounds = obs.rounds
    named = [(c, name) for c, name in enumerate(s.constraints) if name in obs.constraints]
    records = [(c, name, v) for c, name in named if isinstance(v := obs.constraints[name], ConstraintRecord)]
    return History(
        as_of=as_of,
        items=tuple((x, name, obs.items[name] is not None) for x, name in enumerate(s.items) if name in obs.items),
        constraints=tuple((c, name, lifted(obs, name) is not None) for c, name in named),
        in_force=tuple((c, name, v.in_force) for c, name, v in records if v.in_force is not None),
        imposed=tuple((c, name, len(v.imposed)) for c, name, v in records if v.imposed),
        breakdown=obs.breakdown is not None,
        held=None if rounds is None else len(rounds.held),
        cancelled=None if rounds is None or rounds.cancelled is None else len(rounds.cancelled),
        pauses=None if obs.talks is None else len(obs.talks.paused),
        paused=None if obs.talks is None else obs.talks.paused_at_end(),
    )


def load_observed(path: str | os.PathLike[str], s: Scenario, given: bool = False) -> Observed:
    """Read an observed file and check it against the scenario; every problem located, and a
    warning (:class:`ScenarioWarning`) for what can happen but no replication does. ``given``: the
    file is a history to keep replications by (``--given``), which no replication can agree with if
    it holds what the scenario can never do."""
    obs, doc = load_model(path, Observed, "observed file", "'as_of' and 'items'")
    problems = list(_observed_problems(doc, obs, s))
    if given:
        problems += _impossible(doc, obs, s)
    if problems:
        raise UserError(f"{path}: invalid observed file", problems)
    _warn(doc, obs)
    return obs


def _impossible(doc: Document, obs: Observed, s: Scenario) -> Any:
    """What a history holds that no replication of the scenario can: talks that paused, in a scenario
    that never pauses them (a million replications would be tried before saying that none agree)."""
    talks = obs.talks
    if talks is not None and not can_pause(s):
        paused = [d for d in talks.paused if d <= obs.as_of]
        if paused:
            yield doc.problem(
                ("talks", "paused", talks.paused.index(paused[0])),
                f"{paused[0].isoformat()}: the talks paused, but {s.name} can never pause them (no rounds.stall and "
                "no event with a pause), so no replication agrees with this history; give the scenario a stall "
                "or a pausing event, or leave the pause out",
            )


def load_observed_alone(path: str | os.PathLike[str], max_bytes: int | None = None) -> Observed:
    """Read an observed file on its own (``negsim validate``): everything that can be checked without
    a scenario (dates after ``as_of``, dates listed twice, forecasts made after their date)."""
    kw = {} if max_bytes is None else {"max_bytes": max_bytes}
    obs, doc = load_model(path, Observed, "observed file", "'as_of' and 'items'", **kw)
    problems = list(_self_problems(doc, obs))
    if problems:
        raise UserError(f"{path}: invalid observed file", problems)
    _warn(doc, obs)
    return obs


def _warn(doc: Document, obs: Observed) -> None:
    for problem in _self_warnings(doc, obs):
        warnings.warn(ScenarioWarning(str(problem)), stacklevel=3)


def _self_warnings(doc: Document, obs: Observed) -> Any:
    """What can happen but no replication does: an item agreed after the talks broke off for good
    (a step one side takes alone, a decree, a deal struck outside the talks). negsim's talks agree
    nothing once broken off, so every forecast gives it no chance (and ``--given`` keeps none)."""
    if obs.breakdown is None:
        return
    for name, d in obs.items.items():
        if d is not None and d > obs.breakdown:
            yield doc.problem(
                ("items", name),
                f"warning: {d.isoformat()} is after the breakdown ({obs.breakdown.isoformat()}): negsim agrees "
                "nothing once the talks have broken off, so every forecast gives this no chance; if the talks only "
                "paused, record the pause in talks.paused (and talks.resumed) instead of a breakdown",
            )


def _self_problems(doc: Document, obs: Observed) -> Any:
    """What an observed file says against itself: nothing is observed after ``as_of``, no date is
    listed twice, no round both held and called off, no round held, called off or talks resumed after
    the talks broke off for good, and a forecast on record is listed once, made before its date and by
    ``as_of``."""

    def after(path: tuple[Any, ...], d: dt.date | None, what: str) -> Any:
        if d is not None and d > obs.as_of:
            yield doc.problem(path, f"{d.isoformat()} is after as_of ({obs.as_of.isoformat()}): {what}")

    for i, c in enumerate(obs.checkpoints):
        yield from after(("checkpoints", i), c, "not yet observed")
        if c in obs.checkpoints[:i]:
            yield doc.problem(("checkpoints", i), f"{c.isoformat()} is listed twice")
    for name, d in obs.items.items():
        yield from after(("items", name), d, "it cannot have been observed")
    for name, v in obs.constraints.items():
        if not isinstance(v, ConstraintRecord):
            yield from after(("constraints", name), v, "it cannot have been observed")
            continue
        yield from after(("constraints", name, "lifted"), v.lifted, "it cannot have been observed")
        for i, d in enumerate(v.imposed):
            yield from after(("constraints", name, "imposed", i), d, "it cannot have been observed")
            if d in v.imposed[:i]:
                yield doc.problem(("constraints", name, "imposed", i), f"{d.isoformat()} is listed twice")
    yield from after(("breakdown",), obs.breakdown, "it cannot have been observed")
    if obs.talks is not None:
        yield from _talks_problems(doc, obs.talks, after)
    if obs.rounds is not None:
        for kind in ("held", "cancelled"):
            days = getattr(obs.rounds, kind) or []
            for i, d in enumerate(days):
                yield from after(("rounds", kind, i), d, "it cannot have been observed")
                if d in days[:i]:
                    yield doc.problem(("rounds", kind, i), f"{d.isoformat()} is listed twice")
        for i, d in enumerate(obs.rounds.cancelled or []):
            if d in obs.rounds.held:
                yield doc.problem(
                    ("rounds", "cancelled", i),
                    f"{d.isoformat()} is also listed as held (rounds.held[{obs.rounds.held.index(d)}]): a scheduled "
                    "round is held or called off, not both",
                )
    yield from _after_breakdown(doc, obs)
    seen: dict[tuple[str, dt.date, str, dt.date], int] = {}
    for i, f in enumerate(obs.forecasts):
        key = (f.source.strip(), f.made, f.item, f.by)
        if key in seen:
            first = obs.forecasts[seen[key]]
            said = f"p {first.p:g}" + ("" if first.p == f.p else f" there, {f.p:g} here")
            yield doc.problem(
                ("forecasts", i),
                f"listed twice (as forecasts[{seen[key]}]: {f.source.strip()[:60]}, made {f.made.isoformat()}, "
                f"{f.item} by {f.by.isoformat()}, {said}): a forecast on record is listed once, or it is scored twice",
            )
        seen.setdefault(key, i)
    for i, f in enumerate(obs.forecasts):
        if f.by < f.made:
            yield doc.problem(("forecasts", i, "by"), f"{f.by.isoformat()} is before the forecast was made")
        if f.made > obs.as_of:
            yield doc.problem(("forecasts", i, "made"), f"{f.made.isoformat()} is after as_of: not yet on record")


def _after_breakdown(doc: Document, obs: Observed) -> Any:
    """Talks broken off for good hold no round, call none off (none is scheduled), neither pause nor resume:
    a file that says they did describes a pause, and the message says where a pause is written. A
    round on the day of the breakdown is the round the talks broke off at (or one called off by it)."""
    b = obs.breakdown
    if b is None:
        return
    hint = (
        f"is after the breakdown ({b.isoformat()}): talks broken off for good hold no round, call none off and "
        "do not resume; if they only paused, record the pause in talks.paused (and talks.resumed) instead of a "
        "breakdown"
    )
    places: list[tuple[str, str, list[dt.date]]] = []
    if obs.rounds is not None:
        places += [("rounds", "held", obs.rounds.held), ("rounds", "cancelled", obs.rounds.cancelled or [])]
    if obs.talks is not None:
        places += [("talks", "paused", obs.talks.paused), ("talks", "resumed", obs.talks.resumed)]
    for section, kind, days in places:
        for i, d in enumerate(days):
            if d > b:
                yield doc.problem((section, kind, i), f"{d.isoformat()} {hint}")


def _talks_problems(doc: Document, talks: Talks, after: Any) -> Any:
    """Pauses and resumptions alternate, a pause first; none after ``as_of``."""
    for kind in ("paused", "resumed"):
        for i, d in enumerate(getattr(talks, kind)):
            yield from after(("talks", kind, i), d, "it cannot have been observed")
    paused, resumed = sorted(talks.paused), sorted(talks.resumed)
    for i, d in enumerate(resumed):
        if i >= len(paused) or d < paused[i] or (i + 1 < len(paused) and paused[i + 1] < d):
            where = "before the pause it ends" if i < len(paused) and d < paused[i] else "without a pause to end"
            yield doc.problem(
                ("talks", "resumed", talks.resumed.index(d)),
                f"{d.isoformat()}: the talks resume {where} (pauses and resumptions alternate, a pause first)",
            )
            return
    for i in range(len(paused) - 1):
        if i >= len(resumed):
            yield doc.problem(
                ("talks", "paused", talks.paused.index(paused[i + 1])),
                f"{paused[i + 1].isoformat()}: the talks pause again without having resumed",
            )
            return


def _constraint_story(doc: Document, name: str, v: ConstraintRecord, active: bool) -> Any:
    """What a file says of a constraint must be one story: a constraint in force from the start is
    imposed again only after it was first lifted, and with nothing imposed again it is in force at
    as_of exactly when it was never lifted (one not in force at the start, when it was imposed)."""
    where = ("constraints", name)
    if active:
        for i, d in enumerate(v.imposed):
            if v.lifted is None or d < v.lifted:
                since = "was never lifted (lifted: null)" if v.lifted is None else f"was first lifted on {v.lifted}"
                yield doc.problem(
                    (*where, "imposed", i),
                    f"{d.isoformat()}: the constraint is in force from the start and {since}, so nothing could "
                    "impose it again then",
                )
    if v.in_force is None or v.imposed:
        return
    if active and v.in_force != (v.lifted is None):
        said = (
            f"true, but it was lifted on {v.lifted} and nothing imposed it again (imposed is empty)"
            if v.in_force
            else "false, but it is in force from the start and was never lifted (lifted: null)"
        )
        yield doc.problem((*where, "in_force"), said)
    elif not active and v.in_force:
        yield doc.problem(
            (*where, "in_force"), "true, but it is not in force at the start and nothing imposed it (imposed is empty)"
        )


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
            if isinstance(d, ConstraintRecord):
                yield from before((section, name, "lifted"), d.lifted)
                for i, day in enumerate(d.imposed):
                    yield from before((section, name, "imposed", i), day)
                if name in s.constraints:
                    yield from _constraint_story(doc, name, d, s.constraints[name].active)
            else:
                yield from before((section, name), d)
    if obs.talks is not None:
        for kind in ("paused", "resumed"):
            for i, d in enumerate(getattr(obs.talks, kind)):
                yield from before(("talks", kind, i), d)
    yield from before(("breakdown",), obs.breakdown)
    if obs.rounds is not None:
        for kind in ("held", "cancelled"):
            for i, d in enumerate(getattr(obs.rounds, kind) or []):
                yield from before(("rounds", kind, i), d)
    for i, f in enumerate(obs.forecasts):
        if f.item not in s.items:
            yield doc.problem(("forecasts", i, "item"), f"unknown item '{f.item}'{did_you_mean(f.item, s.items)}")
