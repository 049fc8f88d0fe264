"""A batch's draws: schedules built from the keyed streams, wide enough for every replication."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim.engine.draws import Draws, review_span
from sim.engine.plan import compile_plan
from sim.engine.streams import chunks
from sim.errors import UserError
from sim.scenario.distributions import Distribution
from sim.scenario.judgements import Uncertain
from tests.helpers import make

PLAN = compile_plan(
    make(
        calendar={"horizon": 120},
        rounds={"first": 3, "interval": {"dist": "uniform", "low": 5, "high": 15}, "cancel": 0.2},
        items={"a": {"p": 0.5}, "b": {"p": 0.5}},
        constraints={
            "c": {"active": True, "lift": {"rate": 3.0, "reviews": {"first": "2024-12-12", "every": 30}, "p": 0.5}}
        },
        events={"e": {"rate": 6.0, "impose": ["c"], "suspend": {"dist": "exponential", "mean": 4}}},
    )
)


def test_round_times_are_the_first_round_then_the_intervals_added_up() -> None:
    """Round k is first + interval_0 + ... + interval_(k-1); the count is the rounds within the horizon."""
    d = Draws(PLAN, 0, 200)
    expected = 3 + np.concatenate([np.zeros((200, 1)), np.cumsum(d.interval[:, :-1], axis=1)], axis=1)
    assert np.allclose(d.round_times, expected)
    assert np.array_equal(d.round_count, (d.round_times <= 120).sum(axis=1))


def test_every_schedule_reaches_past_the_horizon() -> None:
    """The matrices are wide enough: each replication's last round and last arrival are beyond the horizon."""
    d = Draws(PLAN, 0, 300)
    assert (d.round_times[:, -1] > 120).all()
    times = d.arrival_times[0]
    assert times is not None and (times[:, -1] > 120).all()
    assert d.items.shape[2] >= d.round_count.max()
    assert d.suspend[0] is not None and d.suspend[0].shape[1] >= d.occurrences[0].max()
    assert d.hazard[0] is not None and d.hazard[0].shape[1] >= 1 + d.occurrences[0].max()


def test_intervals_are_the_inverse_cdf_of_their_stream() -> None:
    """Interval draws are ppf(u) of the rounds/interval stream's uniforms."""
    d = Draws(PLAN, 10, 20)
    u = chunks(PLAN.seed, "rounds/interval", 10, 20, 0)
    assert np.array_equal(d.interval[:, :8], 5 + 10 * u)


def test_a_row_is_the_replication_drawn_alone() -> None:
    """Draws.row(i) holds the same numbers as the draws of replication start + i alone."""
    batch = Draws(PLAN, 40, 60)
    alone = Draws(PLAN, 47, 48)
    row = batch.row(7)
    assert row.n == 1 and row.start == 47
    k = int(alone.round_count[0])
    assert np.array_equal(row.round_times[0, : k + 1], alone.round_times[0, : k + 1])
    assert np.array_equal(row.items[0, :, :k], alone.items[0, :, :k])
    assert row.cancel is not None and alone.cancel is not None
    assert np.array_equal(row.cancel[0, :k], alone.cancel[0, :k])


def test_review_span_counts_reviews_from_day_zero_to_the_horizon_inclusive() -> None:
    """Reviews every 30 days from day -20: indices 1 (day 10) to 4 (day 100); one on the horizon counts."""
    assert review_span(PLAN, 0) == (1, 4)
    on_horizon = compile_plan(
        make(
            calendar={"horizon": 100},
            constraints={"c": {"lift": {"reviews": {"first": 10, "every": 30}, "p": 0.5}}},
        )
    )
    assert review_span(on_horizon, 0) == (0, 3)  # 10, 40, 70, 100
    never = compile_plan(
        make(constraints={"c": {"active": False, "lift": {"reviews": {"first": 0, "every": 9}, "p": 1}}})
    )
    assert review_span(never, 0) is None  # inactive and never imposed: no review can matter


def test_a_judgement_drawing_nonsense_is_stopped_before_the_rule_book() -> None:
    """Validation refuses such judgements; were one to reach the engine (built without validation), a NaN
    or infinite draw, or a chance outside [0, 1], is a UserError naming it, never a simulation of nonsense."""
    plan = compile_plan(make(items={"a": {"p": {"dist": "beta", "a": 2, "b": 2}}, "b": {"p": 0.5}}))
    for judged, message in (
        (Uncertain.model_construct(dist="beta", a=1e300, b=2.0), r"items\.a\.p: beta\(a=1e\+300, b=2\) drew nan"),
        (Uncertain.model_construct(dist="normal", mean=0.0, sd=1.7e308), "drew -?inf in replication"),
        (Uncertain.model_construct(dist="uniform", low=0.5, high=1.5), r"items\.a: its chance of agreement comes out"),
    ):
        bad = dataclasses.replace(plan, judgements=(("items.a.p", judged),))
        with pytest.raises(UserError, match=message):
            Draws(bad, 0, 500)


def test_intervals_of_nearly_0_days_are_stopped_rather_than_drawn_for_ever() -> None:
    """A replication that would hold more rounds than validation allows any (its intervals nearly all 0
    days) is a UserError naming rounds.interval, reached in a few doublings rather than by 8 at a time."""
    s = make(calendar={"horizon": 365}, rounds={"interval": 30})
    tiny = Distribution.model_construct(dist="gamma", shape=1e-6, scale=1e6)
    plan = dataclasses.replace(compile_plan(s), rounds=dataclasses.replace(compile_plan(s).rounds, interval=tiny))
    with pytest.raises(UserError, match=r"rounds\.interval: replication \d+ draws more than 40,000 rounds"):
        Draws(plan, 0, 50)
