"""The state of one replication and the decisions that change it (DESIGN.md, Semantics 2-8).

Driven by the SimPy model (:mod:`sim.engine.model`), the reference engine, which also tells traces.
The batch engine (:mod:`sim.engine.batch`) applies the same rules to many replications at once and is
tested to give the same records. Decisions themselves are the pure functions of :mod:`sim.engine.rules`.
"""

from __future__ import annotations

import math
from typing import Any

from sim.engine import rules
from sim.engine.plan import Plan

Trace = list[tuple[float, str, str, str]]
"""(day, kind, subject, text) steps of a replication, in the order they happened.

``kind`` is one of round, agreed, review, lifted, imposed, event, suspended, breakdown;
``subject`` names the item, constraint or event concerned ('' for a round)."""


class Replication:
    """The state of one replication and the decisions that change it, shared by both engines.

    The engine supplies the draws (``draws.item[x][k]``, ``draws.cancel[k]``, ``draws.suspend[e][n]``,
    ``draws.breakdown[e][n]``, ``draws.review[c][j]``, ``draws.hazard[c][m]``), calls
    :meth:`round_held`, :meth:`occur`, :meth:`review` and :meth:`lift` as their times come, and
    implements :meth:`start_hazard`.
    """

    def __init__(self, plan: Plan, draws: Any, trace: Trace | None = None) -> None:
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
        # The agenda depends only on what is agreed and which constraints are active: it is
        # recomputed when either changes (``changes`` counts those moments), not every round.
        self.changes = 0
        self._agenda: list[int] = []
        self._agenda_at = -1

    def start_hazard(self, c: int, generation: int, m: int, t0: float) -> None:
        """Wait for the m-th hazard lift of constraint c from day t0 (engine-specific)."""
        raise NotImplementedError

    def review(self, c: int, j: int, t: float) -> bool:
        """The j-th review of constraint c on day t; False once no review can matter any more."""
        plan = self.plan
        if self.active[c]:
            if self.draws.review[c][j] < plan.review[c][2]:  # type: ignore[index]
                self.lift(c, t, f"at review {j + 1}")
            elif self.trace is not None:
                self._say(t, "review", f"{plan.constraints[c]} reviewed and kept", plan.constraints[c])
            return True
        return plan.imposable[c]

    def _say(self, day: float, kind: str, text: str, subject: str = "") -> None:
        if self.trace is not None:
            self.trace.append((day, kind, subject, text))

    # ---------------------------------------------------------------- rounds

    def round_held(self, k: int, t: float) -> None:
        """Scheduled round k on day t: held unless suspended or cancelled; agreements by the rules."""
        plan, d = self.plan, self.draws
        if t < self.suspended_until:
            self.suspended += 1
            if self.trace is not None:
                self._say(t, "round", f"scheduled round not held: talks suspended until day {self.suspended_until:.0f}")
            return
        if d.cancel is not None and d.cancel[k] < plan.cancel:
            self.cancelled += 1
            if self.trace is not None:
                self._say(t, "round", "scheduled round cancelled")
            return
        self.held += 1
        agreed, active, on_agenda = self.agreed, self.active, self.on_agenda
        if self._agenda_at != self.changes:
            self._agenda = rules.agenda(plan.order, agreed, active, plan.requires, plan.blocks, plan.capacity)
            self._agenda_at = self.changes
        agenda = self._agenda
        if not agenda and self.trace is None:
            return
        trust = self.trust  # every item in the round sees the trust at its start
        after, effects, item_p = plan.after_rounds, plan.effects, plan.item_p
        plain = plan.weight * trust == 0.0  # then p_eff is p itself for an item with no multiplier
        items = d.item
        done: list[int] = []
        for x in agenda:
            if on_agenda[x] >= after[x]:
                if plain and not effects[x]:
                    p = item_p[x]
                else:
                    mult = rules.multiplier(effects[x], active) if effects[x] else 1.0
                    p = rules.agreement_probability(item_p[x], plan.item_logit[x], plan.weight, trust, mult)
                if items[x][k] < p:
                    done.append(x)
            on_agenda[x] += 1
        if self.trace is not None:
            self._say_round(t, agenda, trust)
        if done:
            self.changes += 1
        for x in done:
            agreed[x] = True
            self.day[x] = t
            self.round[x] = self.held
            before = self.trust
            self.trust = rules.add_trust(before, plan.gain[x], plan.trust_min, plan.trust_max)
            if self.trace is not None:
                self._say(
                    t, "agreed", f"{plan.items[x]} agreed; trust {before:+.2f} -> {self.trust:+.2f}", plan.items[x]
                )
        if done:
            for c, needed in enumerate(plan.when_agreed):
                if needed is not None and active[c] and rules.all_agreed(needed, agreed):
                    self.lift(c, t, "its items are agreed")

    def _say_round(self, t: float, agenda: list[int], trust: float) -> None:
        """The trace line of a held round: its agenda, with each item's chance or preparation."""
        plan = self.plan
        notes = []
        for x in agenda:
            seen = self.on_agenda[x] - 1  # already counted for this round
            if seen >= plan.after_rounds[x]:
                mult = rules.multiplier(plan.effects[x], self.active) if plan.effects[x] else 1.0
                p = rules.agreement_probability(plan.item_p[x], plan.item_logit[x], plan.weight, trust, mult)
                notes.append(f"{plan.items[x]} (p={p:.2f})")
            else:
                notes.append(f"{plan.items[x]} (preparing, {seen + 1}/{plan.after_rounds[x]})")
        self._say(t, "round", f"round {self.held} held; agenda: {', '.join(notes) or 'nothing eligible'}")

    # ---------------------------------------------------------------- constraints

    def lift(self, c: int, t: float, why: str) -> None:
        self.changes += 1
        self.active[c] = False
        self.lifts[c] += 1
        if self.lift_day[c] != self.lift_day[c]:
            self.lift_day[c] = t
        if self.trace is not None:
            self._say(t, "lifted", f"{self.plan.constraints[c]} lifted ({why})", self.plan.constraints[c])

    def activate(self, c: int, t: float, initial: bool = False) -> None:
        """Start the lifting of constraint ``c`` afresh (reviews keep their calendar)."""
        plan = self.plan
        self.changes += 1
        self.active[c] = True
        self.generation[c] += 1
        m = self.activations[c]
        self.activations[c] += 1
        if not initial and self.trace is not None:
            self._say(t, "imposed", f"{plan.constraints[c]} imposed", plan.constraints[c])
        if plan.hazard_mean[c] is not None:
            self.start_hazard(c, self.generation[c], m, t)
        items = plan.when_agreed[c]
        if items is not None and rules.all_agreed(items, self.agreed):
            self.lift(c, t, "its items are agreed")

    # ---------------------------------------------------------------- events

    def occur(self, e: int, t: float) -> None:
        plan, d = self.plan, self.draws
        n = self.event_count[e]
        self.event_count[e] += 1
        before = self.trust
        if plan.event_trust[e]:
            self.trust = rules.add_trust(self.trust, plan.event_trust[e], plan.trust_min, plan.trust_max)
        tracing = self.trace is not None
        if tracing:
            self._say(t, "event", f"{plan.events[e]}; trust {before:+.2f} -> {self.trust:+.2f}", plan.events[e])
        suspend = d.suspend[e]
        if suspend is not None:
            until = t + suspend[n]
            if until > self.suspended_until:
                self.suspended_until = until
            if tracing:
                self._say(t, "suspended", f"talks suspended for {suspend[n]:.0f} days", plan.events[e])
        breakdown = d.breakdown[e]
        if breakdown is not None and not self.broken and breakdown[n] < plan.event_breakdown[e]:
            self.broken = True
            self.breakdown_day = t
            if tracing:
                self._say(t, "breakdown", "talks broken off for good", plan.events[e])
        for c in plan.event_impose[e]:
            self.activate(c, t)
