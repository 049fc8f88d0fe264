"""The parts of a scenario file that are valid on their own, for the rules that need the whole file
(dates against the calendar, rounds in the horizon) to be checked while other fields are still
wrong: every problem is reported at once, not the calendar's only after the fields are fixed.

:class:`Sections` answers what those rules ask of a :class:`~sim.scenario.models.Scenario`
(``calendar``, ``horizon``, ``day()``, the sections by name); a section, or an entry of one
(an item, a constraint, an event), that does not validate on its own is left out, its problems
already said by the shape checks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from sim.scenario.judgements import ByRegime, Uncertain, UncertainShift
from sim.scenario.models import Calendar, Constraint, Event, Item, Regime, Rounds, Scenario, Trust


@dataclass
class Sections:
    """Whatever validated of a scenario: each section (None if it did not) and each entry."""

    calendar: Calendar | None = None
    rounds: Rounds | None = None
    items: dict[str, Item] = field(default_factory=dict)
    constraints: dict[str, Constraint] = field(default_factory=dict)
    events: dict[str, Event] = field(default_factory=dict)
    regime: Regime | None = None
    regime_given: bool = False
    """Whether the file has a 'regime' (valid or not): values per state are not judged against one that is not."""
    trust: Trust | None = None
    case_effect: float | Uncertain | ByRegime | None = None

    @property
    def horizon(self) -> float:
        """Days from the start to the horizon (the calendar must be there)."""
        assert self.calendar is not None
        return self.day(self.calendar.horizon)

    def day(self, value: float | dt.date) -> float:
        """Days from ``calendar.start`` for a day or a date (the calendar must be there)."""
        assert self.calendar is not None
        return float((value - self.calendar.start).days) if isinstance(value, dt.date) else float(value)


def _one(model: type[BaseModel], value: Any) -> Any:
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


def _each(model: type[BaseModel], value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    found = {name: _one(model, entry) for name, entry in value.items() if isinstance(name, str)}
    return {name: entry for name, entry in found.items() if entry is not None}


_SHIFT: TypeAdapter[Any] = TypeAdapter(UncertainShift)


def sections(data: Any, scenario: Scenario | None = None) -> Sections | Scenario:
    """The scenario itself where it is valid, else whatever of ``data`` validates on its own."""
    if scenario is not None:
        return scenario
    if not isinstance(data, dict):
        return Sections()
    effect = None
    if data.get("case_effect") is not None:
        try:
            effect = _SHIFT.validate_python(data["case_effect"])
        except ValidationError:
            effect = None
    return Sections(
        calendar=_one(Calendar, data.get("calendar")),
        rounds=_one(Rounds, data.get("rounds")),
        items=_each(Item, data.get("items")),
        constraints=_each(Constraint, data.get("constraints")),
        events=_each(Event, data.get("events")),
        regime=_one(Regime, data["regime"]) if data.get("regime") is not None else None,
        regime_given=data.get("regime") is not None,
        trust=_one(Trust, data.get("trust", {})),
        case_effect=effect,
    )
