"""A validated scenario compiled to indices and plain numbers for the replication loop."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from sim.scenario.distributions import Distribution
from sim.scenario.judgements import Uncertain, is_uncertain, mean_of
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


Value = float | str
"""A judgement in a plan: a number, or the path of an uncertain judgement drawn per replication."""


def has_judgement(value: object) -> bool:
    return isinstance(value, str)


@dataclass(frozen=True)
class Plan:
    """Everything one replication needs, by index, in file order."""

    seed: int
    horizon: float
    first: float | Distribution
    interval: Distribution
    cancel: Value
    capacity: int

    items: tuple[str, ...]
    item_p: tuple[float, ...]
    """Each item's p (the mean of its judgement where it is uncertain), for what needs one number."""
    item_logit: tuple[float, ...]
    item_terms: tuple[tuple[Value, ...], ...]
    """The factors of each item's p: p itself, or each party's acceptance."""
    requires: tuple[tuple[int, ...], ...]
    blocks: tuple[tuple[int, ...], ...]
    effects: tuple[tuple[tuple[int, Value], ...], ...]
    after_rounds: tuple[int, ...]
    order: tuple[int, ...]
    gain: tuple[Value, ...]
    agreed0: tuple[bool, ...]

    constraints: tuple[str, ...]
    active0: tuple[bool, ...]
    review: tuple[tuple[float, float, Value] | None, ...]
    hazard_rate: tuple[Value | None, ...]
    """Lifts per 365 days once active: the mean wait is 365 / rate."""
    lift_on: tuple[float | None, ...]
    when_agreed: tuple[tuple[int, ...] | None, ...]
    imposable: tuple[bool, ...]

    trust0: float
    weight: Value
    trust_min: float
    trust_max: float

    events: tuple[str, ...]
    event_rate: tuple[Value | None, ...]
    """Occurrences per 365 days (None: on its dates only)."""
    event_dates: tuple[tuple[float, ...], ...]
    event_trust: tuple[Value, ...]
    event_suspend: tuple[Distribution | None, ...]
    event_breakdown: tuple[Value, ...]
    event_impose: tuple[tuple[int, ...], ...]

    judgements: tuple[tuple[str, Uncertain], ...] = ()
    """The uncertain judgements, by path (``items.flights.p``): each drawn once per replication from
    the keyed stream ``param/<path>``. A :data:`Value` that is text names one of them."""
    census: float | None = None
    """A day on which each replication's rounds held so far are counted (``--given``'s ``as_of``)."""

    # Arrays for the rule book, built once per plan (plans are frozen; these never change).

    @cached_property
    def after_vector(self) -> np.ndarray:
        return np.array(self.after_rounds, dtype=np.int64)

    @cached_property
    def requires_matrix(self) -> np.ndarray:
        """(items, items) 0/1: row x marks the items x requires."""
        out = np.zeros((len(self.items), len(self.items)), np.int32)
        for x, needed in enumerate(self.requires):
            out[x, list(needed)] = 1
        return out

    @cached_property
    def blocks_matrix(self) -> np.ndarray:
        """(items, constraints) 0/1: row x marks the constraints that block x."""
        out = np.zeros((len(self.items), len(self.constraints)), np.int32)
        for x, blocking in enumerate(self.blocks):
            out[x, list(blocking)] = 1
        return out

    @cached_property
    def effect_slots(self) -> tuple[tuple[np.ndarray, tuple[Value, ...], np.ndarray], ...]:
        """Multipliers by slot: slot j holds each item's j-th multiplier in its file order, as
        (constraint index, factor of each item, item has a j-th multiplier), so products keep that order."""
        slots = []
        for j in range(max((len(e) for e in self.effects), default=0)):
            has = np.array([len(e) > j for e in self.effects])
            con = np.array([e[j][0] if len(e) > j else 0 for e in self.effects], dtype=np.int64)
            factor = tuple(e[j][1] if len(e) > j else 1.0 for e in self.effects)
            slots.append((con, factor, has))
        return tuple(slots)


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


def compile_plan(s: Scenario, seed: int | None = None, census: float | None = None) -> Plan:
    """Turn a validated scenario into a :class:`Plan` (names become indices, uncertain judgements
    become paths into ``judgements``)."""
    items = tuple(s.items)
    constraints = tuple(s.constraints)
    events = tuple(s.events)
    ix = {n: i for i, n in enumerate(items)}
    cx = {n: i for i, n in enumerate(constraints)}
    p = tuple(it.probability() for it in s.items.values())
    imposed = {c for e in s.events.values() for c in e.impose}
    first = s.rounds.first if isinstance(s.rounds.first, Distribution) else s.day(s.rounds.first)
    judgements: dict[str, Uncertain] = {}

    def value(path: str, v: float | Uncertain) -> Value:
        if is_uncertain(v):
            judgements[path] = v  # type: ignore[assignment]
            return path
        return mean_of(v)

    def terms(name: str) -> tuple[Value, ...]:
        it = s.items[name]
        if it.p is not None:
            return (value(f"items.{name}.p", it.p),)
        return tuple(value(f"items.{name}.accept.{party}", a) for party, a in (it.accept or {}).items())

    def review(name: str) -> tuple[float, float, Value] | None:
        lift = s.constraints[name].lift
        if lift is None or lift.reviews is None or lift.p is None:
            return None
        return (s.day(lift.reviews.first), float(lift.reviews.every), value(f"constraints.{name}.lift.p", lift.p))

    def lift_field(name: str, attr: str) -> object:
        lift = s.constraints[name].lift
        return None if lift is None else getattr(lift, attr)

    def rate(path: str, v: float | Uncertain | None) -> Value | None:
        if v is None or (not is_uncertain(v) and mean_of(v) == 0):
            return None
        return value(path, v)

    cancel = value("rounds.cancel", s.rounds.cancel)
    weight = value("trust.weight", s.trust.weight)
    on_agreement = value("trust.on_agreement", s.trust.on_agreement)
    item_terms = tuple(terms(name) for name in items)
    effects = tuple(
        tuple((cx[c], value(f"items.{name}.constraints.{c}", v)) for c, v in it.constraints.items() if v != "block")
        for name, it in s.items.items()
    )
    gain = tuple(
        on_agreement if it.trust_gain is None else value(f"items.{name}.trust_gain", it.trust_gain)
        for name, it in s.items.items()
    )
    reviews = tuple(review(c) for c in constraints)
    hazard = tuple(rate(f"constraints.{c}.lift.rate", lift_field(c, "rate")) for c in constraints)  # type: ignore[arg-type]
    event_rate = tuple(rate(f"events.{e}.rate", s.events[e].rate) for e in events)
    event_trust = tuple(value(f"events.{e}.trust", s.events[e].trust) for e in events)
    event_breakdown = tuple(value(f"events.{e}.breakdown", s.events[e].breakdown) for e in events)
    return Plan(
        seed=s.simulation.seed if seed is None else seed,
        horizon=s.horizon,
        first=first,
        interval=s.rounds.interval,
        cancel=cancel,
        capacity=s.rounds.capacity or len(items),
        items=items,
        item_p=p,
        item_logit=tuple(logit(x) for x in p),
        item_terms=item_terms,
        requires=tuple(tuple(ix[r] for r in it.requires) for it in s.items.values()),
        blocks=tuple(tuple(cx[c] for c, v in it.constraints.items() if v == "block") for it in s.items.values()),
        effects=effects,
        after_rounds=tuple(it.after_rounds for it in s.items.values()),
        order=tuple(sorted(range(len(items)), key=lambda i: (s.items[items[i]].priority, i))),
        gain=gain,
        agreed0=tuple(it.status == "agreed" for it in s.items.values()),
        constraints=constraints,
        active0=tuple(c.active for c in s.constraints.values()),
        review=reviews,
        hazard_rate=hazard,
        lift_on=tuple(
            None if lift_field(c, "on") is None else s.day(lift_field(c, "on"))  # type: ignore[arg-type]
            for c in constraints
        ),
        when_agreed=tuple(
            None if not lift_field(c, "when_agreed") else tuple(ix[x] for x in lift_field(c, "when_agreed"))  # type: ignore[attr-defined]
            for c in constraints
        ),
        imposable=tuple(c in imposed for c in constraints),
        trust0=s.trust.initial,
        weight=weight,
        trust_min=s.trust.min,
        trust_max=s.trust.max,
        events=events,
        event_rate=event_rate,
        event_dates=tuple(tuple(sorted(s.day(d) for d in (e.dates or []))) for e in s.events.values()),
        event_trust=event_trust,
        event_suspend=tuple(e.suspend for e in s.events.values()),
        event_breakdown=event_breakdown,
        event_impose=tuple(tuple(cx[c] for c in e.impose) for e in s.events.values()),
        judgements=tuple(judgements.items()),
        census=census,
    )


def judgement_paths(s: Scenario) -> list[str]:
    """The paths of a scenario's uncertain judgements, in the order runs record them."""
    return [path for path, _ in compile_plan(s).judgements]
