"""Tier 1: the rule book's decisions, exactly, on arrays of replications."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.engine import rules
from sim.engine.params import Params
from sim.engine.plan import compile_plan, logit
from tests.helpers import make

ROWS = 3


def plan_of(**sections: object):
    return compile_plan(make(**sections))


def judged(plan, n: int = 1):
    """The judgements of n rows of a plan (its plain numbers, repeated)."""
    return Params(plan, 0, n).take(np.arange(n))


def p_eff(plan, trust: float, active: list[bool] | None = None) -> np.ndarray:
    """The rule on one row."""
    act = np.array([active or [False] * len(plan.constraints)], bool).reshape(1, len(plan.constraints))
    return rules.agreement_probability(plan, judged(plan), np.array([trust]), act)[0]


def test_logit_ends_are_infinite() -> None:
    """p = 0 and p = 1 map to -inf and +inf; logit(0.25) is log(1/3)."""
    assert logit(0.0) == -math.inf
    assert logit(1.0) == math.inf
    assert logit(0.5) == 0.0
    assert logit(0.25) == pytest.approx(math.log(1 / 3))


@pytest.mark.parametrize("trust", [-2.0, -0.3, 0.0, 0.7, 2.0])
def test_p_zero_and_one_stay_exact_whatever_the_trust(trust: float) -> None:
    """p = 0 and p = 1 are not moved by trust."""
    plan = plan_of(items={"never": {"p": 0.0}, "always": {"p": 1.0}}, trust={"weight": 1.5, "min": -2, "max": 2})
    assert p_eff(plan, trust).tolist() == [0.0, 1.0]


def test_no_trust_shift_returns_p_unchanged() -> None:
    """With weight * trust = 0, p is used as it is, bit for bit (no logit round trip)."""
    for weight, trust in ((1.0, 0.0), (0.0, 1.7)):
        plan = plan_of(items={"a": {"p": 0.1}, "b": {"p": 0.3}, "c": {"p": 0.7}}, trust={"weight": weight})
        assert p_eff(plan, trust).tolist() == [0.1, 0.3, 0.7]


def test_trust_shifts_the_logit_by_weight_times_trust() -> None:
    """p_eff = expit(logit(p) + weight * trust)."""
    plan = plan_of(items={"a": {"p": 0.2}}, trust={"weight": 2.0})
    expected = 1 / (1 + math.exp(-(math.log(0.25) + 2.0 * 0.5)))
    assert p_eff(plan, 0.5)[0] == pytest.approx(expected, rel=1e-12)
    assert p_eff(plan, -0.5)[0] == pytest.approx(1 / (1 + math.exp(-(math.log(0.25) - 1.0))), rel=1e-12)


def test_multiplier_applies_after_the_trust_shift_and_clips() -> None:
    """Active constraints multiply p_eff after the shift; the product is clipped to [0, 1]."""
    plan = plan_of(
        items={"a": {"p": 0.6, "constraints": {"half": 0.5}}, "b": {"p": 0.6, "constraints": {"double": 2.0}}},
        constraints={"half": {"lift": {"on": 5}}, "double": {"lift": {"on": 5}}},
    )
    assert p_eff(plan, 0.0, [True, True]).tolist() == [pytest.approx(0.3), 1.0]
    assert p_eff(plan, 0.0, [False, False]).tolist() == [0.6, 0.6]
    sure = plan_of(items={"a": {"p": 1.0, "constraints": {"q": 0.25}}}, constraints={"q": {"lift": {"on": 5}}})
    assert p_eff(sure, -2.0, [True])[0] == 0.25


def test_multiplier_counts_only_active_constraints_and_multiplies_them() -> None:
    """The multiplier is the product over the item's active constraints only."""
    plan = plan_of(
        items={"a": {"p": 0.1, "constraints": {"x": 0.5, "y": 0.4, "z": 3.0}}},
        constraints={c: {"lift": {"on": 5}} for c in "xyz"},
    )
    active = np.array([[True, False, False], [True, True, False], [False, False, False], [False, False, True]])
    assert rules.multiplier(plan, active, judged(plan, 4).factors)[:, 0].tolist() == [0.5, pytest.approx(0.2), 1.0, 3.0]


@given(p=st.floats(0, 1), weight=st.floats(-50, 50), trust=st.floats(-50, 50), mult=st.floats(0, 100))
def test_agreement_probability_is_a_probability(p: float, weight: float, trust: float, mult: float) -> None:
    """Whatever p, weight, trust and multiplier, p_eff lies in [0, 1], and is 0 under a zero multiplier."""
    plan = plan_of(
        items={"a": {"p": p, "constraints": {"m": mult}}},
        constraints={"m": {"lift": {"on": 5}}},
        trust={"weight": weight, "min": -50, "max": 50},
    )
    q = p_eff(plan, trust, [True])[0]
    assert 0.0 <= q <= 1.0
    if mult == 0:
        assert q == 0.0


def test_rows_are_decided_independently() -> None:
    """Each row uses its own trust and its own active constraints."""
    plan = plan_of(
        items={"a": {"p": 0.5, "constraints": {"m": 0.5}}},
        constraints={"m": {"lift": {"on": 5}}},
        trust={"weight": 1.0},
    )
    q = rules.agreement_probability(
        plan, judged(plan, 3), np.array([0.0, 1.0, 0.0]), np.array([[False], [False], [True]])
    )
    assert q[:, 0].tolist() == [0.5, pytest.approx(1 / (1 + math.exp(-1.0))), 0.25]


AGENDA = {
    "i0": {"p": 0.5, "priority": 3},
    "i1": {"p": 0.5, "priority": 2, "requires": ["i0"]},
    "i2": {"p": 0.5, "priority": 1, "constraints": {"ban": "block"}},
    "i3": {"p": 0.5, "priority": 0},
}


def agenda(capacity: int, agreed: list[bool], active: bool) -> list[int]:
    plan = plan_of(items=AGENDA, constraints={"ban": {"lift": {"on": 5}}}, rounds={"capacity": capacity})
    on = rules.agenda(plan, np.array([agreed]), np.array([[active]]))[0]
    return [x for x in plan.order if on[x]]


def test_agenda_orders_by_priority_and_caps_at_capacity() -> None:
    """Eligible items by priority (lower first), at most `capacity`; unmet `requires` wait."""
    assert agenda(4, [False] * 4, False) == [3, 2, 0]
    assert agenda(2, [False] * 4, False) == [3, 2]


def test_a_blocked_item_takes_no_place() -> None:
    """A blocked item is skipped and the next eligible one takes its place."""
    assert agenda(2, [False] * 4, True) == [3, 0]
    assert agenda(2, [False] * 4, False) == [3, 2]


def test_agreed_items_leave_the_agenda_and_free_their_dependants() -> None:
    """An agreed item is not on the agenda; what required it becomes eligible."""
    assert agenda(9, [True, False, False, True], False) == [2, 1]


def test_ties_in_priority_keep_file_order() -> None:
    """Equal priorities keep the order of the file."""
    plan = plan_of(items={"b": {"p": 0.5}, "a": {"p": 0.5}, "c": {"p": 0.5}}, rounds={"capacity": 2})
    on = rules.agenda(plan, np.zeros((1, 3), bool), np.zeros((1, 0), bool))[0]
    assert on.tolist() == [True, True, False]


def test_preparation_counts_earlier_rounds() -> None:
    """An item is ready once it has been on the agenda in `after_rounds` earlier rounds."""
    plan = plan_of(items={"a": {"p": 0.5, "after_rounds": 2}, "b": {"p": 0.5}})
    seen = np.array([[1, 0], [2, 0], [3, 5]])
    assert rules.prepared(plan, seen).tolist() == [[False, True], [True, True], [True, True]]


def test_trust_is_bounded() -> None:
    """Trust changes stay within [min, max]; within the bounds they add."""
    out = rules.add_trust(np.array([1.9, -1.9, 0.1]), 0.3, -2.0, 2.0)
    assert out.tolist() == [2.0, pytest.approx(-1.6), pytest.approx(0.4)]
    assert rules.add_trust(np.array([-1.9]), -0.3, -2.0, 2.0).tolist() == [-2.0]


def test_a_round_on_the_day_a_suspension_ends_is_held() -> None:
    """A suspension until day d covers rounds before d, not the round on day d."""
    held = rules.round_held(np.array([41.9, 42.0, 42.1]), np.full(3, 42.0))
    assert held.tolist() == [False, True, True]


def test_chances_are_strict() -> None:
    """A draw exactly at p does not happen: P(u < p) = p for uniforms on [0, 1)."""
    u = np.array([0.0, 0.3, 0.29999])
    assert rules.happens(u, 0.3).tolist() == [True, False, True]
    assert rules.happens(u, 0.0).tolist() == [False, False, False]
    assert rules.cancelled(u, 0.3).tolist() == [True, False, True]


def test_suspensions_never_shorten() -> None:
    """A new suspension extends a running one but never cuts it short."""
    out = rules.suspended_until(
        np.array([50.0, 10.0, -np.inf]), np.array([20.0, 20.0, 20.0]), np.array([5.0, 5.0, 0.0])
    )
    assert out.tolist() == [50.0, 25.0, 20.0]


def test_reviews_before_the_start_are_history() -> None:
    """The first review counted is the first on or after day 0."""
    assert rules.first_review(10.0, 180.0) == 0
    assert rules.first_review(-1100.0, 180.0) == 7  # -1100 + 7 * 180 = 160
    assert rules.first_review(-360.0, 180.0) == 2  # a review exactly at day 0 counts
    assert rules.review_day(-1100.0, 180.0, 7) == 160.0


def test_hazard_waits_from_the_activation() -> None:
    """A hazard lift comes `mean` x a unit exponential after the activation."""
    assert rules.hazard_day(np.array([10.0, 0.0]), 730.0, np.array([0.5, 2.0])).tolist() == [375.0, 1460.0]


def test_the_horizon_itself_is_simulated() -> None:
    """Day = horizon is within; a hair after is not."""
    assert rules.within(np.array([99.0, 100.0, 100.000001]), 100.0).tolist() == [True, True, False]


def test_ties_put_events_before_pauses_before_constraints_before_decisions_before_rounds() -> None:
    """Whatever the indices and sequences, keys order by class first (Semantics 7): an event with a
    huge index still comes before any constraint change, and so on to the round."""
    big = rules.LIMITS[1] - 1
    keys = [
        rules.key(rules.EVENT, big, 0, 5),
        rules.key(rules.PROCESS, 0, rules.RESUME),
        rules.key(rules.CONSTRAINT, big, rules.HAZARD, 9),
        rules.key(rules.DECISION, big, rules.OUTSIDE),
        rules.key(rules.ROUND, 0, 0, 0),
    ]
    assert sorted(keys) == keys
    assert sorted(reversed(keys)) == keys


def test_packed_keys_sort_as_their_tuples() -> None:
    """The batch clock's packed keys sort exactly as the SimPy model's tuples, and unpack to them."""
    rng = np.random.default_rng(3)
    tuples = [
        (int(c), int(i), int(k), int(q))
        for c, i, k, q in zip(
            rng.integers(0, 5, 300),
            rng.integers(0, rules.LIMITS[1], 300),
            rng.integers(0, 3, 300),
            rng.integers(0, rules.LIMITS[3], 300),
            strict=True,
        )
    ]
    codes = np.array([int(rules.pack(*t)) for t in tuples])
    assert [tuples[i] for i in np.argsort(codes, kind="stable")] == sorted(tuples)
    back = rules.unpack(codes)
    assert [tuple(int(f[i]) for f in back) for i in range(len(tuples))] == tuples


@pytest.mark.parametrize(
    ("field", "what"),
    [
        ((5, 0, 0, 0), "class"),
        ((0, -1, 0, 0), "index"),
        ((0, 2**24, 0, 0), "index"),
        ((0, 0, 16, 0), "kind"),
        ((0, 0, 0, 2**31), "sequence"),
    ],
)
def test_a_key_that_does_not_fit_is_refused(field: tuple[int, int, int, int], what: str) -> None:
    """An index, kind or sequence too large for its bits is refused, never wrapped into another
    class, and the message names the field."""
    with pytest.raises(ValueError, match=f"^a tie key's {what} is out of range$"):
        rules.pack(*field)


def test_a_logit_below_the_floor_gives_exactly_zero() -> None:
    """logit(1e-300) - 20 is below EXP_FLOOR: the chance is 0, not an overflow and never 1."""
    plan = plan_of(items={"a": {"p": 1e-300}}, trust={"weight": 10.0, "min": -2, "max": 2})
    assert p_eff(plan, -2.0).tolist() == [0.0]
    assert 0.0 < p_eff(plan, 2.0)[0] < 1e-290  # above the floor, the formula


def test_in_force_bits_start_at_the_record_day_of_the_change() -> None:
    """A change on a record day counts at its end (that day's bit is set); after the last record day,
    no bit is."""
    grid = rules.in_force_days(63.0)  # record days 0, 1, ..., 63
    bits = rules.from_day(grid, np.array([5.0, 5.5, 63.0, 63.5, 0.0]))
    full = 2**64 - 1
    assert bits.tolist() == [full << 5 & full, full << 6 & full, 1 << 63, 0, full]


def expit(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def test_the_regime_moves_an_enactment_chance_by_its_log_odds() -> None:
    """chance(p, shift) = expit(logit p + shift) row by row; p itself, bit for bit, with no shift;
    0 and 1 stay exact; at or below the floor of the log odds the chance is exactly 0."""
    p = np.array([0.2, 0.5, 0.9, 0.0, 1.0, 0.3, 0.5, 0.5])
    shift = np.array([1.0, -2.0, 0.5, 3.0, -3.0, 0.0, -1000.0, rules.EXP_FLOOR])
    got = rules.chance(p, shift)
    exact = [expit(math.log(q / (1 - q)) + s) for q, s in zip(p[:3], shift[:3], strict=True)]
    assert got[:3] == pytest.approx(exact, rel=1e-12)
    assert got[3:5].tolist() == [0.0, 1.0] and got[6:].tolist() == [0.0, 0.0]
    plain = np.linspace(0.001, 0.999, 999)
    assert np.array_equal(rules.chance(plain, np.zeros_like(plain)), plain)  # not expit(logit p), off by an ulp
    assert got.dtype == np.float64


def test_the_regime_moves_to_each_state_with_its_share_of_the_rates() -> None:
    """Row by row, the move whose cumulative share of that row's total rate first exceeds u; a u
    exactly on a share's edge goes on to the next move."""
    rates = np.array([[1.0, 3.0, 0.0], [2.0, 2.0, 4.0], [5.0, 0.0, 0.0], [1.0, 1.0, 2.0]])
    u = np.array([0.2, 0.5, 0.99, 0.25])  # shares: (.25, 1, 1), (.25, .5, 1), (1, 1, 1), (.25, .5, 1)
    assert rules.next_state(u, rates).tolist() == [0, 2, 0, 1]
    u = np.array([0.3, 0.49, 0.7, 0.74])
    assert rules.next_state(u, rates).tolist() == [1, 1, 0, 2]
    assert rules.next_state(np.array([0.999999]), np.array([[1.0, 1.0]])).tolist() == [1]
    # eight rates whose running sum ends an ulp short of their total: a u in that gap takes the last move
    eight = np.array(
        [
            [
                0.34534469958747627,
                0.05261857202801701,
                0.5421929508007614,
                0.8933716061796567,
                0.6824786355413254,
                0.08870978562762732,
                0.061285386708036294,
                0.38307872607344273,
            ]
        ]
    )
    assert rules.next_state(np.array([1 - 2**-53]), eight).tolist() == [7]


def test_a_hazard_at_rate_zero_never_fires() -> None:
    """At a rate of 0, the day a hazard fires is infinite, even with nothing of its budget left,
    and without a warning; a positive rate fires after left / rate days."""
    t = np.array([5.0, 5.0, 5.0])
    rate = np.array([0.0, 0.0, 0.5])
    left = np.array([0.0, 1.0, 1.0])
    assert rules.hazard_due(t, left, rate).tolist() == [math.inf, math.inf, 7.0]
    assert rules.exp_wait(t, left, rate).tolist() == [math.inf, math.inf, 7.0]
    assert rules.hazard_spent(left, rate, np.zeros(3), t).tolist() == [0.0, 1.0, 0.0]


def test_only_an_active_constraint_lifts_when_its_items_are_agreed() -> None:
    """A constraint not in force is not lifted by the agreement of its items; one in force is, once
    every one of them is agreed."""
    plan = plan_of(
        items={"a": {"p": 0.5}, "b": {"p": 0.5}},
        constraints={"ban": {"lift": {"when_agreed": ["a", "b"]}}},
    )
    agreed = np.array([[True, True], [True, True], [True, False]])
    active = np.array([[False], [True], [True]])
    assert rules.lifted_by_agreement(plan, agreed, active)[:, 0].tolist() == [False, True, False]
