"""The SimPy model of one replication (DESIGN.md, Semantics): the reference engine.

Processes only wait and call the decisions of :class:`sim.engine.state.Replication`. Order at equal
times is fixed by event priority, never by insertion: events first (in file order), then
constraint changes (in file order), then the round. ``negsim trace`` tells a replication with
this model; batches run on :mod:`sim.engine.batch`, which is tested to give byte-identical records.
"""

from __future__ import annotations

from collections.abc import Generator
from heapq import heappush
from typing import Any

import simpy

from sim.engine import rules
from sim.engine.draws import Draws, ReplicationDraws
from sim.engine.plan import Plan
from sim.engine.state import Replication, Trace

PRIO_EVENT = 1_000
PRIO_CONSTRAINT = 2_000
PRIO_ROUND = 3_000


class _Environment(simpy.Environment):
    """A SimPy environment that schedules at absolute times with an explicit priority."""

    def at(self, time: float, priority: int) -> simpy.Event:
        event = simpy.Event(self)
        event._ok = True
        event._value = None
        heappush(self._queue, (time, priority, next(self._eid), event))  # type: ignore[attr-defined, misc]
        return event


class SimPyReplication(Replication):
    """A replication driven by SimPy processes: rounds, each event kind, each constraint's lifting."""

    def __init__(self, plan: Plan, draws: ReplicationDraws, trace: Trace | None = None) -> None:
        super().__init__(plan, draws, trace)
        self.env = _Environment()

    def run(self) -> SimPyReplication:
        plan, env = self.plan, self.env
        for c in range(len(plan.constraints)):
            if plan.active0[c]:
                self.activate(c, 0.0, initial=True)
            if plan.review[c] is not None and (plan.active0[c] or plan.imposable[c]):
                env.process(self._reviews(c))
            on = plan.lift_on[c]
            if on is not None and on <= plan.horizon and (plan.active0[c] or plan.imposable[c]):
                env.process(self._lift_on(c))
        for e in range(len(plan.events)):
            if plan.event_gap[e] is not None:
                env.process(self._poisson(e))
            if plan.event_dates[e]:
                env.process(self._dated(e))
        env.process(self._rounds())
        env.run()
        return self

    def start_hazard(self, c: int, generation: int, m: int, t0: float) -> None:
        self.env.process(self._hazard(c, generation, m, t0))

    def _rounds(self) -> Generator[simpy.Event, Any, None]:
        plan, d, env = self.plan, self.draws, self.env
        horizon = plan.horizon
        interval = d.interval
        t = float(d.first)
        k = 0
        while t <= horizon:
            yield env.at(t, PRIO_ROUND)
            if self.broken:
                return
            self.round_held(k, t)
            t += interval[k]
            k += 1

    def _reviews(self, c: int) -> Generator[simpy.Event, Any, None]:
        plan, env = self.plan, self.env
        first, every, _ = plan.review[c]  # type: ignore[misc]
        prio = PRIO_CONSTRAINT + c
        j = rules.first_review(first, every)
        while True:
            t = first + j * every
            if t > plan.horizon:
                return
            yield env.at(t, prio)
            if not self.review(c, j, t):
                return
            j += 1

    def _lift_on(self, c: int) -> Generator[simpy.Event, Any, None]:
        t = self.plan.lift_on[c]
        assert t is not None
        yield self.env.at(t, PRIO_CONSTRAINT + c)
        if self.active[c]:
            self.lift(c, t, "on its date")

    def _hazard(self, c: int, generation: int, m: int, t0: float) -> Generator[simpy.Event, Any, None]:
        t = t0 + self.plan.hazard_mean[c] * self.draws.hazard[c][m]  # type: ignore[operator]
        if t > self.plan.horizon:
            return
        yield self.env.at(t, PRIO_CONSTRAINT + c)
        if self.generation[c] == generation and self.active[c]:
            self.lift(c, t, "hazard")

    def _poisson(self, e: int) -> Generator[simpy.Event, Any, None]:
        gap = self.plan.event_gap[e]
        draws = self.draws.arrival[e]
        horizon, env, prio = self.plan.horizon, self.env, PRIO_EVENT + e
        t, n = 0.0, 0
        while True:
            t += gap * draws[n]  # type: ignore[operator]
            n += 1
            if t > horizon:
                return
            yield env.at(t, prio)
            self.occur(e, t)

    def _dated(self, e: int) -> Generator[simpy.Event, Any, None]:
        for t in self.plan.event_dates[e]:
            if t > self.plan.horizon:
                return
            yield self.env.at(t, PRIO_EVENT + e)
            self.occur(e, t)


def replicate(plan: Plan, draws: ReplicationDraws, trace: Trace | None = None) -> SimPyReplication:
    """Run one replication to the horizon with SimPy and return its final state."""
    return SimPyReplication(plan, draws, trace).run()


__all__ = ["Draws", "ReplicationDraws", "SimPyReplication", "Trace", "replicate"]
