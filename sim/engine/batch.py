"""The batch clock: thousands of replications in lockstep, the SimPy model's fast twin.

Everything that happens in a replication is known in advance except its consequences: the round
schedule, event arrivals, review dates, fixed lifting dates, and even the hazard lifts (each
starts at an activation, and activations come from events). So each replication's timeline is
built and sorted up front, by (day, priority, creation order) exactly as the SimPy model's event
queue orders them; then the batch walks the timelines step by step together, calling, for the
rows whose step is a round, an event, a review or a lift, the same :class:`~sim.engine.state.State`
step the SimPy model calls for its one row. Only the clock is this module's own; every decision
is in :mod:`sim.engine.rules`. ``tests/test_engine.py`` checks that the records are
byte-identical to the SimPy model's.
"""

from __future__ import annotations

import numpy as np

from sim.engine import rules
from sim.engine.draws import Draws, review_span
from sim.engine.plan import Plan
from sim.engine.records import Records
from sim.engine.rules import PRIO_CONSTRAINT, PRIO_EVENT, PRIO_ROUND
from sim.engine.state import State

NONE, ROUND, EVENT, REVIEW, ON, HAZARD = range(6)
"""Kinds of timeline steps."""


class _Timeline:
    """Each replication's steps: (day, priority, kind, index, extra), kept in creation order."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.parts: list[tuple[int, int, np.ndarray, np.ndarray]] = []  # (priority, creation, day, code)

    def add(self, day: np.ndarray, prio: int, kind: int, index: int, extra: np.ndarray | int = 0) -> None:
        day = np.asarray(day, dtype=np.float64)
        if day.ndim == 1:
            day = np.broadcast_to(day[None, :], (self.n, day.size))
        if day.ndim == 2 and day.shape[1]:
            used = np.isfinite(day).any(axis=0)  # columns no replication uses are dropped
            if not used.all():
                keep = np.flatnonzero(used)
                day = day[:, : keep[-1] + 1] if keep.size else day[:, :0]
        width = day.shape[1]
        if width == 0:
            return
        code = np.int64((kind << 48) | (index << 24)) | np.asarray(extra, dtype=np.int64)
        if code.ndim:
            code = code[:width]
        self.parts.append((prio, len(self.parts), day, np.broadcast_to(code, (self.n, width))))

    def sorted(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Steps ordered by (day, priority, creation order): columns laid out by (priority, creation),
        then a stable sort by day. Unused steps (infinite days) come last."""
        if not self.parts:
            empty = np.zeros((self.n, 0))
            return empty, empty.astype(np.int64), empty.astype(np.int64), empty.astype(np.int64)
        parts = sorted(self.parts, key=lambda p: (p[0], p[1]))
        day = np.concatenate([p[2] for p in parts], axis=1)
        code = np.concatenate([p[3] for p in parts], axis=1)
        order = np.argsort(day, axis=1, kind="stable")
        day = np.take_along_axis(day, order, 1)
        code = np.take_along_axis(code, order, 1)
        return day, code >> 48, (code >> 24) & 0xFFFFFF, code & 0xFFFFFF


def _upto(times: np.ndarray, horizon: float) -> np.ndarray:
    """Times within the horizon; the others become infinite (never reached)."""
    return np.where(rules.within(times, horizon), times, np.inf)


def timeline(plan: Plan, d: Draws) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every replication's steps, sorted: (day, kind, index, extra) matrices, one row each.

    Creation order mirrors the SimPy model's processes: constraints, events, rounds; hazard lifts
    come last, one per activation (the start, then each imposing event, in timeline order).
    """
    n, h = d.n, plan.horizon
    line = _Timeline(n)
    for c in range(len(plan.constraints)):
        span = review_span(plan, c)
        if span is not None:
            first, every, _ = plan.review[c]  # type: ignore[misc]
            j = np.arange(span[0], span[1] + 1)
            line.add(rules.review_day(first, every, j), PRIO_CONSTRAINT + c, REVIEW, c, j)
        on = plan.lift_on[c]
        if on is not None and rules.within(on, h) and (plan.active0[c] or plan.imposable[c]):
            line.add(np.array([on]), PRIO_CONSTRAINT + c, ON, c)
    for e in range(len(plan.events)):
        times = d.arrival_times[e]
        if times is not None:
            line.add(_upto(times, h), PRIO_EVENT + e, EVENT, e)
        line.add(np.array([t for t in plan.event_dates[e] if rules.within(t, h)]), PRIO_EVENT + e, EVENT, e)
    line.add(_upto(d.round_times, h), PRIO_ROUND, ROUND, 0, np.arange(d.round_times.shape[1]))
    for c in range(len(plan.constraints)):
        mean = d.params.hazard_mean[c]
        if mean is None:
            continue
        imposers = _Timeline(n)
        for e in range(len(plan.events)):
            if c in plan.event_impose[e]:
                times = d.arrival_times[e]
                if times is not None:
                    imposers.add(_upto(times, h), PRIO_EVENT + e, EVENT, e)
                dates = [t for t in plan.event_dates[e] if rules.within(t, h)]
                imposers.add(np.array(dates), PRIO_EVENT + e, EVENT, e)
        starts = imposers.sorted()[0]
        if plan.active0[c]:
            starts = np.concatenate([np.zeros((n, 1)), starts], axis=1)
        unit = d.hazard[c]
        assert unit is not None
        width = min(starts.shape[1], unit.shape[1])  # the draws cover every activation there is
        assert not np.isfinite(starts[:, width:]).any()
        starts = starts[:, :width]
        lift = rules.hazard_day(starts, mean[:, None], unit[:, :width])
        lift = np.where(np.isfinite(starts), _upto(lift, h), np.inf)
        line.add(lift, PRIO_CONSTRAINT + c, HAZARD, c, np.arange(1, width + 1))  # generation after activation m
    return line.sorted()


def simulate_batch(plan: Plan, start: int, stop: int) -> Records:
    """Replications ``start..stop-1``, all at once; the same records as the SimPy model."""
    d = Draws(plan, start, stop)
    state = State(plan, d)
    day, kind, index, extra = timeline(plan, d)
    state.begin()
    steps = int((np.isfinite(day)).sum(axis=1).max(initial=0))
    for step in range(steps):
        col_kind, col_day, col_index, col_extra = kind[:, step], day[:, step], index[:, step], extra[:, step]
        live = np.isfinite(col_day)
        if not live.any():
            break
        for what in (EVENT, REVIEW, ON, HAZARD, ROUND):
            rows = np.flatnonzero(live & (col_kind == what))
            if rows.size == 0:
                continue
            t = col_day[rows]
            if what == ROUND:
                state.round(rows, t, col_extra[rows])
                continue
            which = col_index[rows]
            for i in np.unique(which).tolist():
                sel = which == i
                if what == EVENT:
                    state.occur(i, rows[sel], t[sel])
                elif what == REVIEW:
                    state.review(i, rows[sel], t[sel], col_extra[rows][sel])
                elif what == ON:
                    state.lift_on(i, rows[sel], t[sel])
                else:
                    state.hazard(i, rows[sel], t[sel], col_extra[rows][sel])
    return state.records()
