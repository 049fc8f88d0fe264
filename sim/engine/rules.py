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

    @property
    def p(self) -> np.ndarray: ...
    @property
    def logit(self) -> np.ndarray: ...
    @property
    def certain(self) -> np.ndarray: ...
    @property
    def weight(self) -> np.ndarray: ...
    @property
    def factors(self) -> list[np.ndarray]: ...
    @property
    def shift(self) -> np.ndarray: ...


# ---------------------------------------------------------------- the order at equal times

EVENT, PROCESS, CONSTRAINT, DECISION, ROUND = range(5)
"""Classes of steps, in their order at equal times (Semantics 7): events first, then the talks
pausing or resuming, then constraint changes, then enactments and decisions outside rounds, then
the round."""

REVIEW, ON, HAZARD = range(3)
"""A constraint's steps at equal times: its review, its fixed date, its hazard lift."""
PAUSE, RESUME, SWITCH = range(3)
ENACT, OUTSIDE = range(2)

Key = tuple[int, int, int, int]
"""The tie key of a step: (class, index, kind, sequence). Steps at the same time happen in the
order of their keys; the index is an item, constraint or event in file order, the sequence a
round's or a review's number, or a hazard's activation. Keys are compared as tuples, so no index
can spill into another class."""


def key(cls: int, index: int = 0, kind: int = 0, seq: int = 0) -> Key:
    return (cls, index, kind, seq)


LIMITS = (ROUND + 1, 1 << 24, 1 << 4, 1 << 31)
"""Each field of a key packed into one int64 (for the batch clock's sorting) is below its limit:
the class, an index (24 bits), a kind (4 bits), a sequence (31 bits)."""


def pack(cls: int, index: int | np.ndarray, kind: int, seq: int | np.ndarray) -> np.ndarray:
    """Keys packed into int64 so that integer order is tuple order; every field is checked to fit
    its bits (an index of 2**24 or a sequence of 2**31 is refused, never wrapped)."""
    index, seq = np.asarray(index, np.int64), np.asarray(seq, np.int64)
    fields = ((cls, "class"), (index, "index"), (kind, "kind"), (seq, "sequence"))
    for (value, what), limit in zip(fields, LIMITS, strict=True):
        if np.any(np.asarray(value) < 0) or np.any(np.asarray(value) >= limit):
            raise ValueError(f"a tie key's {what} is out of range")
    return (((np.int64(cls) << 24 | index) << 4 | np.int64(kind)) << 31) | seq


def unpack(code: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The (class, index, kind, sequence) fields of packed keys."""
    return code >> 59, (code >> 35) & 0xFFFFFF, (code >> 31) & 0xF, code & 0x7FFFFFFF


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
    """``p_eff = expit(logit(p) + weight * trust + log(odds)) * multipliers``, clipped to [0, 1]:
    (n, items), with each row's own judgements ``p`` (:class:`sim.engine.params.Params` of the same
    rows) and its regime's odds ratio (1 without a regime).

    p = 0 and p = 1 stay exact whatever the trust; with no shift p is used unchanged (no round
    trip through the logit).
    """
    shift = (p.weight * trust + p.shift)[:, None]
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


def lifted_by_agreement(plan: Plan, agreed: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Active constraints that lift because every item of their ``when_agreed`` is agreed: (n, constraints)."""
    out = np.zeros_like(active)
    for c, con in enumerate(plan.constraints):
        if con.when_agreed is not None:
            out[:, c] = active[:, c] & agreed[:, list(con.when_agreed)].all(axis=1)
    return out


def decided(plan: Plan, agreed: np.ndarray) -> np.ndarray:
    """Items whose enactment is decided by agreement: every item of their ``enact.after`` agreed
    (n, items; False for items without ``enact.after``)."""
    out = np.zeros_like(agreed)
    for x in plan.enacted:
        after = plan.items[x].enact.after  # type: ignore[union-attr]
        if after:
            out[:, x] = agreed[:, list(after)].all(axis=1)
    return out


def chance(p: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """A chance moved by a log odds ratio: ``expit(logit(p) + shift)``; 0 and 1 stay exact, and
    with no shift p is used unchanged (the regime's effect on an enactment's chance)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.log(p) - np.log1p(-p) + shift
    moved = 1.0 / (1.0 + np.exp(-np.maximum(z, EXP_FLOOR)))
    return np.where((p <= 0.0) | (p >= 1.0) | (shift == 0.0), p, np.where(z > EXP_FLOOR, moved, 0.0))


def outside_rate(rate: np.ndarray, scale: np.ndarray, factors: np.ndarray, open_: np.ndarray) -> np.ndarray:
    """The hazard outside rounds (per day) of each item: its rate, scaled by the regime and by the
    multipliers of its active constraints, while the item is eligible (``open_``), else 0."""
    return np.where(open_, rate * scale[:, None] * factors, 0.0)


def hazard_due(t: np.ndarray, left: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """When a hazard of ``rate`` per day from day t uses up the ``left`` of its unit-exponential
    budget (infinite at a rate of 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(rate > 0, t + left / rate, np.inf)


def hazard_spent(left: np.ndarray, rate: np.ndarray, since: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The budget left at day t after a hazard of ``rate`` per day since day ``since``."""
    return np.where(rate > 0, np.maximum(left - rate * (t - since), 0.0), left)


def exp_wait(t: np.ndarray, unit: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """The day a constant hazard of ``rate`` per day from day t fires, on a unit-exponential draw
    (infinite at a rate of 0): a stall, a resumption."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(rate > 0, t + unit / rate, np.inf)


def next_state(u: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Which of the moves a regime takes, by a uniform per row: the first whose cumulative share
    of the rows' total rate passes ``u`` ((rows, moves) rates; the index of the move)."""
    total = rates.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        cumulative = np.cumsum(rates, axis=1) / total
    return np.minimum((u[:, None] >= cumulative).sum(axis=1), rates.shape[1] - 1)


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


def hazard_day(t0: np.ndarray | float, mean: np.ndarray | float, unit: np.ndarray | float) -> np.ndarray:
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
