"""Judgements as distributions: validated against their field, drawn once per replication from
their own keyed stream, and held to closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special
from scipy import stats as sps

from sim.engine.params import Params
from sim.engine.plan import compile_plan
from sim.engine.simulate import simulate
from sim.scenario.checks import check_document
from sim.scenario.documents import Document
from sim.scenario.judgements import Uncertain
from tests.helpers import BASE, assert_proportion, make, merge

BETA = {"dist": "beta", "a": 2.0, "b": 5.0}


def problems(**sections: object) -> list[str]:
    _, found = check_document(Document("t.yaml", merge(BASE, sections), {}))
    return [f"{p.path}: {p.message}" for p in found]


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        (
            {"items": {"a": {"p": {"dist": "normal", "mean": 0.3, "sd": 0.1}}}},
            "items.a.p: normal can draw outside [0, 1]",
        ),
        ({"items": {"a": {"p": {"dist": "uniform", "low": 0.2, "high": 1.3}}}}, "this uniform can draw outside [0, 1]"),
        ({"rounds": {"cancel": {"dist": "gamma", "shape": 2, "scale": 0.1}}}, "rounds.cancel: gamma can draw outside"),
        ({"events": {"e": {"rate": {"dist": "normal", "mean": 2, "sd": 1}}}}, "events.e.rate: normal can draw outside"),
        ({"items": {"a": {"p": {"dist": "beta", "mean": 1.2, "concentration": 4}}}}, "strictly between 0 and 1"),
        ({"items": {"a": {"p": {"dist": "beta", "a": 2}}}}, "beta takes 'a', 'b' or 'mean', 'concentration'"),
        (
            {
                "items": {"a": {"p": 0.5, "constraints": {"c": {"dist": "normal", "mean": 1, "sd": 1}}}},
                "constraints": {"c": {"lift": {"on": 5}}},
            },
            "normal can draw a negative multiplier",
        ),
    ],
)
def test_a_distribution_must_fit_its_field(sections: dict[str, object], message: str) -> None:
    """A probability's draws stay in [0, 1], a rate's above 0, a multiplier's at 0 or more."""
    assert any(message in p for p in problems(**sections)), problems(**sections)


def test_distributions_that_fit_are_accepted_everywhere_a_judgement_goes() -> None:
    s = make(
        parties={"x": {}, "y": {}},
        rounds={"cancel": {"dist": "uniform", "low": 0, "high": 0.3}},
        items={
            "a": {"p": BETA, "trust_gain": {"dist": "normal", "mean": 0.1, "sd": 0.05}},
            "b": {
                "accept": {"x": {"dist": "beta", "mean": 0.8, "concentration": 20}, "y": 0.9},
                "constraints": {"c": {"dist": "triangular", "low": 0, "mode": 0.5, "high": 1}},
            },
        },
        constraints={
            "c": {
                "lift": {
                    "reviews": {"first": 10, "every": 30},
                    "p": BETA,
                    "rate": {"dist": "gamma", "shape": 2, "scale": 1},
                }
            }
        },
        trust={
            "weight": {"dist": "normal", "mean": 1, "sd": 0.5},
            "on_agreement": {"dist": "uniform", "low": 0, "high": 0.2},
        },
        events={
            "e": {
                "rate": {"dist": "lognormal", "mu": 0, "sigma": 0.5},
                "trust": {"dist": "normal", "mean": -0.2, "sd": 0.1},
                "breakdown": {"dist": "beta", "a": 1, "b": 20},
            }
        },
    )
    plan = compile_plan(s)
    assert [path for path, _ in plan.judgements] == [
        "rounds.cancel",
        "trust.weight",
        "trust.on_agreement",
        "items.a.p",
        "items.b.accept.x",
        "items.b.constraints.c",
        "items.a.trust_gain",
        "constraints.c.lift.p",
        "constraints.c.lift.rate",
        "events.e.rate",
        "events.e.trust",
        "events.e.breakdown",
    ]
    batch, reference = simulate(plan, 0, 60), simulate(plan, 0, 60, engine="simpy")
    assert batch.equals(reference)  # both clocks read the same judgements


def test_a_judgement_is_drawn_once_per_replication_from_its_own_stream() -> None:
    """Its inverse CDF at the first uniform of param/<path>; the same value alone or in a batch."""
    plan = compile_plan(make(items={"a": {"p": BETA}, "b": {"p": 0.3}}))
    params = Params(plan, 0, 5000)
    draws = params.p[:, 0]
    assert np.array_equal(Params(plan, 17, 18).p[:, 0], draws[17:18])
    assert abs(draws.mean() - 2 / 7) < 4.5 * math.sqrt(sps.beta(2, 5).var() / draws.size)
    assert (params.p[:, 1] == 0.3).all()  # a plain number stays itself


def test_a_larger_mean_moves_every_draw_the_same_way() -> None:
    """Common random numbers: raising a beta's mean raises every replication's draw."""
    low = Params(compile_plan(make(items={"a": {"p": {"dist": "beta", "mean": 0.3, "concentration": 10}}})), 0, 500)
    high = Params(compile_plan(make(items={"a": {"p": {"dist": "beta", "mean": 0.4, "concentration": 10}}})), 0, 500)
    assert (high.p[:, 0] > low.p[:, 0]).all()


def test_beta_mean_and_concentration() -> None:
    judged = Uncertain(dist="beta", mean=0.25, concentration=8)
    assert judged.params()["a"] == 2.0 and judged.params()["b"] == 6.0 and judged.expected() == 0.25
    assert judged.describe() == "beta(a=2, b=6)"


@pytest.mark.parametrize("k", [2, 4, 7])
def test_agreement_within_k_rounds_is_beta_geometric(k: int) -> None:
    """p ~ Beta(a, b), fixed interval: P(agreed within k rounds) = 1 - B(a, b + k) / B(a, b)."""
    a, b, n = 2.0, 5.0, 20_000
    s = make(
        calendar={"horizon": 10 * (k - 1)},
        rounds={"interval": 10},
        items={"x": {"p": {"dist": "beta", "a": a, "b": b}}},
        trust={"weight": 0.0},
    )
    rec = simulate(compile_plan(s), 0, n)
    exact = 1 - math.exp(special.betaln(a, b + k) - special.betaln(a, b))
    assert_proportion(rec.item_agreed[:, 0], n, exact, f"k={k}")


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "gamma", "shape": 0.1, "scale": 2.0},
        {"dist": "gamma", "shape": 4.0, "scale": 0.25},
        {"dist": "lognormal", "mu": 0.0, "sigma": 1.5},
        {"dist": "exponential", "mean": 3.0},
        {"dist": "normal", "mean": 1.0, "sd": 0.3},
        {"dist": "uniform", "low": 0.5, "high": 2.0},
    ],
)
def test_the_cheap_bound_is_above_the_quantile(spec: dict[str, float]) -> None:
    """Validation bounds a rate's 99.9% quantile without scipy; the bound is never below the quantile."""
    from sim.scenario.judgements import Uncertain

    judged = Uncertain.model_validate(spec)
    exact = float(judged.ppf(np.array([0.999]))[0])
    assert judged.bound(0.999) >= exact
    assert judged.bound(0.999) <= exact * 40 + 40  # and not absurdly loose
