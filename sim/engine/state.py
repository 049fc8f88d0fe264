"""The state of ``n`` replications, and the steps that change it (the README, "What one replication does", 2-8).

One class for both engines. The batch engine (:mod:`sim.engine.batch`) holds thousands of rows
and calls a step for the rows whose timeline has reached it; the SimPy model
(:mod:`sim.engine.model`) holds one row and calls the same steps from its processes. Every
decision inside a step is a function of :mod:`sim.engine.rules`; a step only gathers the rows'
state and draws, applies the decision and records it. The clocks differ in one hook,
:meth:`State.start_hazard`, where the SimPy model schedules a process and the batch engine,
which knows every activation in advance, does nothing.

With ``trace`` (one row only), each step also tells what it did: the lines of ``negsim trace``.
"""

from __future__ import annotations

import numpy as np

from sim.engine import rules
from sim.engine.draws import Draws
from sim.engine.plan import Plan
from sim.engine.records import Records

Trace = list[tuple[float, str, str, str]]
"""(day, kind, subject, text) steps of a replication, in the order they happened.

``kind`` is one of round, agreed, review, lifted, imposed, event, suspended, breakdown;
``subject`` names the item, constraint or event concerned ('' for a round)."""

Rows = np.ndarray
"""Indices of the rows (replications) a step applies to, int64."""


class State:
    """The state of replications ``draws.start .. draws.start + n - 1``, as arrays of ``n`` rows."""

    def __init__(self, plan: Plan, draws: Draws, trace: Trace | None = None) -> None:
        n = draws.n
        if trace is not None and n != 1:
            raise ValueError("a trace tells one replication")
        k, m, e = len(plan.items), len(plan.constraints), len(plan.events)
        self.plan = plan
        self.draws = draws
        self.params = draws.params
        self.trace = trace
        self.agreed = np.tile(np.array(plan.agreed0, bool), (n, 1)).reshape(n, k)
        self.day = np.where(self.agreed, 0.0, np.nan)
        self.agreed_round = np.where(self.agreed, 0, -1).astype(np.int32)
        self.on_agenda = np.zeros((n, k), np.int64)
        self.active = np.zeros((n, m), bool)
        self.lift_day = np.full((n, m), np.nan)
        self.lifts = np.zeros((n, m), np.int32)
        self.generation = np.zeros((n, m), np.int64)
        self.in_force = np.zeros((n, m), np.uint64)  # bit g: active at the end of record day g
        self._grid = rules.in_force_days(plan.horizon)
        self.trust = np.full(n, plan.trust0)
        self.suspended_until = np.full(n, -np.inf)
        self.broken = np.zeros(n, bool)
        self.breakdown_day = np.full(n, np.nan)
        self.held = np.zeros(n, np.int32)
        self.cancelled = np.zeros(n, np.int32)
        self.census = -np.inf if plan.census is None else plan.census
        self.held_by_census = np.zeros(n, np.int32)
        self.cancelled_by_census = np.zeros(n, np.int32)
        self.suspended = np.zeros(n, np.int32)
        self.event_count = np.zeros((n, e), np.int64)

    def begin(self) -> None:
        """Day 0: constraints active at the start begin their lifting."""
        everyone = np.arange(self.draws.n)
        zero = np.zeros(self.draws.n)
        for c in range(len(self.plan.constraints)):
            if self.plan.active0[c]:
                self.activate(c, everyone, zero, initial=True)

    def records(self) -> Records:
        """What each replication leaves at the horizon."""
        return Records(
            start=self.draws.start,
            item_agreed=self.agreed,
            item_day=self.day,
            item_round=self.agreed_round,
            constraint_lifted=self.lifts > 0,
            constraint_day=self.lift_day,
            constraint_lifts=self.lifts,
            constraint_active=self.active,
            constraint_in_force=self.in_force,
            rounds_held=self.held,
            rounds_cancelled=self.cancelled,
            rounds_suspended=self.suspended,
            breakdown=self.broken,
            breakdown_day=self.breakdown_day,
            trust=self.trust,
            event_count=self.event_count.astype(np.int32),
            parameters=np.stack([self.params.drawn[path] for path, _ in self.plan.judgements], axis=1)
            if self.plan.judgements
            else np.zeros((self.draws.n, 0)),
            replication=np.arange(self.draws.start, self.draws.start + self.draws.n, dtype=np.int64),
            held_by_census=self.held_by_census,
            cancelled_by_census=self.cancelled_by_census,
        )

    # ---------------------------------------------------------------- the clock's hook

    def start_hazard(self, c: int, rows: Rows, t: np.ndarray) -> None:
        """Constraint c was (re)activated on day t in ``rows``: its hazard lift, if any, starts now.

        The batch engine knows every activation in advance and puts the hazard lifts on its
        timelines beforehand, so this does nothing; the SimPy model schedules a process.
        """

    # ---------------------------------------------------------------- rounds

    def round(self, rows: Rows, t: np.ndarray, k: np.ndarray) -> None:
        """Scheduled round k (per row) on day t: held unless broken off, suspended or cancelled;
        then the agenda, the agreements, trust, and constraints lifted by agreements."""
        plan, d = self.plan, self.draws
        going = ~self.broken[rows]  # after a breakdown, no round is held or counted
        rows, t, k = rows[going], t[going], k[going]
        held = rules.round_held(t, self.suspended_until[rows])
        if not held.all():
            self.suspended[rows[~held]] += 1
            if self.trace is not None:
                until = float(self.suspended_until[0])
                self._say(float(t[0]), "round", f"scheduled round not held: talks suspended until day {until:.0f}")
            rows, t, k = rows[held], t[held], k[held]
        if d.cancel is not None and rows.size:
            off = rules.cancelled(d.cancel[rows, k], self.params.cancel[rows])
            if off.any():
                self.cancelled[rows[off]] += 1
                self.cancelled_by_census[rows[off & (t <= self.census)]] += 1
                if self.trace is not None:
                    self._say(float(t[0]), "round", "scheduled round cancelled")
                rows, t, k = rows[~off], t[~off], k[~off]
        if rows.size == 0:
            return
        self.held[rows] += 1
        self.held_by_census[rows[t <= self.census]] += 1
        agreed = self.agreed[rows]
        active = self.active[rows]
        on = rules.agenda(plan, agreed, active)
        seen = self.on_agenda[rows]
        ready = on & rules.prepared(plan, seen)
        self.on_agenda[rows] = seen + on
        trust = self.trust[rows]  # every item in the round sees the trust at its start
        judged = self.params.take(rows)
        p = rules.agreement_probability(plan, judged, trust, active) if ready.any() or self.trace is not None else None
        if self.trace is not None:
            assert p is not None
            self._say_round(float(t[0]), on[0], seen[0], p[0])
        if not ready.any():
            return
        assert p is not None
        now = ready & rules.happens(d.items[rows, :, k], p)
        if not now.any():
            return
        self.agreed[rows] = agreed | now
        self.day[rows] = np.where(now, t[:, None], self.day[rows])
        self.agreed_round[rows] = np.where(now, self.held[rows][:, None], self.agreed_round[rows])
        for x in plan.order:  # each agreement adds its trust gain, in agenda order
            if now[:, x].any():
                before = trust
                gain = self.params.gain[rows, x]
                trust = np.where(now[:, x], rules.add_trust(trust, gain, plan.trust_min, plan.trust_max), trust)
                if self.trace is not None:
                    name = plan.items[x]
                    self._say(float(t[0]), "agreed", f"{name} agreed; trust {before[0]:+.2f} -> {trust[0]:+.2f}", name)
        self.trust[rows] = trust
        some = now.any(axis=1)
        for c, needed in enumerate(plan.when_agreed):
            if needed is None:
                continue
            go = some & self.active[rows, c] & self.agreed[np.ix_(rows, np.array(needed, dtype=np.int64))].all(axis=1)
            if go.any():
                self.lift(c, rows[go], t[go], "its items are agreed")

    def _say_round(self, t: float, on: np.ndarray, seen: np.ndarray, p: np.ndarray) -> None:
        """The trace line of a held round: its agenda, with each item's chance or preparation."""
        plan = self.plan
        notes = []
        for x in plan.order:
            if not on[x]:
                continue
            if seen[x] >= plan.after_rounds[x]:
                notes.append(f"{plan.items[x]} (p={p[x]:.2f})")
            else:
                notes.append(f"{plan.items[x]} (preparing, {seen[x] + 1}/{plan.after_rounds[x]})")
        self._say(t, "round", f"round {int(self.held[0])} held; agenda: {', '.join(notes) or 'nothing eligible'}")

    # ---------------------------------------------------------------- constraints

    def review(self, c: int, rows: Rows, t: np.ndarray, j: np.ndarray) -> None:
        """Review j of constraint c on day t: an active constraint lifts with the review's chance."""
        active = self.active[rows, c]
        lifted = active & rules.happens(self.draws.review[c][rows, j], self.params.review_p[c][rows])  # type: ignore[index]
        if lifted.any():
            self.lift(c, rows[lifted], t[lifted], f"at review {int(j[0]) + 1}" if self.trace is not None else "")
        elif self.trace is not None and active[0]:
            name = self.plan.constraints[c]
            self._say(float(t[0]), "review", f"{name} reviewed and kept", name)

    def lift_on(self, c: int, rows: Rows, t: np.ndarray) -> None:
        """Constraint c's fixed lifting date: lifted if active."""
        go = self.active[rows, c]
        if go.any():
            self.lift(c, rows[go], t[go], "on its date")

    def hazard(self, c: int, rows: Rows, t: np.ndarray, generation: np.ndarray) -> None:
        """The hazard lift started by activation number ``generation`` of constraint c: it lifts
        only if the constraint is still active from that same activation."""
        go = self.active[rows, c] & (self.generation[rows, c] == generation)
        if go.any():
            self.lift(c, rows[go], t[go], "hazard")

    def lift(self, c: int, rows: Rows, t: np.ndarray, why: str) -> None:
        self.active[rows, c] = False
        self.in_force[rows, c] &= ~rules.from_day(self._grid, t)
        self.lifts[rows, c] += 1
        first = np.isnan(self.lift_day[rows, c])
        self.lift_day[rows[first], c] = t[first]
        if self.trace is not None:
            name = self.plan.constraints[c]
            self._say(float(t[0]), "lifted", f"{name} lifted ({why})", name)

    def activate(self, c: int, rows: Rows, t: np.ndarray, initial: bool = False) -> None:
        """Constraint c becomes active (at the start, or imposed): its lifting starts afresh
        (reviews keep their calendar), and it lifts at once if its items are already agreed."""
        plan = self.plan
        self.active[rows, c] = True
        self.in_force[rows, c] |= rules.from_day(self._grid, t)
        self.generation[rows, c] += 1
        if not initial and self.trace is not None:
            name = plan.constraints[c]
            self._say(float(t[0]), "imposed", f"{name} imposed", name)
        if plan.hazard_rate[c] is not None:
            self.start_hazard(c, rows, t)
        needed = plan.when_agreed[c]
        if needed is not None:
            done = self.agreed[np.ix_(rows, np.array(needed, dtype=np.int64))].all(axis=1)
            if done.any():
                self.lift(c, rows[done], t[done], "its items are agreed")

    # ---------------------------------------------------------------- events

    def occur(self, e: int, rows: Rows, t: np.ndarray) -> None:
        """An occurrence of event kind e: trust, suspension, breakdown, impositions."""
        plan, d = self.plan, self.draws
        occurrence = self.event_count[rows, e]
        self.event_count[rows, e] += 1
        before = self.trust[rows]
        if plan.event_trust[e] != 0.0:  # a judgement (text) or a number other than 0
            self.trust[rows] = rules.add_trust(before, self.params.event_trust[e][rows], plan.trust_min, plan.trust_max)
        tracing = self.trace is not None
        if tracing:
            name = plan.events[e]
            self._say(float(t[0]), "event", f"{name}; trust {before[0]:+.2f} -> {self.trust[0]:+.2f}", name)
        suspend = d.suspend[e]
        if suspend is not None:
            days = suspend[rows, occurrence]
            self.suspended_until[rows] = rules.suspended_until(self.suspended_until[rows], t, days)
            if tracing:
                self._say(float(t[0]), "suspended", f"talks suspended for {days[0]:.0f} days", plan.events[e])
        breakdown = d.breakdown[e]
        if breakdown is not None:
            now = ~self.broken[rows] & rules.happens(breakdown[rows, occurrence], self.params.event_breakdown[e][rows])
            self.broken[rows[now]] = True
            self.breakdown_day[rows[now]] = t[now]
            if tracing and now[0]:
                self._say(float(t[0]), "breakdown", "talks broken off for good", plan.events[e])
        for c in plan.event_impose[e]:
            self.activate(c, rows, t)

    def _say(self, day: float, kind: str, text: str, subject: str = "") -> None:
        assert self.trace is not None
        self.trace.append((day, kind, subject, text))
