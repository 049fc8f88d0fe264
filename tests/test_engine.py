"""The batch engine against the SimPy model: the same records, byte for byte, on every kind of scenario."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.engine.plan import compile_plan
from sim.engine.simulate import simulate
from sim.scenario.load import load_scenario
from sim.scenario.models import Scenario
from tests.helpers import ROOT, SCENARIOS, make

FILES = [*sorted(SCENARIOS.glob("*.yaml")), ROOT / "benchmarks" / "synthetic.yaml"]


def same(s: Scenario, start: int, stop: int) -> None:
    plan = compile_plan(s)
    reference = simulate(plan, start, stop, engine="simpy")
    batch = simulate(plan, start, stop, engine="batch")
    assert batch.equals(reference)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_bundled_scenarios(path: Path) -> None:
    same(load_scenario(path), 0, 1500)


def test_long_horizons_need_several_chunks_of_draws() -> None:
    # Weekly rounds for three years: 157 rounds, five chunks of item draws; events beyond 32 too.
    s = make(
        calendar={"horizon": 1095},
        rounds={"interval": {"dist": "uniform", "low": 5, "high": 9}},
        items={"a": {"p": 0.01}, "b": {"p": 0.02, "requires": ["a"]}},
        constraints={"c": {"active": False, "lift": {"rate": 20, "reviews": {"first": 3, "every": 7}, "p": 0.3}}},
        events={"e": {"rate": 40, "impose": ["c"], "suspend": {"dist": "exponential", "mean": 2}}},
    )
    same(s, 100, 400)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    n_items = draw(st.integers(1, 6))
    cons = [f"c{i}" for i in range(draw(st.integers(0, 3)))]
    items = {}
    for i in range(n_items):
        item: dict[str, object] = {}
        if draw(st.booleans()):
            item["p"] = draw(st.sampled_from([0.0, 0.05, 0.3, 0.7, 1.0]))
        else:
            item["accept"] = {"x": draw(st.sampled_from([0.5, 0.9, 1.0])), "y": draw(st.sampled_from([0.3, 1.0]))}
        reqs = draw(st.lists(st.integers(0, i - 1), max_size=2, unique=True)) if i else []
        if reqs:
            item["requires"] = [f"i{r}" for r in reqs]
        effects = {c: draw(st.sampled_from(["block", 0.0, 0.5, 3.0])) for c in cons if draw(st.booleans())}
        if effects:
            item["constraints"] = effects
        item["after_rounds"] = draw(st.integers(0, 2))
        item["priority"] = draw(st.integers(-1, 2))
        if draw(st.integers(0, 4)) == 0:
            item["trust_gain"] = draw(st.sampled_from([-1.0, 0.5, 3.0]))
        if i == 0 and draw(st.integers(0, 4)) == 0:
            item["status"] = "agreed"
        items[f"i{i}"] = item
    constraints: dict[str, object] = {}
    for c in cons:
        lift: dict[str, object] = {}
        for kind in draw(st.lists(st.sampled_from(["reviews", "rate", "on", "when"]), min_size=1, unique=True)):
            if kind == "reviews":
                lift.update(
                    reviews={"first": draw(st.sampled_from(["2024-09-23", 0, 15, 60])), "every": 30},
                    p=draw(st.sampled_from([0.0, 0.4, 1.0])),
                )
            elif kind == "rate":
                lift["rate"] = draw(st.sampled_from([0.5, 6.0]))
            elif kind == "on":
                lift["on"] = draw(st.sampled_from([0, 30, 90]))
            else:
                lift["when_agreed"] = [f"i{draw(st.integers(0, n_items - 1))}"]
        constraints[c] = {"active": draw(st.booleans()), "lift": lift}
    events: dict[str, object] = {}
    for e in range(draw(st.integers(0, 3))):
        event: dict[str, object] = {"trust": draw(st.sampled_from([0.0, 0.4, -0.9]))}
        timing = draw(st.sampled_from(["rate", "dates", "both"]))
        if timing in ("rate", "both"):
            event["rate"] = draw(st.sampled_from([0.0, 2.0, 12.0]))
        if timing in ("dates", "both"):
            event["dates"] = draw(st.lists(st.sampled_from([0, 10, 30, 30, 75]), min_size=1, max_size=3))
        if draw(st.booleans()):
            event["suspend"] = draw(st.sampled_from([5, {"dist": "uniform", "low": 0, "high": 40}]))
        event["breakdown"] = draw(st.sampled_from([0.0, 0.1, 1.0]))
        if cons and draw(st.booleans()):
            event["impose"] = draw(st.lists(st.sampled_from(cons), min_size=1, max_size=2, unique=True))
        events[f"e{e}"] = event
    first = draw(st.sampled_from([0, 12, {"dist": "triangular", "low": 0, "mode": 5, "high": 30}]))
    return make(
        calendar={"horizon": draw(st.sampled_from([30, 90, 240]))},
        parties={"x": {}, "y": {}},
        rounds={
            "first": first,
            "interval": draw(
                st.sampled_from([10, {"dist": "uniform", "low": 0, "high": 20}, {"dist": "exponential", "mean": 15}])
            ),
            "cancel": draw(st.sampled_from([0.0, 0.3])),
            "capacity": draw(st.integers(1, 4)),
        },
        items=items,
        constraints=constraints,
        events=events,
        trust={
            "initial": draw(st.sampled_from([0.0, 0.5])),
            "weight": draw(st.sampled_from([0.0, 1.0, 3.0])),
            "on_agreement": draw(st.sampled_from([0.0, 0.2])),
            "min": -1.0,
            "max": 1.0,
        },
    )


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(s=scenarios(), start=st.integers(0, 5000))
def test_random_scenarios(s: Scenario, start: int) -> None:
    same(s, start, start + 40)
