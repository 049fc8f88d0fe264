"""The two clocks: the batch engine and the SimPy model give the same records, byte for byte,
and a rule changed in the rule book changes what both write."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.engine import rules
from sim.engine.plan import compile_plan
from sim.engine.simulate import simulate
from sim.scenario.load import load_scenario
from sim.scenario.models import Scenario
from tests.helpers import BUNDLED, ROOT, SCENARIOS, examples, make, stem
from tests.strategies import coincidences, scenarios

FILES = [*BUNDLED, ROOT / "benchmarks" / "synthetic.yaml"]


def same(s: Scenario, start: int, stop: int) -> None:
    plan = compile_plan(s)
    reference = simulate(plan, start, stop, engine="simpy")
    batch = simulate(plan, start, stop, engine="batch")
    assert batch.equals(reference)


@pytest.mark.parametrize("path", FILES, ids=stem)
def test_bundled_scenarios(path: Path) -> None:
    """Every bundled scenario: the same records from both clocks (fewer replications for the backtest cases,
    whose full runs the goldens pin as well, and fewer still for the libraries kept as earlier versions
    scored them, whose rules the current ones use too)."""
    kept = path.parent.parent.name.startswith("backtests-") and path.parent.parent.name != "backtests-heldout"
    same(load_scenario(path), 0, 800 if path.name != "scenario.yaml" else 100 if kept else 300)


def test_long_horizons_need_several_chunks_of_draws() -> None:
    """Weekly rounds for three years (157 rounds, five chunks of item draws) and 40 events a year."""
    s = make(
        calendar={"horizon": 1095},
        rounds={"interval": {"dist": "uniform", "low": 5, "high": 9}},
        items={"a": {"p": 0.01}, "b": {"p": 0.02, "requires": ["a"]}},
        constraints={"c": {"active": False, "lift": {"rate": 20, "reviews": {"first": 3, "every": 7}, "p": 0.3}}},
        events={"e": {"rate": 40, "impose": ["c"], "suspend": {"dist": "exponential", "mean": 2}}},
    )
    same(s, 100, 400)


def test_a_suspension_ending_on_a_round_day_lets_that_round_be_held() -> None:
    """Talks suspended on day 12 for 30 days: the round on day 42 is held, by both clocks."""
    s = make(
        calendar={"horizon": 100},
        rounds={"interval": 42},
        items={"a": {"p": 0.0}},
        events={"off": {"dates": [12], "suspend": 30}},
    )
    for engine in ("batch", "simpy"):
        rec = simulate(compile_plan(s), 0, 5, engine=engine)
        assert rec.rounds_held.tolist() == [3] * 5, engine  # days 0, 42, 84
        assert rec.rounds_suspended.tolist() == [0] * 5, engine


@settings(max_examples=examples(120), deadline=None, suppress_health_check=list(HealthCheck))
@given(s=scenarios(), start=st.integers(0, 5000))
def test_random_scenarios(s: Scenario, start: int) -> None:
    """Scenarios using every field, random timings: the same records."""
    same(s, start, start + 30)


@settings(max_examples=examples(120), deadline=None, suppress_health_check=list(HealthCheck))
@given(s=coincidences(), start=st.integers(0, 5000))
def test_coincident_times(s: Scenario, start: int) -> None:
    """Events, reviews, lifts and suspension ends on round days and on the horizon: the same records."""
    same(s, start, start + 30)


TRUSTING = make(
    calendar={"horizon": 40},
    items={"a": {"p": 0.1}, "b": {"p": 0.1, "requires": ["a"]}},
    trust={"initial": 0.5, "weight": 1.0, "on_agreement": 0.3},
)


def steeper(plan, judged, trust, active):
    """The rule with its trust slope raised by 50%."""
    return ORIGINAL(plan, judged, trust * 1.5, active)


ORIGINAL = rules.agreement_probability


def test_a_rule_change_reaches_both_engines(monkeypatch: pytest.MonkeyPatch) -> None:
    """Raising the trust slope in the rule book changes the records of both clocks, alike."""
    plan = compile_plan(TRUSTING)
    before = simulate(plan, 0, 300)
    monkeypatch.setattr(rules, "agreement_probability", steeper)
    batch, reference = simulate(plan, 0, 300), simulate(plan, 0, 300, engine="simpy")
    assert batch.equals(reference)
    assert not batch.equals(before)
    assert batch.item_agreed.sum() > before.item_agreed.sum()  # more trust, more agreements


def test_a_rule_change_reaches_the_result_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``negsim run`` writes other items.parquet and summary.json once the rule book changes."""
    path = SCENARIOS / "istanbul-2025.yaml"
    common = ["run", str(path), "-n", "2000", "--jobs", "1", "--no-plots", "--quiet"]
    assert main([*common, "--out", str(tmp_path / "a")]) == 0
    monkeypatch.setattr(rules, "agreement_probability", steeper)
    assert main([*common, "--out", str(tmp_path / "b")]) == 0
    for name in ("items.parquet", "summary.json"):
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes(), name


def test_engines_are_named() -> None:
    """An unknown engine is refused, not silently replaced."""
    with pytest.raises(ValueError, match="unknown engine"):
        simulate(compile_plan(TRUSTING), 0, 1, engine="fast")
    assert np.array_equal(simulate(compile_plan(TRUSTING), 0, 0).item_agreed, np.zeros((0, 2), bool))


@pytest.mark.parametrize(("lift", "why"), [({"rate": 50}, "hazard"), ({"on": 20}, "on its date")])
def test_a_trace_says_why_a_constraint_was_lifted(lift: dict[str, float], why: str) -> None:
    """A lift by the constraint's hazard and one on its fixed date are told apart in the trace
    (the mutation run found the reason could be anything)."""
    from sim.engine.trace import trace

    s = make(calendar={"horizon": 300}, items={"a": {"p": 0.0}}, constraints={"c": {"lift": lift}})
    lines, rec = trace(s)
    lifted = [text for _, kind, _, text in lines if kind == "lifted"]
    assert lifted == [f"c lifted ({why})"] and rec.constraint_lifted[0, 0]


def test_a_trace_names_each_state_the_regime_moves_into() -> None:
    """Each move of the regime is a trace line whose subject is the state moved into, alternating
    between the two states, one a move from the other (the subject could be anything before)."""
    from sim.engine.trace import trace

    s = make(
        calendar={"horizon": 300},
        items={"a": {"p": 0.0}},
        regime={"states": {"on": {"share": 0.5, "to": {"off": 20}}, "off": {"to": {"on": 20}}}},
    )
    lines, rec = trace(s)
    moves = [(subject, text) for _, kind, subject, text in lines if kind == "regime"]
    assert len(moves) > 2 and all(text == f"regime: now {subject}" for subject, text in moves[1:])
    assert all(a[0] != b[0] for a, b in itertools.pairwise(moves))
    assert moves[-1][0] == ("on", "off")[int(rec.regime[0])]


def test_a_trace_line_names_its_subject_and_says_why() -> None:
    """Every trace line of a step about an item, a constraint, an event or a regime state has that
    name for its subject (a line about the rounds has none), and says why a decision was taken and
    a constraint lifted. The mutation run found subjects and reasons that could be anything."""
    from sim.engine.trace import trace

    s = make(
        calendar={"horizon": 120},
        items={
            "treaty": {"p": 1.0, "decides": ["embassy", "charter"]},
            "embassy": {"p": 0.0, "constraints": {"ban": "block"}, "enact": {"p": 1.0, "lag": 5}},
            "charter": {"p": 1.0, "after_rounds": 1, "enact": {"p": 1.0, "lag": 15}},
            "visas": {"status": "agreed", "p": 0.5},
            "flights": {"p": 0.0, "enact": {"after": ["visas"], "p": 1.0, "lag": 3}},
        },
        constraints={
            "ban": {"lift": {"on": 20}},
            "sanction": {"lift": {"when_agreed": ["treaty"]}},
            "quota": {"lift": {"reviews": {"first": 30, "every": 30}, "p": 1.0}},
            "cap": {"lift": {"reviews": {"first": 30, "every": 100}, "p": 0.0}},
            "embargo": {"active": False, "lift": {"when_agreed": ["treaty"]}},
        },
        events={
            "row": {"dates": [40], "trust": -0.5, "suspend": 15, "impose": ["embargo"]},
            "walkout": {"dates": [90], "breakdown": 1.0},
        },
        regime={"states": {"calm": {"share": 1.0}, "tense": {}}},
    )
    lines, _ = trace(s)
    said = {(kind, subject, text) for _, kind, subject, text in lines}
    expected = {
        ("regime", "calm", "regime: calm"),
        ("decided", "flights", "flights decided (agreed before the start): to be enacted in 3 days"),
        ("decided", "embassy", "embassy decided (its items are agreed): to be enacted in 5 days"),
        ("decided", "embassy", "embassy due for enactment, but blocked: it waits"),
        ("lifted", "sanction", "sanction lifted (its items are agreed)"),
        ("lifted", "ban", "ban lifted (on its date)"),
        ("lifted", "quota", "quota lifted (at review 1)"),
        ("review", "cap", "cap reviewed and kept"),
        ("imposed", "embargo", "embargo imposed"),
        ("lifted", "embargo", "embargo lifted (its items are agreed)"),
        ("event", "row", "row; trust +0.00 -> -0.50"),
        ("suspended", "row", "talks suspended for 15 days"),
        ("breakdown", "walkout", "talks broken off for good"),
    }
    assert expected <= said, sorted(expected - said)
    assert all(subject == "" for _, kind, subject, _ in lines if kind == "round")
    # the charter is agreed in the second round (day 10), before its enactment falls due (day 15)
    assert not any(subject == "charter" and "due for enactment" in text for _, _, subject, text in lines)


def test_a_trace_says_the_leaders_decided_and_what_followed() -> None:
    """The leaders' decision at the start and on moving into the decided state are told in words,
    with the lag, and the enactment that follows says how long after the decision it came."""
    from sim.engine.trace import trace

    s = make(
        calendar={"horizon": 400},
        items={"treaty": {"p": 0.0, "enact": {"lag": 12}}, "embassy": {"p": 0.0, "enact": {"lag": 30}}},
        regime={
            "states": {
                "decided": {"share": 1.0, "decides": ["treaty"]},
                "undecided": {},
            }
        },
    )
    lines, _ = trace(s)
    said = [(kind, subject, text) for _, kind, subject, text in lines if subject == "treaty"]
    assert said == [
        ("decided", "treaty", "treaty decided (the leaders' decision): to be enacted in 12 days"),
        ("enacted", "treaty", "treaty enacted 12 days after the decision; trust +0.00 -> +0.00"),
    ]
    later = make(
        calendar={"horizon": 400},
        items={"treaty": {"p": 0.0, "enact": {"lag": 12}}},
        regime={"states": {"decided": {"share": 0.0, "decides": ["treaty"]}, "undecided": {"to": {"decided": 50}}}},
    )
    lines, _ = trace(later)
    decided = [(day, text) for day, kind, _, text in lines if kind == "decided"]
    moved = [day for day, kind, _, text in lines if kind == "regime" and text == "regime: now decided"]
    assert decided == [(moved[0], "treaty decided (the leaders decided): to be enacted in 12 days")]


def test_a_trace_is_of_one_replication() -> None:
    """A state asked to trace more than one replication is refused, saying so."""
    from sim.engine.draws import Draws
    from sim.engine.state import State

    plan = compile_plan(TRUSTING)
    with pytest.raises(ValueError, match=r"^a trace tells one replication$"):
        State(plan, Draws(plan, 0, 2), [])
