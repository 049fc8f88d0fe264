"""Tier 1 and 2: exact behaviour of single replications, and invariants under Hypothesis."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.engine.model import replicate
from sim.engine.plan import compile_plan
from sim.engine.simulate import simulate
from sim.scenario.models import Scenario
from tests.helpers import examples, make
from tests.strategies import small_scenarios


def trace_of(s: Scenario, rep: int = 0) -> list[tuple[float, str, str, str]]:
    plan = compile_plan(s)
    lines: list[tuple[float, str, str, str]] = []
    replicate(plan, rep, lines)
    return lines


def test_suspension_covers_rounds_in_its_window_and_events_come_first() -> None:
    # Event at day 20 (same day as a round) suspends for exactly 25 days: rounds at 20, 30, 40
    # are not held; the round at 50 is.
    s = make(calendar={"horizon": 60}, items={"a": {"p": 0.0}}, events={"crisis": {"dates": [20], "suspend": 25}})
    rec = simulate(compile_plan(s), 0, 50)
    assert (rec.rounds_held == 4).all()  # days 0, 10, 50, 60
    assert (rec.rounds_suspended == 3).all()
    held = [d for d, kind, _, text in trace_of(s) if kind == "round" and "held" in text and "not" not in text]
    assert held == [0.0, 10.0, 50.0, 60.0]


def test_a_round_exactly_at_the_horizon_is_held() -> None:
    s = make(calendar={"horizon": 30}, items={"a": {"p": 1.0, "after_rounds": 3}})
    rec = simulate(compile_plan(s), 0, 10)
    assert (rec.item_day[:, 0] == 30).all()
    assert (rec.rounds_held == 4).all()


def test_lift_on_a_date_and_a_round_the_same_day() -> None:
    s = make(
        calendar={"horizon": 100},
        items={"a": {"p": 1.0, "constraints": {"ban": "block"}}},
        constraints={"ban": {"lift": {"on": 40}}},
    )
    rec = simulate(compile_plan(s), 0, 10)
    assert (rec.item_day[:, 0] == 40).all()
    assert (rec.constraint_day[:, 0] == 40).all()
    assert not rec.constraint_active.any()


def test_breakdown_ends_the_rounds() -> None:
    s = make(calendar={"horizon": 100}, items={"a": {"p": 0.0}}, events={"walkout": {"dates": [35], "breakdown": 1.0}})
    rec = simulate(compile_plan(s), 0, 10)
    assert rec.breakdown.all() and (rec.breakdown_day == 35).all()
    assert (rec.rounds_held == 4).all()  # days 0, 10, 20, 30


def test_items_agreed_before_the_start() -> None:
    s = make(
        items={"done": {"p": 0.0, "status": "agreed"}, "next": {"p": 1.0, "requires": ["done"]}},
        constraints={"gate": {"lift": {"when_agreed": ["done"]}}},
    )
    rec = simulate(compile_plan(s), 0, 5)
    assert rec.item_agreed.all()
    assert (rec.item_round[:, 0] == 0).all() and (rec.item_day[:, 0] == 0).all()
    assert (rec.item_round[:, 1] == 1).all()
    assert (rec.constraint_day[:, 0] == 0).all()  # lifted at once: its item is already agreed


def test_an_event_imposes_a_constraint_again() -> None:
    s = make(
        calendar={"horizon": 100},
        items={"a": {"p": 1.0, "constraints": {"ban": "block"}}},
        constraints={"ban": {"active": False, "lift": {"on": 65}}},
        events={"shock": {"dates": [5], "impose": ["ban"]}},
    )
    rec = simulate(compile_plan(s), 0, 5)
    assert (rec.item_day[:, 0] == 0).all()  # agreed at day 0, before the shock
    s2 = make(
        calendar={"horizon": 100},
        rounds={"first": 10},
        items={"a": {"p": 1.0, "constraints": {"ban": "block"}}},
        constraints={"ban": {"active": False, "lift": {"on": 65}}},
        events={"shock": {"dates": [5], "impose": ["ban"]}},
    )
    rec2 = simulate(compile_plan(s2), 0, 5)
    assert (rec2.item_day[:, 0] == 70).all()  # blocked from day 5, lifted on 65, next round 70


def test_reviews_keep_their_calendar_when_imposed_again() -> None:
    s = make(
        calendar={"horizon": 200},
        items={"a": {"p": 0.0}},
        constraints={"ban": {"active": False, "lift": {"reviews": {"first": 30, "every": 30}, "p": 1.0}}},
        events={"shock": {"dates": [45, 100], "impose": ["ban"]}},
    )
    rec = simulate(compile_plan(s), 0, 5)
    assert (rec.constraint_day[:, 0] == 60).all()  # first lift at the review after day 45
    assert (rec.constraint_lifts[:, 0] == 2).all()  # and again at 120
    lifted = [d for d, kind, _, _ in trace_of(s) if kind == "lifted"]
    assert lifted == [60.0, 120.0]


def test_first_round_may_be_a_date_or_a_distribution() -> None:
    s = make(calendar={"start": "2025-01-01", "horizon": 100}, rounds={"first": "2025-01-21"}, items={"a": {"p": 1.0}})
    rec = simulate(compile_plan(s), 0, 3)
    assert (rec.item_day[:, 0] == 20).all()
    s2 = make(rounds={"first": {"dist": "uniform", "low": 5, "high": 15}}, items={"a": {"p": 1.0}})
    days = simulate(compile_plan(s2), 0, 500).item_day[:, 0]
    assert days.min() >= 5 and days.max() < 15 and np.unique(days).size == 500


def test_streams_are_synchronised_across_scenario_changes() -> None:
    # Adding an item, or changing another item's p, leaves item a's outcome in every replication as it was.
    base = make(calendar={"horizon": 95}, items={"a": {"p": 0.2}, "b": {"p": 0.5}})
    more = make(calendar={"horizon": 95}, items={"a": {"p": 0.2}, "b": {"p": 0.9}, "c": {"p": 0.3}})
    r1 = simulate(compile_plan(base), 0, 2000)
    r2 = simulate(compile_plan(more), 0, 2000)
    assert np.array_equal(r1.item_day[:, 0], r2.item_day[:, 0], equal_nan=True)
    # Raising a's p can only bring its agreement forward (draws are compared with p).
    higher = make(calendar={"horizon": 95}, items={"a": {"p": 0.4}, "b": {"p": 0.5}})
    r3 = simulate(compile_plan(higher), 0, 2000)
    d1 = np.nan_to_num(r1.item_day[:, 0], nan=np.inf)
    d3 = np.nan_to_num(r3.item_day[:, 0], nan=np.inf)
    assert (d3 <= d1).all() and (d3 < d1).any()


# ---------------------------------------------------------------------- Hypothesis invariants


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=small_scenarios(), rep=st.integers(0, 10_000))
def test_a_blocked_item_is_never_agreed_while_its_constraint_is_active(s: Scenario, rep: int) -> None:
    plan = compile_plan(s)
    active = {c.name: c.active0 for c in plan.constraints}
    agreed: set[str] = {n for n, it in s.items.items() if it.status == "agreed"}
    for _day, kind, subject, _ in trace_of(s, rep):
        if kind == "lifted":
            active[subject] = False
        elif kind == "imposed":
            active[subject] = True
        elif kind in ("agreed", "enacted", "outside"):
            item = s.items[subject]
            blockers = [c for c, v in item.constraints.items() if v == "block" and active[c]]
            assert not blockers, f"{subject} agreed while {blockers} active"
            assert all(r in agreed for r in item.requires)
            agreed.add(subject)


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=small_scenarios(), start=st.integers(0, 300), size=st.integers(1, 40), pick=st.integers(0, 39))
def test_replication_i_is_the_same_in_any_batch(s: Scenario, start: int, size: int, pick: int) -> None:
    plan = compile_plan(s)
    i = start + pick % size
    batch = simulate(plan, start, start + size)
    alone = simulate(plan, i, i + 1)
    row = i - start
    for field in ("item_agreed", "item_day", "item_round", "constraint_day", "rounds_held", "trust", "event_count"):
        a = getattr(batch, field)[row]
        b = getattr(alone, field)[0]
        assert np.array_equal(a, b, equal_nan=True), field


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=small_scenarios())
def test_records_are_consistent(s: Scenario) -> None:
    rec = simulate(compile_plan(s), 0, 30)
    assert np.array_equal(rec.item_agreed, ~np.isnan(rec.item_day))
    assert ((rec.item_round >= 1) | ~rec.item_agreed | (rec.item_day == 0)).all()
    assert (rec.item_day[rec.item_agreed] <= s.horizon).all()
    assert ((rec.trust >= s.trust.min) & (rec.trust <= s.trust.max)).all()
    assert np.array_equal(rec.constraint_lifted, ~np.isnan(rec.constraint_day))
    for x, item in enumerate(s.items.values()):
        for r in item.requires:
            y = list(s.items).index(r)
            both = rec.item_agreed[:, x]
            assert rec.item_agreed[both, y].all()
            assert (rec.item_day[both, y] <= rec.item_day[both, x]).all()
    assert not math.isnan(rec.trust.sum())


def test_constraints_in_force_are_recorded_on_64_days() -> None:
    """Bit g of the in-force record: the constraint active at the end of day g * horizon / 63. Imposed on
    day 20 and lifted on its date (day 60): off, on from day 20, off from day 60, in both clocks."""
    from sim.engine.rules import in_force_days

    s = make(
        calendar={"horizon": 126},
        items={"a": {"p": 0.0}},
        constraints={"ban": {"active": False, "lift": {"on": 60}}, "always": {"lift": {"on": 200}}},
        events={"shock": {"dates": [20], "impose": ["ban"]}},
    )
    days = in_force_days(126.0)
    expected = sum(1 << g for g, d in enumerate(days) if 20 <= d < 60)
    for engine in ("batch", "simpy"):
        rec = simulate(compile_plan(s), 0, 3, engine=engine)
        assert rec.constraint_in_force[:, 0].tolist() == [expected] * 3, engine
        assert rec.constraint_in_force[:, 1].tolist() == [2**64 - 1] * 3, engine  # in force throughout
