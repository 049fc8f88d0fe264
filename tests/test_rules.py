"""Tier 1: the pure decisions of the model, exactly."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.engine import rules


def test_logit_ends_are_infinite() -> None:
    assert rules.logit(0.0) == -math.inf
    assert rules.logit(1.0) == math.inf
    assert rules.logit(0.5) == 0.0
    assert rules.logit(0.25) == pytest.approx(math.log(1 / 3))


@pytest.mark.parametrize("trust", [-2.0, -0.3, 0.0, 0.7, 2.0])
def test_p_zero_and_one_stay_exact_whatever_the_trust(trust: float) -> None:
    for p in (0.0, 1.0):
        assert rules.agreement_probability(p, rules.logit(p), 1.5, trust, 1.0) == p


def test_no_trust_shift_returns_p_unchanged() -> None:
    for p in (0.1, 0.3, 0.7):
        assert rules.agreement_probability(p, rules.logit(p), 1.0, 0.0, 1.0) == p
        assert rules.agreement_probability(p, rules.logit(p), 0.0, 1.7, 1.0) == p


def test_trust_shifts_the_logit() -> None:
    p, w, t = 0.2, 2.0, 0.5
    expected = 1 / (1 + math.exp(-(math.log(0.25) + w * t)))
    assert rules.agreement_probability(p, rules.logit(p), w, t, 1.0) == pytest.approx(expected, rel=1e-12)


def test_multiplier_applies_after_the_trust_shift_and_clips() -> None:
    p = 0.6
    assert rules.agreement_probability(p, rules.logit(p), 1.0, 0.0, 0.5) == pytest.approx(0.3)
    assert rules.agreement_probability(p, rules.logit(p), 1.0, 0.0, 2.0) == 1.0
    assert rules.agreement_probability(1.0, math.inf, 1.0, -2.0, 0.25) == 0.25


@given(
    p=st.floats(0, 1),
    weight=st.floats(-50, 50),
    trust=st.floats(-50, 50),
    mult=st.floats(0, 100),
)
def test_agreement_probability_is_a_probability(p: float, weight: float, trust: float, mult: float) -> None:
    q = rules.agreement_probability(p, rules.logit(p), weight, trust, mult)
    assert 0.0 <= q <= 1.0
    if mult == 0:
        assert q == 0.0


def test_multiplier_counts_only_active_constraints() -> None:
    effects = ((0, 0.5), (1, 0.4), (2, 3.0))
    assert rules.multiplier(effects, [True, False, False]) == 0.5
    assert rules.multiplier(effects, [True, True, False]) == pytest.approx(0.2)
    assert rules.multiplier(effects, [False, False, False]) == 1.0
    assert rules.multiplier(effects, [False, False, True]) == 3.0


REQ = ((), (0,), (), ())
BLOCKS = ((), (), (0,), ())


def test_agenda_orders_by_priority_and_caps_at_capacity() -> None:
    order = (3, 2, 1, 0)
    agreed = [False, False, False, False]
    active = [False]
    assert rules.agenda(order, agreed, active, REQ, BLOCKS, 4) == [3, 2, 0]  # 1 waits for 0
    assert rules.agenda(order, agreed, active, REQ, BLOCKS, 2) == [3, 2]


def test_a_blocked_item_takes_no_place() -> None:
    order = (2, 3, 0, 1)
    agreed = [False, False, False, False]
    assert rules.agenda(order, agreed, [True], REQ, BLOCKS, 2) == [3, 0]
    assert rules.agenda(order, agreed, [False], REQ, BLOCKS, 2) == [2, 3]


def test_agreed_items_leave_the_agenda_and_free_their_dependants() -> None:
    agreed = [True, False, False, True]
    assert rules.agenda((0, 1, 2, 3), agreed, [False], REQ, BLOCKS, 9) == [1, 2]


def test_trust_is_bounded() -> None:
    assert rules.add_trust(1.9, 0.3, -2, 2) == 2
    assert rules.add_trust(-1.9, -0.3, -2, 2) == -2
    assert rules.add_trust(0.1, 0.2, -2, 2) == pytest.approx(0.3)


def test_reviews_before_the_start_are_history() -> None:
    assert rules.first_review(10.0, 180.0) == 0
    assert rules.first_review(-1100.0, 180.0) == 7  # -1100 + 7 * 180 = 160
    assert rules.first_review(-360.0, 180.0) == 2  # a review exactly at day 0 counts
