"""The null model of a scenario: the baseline its forecasts are scored against."""

from __future__ import annotations

from sim.scenario.models import Scenario
from sim.scenario.paths import scenario_data


def null_scenario(s: Scenario) -> Scenario:
    """Each item agreed with its own constant chance in each scheduled round; nothing else.

    Same calendar, seed, replications and round schedule; no cancellations, capacity,
    requirements, preparation, constraints, trust or events. Items agreed before the start stay so.
    """
    data = scenario_data(s)
    data["name"] = f"{s.name}-null"[:64]
    data["title"] = f"Null model of: {s.title or s.name}"
    data["rounds"] = {"first": data["rounds"]["first"], "interval": data["rounds"]["interval"]}
    data["items"] = {
        name: {"title": item.title or name, "p": item.probability(), "status": item.status}
        for name, item in s.items.items()
    }
    data["constraints"] = {}
    data["events"] = {}
    data["trust"] = {"initial": 0.0, "weight": 0.0, "on_agreement": 0.0}
    return Scenario.model_validate(data)


def base_rate_scenario(s: Scenario, per_round: float) -> Scenario:
    """The base-rate forecast: the null model with one constant chance per scheduled round for
    every item, taken from a reference class (not from the scenario's own judgements)."""
    data = scenario_data(null_scenario(s))
    data["name"] = f"{s.name}-base-rate"[:64]
    data["title"] = f"Base rate ({per_round:g} a round) for: {s.title or s.name}"
    for item in data["items"].values():
        item["p"] = per_round
    return Scenario.model_validate(data)
