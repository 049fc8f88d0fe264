"""The rule book: every decision of the model (the README, "What one replication does"), stated once, on arrays.

Each function takes the state of ``n`` replications as arrays (one row each) and returns the
decision for every row. :class:`sim.engine.state.State` applies them; both clocks (the SimPy
model on one row, the batch engine on thousands) call the state, so a rule changed here changes
every result file, whichever engine wrote it. What the two clocks decide on their own is only
*when* things happen, in the tie order defined here.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from sim.engine.plan import Plan


class Judged(Protocol):
    """The judgements of some rows: what :func:`agreement_probability` reads."""

    p: np.ndarray
    logit: np.ndarray
    certain: np.ndarray
    weight: np.ndarray
    factors: list[np.ndarray]


PRIO_EVENT = 1_000
"""At equal times: events first (in file order: ``PRIO_EVENT + e``)..."""
PRIO_CONSTRAINT = 2_000
"""...then constraint changes (``PRIO_CONSTRAINT + c``)..."""
PRIO_ROUND = 3_000
"""...then the round (Semantics 7)."""

EXP_FLOOR = -700.0
"""Below this logit, ``expit`` is taken as exactly 0 (``exp(700)`` is near float64's limit)."""


def clip(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """``x`` kept within [low, high], elementwise."""
    # Equivalent mutants (mutmut): `<=` for `<` and `>=` for `>` give the same value at the bounds.
    return np.where(x < low, low, np.where(x > high, high, x))


def add_trust(trust: np.ndarray, delta: float, low: float, high: float) -> np.ndarray:
    """Trust after a change of ``delta``, kept within [low, high] (Semantics 4 and 6)."""
    return clip(trust + delta, low, high)


def multiplier(plan: Plan, active: np.ndarray, factors: list[np.ndarray]) -> np.ndarray:
    """The product of the multipliers of each item's active constraints: (n, items) from
    ``active`` (n, constraints) and each slot's ``factors`` (n, items). Factors multiply in the order
    the item lists them."""
    mult = np.ones((active.shape[0], len(plan.items)))
    if not len(plan.constraints):
        return mult
    # strict=True guards an invariant (one factor per effect slot, by construction in Params): dropping
    # it is an equivalent mutant.
    for (con, _, has), factor in zip(plan.effect_slots, factors, strict=True):
        mult = mult * np.where(has & active[:, con], factor, 1.0)
    return mult


def agreement_probability(plan: Plan, p: Judged, trust: np.ndarray, active: np.ndarray) -> np.ndarray:
    """``p_eff = expit(logit(p) + weight * trust) * multipliers``, clipped to [0, 1]: (n, items),
    with each row's own judgements ``p`` (:class:`sim.engine.params.Params` of the same rows).

    p = 0 and p = 1 stay exact whatever the trust; with no trust shift p is used unchanged
    (no round trip through the logit).
    """
    shift = (p.weight * trust)[:, None]
    z = p.logit + shift
    expit = 1.0 / (1.0 + np.exp(-np.maximum(z, EXP_FLOOR)))
    # `>=` for `>` is an equivalent mutant: at z == EXP_FLOOR expit is about 1e-304, never drawn.
    base = np.where(p.certain | (shift == 0.0), p.p, np.where(z > EXP_FLOOR, expit, 0.0))
    return clip(base * multiplier(plan, active, p.factors), 0.0, 1.0)


def eligible(plan: Plan, agreed: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Items that could be worked on: not agreed, every ``requires`` agreed, blocked by no active constraint."""
    # The int32 casts only make the counts integers; float counts compare to 0 alike (equivalent mutants).
    waiting = (~agreed).astype(np.int32) @ plan.requires_matrix.T
    blocked = active.astype(np.int32) @ plan.blocks_matrix.T
    return ~agreed & (waiting == 0) & (blocked == 0)


def agenda(plan: Plan, agreed: np.ndarray, active: np.ndarray) -> np.ndarray:
    """The items worked on in a held round (n, items): the eligible ones by (priority, file order),
    at most ``capacity``. A blocked item takes no place (Semantics 3)."""
    on = eligible(plan, agreed, active)
    # `>` for `>=` is an equivalent mutant: with capacity equal to the item count the ranked path
    # below keeps every eligible item too; this branch only skips the ranking.
    if plan.capacity >= len(plan.order):
        return on
    order = list(plan.order)
    ranked = on[:, order]
    ranked &= np.cumsum(ranked, axis=1) <= plan.capacity
    out = np.zeros_like(on)
    out[:, order] = ranked
    return out


def prepared(plan: Plan, seen: np.ndarray) -> np.ndarray:
    """Items on the agenda in at least ``after_rounds`` earlier rounds (``seen``: (n, items) counts)."""
    return seen >= plan.after_vector


def round_held(t: np.ndarray, suspended_until: np.ndarray) -> np.ndarray:
    """Whether a scheduled round on day t falls outside a suspension (a suspension until day d
    covers rounds before d; a round on day d is held)."""
    return t >= suspended_until


def cancelled(u: np.ndarray, p: float) -> np.ndarray:
    """A scheduled round called off, with probability ``rounds.cancel``."""
    return u < p


def happens(u: np.ndarray, p: float | np.ndarray) -> np.ndarray:
    """A chance event with probability ``p`` on keyed uniforms ``u``: agreement, lifting at a
    review, breakdown."""
    return u < p


def suspended_until(current: np.ndarray, t: np.ndarray, days: np.ndarray) -> np.ndarray:
    """The end of the suspension after an event on day t suspends the talks for ``days``:
    suspensions never shorten one already running."""
    return np.maximum(current, t + days)


def first_review(first: float, every: float) -> int:
    """Index of the first review on or after day 0 (reviews before the start are history)."""
    if first >= 0.0:  # `> 0.0` and `>= 1.0` are equivalent mutants: ceil(-first / every) is 0 there too
        return 0
    return math.ceil(-first / every)


def review_day(first: float, every: float, j: np.ndarray | int) -> np.ndarray:
    """The day of review j of a calendar that began on day ``first``."""
    return first + np.asarray(j) * every


def hazard_day(t0: np.ndarray | float, mean: float, unit: np.ndarray | float) -> np.ndarray:
    """The day a hazard lifts a constraint activated on day t0: an exponential wait of ``mean``
    days (``unit`` is a unit-mean exponential draw)."""
    return np.asarray(t0 + mean * unit)


def within(t: np.ndarray | float, horizon: float) -> np.ndarray:
    """Whether day t is simulated: the horizon itself is (Semantics 1)."""
    return np.asarray(t) <= horizon


IN_FORCE_POINTS = 64
"""Days on which each replication records whether each constraint is in force: evenly spaced from
day 0 to the horizon, one bit each of a 64-bit word."""


def in_force_days(horizon: float) -> np.ndarray:
    """The days of the in-force record: 0, ..., horizon (``IN_FORCE_POINTS`` of them)."""
    return np.linspace(0.0, horizon, IN_FORCE_POINTS)


def from_day(grid: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The bits of the record's days on or after day t (a change on a record day counts at its end)."""
    # side="left" is numpy's default: a mutant that drops it is equivalent.
    first = np.searchsorted(grid, t, side="left").astype(np.uint64)
    full = np.uint64(2**64 - 1)
    # (np.minimum with 64 for 63 is an equivalent mutant: first is below 64 wherever it is used.)
    return np.where(first >= IN_FORCE_POINTS, np.uint64(0), full << np.minimum(first, np.uint64(63)))
