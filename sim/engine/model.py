"""The SimPy model of one replication (the README, "What one replication does"): the reference clock.

Each source of change is a SimPy process (the rounds, each event kind, each constraint's
reviews, its fixed lifting date, its hazard lifts, and each timer the state sets: an enactment
falling due, a hazard outside rounds, the talks pausing or resuming) that only waits for its time
and calls a step of :class:`~sim.engine.state.State` on its one row; every decision is in
:mod:`sim.engine.rules`. Order at equal times is fixed by the tie keys of the rule book
(:data:`sim.engine.rules.Key`, compared as tuples), never by insertion. ``negsim trace`` tells a
replication with this model; batches run on the batch clock (:mod:`sim.engine.batch`), whose
schedule is written separately and which is tested to give byte-identical records.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from heapq import heappush
from typing import Any

import numpy as np
import simpy

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
    PAUSE,
    PROCESS,
    RESUME,
    REVIEW,
    ROUND,
    SWITCH,
    key,
)
from sim.engine.state import Rows, State, Trace

ROW: Rows = np.zeros(1, np.int64)
"""The one row of the SimPy model's state."""

SIMPY = -1
"""The class of SimPy's own events (a process starting): before every step of the model at equal times."""


class _Environment(simpy.Environment):
    """A SimPy environment whose events are ordered by (time, tie key): SimPy's own priorities
    become keys of a class of their own, before the model's."""

    def schedule(self, event: simpy.Event, priority: int = simpy.events.NORMAL, delay: float = 0) -> None:
        heappush(self._queue, (self._now + delay, (SIMPY, priority), next(self._eid), event))  # type: ignore[attr-defined, misc]

    def at(self, time: float, priority: rules.Key) -> simpy.Event:
        event = simpy.Event(self)
        event._ok = True
        event._value = None
        heappush(self._queue, (time, priority, next(self._eid), event))  # type: ignore[attr-defined, misc]
        return event


def _day(t: float) -> np.ndarray:
    return np.array([t])


class SimPyModel(State):
    """One replication driven by SimPy processes; only the clock's hooks differ from the batch."""

    def __init__(self, plan: Plan, draws: Draws, trace: Trace | None = None) -> None:
        if draws.n != 1:
            raise ValueError("the SimPy model runs one replication at a time")
        super().__init__(plan, draws, trace)
        self.env = _Environment()

    def run(self) -> SimPyModel:
        plan, env = self.plan, self.env
        self.begin()
        for c, con in enumerate(plan.constraints):
            if review_span(plan, c) is not None:
                env.process(self._reviews(c))
            on = con.on
            if on is not None and rules.within(on, plan.horizon) and (con.active0 or con.imposable):
                env.process(self._lift_on(c, on))
        for e, ev in enumerate(plan.events):
            if self.draws.arrival_times[e] is not None:
                env.process(self._poisson(e))
            if ev.dates:
                env.process(self._dated(e))
        env.process(self._rounds())
        env.run()
        return self

    # ---------------------------------------------------------------- the hooks

    def start_hazard(self, c: int, rows: Rows, t: np.ndarray) -> None:
        generation = int(self.generation[0, c])
        unit = self.draws.hazard[c]
        assert unit is not None
        mean = self.params.hazard_mean[c]
        assert mean is not None
        lift = float(rules.hazard_day(float(t[0]), float(mean[0]), unit[0, generation - 1]))
        if rules.within(lift, self.plan.horizon):
            self.env.process(self._at(lift, key(CONSTRAINT, c, HAZARD, generation), self._hazard_step(c, generation)))

    def armed(self, cls: int, index: int, kind: int, rows: Rows) -> None:
        if cls == PROCESS:
            talks = {PAUSE: self.pause_at, RESUME: self.resume_at, SWITCH: self.switch_at}[kind]
            t = float(talks[0])
            step = {PAUSE: self.stall, RESUME: self.resume, SWITCH: self.switch}[kind]
            self._schedule(t, key(PROCESS, 0, kind), lambda: talks[0] == t, lambda: step(ROW, _day(t)))
        else:
            item = self.enact_at if kind == ENACT else self.outside_at
            t = float(item[0, index])
            act = self.enact if kind == ENACT else self.outside
            self._schedule(t, key(DECISION, index, kind), lambda: item[0, index] == t, lambda: act(index, ROW, _day(t)))

    def _schedule(self, t: float, priority: rules.Key, current: Callable[[], bool], step: Callable[[], None]) -> None:
        """A timer's step at day t, taken only if the timer still says t then (it may have been
        set again meanwhile: only its latest setting counts)."""
        if rules.within(t, self.plan.horizon):
            self.env.process(self._at(t, priority, lambda: step() if current() else None))

    # ---------------------------------------------------------------- the processes

    def _at(self, t: float, priority: rules.Key, step: Callable[[], Any]) -> Generator[simpy.Event, Any, None]:
        yield self.env.at(t, priority)
        step()

    def _hazard_step(self, c: int, generation: int) -> Callable[[], None]:
        return lambda: self.hazard(c, ROW, _day(self.env.now), np.array([generation]))

    def _rounds(self) -> Generator[simpy.Event, Any, None]:
        times = self.draws.round_times[0]
        for k in range(int(self.draws.round_count[0])):
            t = float(times[k])
            yield self.env.at(t, key(ROUND, 0, 0, k))
            self.round(ROW, _day(t), np.array([k]))

    def _reviews(self, c: int) -> Generator[simpy.Event, Any, None]:
        review = self.plan.constraints[c].review
        assert review is not None
        span = review_span(self.plan, c)
        assert span is not None
        for j in range(span[0], span[1] + 1):
            t = float(rules.review_day(review.first, review.every, j))
            yield self.env.at(t, key(CONSTRAINT, c, REVIEW, j))
            self.review(c, ROW, _day(t), np.array([j]))

    def _lift_on(self, c: int, t: float) -> Generator[simpy.Event, Any, None]:
        yield self.env.at(t, key(CONSTRAINT, c, ON))
        self.lift_on(c, ROW, _day(t))

    def _poisson(self, e: int) -> Generator[simpy.Event, Any, None]:
        times = self.draws.arrival_times[e]
        assert times is not None
        for t in times[0].tolist():
            if not rules.within(t, self.plan.horizon):
                return
            yield self.env.at(t, key(EVENT, e))
            self.occur(e, ROW, _day(t))

    def _dated(self, e: int) -> Generator[simpy.Event, Any, None]:
        for t in self.plan.events[e].dates:
            if not rules.within(t, self.plan.horizon):
                return
            yield self.env.at(t, key(EVENT, e))
            self.occur(e, ROW, _day(t))


def replicate(plan: Plan, replication: int, trace: Trace | None = None) -> SimPyModel:
    """Run one replication to the horizon with SimPy and return its final state."""
    return SimPyModel(plan, Draws(plan, replication, replication + 1), trace).run()


def simulate_simpy(plan: Plan, start: int, stop: int) -> Records:
    """Replications ``start..stop-1``, one at a time with SimPy; their records joined."""
    draws = Draws(plan, start, stop)
    if stop <= start:
        return State(plan, draws).records()
    return Records.concat([SimPyModel(plan, draws.row(i)).run().records() for i in range(stop - start)])
