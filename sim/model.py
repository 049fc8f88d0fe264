"""The SimPy processes of one replication (DESIGN.md, Semantics).

Processes only wait and call the pure decisions of :mod:`sim.rules`. Order at equal times is
fixed by event priority, never by insertion: events first (in file order), then constraint
changes (in file order), then the round.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from heapq import heappush
from typing import Any

import numpy as np
import simpy

from sim import rules
from sim.distributions import Distribution
from sim.plan import Plan
from sim.rng import CHUNK, Stream, first_chunks

PRIO_EVENT = 1_000
PRIO_CONSTRAINT = 2_000
PRIO_ROUND = 3_000

Trace = list[tuple[float, str, str, str]]
"""(day, kind, subject, text) steps of a replication, in the order they happened.

``kind`` is one of round, agreed, review, lifted, imposed, event, suspended, breakdown;
``subject`` names the item, constraint or event concerned ('' for a round)."""


def _unit_exponential(u: np.ndarray) -> np.ndarray:
    return -np.log1p(-u)


class Draws:
    """The keyed random streams of a batch of replications ``start..stop-1``.

    The first chunk of every stream is drawn for the whole batch in one call per stream and
    transformed (inverse CDFs) as a matrix; :meth:`replication` hands out one replication's rows.
    """

    def __init__(self, plan: Plan, start: int, stop: int) -> None:
        self.plan = plan
        self.start = start
        seed = plan.seed
        self._specs: list[tuple[str, str, Callable[[np.ndarray], np.ndarray] | None]] = []

        def stream(name: str, transform: Callable[[np.ndarray], np.ndarray] | None = None) -> list[list[float]]:
            u = first_chunks(seed, name, start, stop)
            return (u if transform is None else transform(u)).tolist()

        self.first: list[float] | None = None
        if isinstance(plan.first, Distribution):
            self.first = [row[0] for row in stream("rounds/first", plan.first.ppf)]
        self.interval = stream("rounds/interval", plan.interval.ppf)
        self.cancel = stream("rounds/cancel") if plan.cancel > 0 else None
        self.item = [stream(f"item/{name}") for name in plan.items]
        self.review = [
            stream(f"constraint/{name}/review") if plan.review[c] else None for c, name in enumerate(plan.constraints)
        ]
        self.hazard = [
            stream(f"constraint/{name}/hazard", _unit_exponential) if plan.hazard_mean[c] else None
            for c, name in enumerate(plan.constraints)
        ]
        self.arrival = [
            stream(f"event/{name}/arrival", _unit_exponential) if plan.event_gap[e] else None
            for e, name in enumerate(plan.events)
        ]
        self.suspend = [
            stream(f"event/{name}/suspend", plan.event_suspend[e].ppf) if plan.event_suspend[e] else None  # type: ignore[union-attr]
            for e, name in enumerate(plan.events)
        ]
        self.breakdown = [
            stream(f"event/{name}/breakdown") if plan.event_breakdown[e] > 0 else None
            for e, name in enumerate(plan.events)
        ]

    def replication(self, rep: int) -> ReplicationDraws:
        return ReplicationDraws(self, rep)


class ReplicationDraws:
    """One replication's streams, each indexable without limit."""

    __slots__ = ("arrival", "breakdown", "cancel", "first", "hazard", "interval", "item", "review", "suspend")

    def __init__(self, batch: Draws, rep: int) -> None:
        plan = batch.plan
        seed = plan.seed
        r = rep - batch.start

        def s(
            rows: list[list[float]] | None, name: str, transform: Callable[[np.ndarray], np.ndarray] | None = None
        ) -> Stream | None:
            return None if rows is None else Stream(seed, name, rep, rows[r], transform)

        self.first = plan.first if batch.first is None else batch.first[r]
        self.interval = s(batch.interval, "rounds/interval", plan.interval.ppf)
        self.cancel = s(batch.cancel, "rounds/cancel")
        self.item = [s(rows, f"item/{n}") for rows, n in zip(batch.item, plan.items, strict=True)]
        self.review = [
            s(rows, f"constraint/{n}/review") for rows, n in zip(batch.review, plan.constraints, strict=True)
        ]
        self.hazard = [
            s(rows, f"constraint/{n}/hazard", _unit_exponential)
            for rows, n in zip(batch.hazard, plan.constraints, strict=True)
        ]
        self.arrival = [
            s(rows, f"event/{n}/arrival", _unit_exponential) for rows, n in zip(batch.arrival, plan.events, strict=True)
        ]
        self.suspend = [
            s(rows, f"event/{n}/suspend", None if d is None else d.ppf)
            for rows, n, d in zip(batch.suspend, plan.events, plan.event_suspend, strict=True)
        ]
        self.breakdown = [s(rows, f"event/{n}/breakdown") for rows, n in zip(batch.breakdown, plan.events, strict=True)]


class _Environment(simpy.Environment):
    """A SimPy environment that schedules at absolute times with an explicit priority."""

    def at(self, time: float, priority: int) -> simpy.Event:
        event = simpy.Event(self)
        event._ok = True
        event._value = None
        heappush(self._queue, (time, priority, next(self._eid), event))  # type: ignore[attr-defined, misc]
        return event


class Replication:
    """The state of one replication and its SimPy processes."""

    def __init__(self, plan: Plan, draws: ReplicationDraws, trace: Trace | None = None) -> None:
        self.plan = plan
        self.draws = draws
        self.trace = trace
        n, m, k = len(plan.items), len(plan.constraints), len(plan.events)
        self.agreed = list(plan.agreed0)
        self.day = [0.0 if a else math.nan for a in plan.agreed0]
        self.round = [0 if a else -1 for a in plan.agreed0]
        self.on_agenda = [0] * n
        self.active = list(plan.active0)
        self.lift_day = [math.nan] * m
        self.lifts = [0] * m
        self.generation = [0] * m
        self.activations = [0] * m
        self.trust = plan.trust0
        self.suspended_until = -math.inf
        self.broken = False
        self.breakdown_day = math.nan
        self.held = 0
        self.cancelled = 0
        self.suspended = 0
        self.event_count = [0] * k
        self.env = _Environment()

    # ---------------------------------------------------------------- running

    def run(self) -> Replication:
        plan, env = self.plan, self.env
        for c in range(len(plan.constraints)):
            if plan.active0[c]:
                self._activated(c, 0.0, initial=True)
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

    def _say(self, day: float, kind: str, text: str, subject: str = "") -> None:
        if self.trace is not None:
            self.trace.append((day, kind, subject, text))

    # ---------------------------------------------------------------- rounds

    def _rounds(self) -> Generator[simpy.Event, Any, None]:
        plan, d, env = self.plan, self.draws, self.env
        horizon = plan.horizon
        interval = d.interval
        t = float(d.first)  # type: ignore[arg-type]
        k = 0
        while t <= horizon:
            yield env.at(t, PRIO_ROUND)
            if self.broken:
                return
            self._round(k, t)
            t += interval[k]  # type: ignore[index]
            k += 1

    def _round(self, k: int, t: float) -> None:
        plan, d = self.plan, self.draws
        if t < self.suspended_until:
            self.suspended += 1
            self._say(t, "round", f"scheduled round not held: talks suspended until day {self.suspended_until:.0f}")
            return
        if d.cancel is not None and d.cancel[k] < plan.cancel:
            self.cancelled += 1
            self._say(t, "round", "scheduled round cancelled")
            return
        self.held += 1
        number = self.held
        agreed, active = self.agreed, self.active
        agenda = rules.agenda(plan.order, agreed, active, plan.requires, plan.blocks, plan.capacity)
        trust = self.trust
        done: list[int] = []
        notes: list[str] = []
        for x in agenda:
            if self.on_agenda[x] >= plan.after_rounds[x]:
                mult = rules.multiplier(plan.effects[x], active) if plan.effects[x] else 1.0
                p = rules.agreement_probability(plan.item_p[x], plan.item_logit[x], plan.weight, trust, mult)
                if d.item[x][k] < p:  # type: ignore[index]
                    done.append(x)
                if self.trace is not None:
                    notes.append(f"{plan.items[x]} (p={p:.2f})")
            elif self.trace is not None:
                notes.append(f"{plan.items[x]} (preparing, {self.on_agenda[x] + 1}/{plan.after_rounds[x]})")
            self.on_agenda[x] += 1
        if self.trace is not None:
            self._say(t, "round", f"round {number} held; agenda: {', '.join(notes) or 'nothing eligible'}")
        for x in done:
            agreed[x] = True
            self.day[x] = t
            self.round[x] = number
            before = self.trust
            self.trust = rules.add_trust(self.trust, plan.gain[x], plan.trust_min, plan.trust_max)
            self._say(t, "agreed", f"{plan.items[x]} agreed; trust {before:+.2f} -> {self.trust:+.2f}", plan.items[x])
        if done:
            for c, items in enumerate(plan.when_agreed):
                if items is not None and active[c] and rules.all_agreed(items, agreed):
                    self._lift(c, t, "its items are agreed")

    # ---------------------------------------------------------------- constraints

    def _lift(self, c: int, t: float, why: str) -> None:
        self.active[c] = False
        self.lifts[c] += 1
        if self.lift_day[c] != self.lift_day[c]:
            self.lift_day[c] = t
        self._say(t, "lifted", f"{self.plan.constraints[c]} lifted ({why})", self.plan.constraints[c])

    def _activated(self, c: int, t: float, initial: bool = False) -> None:
        """Start the lifting of constraint ``c`` afresh (reviews keep their calendar)."""
        plan = self.plan
        self.active[c] = True
        self.generation[c] += 1
        m = self.activations[c]
        self.activations[c] += 1
        if not initial:
            self._say(t, "imposed", f"{plan.constraints[c]} imposed", plan.constraints[c])
        if plan.hazard_mean[c] is not None:
            self.env.process(self._hazard(c, self.generation[c], m, t))
        items = plan.when_agreed[c]
        if items is not None and rules.all_agreed(items, self.agreed):
            self._lift(c, t, "its items are agreed")

    def _reviews(self, c: int) -> Generator[simpy.Event, Any, None]:
        plan, env = self.plan, self.env
        first, every, p = plan.review[c]  # type: ignore[misc]
        draws = self.draws.review[c]
        prio = PRIO_CONSTRAINT + c
        j = rules.first_review(first, every)
        while True:
            t = first + j * every
            if t > plan.horizon:
                return
            yield env.at(t, prio)
            if self.active[c]:
                if draws[j] < p:  # type: ignore[index]
                    self._lift(c, t, f"at review {j + 1}")
                else:
                    self._say(t, "review", f"{plan.constraints[c]} reviewed and kept", plan.constraints[c])
            elif not plan.imposable[c]:
                return
            j += 1

    def _lift_on(self, c: int) -> Generator[simpy.Event, Any, None]:
        t = self.plan.lift_on[c]
        yield self.env.at(t, PRIO_CONSTRAINT + c)  # type: ignore[arg-type]
        if self.active[c]:
            self._lift(c, t, "on its date")  # type: ignore[arg-type]

    def _hazard(self, c: int, generation: int, m: int, t0: float) -> Generator[simpy.Event, Any, None]:
        t = t0 + self.plan.hazard_mean[c] * self.draws.hazard[c][m]  # type: ignore[index, operator]
        if t > self.plan.horizon:
            return
        yield self.env.at(t, PRIO_CONSTRAINT + c)
        if self.generation[c] == generation and self.active[c]:
            self._lift(c, t, "hazard")

    # ---------------------------------------------------------------- events

    def _poisson(self, e: int) -> Generator[simpy.Event, Any, None]:
        gap = self.plan.event_gap[e]
        draws = self.draws.arrival[e]
        horizon, env, prio = self.plan.horizon, self.env, PRIO_EVENT + e
        t, n = 0.0, 0
        while True:
            t += gap * draws[n]  # type: ignore[index, operator]
            n += 1
            if t > horizon:
                return
            yield env.at(t, prio)
            self._occur(e, t)

    def _dated(self, e: int) -> Generator[simpy.Event, Any, None]:
        for t in self.plan.event_dates[e]:
            if t > self.plan.horizon:
                return
            yield self.env.at(t, PRIO_EVENT + e)
            self._occur(e, t)

    def _occur(self, e: int, t: float) -> None:
        plan, d = self.plan, self.draws
        n = self.event_count[e]
        self.event_count[e] += 1
        before = self.trust
        if plan.event_trust[e]:
            self.trust = rules.add_trust(self.trust, plan.event_trust[e], plan.trust_min, plan.trust_max)
        self._say(t, "event", f"{plan.events[e]}; trust {before:+.2f} -> {self.trust:+.2f}", plan.events[e])
        suspend = d.suspend[e]
        if suspend is not None:
            until = t + suspend[n]
            if until > self.suspended_until:
                self.suspended_until = until
            self._say(t, "suspended", f"talks suspended for {suspend[n]:.0f} days", plan.events[e])
        breakdown = d.breakdown[e]
        if breakdown is not None and not self.broken and breakdown[n] < plan.event_breakdown[e]:
            self.broken = True
            self.breakdown_day = t
            self._say(t, "breakdown", "talks broken off for good", plan.events[e])
        for c in plan.event_impose[e]:
            self._activated(c, t)


def replicate(plan: Plan, draws: ReplicationDraws, trace: Trace | None = None) -> Replication:
    """Run one replication to the horizon and return its final state."""
    return Replication(plan, draws, trace).run()


__all__ = ["CHUNK", "Draws", "Replication", "ReplicationDraws", "Trace", "replicate"]
