"""The batch clock: thousands of replications in lockstep, the SimPy model's fast twin.

Most of what happens in a replication is known in advance except its consequences: the round
schedule, event arrivals, review dates, fixed lifting dates, and even the hazard lifts of
constraints (each starts at an activation, and activations come from events). So each
replication's timeline of those steps is built and sorted up front, by (day, tie key), the order
of the SimPy model's event queue. What follows from consequences (an enactment falling due, a
hazard outside rounds, the talks pausing and resuming) the state keeps in its timer arrays; at each
step the batch takes, for every replication, the earlier of its next timeline step and its
earliest timer, by (day, tie key), and calls for those rows the same
:class:`~sim.engine.state.State` step the SimPy model calls for its one row. Only the clock is this
module's own, and its schedule is written apart from the SimPy model's; every decision is in
:mod:`sim.engine.rules`. ``tests/test_engine.py`` checks that the records are byte-identical.
"""

from __future__ import annotations

import numpy as np

from sim.engine import rules
from sim.engine.draws import Draws, review_span
from sim.engine.plan import Plan
from sim.engine.records import Records
from sim.engine.rules import (
    CONSTRAINT,
    DECISION,
    ENACT,
    EVENT,
    HAZARD,
    ON,
    OUTSIDE,
    PAUSE,
    PROCESS,
    RESUME,
    REVIEW,
    ROUND,
    SWITCH,
    pack,
    unpack,
)
from sim.engine.state import State


class _Timeline:
    """Each replication's known steps: columns of days, each column with its packed tie key."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.parts: list[tuple[np.ndarray, np.ndarray]] = []  # (day (n, width), code (width,))

    def add(self, day: np.ndarray, cls: int, index: int, kind: int = 0, seq: np.ndarray | int = 0) -> None:
        day = np.asarray(day, dtype=np.float64)
        if day.ndim == 1:
            day = np.broadcast_to(day[None, :], (self.n, day.size))
        if day.shape[1]:
            used = np.isfinite(day).any(axis=0)  # columns no replication uses are dropped
            if not used.all():
                keep = np.flatnonzero(used)
                day = day[:, : keep[-1] + 1] if keep.size else day[:, :0]
        width = day.shape[1]
        if width == 0:
            return
        code = np.broadcast_to(
            pack(cls, index, kind, np.asarray(seq, np.int64)), (width,) if np.ndim(seq) == 0 else np.shape(seq)
        )
        self.parts.append((day, np.ascontiguousarray(code[:width])))

    def sorted(self) -> tuple[np.ndarray, np.ndarray]:
        """Steps ordered by (day, tie key, creation order): columns laid out by (key, creation),
        then a stable sort by day. Unused steps (infinite days) come last."""
        if not self.parts:
            return np.zeros((self.n, 0)), np.zeros((self.n, 0), np.int64)
        day = np.concatenate([p[0] for p in self.parts], axis=1)
        code = np.concatenate([p[1] for p in self.parts])
        by_key = np.argsort(code, kind="stable")
        day, code = day[:, by_key], code[by_key]
        order = np.argsort(day, axis=1, kind="stable")
        return np.take_along_axis(day, order, 1), code[order]


def _upto(times: np.ndarray, horizon: float) -> np.ndarray:
    """Times within the horizon; the others become infinite (never reached)."""
    return np.where(rules.within(times, horizon), times, np.inf)


def timeline(plan: Plan, d: Draws) -> tuple[np.ndarray, np.ndarray]:
    """Every replication's known steps, sorted: (day, packed tie key) matrices, one row each.

    Hazard lifts of constraints come one per activation (the start, then each imposing event, in
    timeline order)."""
    n, h = d.n, plan.horizon
    line = _Timeline(n)
    for c, con in enumerate(plan.constraints):
        span = review_span(plan, c)
        if span is not None:
            assert con.review is not None
            j = np.arange(span[0], span[1] + 1)
            line.add(rules.review_day(con.review.first, con.review.every, j), CONSTRAINT, c, REVIEW, j)
        on = con.on
        if on is not None and rules.within(on, h) and (con.active0 or con.imposable):
            line.add(np.array([on]), CONSTRAINT, c, ON)
    for e, ev in enumerate(plan.events):
        times = d.arrival_times[e]
        if times is not None:
            line.add(_upto(times, h), EVENT, e)
        line.add(np.array([t for t in ev.dates if rules.within(t, h)]), EVENT, e)
    line.add(_upto(d.round_times, h), ROUND, 0, 0, np.arange(d.round_times.shape[1]))
    for c, con in enumerate(plan.constraints):
        mean = d.params.hazard_mean[c]
        if mean is None:
            continue
        imposers = _Timeline(n)
        for e, ev in enumerate(plan.events):
            if c in ev.impose:
                times = d.arrival_times[e]
                if times is not None:
                    imposers.add(_upto(times, h), EVENT, e)
                imposers.add(np.array([t for t in ev.dates if rules.within(t, h)]), EVENT, e)
        starts = imposers.sorted()[0]
        if con.active0:
            starts = np.concatenate([np.zeros((n, 1)), starts], axis=1)
        unit = d.hazard[c]
        assert unit is not None
        width = min(starts.shape[1], unit.shape[1])  # the draws cover every activation there is
        assert not np.isfinite(starts[:, width:]).any()
        starts = starts[:, :width]
        lift = rules.hazard_day(starts, mean[:, None], unit[:, :width])
        lift = np.where(np.isfinite(starts), _upto(lift, h), np.inf)
        line.add(lift, CONSTRAINT, c, HAZARD, np.arange(1, width + 1))  # generation after activation m
    return line.sorted()


def _timers(plan: Plan, state: State) -> tuple[list[tuple[np.ndarray, int | None]], np.ndarray]:
    """The state's timer arrays the clock reads, in tie-key order: (array, item column or None),
    and their packed keys."""
    columns: list[tuple[np.ndarray, int | None]] = []
    codes = []
    if plan.pausing:
        columns += [(state.pause_at, None), (state.resume_at, None)]
        codes += [pack(PROCESS, 0, PAUSE, 0), pack(PROCESS, 0, RESUME, 0)]
    if plan.regime is not None and plan.regime.switching:
        columns.append((state.switch_at, None))
        codes.append(pack(PROCESS, 0, SWITCH, 0))
    for x in sorted(set(plan.enacted) | set(plan.outside)):
        if x in plan.enacted:
            columns.append((state.enact_at, x))
            codes.append(pack(DECISION, x, ENACT, 0))
        if x in plan.outside:
            columns.append((state.outside_at, x))
            codes.append(pack(DECISION, x, OUTSIDE, 0))
    return columns, np.array(codes, dtype=np.int64)


def simulate_batch(plan: Plan, start: int, stop: int) -> Records:
    """Replications ``start..stop-1``, all at once; the same records as the SimPy model."""
    d = Draws(plan, start, stop)
    state = State(plan, d)
    day, code = timeline(plan, d)
    state.begin()
    n, width = d.n, day.shape[1]
    everyone = np.arange(n)
    columns, timer_codes = _timers(plan, state)
    pos = np.zeros(n, np.int64)
    steps = int(np.isfinite(day).sum(axis=1).max(initial=0))
    while True:
        if not columns and int(pos.max(initial=0)) >= steps:
            break
        at = np.minimum(pos, max(width - 1, 0))
        ts = np.where(pos < width, day[everyone, at], np.inf) if width else np.full(n, np.inf)
        cs = code[everyone, at] if width else np.zeros(n, np.int64)
        if columns:
            times = np.stack([a if x is None else a[:, x] for a, x in columns], axis=1)
            times = np.where(rules.within(times, plan.horizon), times, np.inf)
            j = np.argmin(times, axis=1)  # the first of equal times: the smallest key
            td, cd = times[everyone, j], timer_codes[j]
            known = (ts < td) | ((ts == td) & (cs < cd))
            t, c = np.where(known, ts, td), np.where(known, cs, cd)
            live = np.isfinite(t)
            pos += live & known
        else:
            t, c = ts, cs
            live = np.isfinite(t)
            pos += live
        if not live.any():
            break
        rows = np.flatnonzero(live)
        _dispatch(state, rows, t[rows], c[rows])
    return state.records()


def _dispatch(state: State, rows: np.ndarray, t: np.ndarray, code: np.ndarray) -> None:
    """Each row's step, grouped by what it is (rows are independent, so their order is free)."""
    cls, index, kind, seq = unpack(code)
    for group in np.unique(code >> 31).tolist():  # (class, index, kind)
        sel = (code >> 31) == group
        r, when, sq = rows[sel], t[sel], seq[sel]
        cl, i, kd = int(cls[sel][0]), int(index[sel][0]), int(kind[sel][0])
        if cl == ROUND:
            state.round(r, when, sq)
        elif cl == EVENT:
            state.occur(i, r, when)
        elif cl == CONSTRAINT:
            if kd == REVIEW:
                state.review(i, r, when, sq)
            elif kd == ON:
                state.lift_on(i, r, when)
            else:
                state.hazard(i, r, when, sq)
        elif cl == PROCESS:
            if kd == PAUSE:
                state.stall(r, when)
            elif kd == RESUME:
                state.resume(r, when)
            else:
                state.switch(r, when)
        elif kd == ENACT:
            state.enact(i, r, when)
        else:
            state.outside(i, r, when)
