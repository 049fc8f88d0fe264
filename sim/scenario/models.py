"""The scenario file: pydantic models of every section, with ``extra="forbid"``.

Models check the shape and the range of each field. What needs the whole file (dates after
``calendar.start``, references between sections, ``requires`` cycles, run size) is checked in
:mod:`sim.scenario.checks`, which turns everything into located :class:`~sim.errors.Problem` lines.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    StrictBool,
    StringConstraints,
    Tag,
    field_validator,
    model_validator,
)

from sim.scenario.distributions import Distribution
from sim.scenario.judgements import (
    Uncertain,
    UncertainNonNegative,
    UncertainNumber,
    UncertainPositive,
    UncertainProbability,
    UncertainShift,
    mean_of,
)
from sim.scenario.numbers import Count, Number, Positive, Whole

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
"""Lower-case letters, digits, '-' and '_': safe as a folder name and as a column name."""

MAX_SEED = 2**64 - 1
MAX_ROUNDS = 10_000
"""Most scheduled rounds, event occurrences or reviews expected in one replication (and so the most
rounds of preparation an item can need)."""
MAX_CAPACITY = 10_000
"""Most items worked on in one round: beyond any agenda (a capacity above the item count is no limit)."""
MAX_REPLICATIONS = 100_000_000
"""Most replications of one run (or sweep point) a file or a command line may ask for."""


def _day_or_date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        raise ValueError("give a date (YYYY-MM-DD) without a time of day")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError as exc:
            if len(value) == 10 and value[4:5] == "-" and value[7:8] == "-":
                raise ValueError(f"'{value}' is not a valid date ({exc})") from None
            raise ValueError(f"must be a number of days or a date (YYYY-MM-DD), not '{value[:40]}'") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        kind = "a mapping" if isinstance(value, dict) else "a list" if isinstance(value, list) else repr(value)
        raise ValueError(f"must be a number of days or a date (YYYY-MM-DD), not {kind}")
    if value < 0:
        raise ValueError(f"days cannot be negative ({value:g})")
    return float(value)


DayOrDate = Annotated[float | dt.date, BeforeValidator(_day_or_date)]
"""Days from ``calendar.start`` or an ISO date."""

DIST_TAG = "@distribution"
DAY_TAG = "@day"


def _start_kind(value: Any) -> str:
    return DIST_TAG if isinstance(value, dict | Distribution) else DAY_TAG


StartTime = Annotated[
    Annotated[Distribution, Tag(DIST_TAG)] | Annotated[DayOrDate, Tag(DAY_TAG)],
    Discriminator(_start_kind),
]
"""A day, a date, or a distribution of days from ``calendar.start``."""


def _block_or_multiplier(value: Any) -> Any:
    if value == "block":
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    if isinstance(value, dict) and value.get("dist") == "fixed" and set(value) == {"dist", "value"}:
        return _block_or_multiplier(value["value"])  # a fixed multiplier is that number
    if isinstance(value, dict | Uncertain):
        judged = Uncertain.model_validate(value) if isinstance(value, dict) else value
        if judged.support()[0] < 0:
            raise ValueError(
                f"{judged.describe()} can draw a negative multiplier ({judged.extremes()[0]:.3g}): keep every "
                "draw at 0 or more"
            )
        return judged
    raise ValueError(f"must be 'block' or a multiplier (a number, 0 or more, or a distribution), not {value!r}")


Effect = Annotated[Literal["block"] | float | Uncertain, BeforeValidator(_block_or_multiplier)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, use_attribute_docstrings=True)


def _date_only(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        raise ValueError("give a date (YYYY-MM-DD) without a time of day")
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"must be a date (YYYY-MM-DD), not '{value[:40]}' ({exc})") from None
    return value


Date = Annotated[dt.date, BeforeValidator(_date_only)]
"""An ISO date, without a time of day."""


class Calendar(Model):
    start: Date
    """The date of day 0."""
    horizon: DayOrDate
    """Days simulated, or the last date simulated."""
    milestones: list[DayOrDate] | None = None
    """Dates for P(agreed by date); default: every three months from the start."""


class Simulation(Model):
    replications: Annotated[Whole, Field(ge=1, le=MAX_REPLICATIONS)] = 1000
    """How many times the talks are simulated (-n on the command line takes precedence)."""
    seed: Annotated[Whole, Field(ge=0, le=MAX_SEED)] = 0
    """The seed of the random streams: the same seed gives the same results, byte for byte."""


class Party(Model):
    name: str | None = None
    """The party's name, for tables and figures."""


class Rounds(Model):
    first: StartTime = 0.0
    """Day, date or distribution of the first round."""
    interval: Distribution
    """Days between scheduled rounds."""
    cancel: UncertainProbability = 0.0
    """The chance that a scheduled round does not take place."""
    capacity: Annotated[Whole, Field(ge=1, le=MAX_CAPACITY)] | None = None
    """At most this many items are worked on in a round, by priority (default: all)."""
    stall: UncertainNonNegative | None = None
    """Pauses of the talks per 365 days while they are going (a hazard); no rounds are held while paused."""
    resume: UncertainNonNegative | None = None
    """Resumptions per 365 days while the talks are paused (without it, a pause lasts to the horizon)."""


class Enact(Model):
    """How an item is enacted once it is decided: with chance ``p``, ``lag`` days after the decision,
    between rounds. It is decided when every item in ``after`` is agreed, or when an item or event
    that ``decides`` it happens."""

    after: list[Slug] | None = None
    """The items whose agreement decides this one (it is decided when all of them are agreed)."""
    p: UncertainProbability = 1.0
    """The chance that the item is enacted once decided."""
    lag: Distribution
    """Days from the decision to the enactment."""


class Item(Model):
    title: str | None = None
    """The item's title, for tables and figures."""
    p: UncertainProbability | None = None
    """The chance of agreement in a round where the item is on the agenda, before trust and constraints (give this
    or 'accept')."""
    accept: dict[Slug, UncertainProbability] | None = None
    """Each party's chance of accepting in a round, instead of 'p': agreement needs every party (p is their
    product)."""
    requires: list[Slug] = []
    """Items that must all be agreed before this one can be."""
    constraints: dict[Slug, Effect] = {}
    """Constraints that block this item ('block') or multiply its chance while they are active."""
    after_rounds: Annotated[Count, Field(le=MAX_ROUNDS)] = 0
    """Earlier rounds the item must have been on the agenda in (preparation) before it can be agreed."""
    priority: Number = 0.0
    """Lower goes first when a round's capacity is short; ties keep the file's order."""
    trust_gain: UncertainNumber | None = None
    """Trust gained when this item is agreed (default: trust.on_agreement)."""
    status: Literal["open", "agreed"] = "open"
    """'agreed' if the item was agreed before calendar.start."""
    enact: Enact | None = None
    """Enactment after a decision (the implementation of the items in ``enact.after``)."""
    hazard: UncertainNonNegative | None = None
    """Agreements per 365 days outside the rounds while the item is eligible (a step one side or a
    third body can take alone)."""
    decides: list[Slug] | None = None
    """Items this item's agreement decides at once (a package): each is enacted on its own ``enact``."""

    @model_validator(mode="after")
    def _p_or_accept(self) -> Item:
        if self.p is None and self.accept is None:
            raise ValueError("give either 'p' or per-party 'accept'")
        if self.p is not None and self.accept is not None:
            raise ValueError("give either 'p' or per-party 'accept', not both")
        if self.accept is not None and not self.accept:
            raise ValueError("accept: give at least one party")
        return self

    def probability(self) -> float:
        """``p``, or the product of the parties' acceptance (for judgements, their means)."""
        if self.p is not None:
            return mean_of(self.p)
        out = 1.0
        for value in (self.accept or {}).values():
            out *= mean_of(value)
        return out


class Reviews(Model):
    first: DayOrDate
    """The first review: a day or a date (it may be before calendar.start: past reviews are history)."""
    every: Positive
    """Days between reviews."""


class Lift(Model):
    reviews: Reviews | None = None
    """Review dates at which the constraint may be lifted, each with chance 'p'."""
    p: UncertainProbability | None = None
    """The chance of lifting at each review."""
    rate: UncertainPositive | None = None
    """Lifts per 365 days once active (a hazard: a mean wait of 365/rate days)."""
    on: DayOrDate | None = None
    """A day or a date on which the constraint is lifted."""
    when_agreed: list[Slug] | None = None
    """Items whose agreement (of all of them) lifts the constraint."""

    @model_validator(mode="after")
    def _mechanism(self) -> Lift:
        if self.reviews is not None and self.p is None:
            raise ValueError("reviews need 'p', the chance of lifting at each review")
        if self.p is not None and self.reviews is None:
            raise ValueError("'p' is the chance of lifting at each review: give 'reviews' too")
        if self.reviews is None and self.rate is None and self.on is None and not self.when_agreed:
            raise ValueError("give at least one of 'reviews' (with 'p'), 'rate', 'on' or 'when_agreed'")
        return self


class Constraint(Model):
    title: str | None = None
    """The constraint's title, for tables and figures."""
    active: StrictBool = True
    """Whether the constraint is in force at the start (an event's 'impose' makes it active again)."""
    lift: Lift | None = None
    """How it is lifted: whichever of its mechanisms fires first (without it, never)."""


class Trust(Model):
    initial: Number = 0.0
    """Trust at the start (between min and max)."""
    weight: UncertainNumber = 1.0
    """The shift of every item's log odds of agreement per unit of trust."""
    on_agreement: UncertainNumber = 0.0
    """Trust gained when an item is agreed (an item may override it: trust_gain)."""
    min: Number = -2.0
    """The lowest trust can go."""
    max: Number = 2.0
    """The highest trust can go."""

    @model_validator(mode="after")
    def _bounds(self) -> Trust:
        if self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is above max ({self.max:g})")
        if not self.min <= self.initial <= self.max:
            raise ValueError(f"initial ({self.initial:g}) must lie between min ({self.min:g}) and max ({self.max:g})")
        return self


class Event(Model):
    title: str | None = None
    """The event's title, for tables and figures."""
    rate: UncertainNonNegative | None = None
    """Expected occurrences per 365 days (a Poisson process)."""
    dates: list[DayOrDate] | None = None
    """Days or dates on which the event happens (with 'rate', or instead of it)."""
    trust: UncertainNumber = 0.0
    """The change of trust at each occurrence."""
    suspend: Distribution | None = None
    """Days the talks are suspended after each occurrence (no rounds are held)."""
    breakdown: UncertainProbability = 0.0
    """The chance that an occurrence ends the talks for good."""
    impose: list[Slug] = []
    """Constraints each occurrence makes active again (their lifting starts afresh)."""
    pause: UncertainProbability | None = None
    """The chance that an occurrence pauses the talks (until they resume), rather than ending them."""
    decides: list[Slug] | None = None
    """Items an occurrence decides at once (a leaders' statement): each is enacted on its own ``enact``."""

    @model_validator(mode="after")
    def _when(self) -> Event:
        if self.rate is None and self.dates is None:
            raise ValueError("give 'rate' (per 365 days) or 'dates'")
        return self


class RegimeState(Model):
    """One state of the case-level regime: its prior share, and how it scales every item's chances."""

    title: str | None = None
    """The state's title, for tables and figures."""
    share: UncertainProbability | None = None
    """The prior share of replications in this state; the one state without a share takes the rest."""
    odds: UncertainPositive = 1.0
    """Multiplies the odds of every per-round chance and every enactment chance."""
    hazard: UncertainNonNegative = 1.0
    """Multiplies every item's hazard outside rounds."""
    stall: UncertainNonNegative = 1.0
    """Multiplies the stall hazard of the rounds."""
    to: dict[Slug, UncertainNonNegative] | None = None
    """Moves to other states, per 365 days (the leaders decide later; a decision unravels)."""
    decides: list[Slug] | None = None
    """Items the leaders' decision puts in principle whenever a replication is in this state, from the
    start or on moving into it: each is enacted on its own ``enact`` (its chance, its lag)."""


class Regime(Model):
    """A latent state of the whole case (have the leaders decided?), drawn once per replication and
    shared by every item, so that items move together."""

    title: str | None = None
    """The regime's title, for tables and figures."""
    states: Annotated[dict[Slug, RegimeState], Field(min_length=2)]
    """The states (at least two), by name; judgements may give one value per state ({regime: {state: value}})."""

    @field_validator("states")
    @classmethod
    def _shares(cls, states: dict[str, RegimeState]) -> dict[str, RegimeState]:
        rest = [name for name, st in states.items() if st.share is None]
        if len(rest) != 1:
            raise ValueError(
                "leave out the share of exactly one state (it takes the rest)"
                if rest
                else "leave out the share of one state: it takes the rest, so that the shares always sum to 1"
            )
        top = sum(_highest(st.share) for st in states.values() if st.share is not None)
        if top > 1.0 + 1e-12:
            raise ValueError(f"the shares can sum to more than 1 ({top:g}): keep them within 1")
        return states


def _highest(value: float | Uncertain) -> float:
    return value.support()[1] if isinstance(value, Uncertain) else float(value)


def with_table(s: Scenario, loaded: Any, rows: dict[str, str] | None = None) -> Scenario:
    """The scenario, marked with the table its rows came from (and which row each cited field took)."""
    s._table = loaded.provenance()
    s._rows = dict(rows or {})
    return s


def can_pause(s: Scenario) -> bool:
    """Whether the talks of a scenario can pause (a stall hazard, or an event that pauses them)."""
    return s.rounds.stall is not None or any(e.pause is not None for e in s.events.values())


def agrees_outside_rounds(s: Scenario) -> bool:
    """Whether a scenario can agree items other than in a round (enactment, hazards outside rounds)."""
    return any(it.enact is not None or it.hazard is not None for it in s.items.values())


class Scenario(Model):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True)

    schema_version: Literal[1] = Field(1, alias="schema")
    """The version of the scenario format: 1."""
    name: Slug
    """The scenario's name (lower-case letters, digits, '-' and '_'): it names the result folder."""
    title: str | None = None
    """The scenario's title, for reports."""
    description: str | None = None
    """What the scenario is, for reports."""
    sources: list[str] = []
    """The sources of its figures, by title and date."""
    calendar: Calendar
    """Day 0, the horizon and the milestones."""
    simulation: Simulation = Simulation()
    """Replications and seed."""
    parties: dict[Slug, Party | None] = {}
    """The parties, by name (for items' per-party 'accept')."""
    rounds: Rounds
    """When rounds of talks are held."""
    items: Annotated[dict[Slug, Item], Field(min_length=1)]
    """The items under negotiation, by name (at least one)."""
    constraints: dict[Slug, Constraint] = {}
    """Constraints that block or slow items while active (sanctions, linkages), by name."""
    trust: Trust = Trust()
    """Trust between the parties: how agreements and events move it, and how it moves every item's chance."""
    events: dict[Slug, Event] = {}
    """Shocks from outside the talks, by name: on dates or at a rate, moving trust, suspending or ending the talks,
    imposing constraints."""
    regime: Regime | None = None
    """A latent state of the whole case (have the leaders decided?), drawn once per replication."""
    case_effect: UncertainShift | None = None
    """A shift of the log odds of every chance (and the log of every hazard outside rounds), drawn
    once per replication and shared by every item: how much this case as a whole may differ from
    its reference classes (a normal of mean 0 whose sd is the case effect's spread)."""
    _table: dict[str, Any] | None = PrivateAttr(default=None)
    """Where the figures of its ``{row: R}`` citations came from (file, name, version, SHA-256)."""
    _rows: dict[str, str] = PrivateAttr(default_factory=dict)
    """Which row each cited figure came from, by the dotted path of the field (``items.x.p``)."""

    @property
    def table(self) -> dict[str, Any] | None:
        """The reference-class table the scenario's rows were read from (None if it cites none)."""
        return self._table

    @property
    def rows(self) -> dict[str, str]:
        """The row each cited figure came from, by field path (empty if it cites none)."""
        return dict(self._rows)

    def __eq__(self, other: object) -> bool:
        """Equal when every field is: where the figures came from is provenance, not content."""
        if not isinstance(other, Scenario):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    def day(self, value: float | dt.date) -> float:
        """Days from ``calendar.start`` for a day or a date."""
        if isinstance(value, dt.date):
            return float((value - self.calendar.start).days)
        return float(value)

    def date(self, day: float) -> dt.date:
        """The calendar date of a (fractional) day."""
        return self.calendar.start + dt.timedelta(days=int(day // 1))

    @property
    def horizon(self) -> float:
        return self.day(self.calendar.horizon)

    def with_values(self, **changes: Any) -> Scenario:
        """A copy with top-level fields replaced (``simulation=...``), validated again."""
        data = self.model_dump(by_alias=True)
        data.update(changes)
        out = Scenario.model_validate(data)
        out._table = self._table
        out._rows = dict(self._rows)
        return out


def model_at(path: tuple[str | int, ...], root: type[BaseModel] | None = None) -> type[BaseModel] | None:
    """The model class that holds the fields at ``path`` (for 'did you mean' hints)."""
    import types
    import typing

    current: Any = root or Scenario
    i = 0
    while i < len(path):
        if isinstance(current, type) and issubclass(current, BaseModel):
            key = path[i]
            field = next(
                (f for n, f in current.model_fields.items() if (f.alias or n) == key),
                None,
            )
            if field is None:
                return None
            current = field.annotation
            i += 1
            continue
        origin = typing.get_origin(current)
        args = typing.get_args(current)
        if origin is Annotated:
            current = args[0]
        elif origin in (typing.Union, types.UnionType):
            models = [a for a in args if a is not type(None)]
            current = next(
                (a for a in models if isinstance(a, type) and issubclass(a, BaseModel)),
                models[0] if models else None,
            )
        elif origin is dict:
            current = args[1]
            i += 1
        elif origin is list:
            current = args[0]
            i += 1
        else:
            return None
    while typing.get_origin(current) in (Annotated, typing.Union, types.UnionType):
        options = [a for a in typing.get_args(current) if a is not type(None)]
        current = next((a for a in options if isinstance(a, type) and issubclass(a, BaseModel)), options[0])
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]
