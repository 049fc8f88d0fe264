"""Hypothesis strategies: scenarios built in code, for invariants and the two-engine identity."""

from __future__ import annotations

from hypothesis import strategies as st

from sim.scenario.models import Scenario
from tests.helpers import make


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """Scenarios using every field of the format, with random timings: for the two-engine identity."""
    n_items = draw(st.integers(1, 6))
    cons = [f"c{i}" for i in range(draw(st.integers(0, 3)))]
    with_regime = draw(st.integers(0, 2)) == 0
    items = {}
    for i in range(n_items):
        item: dict[str, object] = {}
        if with_regime and draw(st.booleans()):
            item["p"] = {"regime": {"yes": draw(st.sampled_from([0.3, 0.9])), "no": draw(st.sampled_from([0.0, 0.05]))}}
            if draw(st.booleans()):
                item["hazard"] = {"regime": {"yes": 8.0, "no": 0.0}}
        elif draw(st.booleans()):
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
        if "hazard" not in item and draw(st.integers(0, 3)) == 0:
            item["hazard"] = draw(st.sampled_from([0.0, 2.0, 20.0, {"dist": "gamma", "shape": 2, "scale": 3}]))
        if draw(st.integers(0, 2)) == 0:
            after = draw(st.lists(st.integers(0, i - 1), max_size=2, unique=True)) if i else []
            item["enact"] = {
                "p": draw(st.sampled_from([0.5, 1.0, {"dist": "beta", "mean": 0.7, "concentration": 5}])),
                "lag": draw(st.sampled_from([0, 5, {"dist": "uniform", "low": 0, "high": 30}])),
            }
            if after:
                item["enact"]["after"] = [f"i{a}" for a in after]  # type: ignore[index]
        items[f"i{i}"] = item
    enacted = [name for name, item in items.items() if "enact" in item]
    for name, item in items.items():
        if enacted and draw(st.integers(0, 3)) == 0:
            picks = draw(st.lists(st.sampled_from(enacted), min_size=1, max_size=2, unique=True))
            if name not in picks:
                item["decides"] = picks
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
        if draw(st.integers(0, 2)) == 0:
            event["pause"] = draw(st.sampled_from([0.0, 0.5, 1.0]))
        if enacted and draw(st.integers(0, 2)) == 0:
            event["decides"] = draw(st.lists(st.sampled_from(enacted), min_size=1, max_size=2, unique=True))
        events[f"e{e}"] = event
    first = draw(st.sampled_from([0, 12, {"dist": "triangular", "low": 0, "mode": 5, "high": 30}]))
    extra: dict[str, object] = {}
    if with_regime:
        extra["regime"] = {
            "states": {
                "yes": {
                    "share": draw(st.sampled_from([0.3, {"dist": "beta", "mean": 0.5, "concentration": 4}])),
                    "odds": draw(st.sampled_from([1.0, 4.0])),
                    "hazard": draw(st.sampled_from([0.0, 3.0])),
                    "stall": 0.5,
                },
                "no": {"odds": draw(st.sampled_from([0.25, 1.0]))},
            }
        }
        if draw(st.booleans()):
            extra["regime"]["states"]["no"]["to"] = {"yes": draw(st.sampled_from([2.0, 12.0]))}  # type: ignore[index]
            if draw(st.booleans()):
                extra["regime"]["states"]["yes"]["to"] = {"no": 4.0}  # type: ignore[index]
        if enacted and draw(st.booleans()):  # the leaders' decision puts items in principle
            picks = draw(st.lists(st.sampled_from(enacted), min_size=1, max_size=2, unique=True))
            extra["regime"]["states"]["yes"]["decides"] = picks  # type: ignore[index]
    talks: dict[str, object] = {}
    if draw(st.integers(0, 2)) == 0:
        talks["stall"] = draw(st.sampled_from([2.0, 12.0]))
        if draw(st.booleans()):
            talks["resume"] = draw(st.sampled_from([4.0, 20.0]))
    elif any("pause" in ev for ev in events.values()) and draw(st.booleans()):  # type: ignore[operator]
        talks["resume"] = 6.0
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
            **talks,
        },
        items=items,
        constraints=constraints,
        events=events,
        **extra,
        trust={
            "initial": draw(st.sampled_from([0.0, 0.5])),
            "weight": draw(st.sampled_from([0.0, 1.0, 3.0])),
            "on_agreement": draw(st.sampled_from([0.0, 0.2])),
            "min": -1.0,
            "max": 1.0,
        },
    )


@st.composite
def small_scenarios(draw: st.DrawFn) -> Scenario:
    """Small scenarios with every kind of constraint and an imposing event: for invariants."""
    n_items = draw(st.integers(1, 5))
    n_cons = draw(st.integers(0, 3))
    cons = [f"c{i}" for i in range(n_cons)]
    items = {}
    for i in range(n_items):
        item: dict[str, object] = {"p": draw(st.sampled_from([0.0, 0.2, 0.5, 0.9, 1.0]))}
        req = draw(st.lists(st.integers(0, i - 1), max_size=2, unique=True)) if i else []
        if req:
            item["requires"] = [f"i{r}" for r in req]
        effects = {c: draw(st.sampled_from(["block", 0.5, 1.5])) for c in cons if draw(st.booleans())}
        if effects:
            item["constraints"] = effects
        item["after_rounds"] = draw(st.integers(0, 2))
        item["priority"] = draw(st.integers(0, 2))
        items[f"i{i}"] = item
    constraints = {}
    for c in cons:
        kind = draw(st.sampled_from(["reviews", "rate", "on", "when"]))
        lift: dict[str, object] = {
            "reviews": {"reviews": {"first": 15, "every": 40}, "p": 0.5},
            "rate": {"rate": 2.0},
            "on": {"on": 70},
            "when": {"when_agreed": ["i0"]},
        }[kind]
        constraints[c] = {"active": draw(st.booleans()), "lift": lift}
    events = {}
    if cons and draw(st.booleans()):
        events["shock"] = {
            "rate": 4.0,
            "trust": -0.3,
            "impose": [draw(st.sampled_from(cons))],
            "suspend": {"dist": "uniform", "low": 0, "high": 30},
            "breakdown": 0.1,
        }
    return make(
        calendar={"horizon": draw(st.sampled_from([60, 150]))},
        rounds={
            "interval": {"dist": "uniform", "low": 5, "high": 25},
            "cancel": 0.2,
            "capacity": draw(st.integers(1, 3)),
        },
        items=items,
        constraints=constraints,
        events=events,
        trust={"on_agreement": 0.2},
    )


@st.composite
def coincidences(draw: st.DrawFn) -> Scenario:
    """Scenarios whose times collide on purpose: events, reviews, fixed lifts and the ends of
    suspensions land on round days, and rounds, events and reviews land on the horizon. Every tie
    the order of Semantics 7 must break, and every boundary (a suspension ending on a round's day)
    a rule must decide, comes up."""
    interval = draw(st.sampled_from([7, 10, 30, 42]))
    first = draw(st.sampled_from([0, interval // 2]))
    rounds = draw(st.integers(3, 8))
    horizon = first + interval * rounds  # a round exactly at the horizon
    days = [first + j * interval for j in range(rounds + 1)]
    on_a_round = st.sampled_from(days)
    n_items = draw(st.integers(1, 4))
    cons = [f"c{i}" for i in range(draw(st.integers(0, 2)))]
    items: dict[str, object] = {}
    for i in range(n_items):
        item: dict[str, object] = {"p": draw(st.sampled_from([0.3, 0.7, 1.0]))}
        if i and draw(st.booleans()):
            item["requires"] = [f"i{draw(st.integers(0, i - 1))}"]
        effects = {c: draw(st.sampled_from(["block", 0.5])) for c in cons if draw(st.booleans())}
        if effects:
            item["constraints"] = effects
        item["after_rounds"] = draw(st.integers(0, 1))
        if draw(st.integers(0, 2)) == 0:  # enacted a whole number of intervals after its decision
            item["enact"] = {"p": draw(st.sampled_from([0.6, 1.0])), "lag": interval * draw(st.integers(0, 2))}
            if i:
                item["enact"]["after"] = [f"i{draw(st.integers(0, i - 1))}"]  # type: ignore[index]
        items[f"i{i}"] = item
    enacted = [name for name, item in items.items() if "enact" in item]
    constraints: dict[str, object] = {}
    for c in cons:
        lift: dict[str, object] = {}
        for kind in draw(st.lists(st.sampled_from(["reviews", "on", "when"]), min_size=1, unique=True)):
            if kind == "reviews":
                every = draw(st.sampled_from([interval, 2 * interval]))
                lift.update(reviews={"first": draw(on_a_round), "every": every}, p=draw(st.sampled_from([0.5, 1.0])))
            elif kind == "on":
                lift["on"] = draw(on_a_round)
            else:
                lift["when_agreed"] = [f"i{draw(st.integers(0, n_items - 1))}"]
        constraints[c] = {"active": draw(st.booleans()), "lift": lift}
    events: dict[str, object] = {}
    for e in range(draw(st.integers(1, 3))):
        when = draw(st.lists(st.sampled_from([0, *days, horizon]), min_size=1, max_size=3))
        event: dict[str, object] = {"dates": when, "trust": draw(st.sampled_from([0.0, 0.5, -0.5]))}
        if draw(st.booleans()):
            start, end = sorted(draw(st.lists(on_a_round, min_size=2, max_size=2)))
            event["dates"] = [start, *when]
            event["suspend"] = max(end - start, 0)  # from one round's day exactly to another's
        event["breakdown"] = draw(st.sampled_from([0.0, 0.0, 0.3]))
        if cons and draw(st.booleans()):
            event["impose"] = [draw(st.sampled_from(cons))]
        if draw(st.integers(0, 2)) == 0:
            event["pause"] = draw(st.sampled_from([0.5, 1.0]))
        if enacted and draw(st.booleans()):
            event["decides"] = [draw(st.sampled_from(enacted))]
        events[f"e{e}"] = event
    talks = {"resume": 365.0 / interval} if any("pause" in ev for ev in events.values()) else {}  # type: ignore[operator]
    return make(
        calendar={"horizon": horizon},
        rounds={
            "first": first,
            "interval": interval,
            "cancel": draw(st.sampled_from([0.0, 0.2])),
            "capacity": draw(st.integers(1, 3)),
            **talks,
        },
        items=items,
        constraints=constraints,
        events=events,
        trust={"weight": draw(st.sampled_from([0.0, 1.0])), "on_agreement": 0.2, "min": -1.0, "max": 1.0},
    )
