"""Tier 3: every semantic rule against a closed-form answer, tolerance from the standard error.

Each test builds the smallest scenario that isolates one rule, runs enough replications for a
tight check, and compares with the exact probability or moment (see ``conftest.Z``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special, stats

from tests.helpers import assert_mean, assert_proportion, make, run

N = 20_000


def geometric_cdf(p: float, k: int) -> float:
    return 1 - (1 - p) ** k


def chain_cdf(first: float, then: float, k: int) -> float:
    """P(G1 + G2 <= k) for independent geometric rounds (each >= 1) with p = first, then."""
    return sum(first * (1 - first) ** (j - 1) * geometric_cdf(then, k - j) for j in range(1, k))


def test_lone_item_with_fixed_interval_has_geometric_rounds() -> None:
    # Rounds at days 0, 10, ..., 90: ten rounds in a horizon of 95 days.
    p = 0.3
    s = make(calendar={"horizon": 95}, items={"a": {"p": p}})
    rec = run(s, N)
    assert (rec.rounds_held == 10).all()
    assert_proportion(rec.item_agreed[:, 0], N, geometric_cdf(p, 10), "P(agreed by horizon)")
    rounds = rec.item_round[rec.item_agreed[:, 0], 0]
    for k in (1, 2, 5):
        exact = geometric_cdf(p, k) / geometric_cdf(p, 10)
        assert_proportion(rounds <= k, rounds.size, exact, f"P(round <= {k} | agreed)")
    # Days are the round days: 10 * (round - 1).
    assert np.array_equal(rec.item_day[rec.item_agreed[:, 0], 0], 10.0 * (rounds - 1))


def test_requires_chain_adds_geometric_waits() -> None:
    pb, pa = 0.25, 0.4
    s = make(
        calendar={"horizon": 29},
        rounds={"interval": 1},  # 30 daily rounds
        items={"a": {"p": pa, "requires": ["b"]}, "b": {"p": pb}},
    )
    rec = run(s, N)
    ra, rb = rec.item_round[:, 0], rec.item_round[:, 1]
    both = rec.item_agreed[:, 0]
    assert (ra[both] > rb[both]).all()  # never in the same round as what it requires
    for k in (2, 5, 10, 30):
        assert_proportion(both & (ra <= k), N, chain_cdf(pb, pa, k), f"P(a by round {k})")


def test_review_gated_constraint_lifts_only_at_reviews() -> None:
    # Reviews every 10 days from day 10 with p = 0.3; rounds every 5 days; the item agrees at once
    # when unblocked. A review and a round on the same day: the lift comes first (rule 7).
    q = 0.3
    s = make(
        calendar={"horizon": 80},
        rounds={"interval": 5},
        items={"a": {"p": 1.0, "constraints": {"gate": "block"}}},
        constraints={"gate": {"lift": {"reviews": {"first": 10, "every": 10}, "p": q}}},
    )
    rec = run(s, N)
    day = rec.item_day[:, 0]
    agreed = rec.item_agreed[:, 0]
    assert np.array_equal(day[agreed] % 10, np.zeros(agreed.sum()))
    assert np.array_equal(rec.constraint_day[agreed, 0], day[agreed])
    for k in (1, 2, 4, 8):
        assert_proportion(day <= 10 * k, N, geometric_cdf(q, k), f"P(lifted by review {k})")


def test_capacity_and_priority() -> None:
    # Capacity 1: 'late' (listed first, priority 2) waits until 'early' (priority 1) is agreed.
    pe, pl = 0.5, 0.3
    s = make(
        calendar={"horizon": 29},
        rounds={"interval": 1, "capacity": 1},
        items={"late": {"p": pl, "priority": 2}, "early": {"p": pe, "priority": 1}},
    )
    rec = run(s, N)
    late, early = rec.item_round[:, 0], rec.item_round[:, 1]
    done = rec.item_agreed[:, 0]
    assert (late[done] > early[done]).all()
    for k in (1, 3, 8):
        assert_proportion(rec.item_agreed[:, 1] & (early <= k), N, geometric_cdf(pe, k), f"P(early by {k})")
        assert_proportion(done & (late <= k), N, chain_cdf(pe, pl, k), f"P(late by {k})")


def test_equal_priority_keeps_file_order_under_capacity() -> None:
    s = make(calendar={"horizon": 1}, rounds={"capacity": 1}, items={"x": {"p": 1.0}, "y": {"p": 1.0}})
    rec = run(s, 100)
    assert rec.item_agreed[:, 0].all() and not rec.item_agreed[:, 1].any()


def test_trust_shifts_the_logit_of_p() -> None:
    p, w, t0 = 0.2, 2.0, 1.5  # p_eff = 0.834: a slope 10% off would be 9 standard errors away
    s = make(calendar={"horizon": 1}, items={"a": {"p": p}}, trust={"initial": t0, "weight": w})
    rec = run(s, N)
    exact = float(special.expit(special.logit(p) + w * t0))
    assert_proportion(rec.item_agreed[:, 0], N, exact, "P(agreed in the one round)")


def test_every_item_uses_the_trust_at_the_start_of_the_round() -> None:
    # 'first' is always agreed and gains 1.0 trust; 'second' in the same round still sees trust 0,
    # and in the next round sees trust 1.0.
    p, w = 0.2, 1.0
    s = make(
        calendar={"horizon": 10},
        trust={"weight": w, "on_agreement": 0.0},
        items={"first": {"p": 1.0, "trust_gain": 1.0}, "second": {"p": p}},
    )
    rec = run(s, N)
    r = rec.item_round[:, 1]
    assert_proportion(r == 1, N, p, "P(second in round 1)")
    later = float(special.expit(special.logit(p) + w))
    assert_proportion(r == 2, N, (1 - p) * later, "P(second in round 2)")
    assert np.allclose(rec.trust[r == 1], 1.0)


def test_constraint_multiplier_scales_p_and_clips() -> None:
    s = make(
        calendar={"horizon": 1},
        items={"half": {"p": 0.6, "constraints": {"drag": 0.5}}, "double": {"p": 0.6, "constraints": {"drag": 2.0}}},
        constraints={"drag": {"active": True}},
    )
    rec = run(s, N)
    assert_proportion(rec.item_agreed[:, 0], N, 0.3, "p * 0.5")
    assert rec.item_agreed[:, 1].all()  # 0.6 * 2 is clipped to 1


def test_cancellations_thin_the_rounds() -> None:
    c, p = 0.4, 0.5
    s = make(calendar={"horizon": 55}, rounds={"cancel": c}, items={"a": {"p": p}})  # 6 scheduled rounds
    rec = run(s, N)
    assert ((rec.rounds_held + rec.rounds_cancelled) == 6).all()
    assert_mean(rec.rounds_cancelled, 6 * c, 6 * c * (1 - c), "rounds cancelled")
    assert_proportion(rec.item_agreed[:, 0], N, 1 - (1 - p * (1 - c)) ** 6, "P(agreed by horizon)")


def test_poisson_breakdown() -> None:
    lam, p = 2.0, 0.5
    s = make(
        calendar={"horizon": 365},
        rounds={"interval": 30},
        items={"a": {"p": p}},
        events={"crisis": {"rate": lam, "breakdown": 1.0}},
    )
    rec = run(s, N)
    assert_proportion(rec.breakdown, N, 1 - math.exp(-lam), "P(breakdown within a year)")
    days = 30.0 * np.arange(13)  # rounds at 0, 30, ..., 360
    exact = sum(p * (1 - p) ** k * math.exp(-lam * t / 365) for k, t in enumerate(days))
    assert_proportion(rec.item_agreed[:, 0], N, exact, "P(agreed before breakdown)")
    assert (rec.rounds_held[rec.breakdown] <= 13).all()
    broken = rec.breakdown
    assert_proportion(
        rec.breakdown_day[broken] <= 100,
        int(broken.sum()),
        (1 - math.exp(-lam * 100 / 365)) / (1 - math.exp(-lam)),
        "P(breakdown by day 100 | breakdown)",
    )


def test_poisson_event_counts() -> None:
    lam, horizon = 3.0, 200
    s = make(calendar={"horizon": horizon}, events={"visit": {"rate": lam}})
    rec = run(s, N)
    mu = lam * horizon / 365
    counts = rec.event_count[:, 0]
    assert_mean(counts, mu, mu, "mean count")
    assert_proportion(counts == 0, N, math.exp(-mu), "P(no event)")


def test_after_rounds_delays_agreement() -> None:
    a, p = 2, 0.5
    s = make(calendar={"horizon": 55}, items={"a": {"p": p, "after_rounds": a}})  # 6 rounds
    rec = run(s, N)
    r = rec.item_round[rec.item_agreed[:, 0], 0]
    assert r.min() == a + 1
    assert_proportion(rec.item_agreed[:, 0], N, geometric_cdf(p, 6 - a), "P(agreed by horizon)")


def test_hazard_lift_is_exponential() -> None:
    rate = 3.0
    s = make(
        calendar={"horizon": 150},
        rounds={"interval": 5},
        items={"a": {"p": 1.0, "constraints": {"gate": "block"}}},
        constraints={"gate": {"lift": {"rate": rate}}},
    )
    rec = run(s, N)
    lift = rec.constraint_day[:, 0]
    for t in (20, 60, 150):
        assert_proportion(lift <= t, N, 1 - math.exp(-rate * t / 365), f"P(lifted by day {t})")
    agreed = rec.item_agreed[:, 0]
    assert np.array_equal(rec.item_day[agreed, 0], 5 * np.ceil(lift[agreed] / 5))  # the next round
    ks = stats.kstest(lift[~np.isnan(lift)], stats.truncexpon(b=rate * 150 / 365, scale=365 / rate).cdf)
    assert ks.pvalue > 1e-5


def test_imposing_restarts_the_hazard() -> None:
    # A constraint imposed on day 50 by an event lifts after an exponential wait counted from day 50.
    rate = 4.0
    s = make(
        calendar={"horizon": 400},
        items={"a": {"p": 0.5}},
        constraints={"link": {"active": False, "lift": {"rate": rate}}},
        events={"shock": {"dates": [50], "impose": ["link"]}},
    )
    rec = run(s, N)
    lift = rec.constraint_day[:, 0]
    assert np.nanmin(lift) >= 50
    assert_proportion(lift <= 50 + 30, N, 1 - math.exp(-rate * 30 / 365), "P(lifted within 30 days)")


def test_when_agreed_lift_adds_a_round() -> None:
    px, py = 0.4, 0.5
    s = make(
        calendar={"horizon": 29},
        rounds={"interval": 1},
        items={"x": {"p": px}, "y": {"p": py, "constraints": {"gate": "block"}}},
        constraints={"gate": {"lift": {"when_agreed": ["x"]}}},
    )
    rec = run(s, N)
    assert np.array_equal(rec.constraint_day[:, 0], rec.item_day[:, 0], equal_nan=True)
    done = rec.item_agreed[:, 1]
    assert (rec.item_round[done, 1] > rec.item_round[done, 0]).all()
    for k in (2, 4, 10):
        assert_proportion(done & (rec.item_round[:, 1] <= k), N, chain_cdf(px, py, k), f"P(y by round {k})")


def test_a_lift_on_two_agreements_waits_for_both() -> None:
    """``when_agreed: [x, z]`` lifts when the later of the two is agreed: the gate's day is the
    maximum of their days, and in the one round a day P(lifted by round k) = (1-(1-px)^k)(1-(1-pz)^k).
    (Lifting on the first of the two would be caught by both checks.)"""
    px, pz, py = 0.4, 0.2, 1.0
    s = make(
        calendar={"horizon": 29},
        rounds={"interval": 1},
        items={"x": {"p": px}, "z": {"p": pz}, "y": {"p": py, "constraints": {"gate": "block"}}},
        constraints={"gate": {"lift": {"when_agreed": ["x", "z"]}}},
    )
    rec = run(s, N)
    both = rec.item_agreed[:, 0] & rec.item_agreed[:, 1]
    assert np.array_equal(rec.constraint_day[both, 0], np.maximum(rec.item_day[both, 0], rec.item_day[both, 1]))
    assert np.isnan(rec.constraint_day[~both, 0]).all()
    lifted_round = np.maximum(rec.item_round[:, 0], rec.item_round[:, 1])
    for k in (1, 3, 8):
        exact = (1 - (1 - px) ** k) * (1 - (1 - pz) ** k)
        assert_proportion(both & (lifted_round <= k), N, exact, f"P(lifted by round {k})")


def test_interval_distributions_have_their_means() -> None:
    # Mean gap between scheduled rounds from the first 30 intervals of each replication.
    cases = {
        "uniform": ({"dist": "uniform", "low": 10, "high": 50}, 30.0, 40**2 / 12),
        "triangular": (
            {"dist": "triangular", "low": 21, "mode": 42, "high": 90},
            51.0,
            (21**2 + 42**2 + 90**2 - 21 * 42 - 21 * 90 - 42 * 90) / 18,
        ),
        "exponential": ({"dist": "exponential", "mean": 20}, 20.0, 400.0),
        "gamma": ({"dist": "gamma", "shape": 2.5, "scale": 8}, 20.0, 2.5 * 64),
        "lognormal": (
            {"dist": "lognormal", "mu": 3.0, "sigma": 0.5},
            math.exp(3.125),
            (math.exp(0.25) - 1) * math.exp(6.25),
        ),
    }
    from sim.engine.draws import Draws
    from sim.engine.plan import compile_plan

    for name, (dist, mean, var) in cases.items():
        plan = compile_plan(make(rounds={"interval": dist}))
        gaps = np.array(Draws(plan, 0, 4000).interval)[:, :30].ravel()
        assert (gaps >= 0).all()
        # Draws within a replication are independent; across replications too.
        assert_mean(gaps, mean, var, name)


def test_truncated_normal_never_negative_and_has_its_mean() -> None:
    from sim.scenario.distributions import Distribution

    d = Distribution(dist="normal", mean=5.0, sd=10.0)
    u = np.random.default_rng(1).random(200_000)
    x = d.ppf(u)
    assert (x >= 0).all()
    exact = stats.truncnorm(a=-0.5, b=np.inf, loc=5, scale=10)
    assert_mean(x, exact.mean(), exact.var(), "truncated normal")
    assert abs(d.expected() - exact.mean()) < 1e-9
