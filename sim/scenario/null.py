"""The null model of a scenario: the baseline its forecasts are scored against."""

from __future__ import annotations

import math
from typing import Any

from sim.scenario.judgements import ByRegime, mean_of
from sim.scenario.models import Item, Scenario
from sim.scenario.paths import scenario_data


def null_scenario(s: Scenario) -> Scenario:
    """Each item agreed with its own constant chance in each scheduled round; nothing else.

    Same calendar, seed, replications and round schedule; no cancellations, capacity,
    requirements, preparation, constraints, trust or events, and none of the rules outside rounds
    (enactment, hazards, pauses, the regime). Items agreed before the start stay so. With a
    regime, each item's chance is its chance averaged over the regime's states (each state's odds
    applied, weighted by its share), so that the null model keeps the scenario's own average pace.
    """
    data = scenario_data(s)
    data["name"] = f"{s.name}-null"[:64]
    data["title"] = f"Null model of: {s.title or s.name}"
    data["rounds"] = {"first": data["rounds"]["first"], "interval": data["rounds"]["interval"]}
    data["items"] = {
        name: {"title": item.title or name, "p": regime_average(s, item), "status": item.status}
        for name, item in s.items.items()
    }
    data["constraints"] = {}
    data["events"] = {}
    data["trust"] = {"initial": 0.0, "weight": 0.0, "on_agreement": 0.0}
    data.pop("regime", None)
    data.pop("case_effect", None)
    return Scenario.model_validate(data)


def regime_average(s: Scenario, item: Item) -> float:
    """An item's chance per round averaged over the scenario's regime: the sum over states of
    share x expit(logit(p in that state) + log(odds)), every judgement at its mean (the item's mean p
    without a regime)."""
    if s.regime is None:
        return item.probability()
    states = s.regime.states
    shares = {name: None if st.share is None else mean_of(st.share) for name, st in states.items()}
    rest = 1.0 - sum(x for x in shares.values() if x is not None)
    out = 0.0
    for name, st in states.items():
        p = (
            in_state(item.p, name)
            if item.p is not None
            else math.prod(in_state(a, name) for a in (item.accept or {}).values())
        )
        if 0.0 < p < 1.0:
            odds = p / (1 - p) * in_state(st.odds, name)
            p = odds / (1 + odds)
        out += (rest if shares[name] is None else shares[name]) * p  # type: ignore[operator]
    return min(max(out, 0.0), 1.0)


def in_state(value: Any, state: str) -> float:
    """A judgement's mean in one state of the regime."""
    return mean_of(value.regime[state]) if isinstance(value, ByRegime) else mean_of(value)


def base_rate_scenario(s: Scenario, per_round: float) -> Scenario:
    """The base-rate forecast: the null model with one constant chance per scheduled round for
    every item, taken from a reference class (not from the scenario's own judgements)."""
    data = scenario_data(null_scenario(s))
    data["name"] = f"{s.name}-base-rate"[:64]
    data["title"] = f"Base rate ({per_round:g} a round) for: {s.title or s.name}"
    for item in data["items"].values():
        item["p"] = per_round
    return Scenario.model_validate(data)
