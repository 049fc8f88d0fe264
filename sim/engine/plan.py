"""A validated scenario compiled to indices and plain numbers for the replication loop.

One small plan per item, constraint and event (:class:`ItemPlan`, :class:`ConstraintPlan`,
:class:`EventPlan`), one for the rounds and one for the regime: a new field of the format is a
new field of one of them, compiled in one place. The :class:`Plan` holds them, with the arrays the
rule book reads built once from them.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from sim.scenario.distributions import Distribution
from sim.scenario.judgements import ByRegime, Uncertain, is_uncertain, mean_of
from sim.scenario.models import Scenario


def logit(p: float) -> float:
    """log(p / (1 - p)), with p = 0 and p = 1 mapped to -inf and +inf."""
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    return math.log(p / (1.0 - p))


PER_YEAR = 365.0
"""Rates in scenario files are per 365 days."""


@dataclass(frozen=True)
class RegimeValue:
    """A judgement that depends on the regime: its value in each state (regime order)."""

    values: tuple[Value, ...]


Value = float | str | RegimeValue
"""A judgement in a plan: a number, the path of an uncertain judgement drawn per replication, or
one of those per state of the regime."""


def has_judgement(value: object) -> bool:
    """Whether a value varies between replications (drawn, or set by the regime)."""
    return isinstance(value, str | RegimeValue)


@dataclass(frozen=True)
class Enactment:
    """An item's enactment once decided: with chance ``p``, ``lag`` days after the decision."""

    p: Value
    lag: Distribution
    after: tuple[int, ...]
    """The items whose agreement, all of them, decides it (empty: only a package decides it)."""


@dataclass(frozen=True)
class ItemPlan:
    name: str
    p: float
    """The item's p (the mean of its judgement where it is uncertain), for what needs one number."""
    logit: float
    terms: tuple[Value, ...]
    """The factors of the item's p: p itself, or each party's acceptance."""
    requires: tuple[int, ...]
    blocks: tuple[int, ...]
    effects: tuple[tuple[int, Value], ...]
    """(constraint, multiplier) in the order the item lists them."""
    after_rounds: int
    priority: float
    gain: Value
    agreed0: bool
    enact: Enactment | None = None
    hazard: Value | None = None
    """Agreements per 365 days outside the rounds while eligible (None: none)."""
    decides: tuple[int, ...] = ()
    """Items this item's agreement decides."""


@dataclass(frozen=True)
class Review:
    first: float
    every: float
    p: Value


@dataclass(frozen=True)
class ConstraintPlan:
    name: str
    active0: bool
    review: Review | None
    rate: Value | None
    """Lifts per 365 days once active: the mean wait is 365 / rate."""
    on: float | None
    when_agreed: tuple[int, ...] | None
    imposable: bool


@dataclass(frozen=True)
class EventPlan:
    name: str
    rate: Value | None
    """Occurrences per 365 days (None: on its dates only)."""
    dates: tuple[float, ...]
    trust: Value
    suspend: Distribution | None
    breakdown: Value
    impose: tuple[int, ...]
    pause: Value = 0.0
    decides: tuple[int, ...] = ()


@dataclass(frozen=True)
class RoundsPlan:
    first: float | Distribution
    interval: Distribution
    cancel: Value
    capacity: int
    stall: Value | None = None
    """Pauses per 365 days while the talks are going (None: none)."""
    resume: Value | None = None
    """Resumptions per 365 days while paused (None: a pause lasts)."""


@dataclass(frozen=True)
class RegimePlan:
    """The case-level regime: its states, each with a share (the last takes the rest) and effects."""

    names: tuple[str, ...]
    shares: tuple[Value, ...]
    """The shares of every state but the last."""
    odds: tuple[Value, ...]
    hazard: tuple[Value, ...]
    stall: tuple[Value, ...]
    moves: tuple[tuple[tuple[int, Value], ...], ...] = ()
    """Each state's moves to other states: (target state, rate per 365 days)."""
    decides: tuple[tuple[int, ...], ...] = ()
    """Each state's decision: the items it puts in principle (from the start or on moving into it)."""

    @property
    def switching(self) -> bool:
        return any(self.moves)


@dataclass(frozen=True)
class Plan:
    """Everything one replication needs, by index, in file order."""

    seed: int
    horizon: float
    rounds: RoundsPlan
    items: tuple[ItemPlan, ...]
    constraints: tuple[ConstraintPlan, ...]
    events: tuple[EventPlan, ...]
    trust0: float
    weight: Value
    trust_min: float
    trust_max: float
    regime: RegimePlan | None = None
    case_effect: Value | None = None
    """A shift of every chance's log odds (and every hazard's log), drawn once per replication."""
    judgements: tuple[tuple[str, Uncertain], ...] = ()
    """The uncertain judgements, by path (``items.flights.p``): each drawn once per replication from
    the keyed stream ``param/<path>``. A :data:`Value` that is text names one of them."""
    census: float | None = None
    """A day on which each replication's history so far is counted (``--given``'s ``as_of``)."""

    # Names and arrays for the rule book, built once per plan (plans are frozen; these never change).

    @cached_property
    def item_names(self) -> tuple[str, ...]:
        return tuple(x.name for x in self.items)

    @cached_property
    def constraint_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.constraints)

    @cached_property
    def event_names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.events)

    @cached_property
    def order(self) -> tuple[int, ...]:
        """Items by (priority, file order): the agenda's order."""
        return tuple(sorted(range(len(self.items)), key=lambda i: (self.items[i].priority, i)))

    @cached_property
    def capacity(self) -> int:
        return self.rounds.capacity

    @cached_property
    def after_vector(self) -> np.ndarray:
        return np.array([x.after_rounds for x in self.items], dtype=np.int64)

    @cached_property
    def requires_matrix(self) -> np.ndarray:
        """(items, items) 0/1: row x marks the items x requires."""
        out = np.zeros((len(self.items), len(self.items)), np.int32)
        for x, item in enumerate(self.items):
            out[x, list(item.requires)] = 1
        return out

    @cached_property
    def blocks_matrix(self) -> np.ndarray:
        """(items, constraints) 0/1: row x marks the constraints that block x."""
        out = np.zeros((len(self.items), len(self.constraints)), np.int32)
        for x, item in enumerate(self.items):
            out[x, list(item.blocks)] = 1
        return out

    @cached_property
    def leaders_matrix(self) -> np.ndarray | None:
        """(regime states, items) bool: row s marks the items the leaders' decision of state s puts in
        principle; None when no state decides anything."""
        if self.regime is None or not any(self.regime.decides):
            return None
        out = np.zeros((len(self.regime.names), len(self.items)), bool)
        for s, items in enumerate(self.regime.decides):
            out[s, list(items)] = True
        return out

    @cached_property
    def effect_slots(self) -> tuple[tuple[np.ndarray, tuple[Value, ...], np.ndarray], ...]:
        """Multipliers by slot: slot j holds each item's j-th multiplier in its file order, as
        (constraint index, factor of each item, item has a j-th multiplier), so products keep that order."""
        effects = [x.effects for x in self.items]
        slots = []
        for j in range(max((len(e) for e in effects), default=0)):
            has = np.array([len(e) > j for e in effects])
            con = np.array([e[j][0] if len(e) > j else 0 for e in effects], dtype=np.int64)
            factor = tuple(e[j][1] if len(e) > j else 1.0 for e in effects)
            slots.append((con, factor, has))
        return tuple(slots)

    @cached_property
    def enacted(self) -> tuple[int, ...]:
        """The items that can be enacted after a decision."""
        return tuple(x for x, item in enumerate(self.items) if item.enact is not None)

    @cached_property
    def outside(self) -> tuple[int, ...]:
        """The items with a hazard outside the rounds."""
        return tuple(x for x, item in enumerate(self.items) if item.hazard is not None)

    @cached_property
    def pausing(self) -> bool:
        """Whether the talks can pause (a stall hazard, or an event that pauses them)."""
        return self.rounds.stall is not None or any(has_judgement(e.pause) or e.pause > 0 for e in self.events)  # type: ignore[operator]

    @cached_property
    def dynamic(self) -> bool:
        """Whether anything happens at times that follow from what happened (enactments, hazards
        outside rounds, pauses): the batch clock then keeps timers beside its timelines."""
        return bool(self.enacted or self.outside or self.pausing or (self.regime is not None and self.regime.switching))


def regime_order(s: Scenario) -> tuple[str, ...]:
    """The regime's states in the order runs number them: those with a share in file order, then
    the one that takes the rest (none without a regime)."""
    if s.regime is None:
        return ()
    states = s.regime.states
    return tuple(
        [n for n, st in states.items() if st.share is not None] + [n for n, st in states.items() if st.share is None]
    )


def default_milestones(s: Scenario) -> list[float]:
    """Every three calendar months from the start, within the horizon."""
    out = []
    start = s.calendar.start
    for months in range(3, 12 * 100 + 1, 3):
        year, month = divmod(start.month - 1 + months, 12)
        day = min(start.day, 28)
        d = dt.date(start.year + year, month + 1, day)
        offset = float((d - start).days)
        if offset > s.horizon:
            break
        out.append(offset)
    return out


def milestones(s: Scenario) -> list[float]:
    if s.calendar.milestones is not None:
        return sorted({s.day(m) for m in s.calendar.milestones})
    return default_milestones(s)


class _Compiler:
    """Turns judgements into :data:`Value` s (numbers, or paths of uncertain judgements it records,
    in the order they are met: the order of ``parameters.parquet``'s columns)."""

    def __init__(self, s: Scenario) -> None:
        self.s = s
        self.judgements: dict[str, Uncertain] = {}
        self.ix = {n: i for i, n in enumerate(s.items)}
        self.cx = {n: i for i, n in enumerate(s.constraints)}
        self.states = regime_order(s)

    def value(self, path: str, v: float | Uncertain | ByRegime) -> Value:
        if isinstance(v, ByRegime):
            return RegimeValue(tuple(self.value(f"{path}.regime.{name}", v.regime[name]) for name in self.states))  # type: ignore[misc]
        if is_uncertain(v):
            self.judgements[path] = v  # type: ignore[assignment]
            return path
        return mean_of(v)

    def rate(self, path: str, v: float | Uncertain | None) -> Value | None:
        """A rate, or None where it is a plain 0 (nothing to draw)."""
        if v is None or (not is_uncertain(v) and mean_of(v) == 0):
            return None
        return self.value(path, v)

    def terms(self, name: str) -> tuple[Value, ...]:
        it = self.s.items[name]
        if it.p is not None:
            return (self.value(f"items.{name}.p", it.p),)
        return tuple(self.value(f"items.{name}.accept.{party}", a) for party, a in (it.accept or {}).items())

    def effects(self, name: str) -> tuple[tuple[int, Value], ...]:
        it = self.s.items[name]
        return tuple(
            (self.cx[c], self.value(f"items.{name}.constraints.{c}", v))  # type: ignore[arg-type]
            for c, v in it.constraints.items()
            if v != "block"
        )

    def review(self, name: str) -> Review | None:
        lift = self.s.constraints[name].lift
        if lift is None or lift.reviews is None or lift.p is None:
            return None
        p = self.value(f"constraints.{name}.lift.p", lift.p)
        return Review(self.s.day(lift.reviews.first), float(lift.reviews.every), p)

    def enactment(self, name: str) -> Enactment | None:
        enact = self.s.items[name].enact
        if enact is None:
            return None
        after = tuple(self.ix[a] for a in enact.after or [])
        return Enactment(p=self.value(f"items.{name}.enact.p", enact.p), lag=enact.lag, after=after)

    def regime(self) -> RegimePlan | None:
        g = self.s.regime
        if g is None:
            return None
        names = self.states
        at = "regime.states"
        return RegimePlan(
            names=tuple(names),
            shares=tuple(self.value(f"{at}.{n}.share", g.states[n].share) for n in names[:-1]),  # type: ignore[arg-type]
            odds=tuple(self.value(f"{at}.{n}.odds", g.states[n].odds) for n in names),
            hazard=tuple(self.value(f"{at}.{n}.hazard", g.states[n].hazard) for n in names),
            stall=tuple(self.value(f"{at}.{n}.stall", g.states[n].stall) for n in names),
            moves=tuple(
                tuple(
                    (names.index(target), self.value(f"{at}.{n}.to.{target}", rate))
                    for target, rate in (g.states[n].to or {}).items()
                )
                for n in names
            ),
            decides=tuple(tuple(self.ix[d] for d in g.states[n].decides or []) for n in names),
        )


def compile_plan(s: Scenario, seed: int | None = None, census: float | None = None) -> Plan:
    """Turn a validated scenario into a :class:`Plan` (names become indices, uncertain judgements
    become paths into ``judgements``).

    Judgements are met section by section in a fixed order (the rounds' chance of cancellation,
    trust, the items' chances, multipliers and gains, the constraints, the events, then the fields
    added since: enactments, hazards outside rounds, stalls, pauses, the regime), so a scenario
    that uses none of the later fields records its judgements exactly as before they existed.
    """
    c = _Compiler(s)
    names, cons, evs = tuple(s.items), tuple(s.constraints), tuple(s.events)
    lift = {n: s.constraints[n].lift for n in cons}
    cancel = c.value("rounds.cancel", s.rounds.cancel)
    weight = c.value("trust.weight", s.trust.weight)
    on_agreement = c.value("trust.on_agreement", s.trust.on_agreement)
    terms = [c.terms(n) for n in names]
    effects = [c.effects(n) for n in names]
    gains = [
        on_agreement if s.items[n].trust_gain is None else c.value(f"items.{n}.trust_gain", s.items[n].trust_gain)  # type: ignore[arg-type]
        for n in names
    ]
    reviews = [c.review(n) for n in cons]
    lift_rates = [None if lift[n] is None else c.rate(f"constraints.{n}.lift.rate", lift[n].rate) for n in cons]  # type: ignore[union-attr]
    event_rates = [c.rate(f"events.{n}.rate", s.events[n].rate) for n in evs]
    event_trust = [c.value(f"events.{n}.trust", s.events[n].trust) for n in evs]
    event_breakdown = [c.value(f"events.{n}.breakdown", s.events[n].breakdown) for n in evs]
    # The fields added since the judgements above were first recorded:
    enactments = [c.enactment(n) for n in names]
    hazards = [c.rate(f"items.{n}.hazard", s.items[n].hazard) for n in names]
    stall = c.rate("rounds.stall", s.rounds.stall)
    resume = c.rate("rounds.resume", s.rounds.resume)
    pauses = [c.value(f"events.{n}.pause", s.events[n].pause or 0.0) for n in evs]
    regime = c.regime()
    case_effect = None if s.case_effect is None else c.value("case_effect", s.case_effect)
    imposed = {name for e in s.events.values() for name in e.impose}
    items = tuple(
        ItemPlan(
            name=n,
            p=it.probability(),
            logit=logit(it.probability()),
            terms=terms[x],
            requires=tuple(c.ix[r] for r in it.requires),
            blocks=tuple(c.cx[k] for k, v in it.constraints.items() if v == "block"),
            effects=effects[x],
            after_rounds=it.after_rounds,
            priority=it.priority,
            gain=gains[x],
            agreed0=it.status == "agreed",
            enact=enactments[x],
            hazard=hazards[x],
            decides=tuple(c.ix[d] for d in it.decides or []),
        )
        for x, (n, it) in enumerate(s.items.items())
    )
    constraints = tuple(
        ConstraintPlan(
            name=n,
            active0=s.constraints[n].active,
            review=reviews[j],
            rate=lift_rates[j],
            on=None if lift[n] is None or lift[n].on is None else s.day(lift[n].on),  # type: ignore[union-attr, arg-type]
            when_agreed=(
                None if lift[n] is None or not lift[n].when_agreed else tuple(c.ix[x] for x in lift[n].when_agreed)  # type: ignore[union-attr]
            ),
            imposable=n in imposed,
        )
        for j, n in enumerate(cons)
    )
    events = tuple(
        EventPlan(
            name=n,
            rate=event_rates[e],
            dates=tuple(sorted(s.day(d) for d in (s.events[n].dates or []))),
            trust=event_trust[e],
            suspend=s.events[n].suspend,
            breakdown=event_breakdown[e],
            impose=tuple(c.cx[k] for k in s.events[n].impose),
            pause=pauses[e],
            decides=tuple(c.ix[d] for d in s.events[n].decides or []),
        )
        for e, n in enumerate(evs)
    )
    first = s.rounds.first if isinstance(s.rounds.first, Distribution) else s.day(s.rounds.first)
    return Plan(
        seed=s.simulation.seed if seed is None else seed,
        horizon=s.horizon,
        rounds=RoundsPlan(first, s.rounds.interval, cancel, s.rounds.capacity or len(names), stall, resume),
        items=items,
        constraints=constraints,
        events=events,
        trust0=s.trust.initial,
        weight=weight,
        trust_min=s.trust.min,
        trust_max=s.trust.max,
        regime=regime,
        case_effect=case_effect,
        judgements=tuple(c.judgements.items()),
        census=census,
    )


def judgement_paths(s: Scenario) -> list[str]:
    """The paths of a scenario's uncertain judgements, in the order runs record them."""
    return [path for path, _ in compile_plan(s).judgements]
