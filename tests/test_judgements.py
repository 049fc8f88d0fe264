"""Judgements as distributions: validated against their field, drawn once per replication from
their own keyed stream, and held to closed forms."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from scipy import special
from scipy import stats as sps

from sim.engine.params import Params
from sim.engine.plan import compile_plan
from sim.engine.simulate import simulate
from sim.scenario.checks import check_document, scenario_warnings
from sim.scenario.distributions import HALF_ULP, TOP_U, Distribution
from sim.scenario.documents import Document
from sim.scenario.judgements import (
    BETA_SAFE,
    EXP_HIGH,
    MAX_CONCENTRATION,
    Z_HIGH,
    Z_LOW,
    Uncertain,
    _gamma_top,
    beta_unfaithful,
)
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
            "normal(mean=1, sd=1) can draw a negative multiplier (-7.29)",
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


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ({"items": {"a": {"p": {"dist": "beta", "a": 1e300, "b": 2}}}}, "a + b is 1e+300, above 1,000,000"),
        ({"items": {"a": {"p": {"dist": "beta", "a": 1e8, "b": 1e300}}}}, "a + b is 1e+300"),
        ({"items": {"a": {"p": {"dist": "beta", "a": 1e-310, "b": 1e-310}}}}, "comes out as 0.5, which is wrong"),
        ({"items": {"a": {"p": {"dist": "beta", "a": 1e-310, "b": 2e-310}}}}, "cannot be drawn"),
        ({"items": {"a": {"p": {"dist": "beta", "a": 5e-324, "b": 2}}}}, "cannot be drawn"),
        (
            {"trust": {"weight": {"dist": "normal", "mean": 0, "sd": 1e307}}},
            "trust.weight: normal(mean=0, sd=1e+307) can draw",
        ),
        ({"trust": {"weight": {"dist": "lognormal", "mu": 700, "sigma": 5}}}, "can draw 9.99e+285"),
        ({"trust": {"weight": {"dist": "lognormal", "mu": 30, "sigma": 0.1}}}, "can draw"),
        ({"trust": {"weight": {"dist": "triangular", "low": -1e308, "mode": 0, "high": 1e308}}}, "can draw -1e+308"),
        ({"trust": {"weight": {"dist": "exponential", "mean": 1e307}}}, "exponential(mean=1e+307) can draw inf"),
        ({"trust": {"weight": {"dist": "gamma", "shape": 1e-300, "scale": 1e300}}}, "can draw"),
        ({"trust": {"weight": {"dist": "uniform", "low": 0, "high": 1e300}}}, "can draw 1e+300"),
        ({"case_effect": {"dist": "normal", "mean": 0, "sd": 20}}, "case_effect: normal(mean=0, sd=20) can draw -166"),
        ({"case_effect": 1000}, "case_effect: must be <= 100"),
    ],
)
def test_a_judgement_whose_draws_cannot_be_finite_and_right_is_refused(
    sections: dict[str, object], message: str
) -> None:
    """NaN draws, every draw 0.5 from a beta too U-shaped to compute, infinities and overflowing means are
    refused at validation, at the field, before anything runs."""
    found = problems(**sections)
    assert any(message in p for p in found), found


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "beta", "a": 1e-5, "b": 1e-5},  # as U-shaped as can be computed: draws of 0 and 1 are right
        {"dist": "beta", "mean": 1e-12, "concentration": 6},  # a calibrated mean near 0
        {"dist": "beta", "a": 1e5, "b": 9e5},
        {"dist": "normal", "mean": 0, "sd": 1e11},
        {"dist": "lognormal", "mu": 0, "sigma": 3},
        {"dist": "gamma", "shape": 1e-6, "scale": 1e6},
    ],
)
def test_extreme_judgements_whose_draws_are_right_are_accepted(spec: dict[str, float]) -> None:
    judged = Uncertain.model_validate(spec)
    drawn = judged.ppf(np.array([0.0, 0.25, 0.5, 0.75, TOP_U]))
    assert np.isfinite(drawn).all() and (np.diff(drawn) >= 0).all()


def test_the_extreme_draws_are_what_the_inverse_cdfs_give_at_the_extreme_uniforms() -> None:
    """The closed forms validation uses without scipy are the draws of the smallest and largest uniform."""
    assert special.ndtri(HALF_ULP) == Z_LOW and special.ndtri(TOP_U) == Z_HIGH
    assert -math.log1p(-TOP_U) == EXP_HIGH
    for spec in (
        {"dist": "normal", "mean": 1.0, "sd": 2.0},
        {"dist": "lognormal", "mu": 0.5, "sigma": 1.5},
        {"dist": "exponential", "mean": 3.0},
        {"dist": "uniform", "low": -1.0, "high": 2.0},
    ):
        judged = Uncertain.model_validate(spec)
        assert judged.extremes() == pytest.approx(tuple(judged.ppf(np.array([0.0, TOP_U]))), rel=1e-12), spec
    for shape in (1e-3, 0.5, 1.0, 1.5, 10.0, 1e4, 1e8):  # a bound at or above the gamma's largest draw, and close
        exact = float(special.gammaincinv(shape, TOP_U))
        assert exact <= _gamma_top(shape) <= exact * 1.2 + 12, shape


def test_the_largest_uniform_draws_a_finite_normal_and_lognormal() -> None:
    """u + HALF_ULP rounds to 1 at the largest uniform, where ndtri is infinite: the draw is clamped below 1."""
    assert np.isfinite(Uncertain.model_validate({"dist": "normal", "mean": 0, "sd": 1}).ppf(np.array([TOP_U]))).all()
    for spec in ({"dist": "lognormal", "mu": 0, "sigma": 1}, {"dist": "normal", "mean": 1, "sd": 1}):
        assert np.isfinite(Distribution.model_validate(spec).ppf(np.array([TOP_U]))).all()


def test_the_inverse_beta_cdf_is_faithful_inside_the_box_validation_trusts() -> None:
    """Where validation draws betas without checking them (a, b >= BETA_SAFE, a + b <= MAX_CONCENTRATION),
    scipy's inverse CDF gives the quantile asked for, to the float."""
    rng = np.random.default_rng(7)
    pairs = [(a, b) for a, b in 10 ** rng.uniform(math.log10(BETA_SAFE), 6, (400, 2)) if a + b <= MAX_CONCENTRATION]
    pairs += [(BETA_SAFE, BETA_SAFE), (BETA_SAFE, MAX_CONCENTRATION - BETA_SAFE), (MAX_CONCENTRATION / 2,) * 2]
    wrong = [(a, b, beta_unfaithful(a, b)) for a, b in pairs if beta_unfaithful(a, b) is not None]
    assert not wrong


FIELDS = [
    ("items", "a", "p"),
    ("rounds", "cancel"),
    ("trust", "weight"),
    ("trust", "on_agreement"),
    ("items", "a", "hazard"),
    ("constraints", "c", "lift", "rate"),
    ("items", "b", "constraints", "c"),
    ("regime", "states", "on", "odds"),
    ("regime", "states", "on", "share"),
    ("case_effect",),
]


@pytest.mark.parametrize("path", FIELDS, ids=".".join)
@pytest.mark.parametrize("value", [0, 1, 0.5, -1, 2])
def test_a_fixed_distribution_is_judged_like_its_number(path: tuple[str, ...], value: float) -> None:
    """{dist: fixed, value: x} gets the same messages, warnings and run as a plain x."""
    base = merge(
        BASE,
        {
            "items": {"a": {"p": 0.5}, "b": {"p": 0.5, "constraints": {"c": 0.5}}},
            "constraints": {"c": {"lift": {"rate": 1, "when_agreed": ["b"]}}},
            "regime": {"states": {"on": {"share": 0.5}, "off": {}}},
            "trust": {"weight": 1.0, "on_agreement": 0.0},
        },
    )

    def outcome(v: object) -> tuple[list[str], list[str], object]:
        data = copy.deepcopy(base)
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = v
        doc = Document("t.yaml", data, {})
        s, found = check_document(doc)
        if s is None:
            return [f"{p.path}: {p.message}" for p in found], [], None
        said = [p.message for p in scenario_warnings(doc, s)]
        return [], said, simulate(compile_plan(s), 0, 200).item_agreed.sum(axis=0).tolist()

    assert outcome({"dist": "fixed", "value": value}) == outcome(value)
