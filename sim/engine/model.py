"""The SimPy model of one replication (the README, "What one replication does"): the reference clock.

Each source of change is a SimPy process (the rounds, each event kind, each constraint's
reviews, its fixed lifting date, its hazard lifts) that only waits for its next time and calls a
step of :class:`~sim.engine.state.State` on its one row; every decision is in
:mod:`sim.engine.rules`. Order at equal times is fixed by event priority, never by insertion:
events first (in file order), then constraint changes (in file order), then the round.
``negsim trace`` tells a replication with this model; batches run on the batch clock
(:mod:`sim.engine.batch`), which is tested to give byte-identical records.
"""

from __future__ import annotations

from collections.abc import Generator
from heapq import heappush
from typing import Any

import numpy as np
import simpy

from sim.engine import rules
from sim.engine.draws import Draws, review_span
from sim.engine.plan import Plan
from sim.engine.records import Records
from sim.engine.rules import PRIO_CONSTRAINT, PRIO_EVENT, PRIO_ROUND
from sim.engine.state import Rows, State, Trace

ROW: Rows = np.zeros(1, np.int64)
"""The one row of the SimPy model's state."""


class _Environment(simpy.Environment):
    """A SimPy environment that schedules at absolute times with an explicit priority."""

    def at(self, time: float, priority: int) -> simpy.Event:
        event = simpy.Event(self)
        event._ok = True
        event._value = None
        heappush(self._queue, (time, priority, next(self._eid), event))  # type: ignore[attr-defined, misc]
        return event


def _day(t: float) -> np.ndarray:
    return np.array([t])


class SimPyModel(State):
    """One replication driven by SimPy processes; only :meth:`start_hazard` differs from the batch."""

    def __init__(self, plan: Plan, draws: Draws, trace: Trace | None = None) -> None:
        if draws.n != 1:
            raise ValueError("the SimPy model runs one replication at a time")
        super().__init__(plan, draws, trace)
        self.env = _Environment()

    def run(self) -> SimPyModel:
        plan, env = self.plan, self.env
        for c in range(len(plan.constraints)):
            if plan.active0[c]:
                self.activate(c, ROW, _day(0.0), initial=True)
            if review_span(plan, c) is not None:
                env.process(self._reviews(c))
            on = plan.lift_on[c]
            if on is not None and rules.within(on, plan.horizon) and (plan.active0[c] or plan.imposable[c]):
                env.process(self._lift_on(c, on))
        for e in range(len(plan.events)):
            if self.draws.arrival_times[e] is not None:
                env.process(self._poisson(e))
            if plan.event_dates[e]:
                env.process(self._dated(e))
        env.process(self._rounds())
        env.run()
        return self

    def start_hazard(self, c: int, rows: Rows, t: np.ndarray) -> None:
        generation = int(self.generation[0, c])
        unit = self.draws.hazard[c]
        assert unit is not None
        mean = self.params.hazard_mean[c]
        assert mean is not None
        lift = float(rules.hazard_day(float(t[0]), float(mean[0]), unit[0, generation - 1]))
        if rules.within(lift, self.plan.horizon):
            self.env.process(self._hazard(c, generation, lift))

    def _rounds(self) -> Generator[simpy.Event, Any, None]:
        times = self.draws.round_times[0]
        for k in range(int(self.draws.round_count[0])):
            t = float(times[k])
            yield self.env.at(t, PRIO_ROUND)
            self.round(ROW, _day(t), np.array([k]))

    def _reviews(self, c: int) -> Generator[simpy.Event, Any, None]:
        first, every, _ = self.plan.review[c]  # type: ignore[misc]
        span = review_span(self.plan, c)
        assert span is not None
        for j in range(span[0], span[1] + 1):
            t = float(rules.review_day(first, every, j))
            yield self.env.at(t, PRIO_CONSTRAINT + c)
            self.review(c, ROW, _day(t), np.array([j]))

    def _lift_on(self, c: int, t: float) -> Generator[simpy.Event, Any, None]:
        yield self.env.at(t, PRIO_CONSTRAINT + c)
        self.lift_on(c, ROW, _day(t))

    def _hazard(self, c: int, generation: int, t: float) -> Generator[simpy.Event, Any, None]:
        yield self.env.at(t, PRIO_CONSTRAINT + c)
        self.hazard(c, ROW, _day(t), np.array([generation]))

    def _poisson(self, e: int) -> Generator[simpy.Event, Any, None]:
        times = self.draws.arrival_times[e]
        assert times is not None
        for t in times[0].tolist():
            if not rules.within(t, self.plan.horizon):
                return
            yield self.env.at(t, PRIO_EVENT + e)
            self.occur(e, ROW, _day(t))

    def _dated(self, e: int) -> Generator[simpy.Event, Any, None]:
        for t in self.plan.event_dates[e]:
            if not rules.within(t, self.plan.horizon):
                return
            yield self.env.at(t, PRIO_EVENT + e)
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
