"""Tier 3 for the rules outside rounds: enactment after a decision, packages, hazards outside
rounds, the case-level regime, talks that pause and resume. Each against its closed form, with a
tolerance from the standard error (``tests.helpers.Z``); both clocks are held to the same records
by ``tests/test_engine.py``, so these run on the batch clock.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from sim.engine.records import HOW_ENACTED, HOW_OUTSIDE, HOW_ROUND
from tests.helpers import assert_close, assert_proportion, make, run

N = 20_000


def expit(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def test_an_unblocked_enactment_follows_its_decision_with_the_chance_and_the_lag() -> None:
    """P(enacted by t) = q * F_lag(t - t_decision), the decision being the agreement it implements."""
    q, shape, scale = 0.6, 2.0, 20.0
    s = make(
        calendar={"horizon": 200},
        items={
            "treaty": {"p": 1.0},  # agreed in the first round, day 0
            "decree": {
                "p": 0.0,
                "enact": {"after": ["treaty"], "p": q, "lag": {"dist": "gamma", "shape": shape, "scale": scale}},
            },
        },
    )
    rec = run(s, N)
    day = np.nan_to_num(rec.item_day[:, 1], nan=np.inf)
    for t in (10.0, 30.0, 60.0, 150.0):
        assert_proportion(day <= t, N, q * stats.gamma.cdf(t, shape, scale=scale), f"P(enacted by day {t:g})")
    assert (rec.item_how[rec.item_agreed[:, 1], 1] == HOW_ENACTED).all()


def test_the_decision_comes_when_the_last_implemented_item_is_agreed() -> None:
    """Decided when the treaty is agreed in a round (geometric round, rounds every 10 days): P(by t)
    = sum over rounds k of P(treaty in round k) * q * F_lag(t - 10 (k - 1))."""
    p, q, lag_low, lag_high = 0.3, 0.8, 0.0, 40.0
    s = make(
        calendar={"horizon": 150},
        items={
            "treaty": {"p": p},
            "decree": {
                "p": 0.0,
                "enact": {"after": ["treaty"], "p": q, "lag": {"dist": "uniform", "low": lag_low, "high": lag_high}},
            },
        },
    )
    rec = run(s, N)
    day = np.nan_to_num(rec.item_day[:, 1], nan=np.inf)
    for t in (15.0, 45.0, 90.0):
        exact = sum(
            p * (1 - p) ** (k - 1) * q * stats.uniform.cdf(t - 10 * (k - 1), lag_low, lag_high - lag_low)
            for k in range(1, 16)
        )
        assert_proportion(day <= t, N, exact, f"P(enacted by day {t:g})")


def test_a_blocked_enactment_waits_for_the_block_to_lift() -> None:
    """Due on day 10 (or 80) while a constraint blocks it until day 50: enacted on max(lag, 50)."""
    for lag, expected in ((10.0, 50.0), (80.0, 80.0)):
        s = make(
            calendar={"horizon": 120},
            items={
                "treaty": {"p": 1.0},
                "decree": {
                    "p": 0.0,
                    "constraints": {"ban": "block"},
                    "enact": {"after": ["treaty"], "p": 0.5, "lag": lag},
                },
            },
            constraints={"ban": {"lift": {"on": 50}}},
        )
        rec = run(s, 4000)
        agreed = rec.item_agreed[:, 1]
        assert_proportion(agreed, 4000, 0.5, f"P(enacted), lag {lag:g}")
        assert (rec.item_day[agreed, 1] == expected).all()


def test_a_failed_enactment_goes_back_to_the_rounds() -> None:
    """With chance q the item is enacted 25 days after the decision on day 0; otherwise it is still
    agreed round by round (p = 0.2, rounds every 10 days from day 0)."""
    q, p = 0.5, 0.2
    s = make(
        calendar={"horizon": 60},
        items={
            "treaty": {"p": 1.0, "priority": -1},
            "decree": {"p": p, "enact": {"after": ["treaty"], "p": q, "lag": 25}},
        },
    )
    rec = run(s, N)
    day = np.nan_to_num(rec.item_day[:, 1], nan=np.inf)
    rounds_by = {20.0: 3, 25.0: 3, 60.0: 7}  # the decree is on the agenda from the first round: days 0, 10, ...
    for t, k in rounds_by.items():
        by_rounds = 1 - (1 - p) ** k
        exact = q + (1 - q) * by_rounds if t >= 25 else by_rounds
        assert_proportion(day <= t, N, exact, f"P(agreed by day {t:g})")
    how = rec.item_how[rec.item_agreed[:, 1], 1]
    assert set(np.unique(how).tolist()) == {HOW_ROUND, HOW_ENACTED}


def test_an_event_decides_a_package_and_each_item_follows_on_its_own_lag() -> None:
    """A leaders' statement on day 30 decides two items at once; each is enacted on its own lag."""
    s = make(
        calendar={"horizon": 200},
        items={
            "embassy": {"p": 0.0, "enact": {"p": 0.9, "lag": {"dist": "uniform", "low": 0, "high": 100}}},
            "flights": {"p": 0.0, "enact": {"p": 1.0, "lag": {"dist": "exponential", "mean": 20}}},
        },
        events={"statement": {"dates": [30], "decides": ["embassy", "flights"]}},
    )
    rec = run(s, N)
    for t in (40.0, 80.0, 140.0):
        embassy = np.nan_to_num(rec.item_day[:, 0], nan=np.inf) <= t
        flights = np.nan_to_num(rec.item_day[:, 1], nan=np.inf) <= t
        assert_proportion(embassy, N, 0.9 * min((t - 30) / 100, 1.0), f"P(embassy by {t:g})")
        assert_proportion(flights, N, 1 - math.exp(-(t - 30) / 20), f"P(flights by {t:g})")


def test_an_item_decides_a_package_when_it_is_agreed() -> None:
    """The treaty, agreed in a round, decides the embassy: enacted 10 days after the treaty."""
    s = make(
        calendar={"horizon": 100},
        items={"treaty": {"p": 0.5, "decides": ["embassy"]}, "embassy": {"p": 0.0, "enact": {"p": 1.0, "lag": 10}}},
    )
    rec = run(s, 5000)
    both = rec.item_agreed[:, 1]
    assert np.array_equal(rec.item_day[both, 1], rec.item_day[both, 0] + 10)
    assert_proportion(both, 5000, 1 - 0.5**9, "P(embassy by day 100): the treaty by round 9 (day 80)")


def test_a_hazard_outside_rounds_fires_as_an_exponential() -> None:
    """p = 0 in rounds, 3 agreements a year outside them: P(by t) = 1 - exp(-3 t / 365)."""
    s = make(calendar={"horizon": 300}, items={"decree": {"p": 0.0, "hazard": 3.0}})
    rec = run(s, N)
    day = np.nan_to_num(rec.item_day[:, 0], nan=np.inf)
    for t in (20.0, 100.0, 300.0):
        assert_proportion(day <= t, N, 1 - math.exp(-3 * t / 365), f"P(by day {t:g})")
    assert (rec.item_how[rec.item_agreed[:, 0], 0] == HOW_OUTSIDE).all()


def test_a_hazard_is_blocked_and_scaled_by_constraints() -> None:
    """Blocked until day 50, halved while a constraint holds until day 100, full after: the
    cumulative hazard is 0, then 0.5 * rate per day, then the rate."""
    rate = 4.0 / 365
    s = make(
        calendar={"horizon": 250},
        items={"decree": {"p": 0.0, "hazard": 4.0, "constraints": {"ban": "block", "drag": 0.5}}},
        constraints={"ban": {"lift": {"on": 50}}, "drag": {"lift": {"on": 100}}},
    )
    rec = run(s, N)
    day = np.nan_to_num(rec.item_day[:, 0], nan=np.inf)

    def exposure(t: float) -> float:
        return 0.5 * rate * max(min(t, 100) - 50, 0) + rate * max(t - 100, 0)

    assert not (day < 50).any()
    for t in (75.0, 100.0, 200.0):
        assert_proportion(day <= t, N, 1 - math.exp(-exposure(t)), f"P(by day {t:g})")


def test_a_hazard_waits_for_what_the_item_requires() -> None:
    """The hazard runs only once the required item is agreed (on day 40, a fixed lift in a round)."""
    s = make(
        calendar={"horizon": 200},
        rounds={"first": 40, "interval": 1000},
        items={"first": {"p": 1.0}, "decree": {"p": 0.0, "hazard": 2.0, "requires": ["first"]}},
    )
    rec = run(s, N)
    day = np.nan_to_num(rec.item_day[:, 1], nan=np.inf)
    assert not (day < 40).any()
    for t in (60.0, 200.0):
        assert_proportion(day <= t, N, 1 - math.exp(-2 * (t - 40) / 365), f"P(by day {t:g})")


def test_the_regime_moves_every_item_together() -> None:
    """A regime with share 0.3 of odds x4 (the rest odds x0.5): each item's P(by round k) is the
    mixture, and two items agree together more often than independence would give."""
    p, share = 0.2, 0.3
    s = make(
        calendar={"horizon": 40},  # rounds on days 0, 10, 20, 30, 40
        items={"a": {"p": p}, "b": {"p": p}},
        regime={"states": {"decided": {"share": share, "odds": 4.0}, "not": {"odds": 0.5}}},
    )
    rec = run(s, N)
    z = math.log(p / (1 - p))
    yes, no = expit(z + math.log(4)), expit(z + math.log(0.5))
    by = [share * (1 - (1 - yes) ** k) + (1 - share) * (1 - (1 - no) ** k) for k in range(6)]
    assert_proportion(rec.item_agreed[:, 0], N, by[5], "P(a by round 5)")
    both = share * (1 - (1 - yes) ** 5) ** 2 + (1 - share) * (1 - (1 - no) ** 5) ** 2
    assert_proportion(rec.item_agreed.all(axis=1), N, both, "P(a and b)")
    assert both > by[5] ** 2 + 0.02  # positive dependence: the point of a shared regime
    assert_proportion(rec.regime == 0, N, share, "share of the first state")


def test_the_regime_scales_hazards_and_moves_enactment_odds() -> None:
    """In the regime's first state (share 0.4) hazards x3 and enactment odds x9; else unchanged."""
    share, q = 0.4, 0.5
    s = make(
        calendar={"horizon": 100},
        items={
            "decree": {"p": 0.0, "hazard": 2.0},
            "law": {"p": 0.0, "enact": {"p": q, "lag": 0}},
        },
        events={"statement": {"dates": [10], "decides": ["law"]}},
        regime={"states": {"yes": {"share": share, "odds": 9.0, "hazard": 3.0}, "no": {}}},
    )
    rec = run(s, N)
    decree = share * (1 - math.exp(-6 * 100 / 365)) + (1 - share) * (1 - math.exp(-2 * 100 / 365))
    assert_proportion(rec.item_agreed[:, 0], N, decree, "P(decree by the horizon)")
    law = share * 0.9 + (1 - share) * q  # odds 1 x 9 = 9: a chance of 0.9
    assert_proportion(rec.item_agreed[:, 1], N, law, "P(law enacted)")


def test_talks_stall_and_resume_as_a_two_state_process() -> None:
    """Stall 2 a year, resume 6 a year, going at the start: P(paused at T) = a / (a + b) (1 - exp(-(a + b) T))."""
    a, b, horizon = 2.0, 6.0, 120.0
    s = make(calendar={"horizon": horizon}, rounds={"stall": a, "resume": b}, items={"x": {"p": 0.0}})
    rec = run(s, N)
    exact = a / (a + b) * (1 - math.exp(-(a + b) * horizon / 365))
    assert_proportion(rec.paused, N, exact, "P(paused at the horizon)")
    mean_pauses = rec.pauses.mean()  # at least the first stall: P(some pause) = 1 - exp(-a T)
    assert_proportion(rec.pauses > 0, N, 1 - math.exp(-a * horizon / 365), "P(some pause)")
    assert mean_pauses > 0


def test_an_event_that_pauses_the_talks_stops_the_rounds_until_they_resume() -> None:
    """An event on day 25 pauses the talks with chance 0.4 and nothing resumes them: rounds on days
    30..90 are then not held (7 of them), else all 10 are."""
    s = make(
        calendar={"horizon": 90},
        items={"x": {"p": 0.0}},
        events={"row": {"dates": [25], "pause": 0.4}},
    )
    rec = run(s, N)
    paused = rec.paused
    assert_proportion(paused, N, 0.4, "P(paused)")
    assert (rec.rounds_held[paused] == 3).all() and (rec.rounds_paused[paused] == 7).all()
    assert (rec.rounds_held[~paused] == 10).all()


def test_no_round_in_the_next_months_follows_from_stall_and_resume() -> None:
    """A pause that starts on day 0 (an event) and a resume rate of 2 a year: P(no round held in the
    first k months) = P(no resumption before the last round day of those months) = exp(-2 d / 365)."""
    s = make(
        calendar={"horizon": 180},
        rounds={"first": 1, "interval": 30, "resume": 2.0},
        items={"x": {"p": 0.0}},
        events={"row": {"dates": [0], "pause": 1.0}},
    )
    rec = run(s, N)
    # Rounds on days 1, 31, ..., 151, 181 > horizon: no round held means no resumption by day 151.
    assert_proportion(rec.rounds_held == 0, N, math.exp(-2 * 151 / 365), "P(no round in six months)")


def test_a_breakdown_ends_pending_enactments_and_hazards() -> None:
    """A breakdown on day 5 (chance 1): nothing decided on day 0 with a lag of 10 is enacted, and
    no hazard fires afterwards."""
    s = make(
        calendar={"horizon": 100},
        items={
            "treaty": {"p": 0.0, "status": "agreed"},
            "decree": {"p": 0.0, "enact": {"after": ["treaty"], "lag": 10}},
            "bank": {"p": 0.0, "hazard": 50.0},
        },
        events={"end": {"dates": [5], "breakdown": 1.0}},
    )
    rec = run(s, N)
    assert not rec.item_agreed[:, 1].any()
    bank = rec.item_day[rec.item_agreed[:, 2], 2]
    assert (bank <= 5).all()
    assert_proportion(rec.item_agreed[:, 2], N, 1 - math.exp(-50 * 5 / 365), "P(bank before the breakdown)")


def test_a_regime_that_moves_is_a_two_state_process() -> None:
    """Undecided at the start (share 0), deciding at 3 a year and unravelling at 1 a year:
    P(decided at T) = a / (a + b) (1 - exp(-(a + b) T))."""
    a, b, horizon = 3.0, 1.0, 150.0
    s = make(
        calendar={"horizon": horizon},
        items={"x": {"p": 0.0}},
        regime={"states": {"decided": {"share": 0.0, "to": {"undecided": b}}, "undecided": {"to": {"decided": a}}}},
    )
    rec = run(s, N)
    assert (rec.regime_start == 1).all()
    exact = a / (a + b) * (1 - math.exp(-(a + b) * horizon / 365))
    assert_proportion(rec.regime == 0, N, exact, "P(decided at the horizon)")


def test_an_item_that_moves_only_once_the_leaders_decide_waits_for_them() -> None:
    """A hazard of 6 a year in the decided state only, deciding at 2 a year from the start: the
    agreement day is the sum of two exponential waits (a hypoexponential)."""
    a, h, horizon = 2.0, 6.0, 200.0
    s = make(
        calendar={"horizon": horizon},
        items={"x": {"p": 0.0, "hazard": {"regime": {"decided": h, "undecided": 0.0}}}},
        regime={"states": {"decided": {"share": 0.0}, "undecided": {"to": {"decided": a}}}},
    )
    rec = run(s, N)
    day = np.nan_to_num(rec.item_day[:, 0], nan=np.inf)
    for t in (30.0, 90.0, 200.0):
        ta, th = a * t / 365, h * t / 365
        exact = 1 - (h * math.exp(-ta) - a * math.exp(-th)) / (h - a)
        assert_proportion(day <= t, N, exact, f"P(agreed by day {t:g})")
    assert (rec.regime_switches[rec.item_agreed[:, 0]] == 1).all()


def test_a_case_effect_moves_every_item_of_a_replication_together() -> None:
    """A normal case effect of sd 1 on the log odds: each item's chance is E[expit(logit p + z)],
    and two items agree together with E[expit(logit p + z)^2] (one round)."""
    from scipy import integrate

    p = 0.2
    s = make(
        calendar={"horizon": 5},  # one round, on day 0
        items={"a": {"p": p}, "b": {"p": p}},
        case_effect={"dist": "normal", "mean": 0.0, "sd": 1.0},
    )
    rec = run(s, N)
    z0 = math.log(p / (1 - p))

    def moment(k: int) -> float:
        return integrate.quad(lambda z: expit(z0 + z) ** k * stats.norm.pdf(z), -10, 10)[0]

    assert_proportion(rec.item_agreed[:, 0], N, moment(1), "P(a)")
    assert_proportion(rec.item_agreed.all(axis=1), N, moment(2), "P(a and b)")
    assert moment(2) > moment(1) ** 2 + 0.01


def test_pauses_counted_by_the_census_include_one_on_its_very_day() -> None:
    """Events pause the talks on days 10 and 30 and they resume within hours: a census on day 30 has
    seen both pauses and finds the talks paused (that day's pause counts, as a history to as_of
    does); a census on day 20 has seen one, and the talks going again. Both clocks, every replication."""
    from sim.engine.model import replicate
    from sim.engine.plan import compile_plan
    from sim.engine.simulate import simulate

    s = make(
        calendar={"horizon": 100},
        rounds={"resume": 1e4},
        items={"x": {"p": 0.0}},
        events={"row": {"dates": [10, 30], "pause": 1.0}},
    )
    for census, seen, paused in ((30.0, 2, True), (20.0, 1, False)):
        plan = compile_plan(s, census=census)
        rec = simulate(plan, 0, 200)
        assert (rec.pauses_by_census == seen).all() and (rec.paused_at_census == paused).all()
        one = replicate(plan, 7, None).records()
        assert int(one.pauses_by_census[0]) == seen and bool(one.paused_at_census[0]) == paused


def test_an_item_decided_again_draws_its_chance_and_lag_afresh() -> None:
    """Decided on days 10, 20 and 30 (chance 1/2, lag uniform on 0..8 days): the first, second and
    third decisions enact it with probability 1/2, 1/4 and 1/8, and each lag is uniform, mean 4,
    whatever the chance drew (a decision reusing an earlier draw, or its chance's draw as its lag,
    moves these)."""
    s = make(
        calendar={"horizon": 100},
        items={"decree": {"p": 0.0, "enact": {"p": 0.5, "lag": {"dist": "uniform", "low": 0, "high": 8}}}},
        events={"statement": {"dates": [10, 20, 30], "decides": ["decree"]}},
    )
    rec = run(s, N)
    day = np.nan_to_num(rec.item_day[:, 0], nan=np.inf)
    for k, start in enumerate((10.0, 20.0, 30.0), start=1):
        hit = (day >= start) & (day < start + 10)
        assert_proportion(hit, N, 0.5**k, f"P(enacted after decision {k})")
        lags = day[hit] - start
        assert_close(float(lags.mean()), 4.0, math.sqrt(64 / 12 / lags.size), f"mean lag after decision {k}")


def test_a_decision_already_due_is_not_drawn_again() -> None:
    """Decided on day 10 to be enacted 30 days later; a second decision on day 20 changes nothing:
    every replication enacts it on day 40."""
    s = make(
        calendar={"horizon": 100},
        items={"decree": {"p": 0.0, "enact": {"p": 1.0, "lag": 30}}},
        events={"statement": {"dates": [10, 20], "decides": ["decree"]}},
    )
    rec = run(s, 500)
    assert (rec.item_day[:, 0] == 40.0).all()


def test_a_package_decided_by_an_item_that_is_not_the_first() -> None:
    """The treaty is the agenda's second item: agreed on day 0, it decides the embassy, enacted
    10 days later in every replication."""
    s = make(
        calendar={"horizon": 100},
        items={
            "other": {"p": 0.0},
            "treaty": {"p": 1.0, "decides": ["embassy"]},
            "embassy": {"p": 0.0, "enact": {"p": 1.0, "lag": 10}},
        },
    )
    rec = run(s, 500)
    assert (rec.item_day[:, 1] == 0.0).all() and (rec.item_day[:, 2] == 10.0).all()


def test_two_items_agreed_in_one_round_each_decide_the_package() -> None:
    """One round (day 0): two treaties, each agreed with chance 1/2, each decide the embassy. It is
    decided where either is agreed: P = 3/4 (not only where the later one in the agenda is)."""
    s = make(
        calendar={"horizon": 5},
        items={
            "first": {"p": 0.5, "decides": ["embassy"]},
            "second": {"p": 0.5, "decides": ["embassy"]},
            "embassy": {"p": 0.0, "enact": {"p": 1.0, "lag": 1}},
        },
    )
    rec = run(s, N)
    either = rec.item_agreed[:, 0] | rec.item_agreed[:, 1]
    assert np.array_equal(rec.item_agreed[:, 2], either)
    assert_proportion(rec.item_agreed[:, 2], N, 0.75, "P(embassy enacted)")


def test_enactments_waiting_on_different_blocks_each_go_when_theirs_lifts() -> None:
    """Both decided on day 0 and due on day 10; one waits for a ban lifted on day 50, the other for
    one lifted on day 80: the first goes on day 50 and the second still waits, going on day 80."""
    s = make(
        calendar={"horizon": 120},
        items={
            "treaty": {"p": 1.0, "decides": ["embassy", "flights"]},
            "embassy": {"p": 0.0, "constraints": {"visas": "block"}, "enact": {"p": 1.0, "lag": 10}},
            "flights": {"p": 0.0, "constraints": {"aviation": "block"}, "enact": {"p": 1.0, "lag": 10}},
        },
        constraints={"visas": {"lift": {"on": 50}}, "aviation": {"lift": {"on": 80}}},
    )
    rec = run(s, 500)
    assert (rec.item_day[:, 1] == 50.0).all() and (rec.item_day[:, 2] == 80.0).all()


def test_a_constraint_imposed_after_its_items_are_agreed_lifts_at_once() -> None:
    """The sanction lifts when the treaty is agreed; the treaty is agreed before the start and the
    sanction imposed on day 25: it lifts that day, so the visas, blocked by it and ready from the
    fifth round (day 40), are agreed then."""
    s = make(
        calendar={"horizon": 100},
        items={
            "treaty": {"status": "agreed", "p": 0.5},
            "visas": {"p": 1.0, "after_rounds": 4, "constraints": {"sanction": "block"}},
        },
        constraints={"sanction": {"active": False, "lift": {"when_agreed": ["treaty"]}}},
        events={"row": {"dates": [25], "impose": ["sanction"]}},
    )
    rec = run(s, 500)
    assert (rec.item_day[:, 1] == 40.0).all() and rec.constraint_lifted[:, 0].all()


def test_an_event_that_adds_one_to_trust_adds_it() -> None:
    """An event of trust +1.0 (the value an 'is it zero?' test could mistake) moves trust from 0 to 1."""
    s = make(calendar={"horizon": 50}, items={"a": {"p": 0.0}}, events={"visit": {"dates": [5], "trust": 1.0}})
    rec = run(s, 200)
    assert np.allclose(rec.trust, 1.0)


def test_the_census_counts_what_happened_on_its_very_day() -> None:
    """A census on day 30 has seen the rounds cancelled on days 0, 10, 20 and 30, the sanction
    imposed on day 30 and the ban lifted on day 30. A census on day 25 has seen three
    cancellations and neither change. With rounds held, one on the census day is history: the next
    round is day 40. Both clocks."""
    from sim.engine.model import replicate
    from sim.engine.plan import compile_plan
    from sim.engine.simulate import simulate

    s = make(
        calendar={"horizon": 100},
        rounds={"cancel": 1.0},
        items={"a": {"p": 0.0, "constraints": {"sanction": "block", "ban": "block"}}},
        constraints={"sanction": {"active": False}, "ban": {"lift": {"on": 30}}},
        events={"row": {"dates": [30], "impose": ["sanction"]}},
    )
    for census, cancelled, changed in ((30.0, 4, True), (25.0, 3, False)):
        plan = compile_plan(s, census=census)
        for rec in (simulate(plan, 0, 50), replicate(plan, 3, None).records()):
            assert (rec.cancelled_by_census == cancelled).all()
            assert (rec.constraint_imposed_by_census[:, 0] == int(changed)).all()
            active = rec.constraint_active_at_census
            assert (active[:, 0] == changed).all() and (active[:, 1] != changed).all()
    held = compile_plan(make(calendar={"horizon": 100}, items={"a": {"p": 0.0}}), census=30.0)
    for rec in (simulate(held, 0, 50), replicate(held, 3, None).records()):
        assert (rec.held_by_census == 4).all() and (rec.next_round_day == 40.0).all()


def test_the_census_sees_the_regime_each_replication_starts_in() -> None:
    """A regime that never moves, drawn half and half: its state at a census is the one drawn at
    the start, row by row (not the first state everywhere). Both clocks."""
    from sim.engine.model import replicate
    from sim.engine.plan import compile_plan
    from sim.engine.simulate import simulate

    s = make(
        calendar={"horizon": 100},
        items={"a": {"p": 0.0}},
        regime={"states": {"calm": {"share": 0.5}, "tense": {}}},
    )
    plan = compile_plan(s, census=30.0)
    rec = simulate(plan, 0, 400)
    assert 0 < rec.regime_start.sum() < 400 and np.array_equal(rec.regime_at_census, rec.regime_start)
    for i in range(8):
        one = replicate(plan, i, None).records()
        assert one.regime_at_census[0] == one.regime_start[0] == rec.regime_start[i]


def test_a_regime_of_three_states_spends_a_third_of_the_time_in_each() -> None:
    """Three states, each moving to either other at the same rate: whichever state a move picks,
    the time spent there is exponential with the same mean, so after many moves each state holds a
    third of the replications (a draw shared between the choice of a state and the time spent in it
    breaks the symmetry)."""
    rate = 20.0  # a year: a move about every 9 days
    s = make(
        calendar={"horizon": 1000},
        items={"a": {"p": 0.0}},
        regime={
            "states": {
                "calm": {"to": {"tense": rate, "frozen": rate}},
                "tense": {"share": 0.0, "to": {"calm": rate, "frozen": rate}},
                "frozen": {"share": 0.0, "to": {"calm": rate, "tense": rate}},
            }
        },
    )
    rec = run(s, 6000)
    assert rec.regime_switches.min() > 10
    for k, name in enumerate(("calm", "tense", "frozen")):
        assert_proportion(rec.regime == k, 6000, 1 / 3, f"P(regime {name} at the horizon)")


def test_a_breakdown_on_the_census_day_ends_the_pause_it_sees() -> None:
    """Paused on day 10 for good; broken off on day 30. A census on day 30 finds the talks broken,
    not paused; one on day 25 finds them paused. Both clocks."""
    from sim.engine.model import replicate
    from sim.engine.plan import compile_plan
    from sim.engine.simulate import simulate

    s = make(
        calendar={"horizon": 100},
        rounds={"resume": 1e-9},
        items={"x": {"p": 0.0}},
        events={"row": {"dates": [10], "pause": 1.0}, "walkout": {"dates": [30], "breakdown": 1.0}},
    )
    for census, paused in ((30.0, False), (25.0, True)):
        plan = compile_plan(s, census=census)
        for rec in (simulate(plan, 0, 50), replicate(plan, 3, None).records()):
            assert (rec.paused_at_census == paused).all() and (rec.breakdown_day == 30.0).all()


def test_where_the_regime_moves_does_not_decide_how_long_it_stays() -> None:
    """Calm moves only to tense; tense to calm or to frozen at equal rates; calm and frozen leave
    at the same rate. Among replications that moved exactly twice by the horizon, the second move
    went to calm in half (the draw that chooses a state shares nothing with the wait there)."""
    rate = 50.0  # a year
    s = make(
        calendar={"horizon": 20},
        items={"a": {"p": 0.0}},
        regime={
            "states": {
                "calm": {"to": {"tense": rate}},
                "tense": {"share": 0.0, "to": {"calm": rate / 2, "frozen": rate / 2}},
                "frozen": {"share": 0.0, "to": {"tense": rate}},
            }
        },
    )
    from sim.engine.plan import compile_plan

    calm = compile_plan(s).regime.names.index("calm")  # type: ignore[union-attr]
    rec = run(s, N)
    twice = rec.regime_switches == 2
    assert (rec.regime_start == calm).all() and twice.sum() > 2000
    assert_proportion(rec.regime[twice] == calm, int(twice.sum()), 0.5, "P(calm after exactly two moves)")


def test_the_leaders_decision_puts_its_items_in_principle_from_the_start() -> None:
    """A decided state of share s decides two items at the start: each is enacted with its chance on
    its own lag, in that state only. P(embassy by t) = s q F(t); the undecided rows never decide."""
    share, q = 0.4, 0.75
    s = make(
        calendar={"horizon": 200},
        items={
            "embassy": {"p": 0.0, "enact": {"p": q, "lag": {"dist": "uniform", "low": 0, "high": 100}}},
            "flights": {"p": 0.0, "enact": {"lag": {"dist": "exponential", "mean": 30}}},
        },
        regime={"states": {"decided": {"share": share, "decides": ["embassy", "flights"]}, "undecided": {}}},
    )
    rec = run(s, N)
    for t in (20.0, 60.0, 150.0):
        embassy = np.nan_to_num(rec.item_day[:, 0], nan=np.inf) <= t
        flights = np.nan_to_num(rec.item_day[:, 1], nan=np.inf) <= t
        assert_proportion(embassy, N, share * q * min(t / 100, 1.0), f"P(embassy by {t:g})")
        assert_proportion(flights, N, share * (1 - math.exp(-t / 30)), f"P(flights by {t:g})")
    assert not rec.item_agreed[rec.regime_start == 1].any()
    assert (rec.item_how[rec.item_agreed] == HOW_ENACTED).all()


def test_leaders_who_decide_later_put_the_items_in_principle_when_they_do() -> None:
    """Undecided at the start, deciding at rate a: the item is enacted q x (a fixed lag L after the
    move), so P(by t) = q (1 - exp(-a (t - L) / 365)) for t > L, and 0 before."""
    a, q, lag = 3.0, 0.8, 20.0
    s = make(
        calendar={"horizon": 300},
        items={"treaty": {"p": 0.0, "enact": {"p": q, "lag": lag}}},
        regime={"states": {"decided": {"share": 0.0, "decides": ["treaty"]}, "undecided": {"to": {"decided": a}}}},
    )
    rec = run(s, N)
    day = np.nan_to_num(rec.item_day[:, 0], nan=np.inf)
    assert not (day < lag).any()
    for t in (40.0, 120.0, 300.0):
        assert_proportion(day <= t, N, q * (1 - math.exp(-a * (t - lag) / 365)), f"P(enacted by day {t:g})")
    assert (rec.regime_switches[rec.item_agreed[:, 0]] >= 1).all()


def test_the_leaders_decision_waits_for_what_the_item_requires() -> None:
    """Decided from the start (share 1) with a lag of 5 days, the flights require the arrangement,
    agreed in the first round held on day 30: the flights are enacted on day 30, not day 5."""
    s = make(
        calendar={"horizon": 100},
        rounds={"first": 30, "interval": 50},
        items={
            "arrangement": {"p": 1.0},
            "flights": {"p": 0.0, "requires": ["arrangement"], "enact": {"lag": 5}},
        },
        regime={"states": {"decided": {"share": 1.0, "decides": ["flights"]}, "undecided": {}}},
    )
    rec = run(s, 500)
    assert rec.item_agreed[:, 1].all() and (rec.item_day[:, 1] == 30.0).all()


def test_a_decision_the_start_makes_twice_is_one_decision() -> None:
    """Decided at the start both by an item agreed before it and by the leaders: one draw of its
    chance (P = q), not two (1 - (1 - q)^2)."""
    q = 0.5
    s = make(
        calendar={"horizon": 50},
        items={
            "relations": {"p": 0.0, "status": "agreed"},
            "embassy": {"p": 0.0, "enact": {"after": ["relations"], "p": q, "lag": 5}},
        },
        regime={"states": {"decided": {"share": 1.0, "decides": ["embassy"]}, "undecided": {}}},
    )
    rec = run(s, N)
    assert_proportion(rec.item_agreed[:, 1], N, q, "P(embassy enacted)")
