"""The state of ``n`` replications, and the steps that change it (the README, "What one replication does").

One class for both engines. The batch engine (:mod:`sim.engine.batch`) holds thousands of rows
and calls a step for the rows whose timeline has reached it; the SimPy model
(:mod:`sim.engine.model`) holds one row and calls the same steps from its processes. Every
decision inside a step is a function of :mod:`sim.engine.rules`; a step only gathers the rows'
state and draws, applies the decision and records it.

Some times follow from what happened: an enactment falls due a lag after its decision, a hazard
outside rounds fires when the exposure since the item became eligible uses up its budget, the
talks pause and resume. The state keeps those times in its timer arrays (``enact_at``,
``outside_at``, ``pause_at``, ``resume_at``; infinite when nothing is due). The clocks differ in
two hooks: :meth:`State.start_hazard` (a constraint's hazard lift, which the batch engine knows in
advance) and :meth:`State.armed` (a timer set), where the SimPy model schedules a process and the
batch engine, which reads the timer arrays at every step, does nothing.

With ``trace`` (one row only), each step also tells what it did: the lines of ``negsim trace``.
"""

from __future__ import annotations

import numpy as np

from sim.engine import rules
from sim.engine.draws import Draws
from sim.engine.plan import PER_YEAR, Plan
from sim.engine.records import HOW_BEFORE, HOW_ENACTED, HOW_OUTSIDE, HOW_ROUND, Records

Trace = list[tuple[float, str, str, str]]
"""(day, kind, subject, text) steps of a replication, in the order they happened.

``kind`` is one of round, agreed, review, lifted, imposed, event, suspended, breakdown, decided,
enacted, paused, resumed, regime; ``subject`` names the item, constraint or event concerned ('' for
the talks as a whole)."""

Rows = np.ndarray
"""Indices of the rows (replications) a step applies to, int64."""

INF = np.inf


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
        self.agreed = np.tile(np.array([x.agreed0 for x in plan.items], bool), (n, 1)).reshape(n, k)
        self.day = np.where(self.agreed, 0.0, np.nan)
        self.agreed_round = np.where(self.agreed, 0, -1).astype(np.int32)
        self.how = np.where(self.agreed, HOW_BEFORE, 0).astype(np.int8)
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
        # Enactment after a decision: when it falls due, whether it waits for a block to lift, and
        # how many decisions each item has had (each draws a chance and a lag).
        self.enact_at = np.full((n, k), INF)
        self.enact_wait = np.zeros((n, k), bool)
        self.enact_tries = np.zeros((n, k), np.int64)
        self.decided_day = np.full((n, k), np.nan)
        # Hazards outside rounds: the rate each item is exposed to now (per day), since when, what
        # is left of its unit-exponential budget, and when that runs out.
        self.outside_at = np.full((n, k), INF)
        self.outside_rate = np.zeros((n, k))
        self.outside_since = np.zeros((n, k))
        self.outside_left = np.zeros((n, k))
        for x in plan.outside:
            unit = draws.outside[x]
            assert unit is not None
            self.outside_left[:, x] = unit
        # The talks pausing and resuming.
        self.paused = np.zeros(n, bool)
        self.pause_at = np.full(n, INF)
        self.resume_at = np.full(n, INF)
        self.pauses = np.zeros(n, np.int32)
        self.stall_draws = np.zeros(n, np.int64)
        self.resume_draws = np.zeros(n, np.int64)
        self.rounds_paused = np.zeros(n, np.int32)
        self.paused_record = np.zeros(n, np.uint64)  # bit g: paused at the end of record day g
        # What --given conditions on, as it stood at the end of the census day.
        self.paused_at_census = np.zeros(n, bool)
        self.pauses_by_census = np.zeros(n, np.int32)
        self.active_at_census = np.zeros((n, m), bool)
        self.imposed_by_census = np.zeros((n, m), np.int32)
        self.next_round_day = np.full(n, np.nan)
        # The regime: where each row started, how often it moved, when it moves next and where to.
        self.regime_start = self.params.regime.copy()
        self.regime_at_census = self.params.regime.copy() if plan.census is not None else np.zeros(n, np.int8)
        self.switches = np.zeros(n, np.int32)
        self.switch_at = np.full(n, INF)
        self.switch_to = np.zeros(n, np.int8)

    def begin(self) -> None:
        """Day 0: constraints active at the start begin their lifting, items decided by what was
        agreed before the start have their enactment drawn, hazards outside rounds and the stall
        hazard start."""
        plan = self.plan
        everyone = np.arange(self.draws.n)
        zero = np.zeros(self.draws.n)
        if self.trace is not None and plan.regime is not None:
            name = plan.regime.names[int(self.params.regime[0])]
            self._say(0.0, "regime", f"regime: {name}", name)
        for c, con in enumerate(plan.constraints):
            if con.active0:
                self.activate(c, everyone, zero, initial=True)
        if plan.enacted:
            before = rules.decided(plan, self.agreed)
            self._decide(everyone, zero, before, "agreed before the start")
            if plan.leaders_matrix is not None:
                self._decide(everyone, zero, plan.leaders_matrix[self.params.regime] & ~before, "the leaders' decision")
        if plan.rounds.stall is not None:
            self._arm_stall(everyone, zero)
        if plan.regime is not None and plan.regime.switching:
            self._arm_switch(everyone, zero)
        self.settle(everyone, zero)

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
            item_how=self.how,
            regime=self.params.regime,
            regime_start=self.regime_start,
            regime_at_census=self.regime_at_census,
            regime_switches=self.switches,
            rounds_paused=self.rounds_paused,
            pauses=self.pauses,
            paused=self.paused,
            paused_record=self.paused_record,
            paused_at_census=self.paused_at_census,
            pauses_by_census=self.pauses_by_census,
            constraint_active_at_census=self.active_at_census,
            constraint_imposed_by_census=self.imposed_by_census,
            next_round_day=self.next_round_day,
        )

    # ---------------------------------------------------------------- the clock's hooks

    def start_hazard(self, c: int, rows: Rows, t: np.ndarray) -> None:
        """Constraint c was (re)activated on day t in ``rows``: its hazard lift, if any, starts now.

        The batch engine knows every activation in advance and puts the hazard lifts on its
        timelines beforehand, so this does nothing; the SimPy model schedules a process.
        """

    def armed(self, cls: int, index: int, kind: int, rows: Rows) -> None:
        """A timer was set in ``rows`` (an enactment, a hazard outside rounds, a pause or a
        resumption; its day is in the timer arrays). The batch engine reads the arrays at every
        step, so this does nothing; the SimPy model schedules a process."""

    # ---------------------------------------------------------------- rounds

    def round(self, rows: Rows, t: np.ndarray, k: np.ndarray) -> None:
        """Scheduled round k (per row) on day t: held unless broken off, paused, suspended or
        cancelled; then the agenda and the agreements."""
        plan, d = self.plan, self.draws
        going = ~self.broken[rows]  # after a breakdown, no round is held or counted
        rows, t, k = rows[going], t[going], k[going]
        if plan.pausing:
            off = self.paused[rows]
            if off.any():
                self.rounds_paused[rows[off]] += 1
                if self.trace is not None:
                    self._say(float(t[0]), "round", "scheduled round not held: talks paused")
                rows, t, k = rows[~off], t[~off], k[~off]
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
        later = (t > self.census) & np.isnan(self.next_round_day[rows])
        self.next_round_day[rows[later]] = t[later]
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
        some = now.any(axis=1)
        rows, t, now = rows[some], t[some], now[some]
        self.agree(rows, t, now, HOW_ROUND)
        self.settle(rows, t)

    def _say_round(self, t: float, on: np.ndarray, seen: np.ndarray, p: np.ndarray) -> None:
        """The trace line of a held round: its agenda, with each item's chance or preparation."""
        plan = self.plan
        notes = []
        for x in plan.order:
            if not on[x]:
                continue
            item = plan.items[x]
            if seen[x] >= item.after_rounds:
                notes.append(f"{item.name} (p={p[x]:.2f})")
            else:
                notes.append(f"{item.name} (preparing, {seen[x] + 1}/{item.after_rounds})")
        self._say(t, "round", f"round {int(self.held[0])} held; agenda: {', '.join(notes) or 'nothing eligible'}")

    # ---------------------------------------------------------------- agreements

    def agree(self, rows: Rows, t: np.ndarray, now: np.ndarray, how: int) -> None:
        """Items ``now`` (rows, items) are agreed on day t, in a round or outside one (``how``):
        recorded; trust gains in agenda order; constraints waiting for them lifted; items they
        decide get their enactment drawn. Every row has at least one item in ``now``."""
        plan = self.plan
        before = self.agreed[rows]
        after = before | now
        self.agreed[rows] = after
        self.day[rows] = np.where(now, t[:, None], self.day[rows])
        self.agreed_round[rows] = np.where(now, self.held[rows][:, None], self.agreed_round[rows])
        self.how[rows] = np.where(now, np.int8(how), self.how[rows])
        trust = self.trust[rows]
        for x in plan.order:  # each agreement adds its trust gain, in agenda order
            if now[:, x].any():
                old = trust
                gain = self.params.gain[rows, x]
                trust = np.where(now[:, x], rules.add_trust(trust, gain, plan.trust_min, plan.trust_max), trust)
                if self.trace is not None:
                    self._say_agreed(float(t[0]), x, how, float(old[0]), float(trust[0]))
        self.trust[rows] = trust
        lifting = rules.lifted_by_agreement(plan, after, self.active[rows])
        for c in range(len(plan.constraints)):
            go = lifting[:, c]
            if go.any():
                self.lift(c, rows[go], t[go], "its items are agreed")
        if plan.enacted:
            newly = rules.decided(plan, after) & ~rules.decided(plan, before)
            for x in np.flatnonzero(now.any(axis=0)).tolist():  # a package: what an agreed item decides
                for y in plan.items[x].decides:
                    newly[:, y] |= now[:, x]
            self._decide(rows, t, newly, "its items are agreed")

    def _say_agreed(self, t: float, x: int, how: int, before: float, after: float) -> None:
        name = self.plan.items[x].name
        if how == HOW_ENACTED:
            since = t - float(self.decided_day[0, x])
            what = f"{name} enacted {since:.0f} days after the decision"
        elif how == HOW_OUTSIDE:
            what = f"{name} agreed outside the rounds"
        else:
            what = f"{name} agreed"
        self._say(
            t,
            "agreed" if how == HOW_ROUND else "enacted" if how == HOW_ENACTED else "outside",
            f"{what}; trust {before:+.2f} -> {after:+.2f}",
            name,
        )

    def settle(self, rows: Rows, t: np.ndarray) -> None:
        """After a step: enactments waiting for a block to lift go ahead where the item is now
        eligible (which may unblock others: repeated until nothing changes), and hazards outside
        rounds follow what changed."""
        plan = self.plan
        if plan.enacted:
            while True:
                ready = self.enact_wait[rows] & rules.eligible(plan, self.agreed[rows], self.active[rows])
                ready &= ~self.broken[rows][:, None]
                some = ready.any(axis=1)
                if not some.any():
                    break
                self.enact_wait[rows] &= ~ready
                self.agree(rows[some], t[some], ready[some], HOW_ENACTED)
        if plan.outside:
            self._exposure(rows, t)

    # ---------------------------------------------------------------- enactment

    def _decide(self, rows: Rows, t: np.ndarray, newly: np.ndarray, why: str) -> None:
        """Items ``newly`` (rows, items) are decided on day t: each open item with nothing already
        due draws its chance of enactment (moved by the regime's odds) and its lag."""
        plan, d, params = self.plan, self.draws, self.params
        for x in np.flatnonzero(newly.any(axis=0)).tolist():
            item = plan.items[x]
            enact = item.enact
            if enact is None:
                continue
            sel = newly[:, x] & ~self.agreed[rows, x] & ~self.broken[rows]
            sel &= ~np.isfinite(self.enact_at[rows, x]) & ~self.enact_wait[rows, x]
            if not sel.any():
                continue
            r, when = rows[sel], t[sel]
            j = self.enact_tries[r, x]
            self.enact_tries[r, x] += 1
            u = d.uniform(f"enact{x}", f"item/{item.name}/enact", r, 2 * j)
            q = rules.chance(params.enact_p[x][r], params.shift[r])  # type: ignore[index]
            go = rules.happens(u, q)
            lag = enact.lag.ppf(d.uniform(f"enact{x}", f"item/{item.name}/enact", r, 2 * j + 1))
            self.decided_day[r, x] = when
            due = when + lag
            self.enact_at[r[go], x] = due[go]
            if go.any():
                self.armed(rules.DECISION, x, rules.ENACT, r[go])
            if self.trace is not None:
                if go[0]:
                    text = f"{item.name} decided ({why}): to be enacted in {lag[0]:.0f} days"
                else:
                    text = f"{item.name} decided ({why}), but not to be enacted: it stays on the agenda"
                self._say(float(when[0]), "decided", text, item.name)

    def enact(self, x: int, rows: Rows, t: np.ndarray) -> None:
        """Item x's enactment falls due on day t: enacted if it is eligible, else it waits for what
        blocks it (a constraint, an item it requires) and is enacted as soon as nothing does."""
        plan = self.plan
        self.enact_at[rows, x] = INF
        live = ~self.broken[rows] & ~self.agreed[rows, x]
        rows, t = rows[live], t[live]
        if rows.size == 0:
            return
        ok = rules.eligible(plan, self.agreed[rows], self.active[rows])[:, x]
        self.enact_wait[rows[~ok], x] = True
        if self.trace is not None and not ok[0]:
            name = plan.items[x].name
            self._say(float(t[0]), "decided", f"{name} due for enactment, but blocked: it waits", name)
        if ok.any():
            now = np.zeros((int(ok.sum()), len(plan.items)), bool)
            now[:, x] = True
            self.agree(rows[ok], t[ok], now, HOW_ENACTED)
            self.settle(rows[ok], t[ok])

    # ---------------------------------------------------------------- hazards outside rounds

    def _exposure(self, rows: Rows, t: np.ndarray) -> None:
        """Each item's hazard outside rounds, after a change: what has been used of its budget at
        the old rate is taken off, and the day it runs out at the new rate is set."""
        plan, params = self.plan, self.params
        cols = list(plan.outside)
        agreed, active = self.agreed[rows], self.active[rows]
        open_ = rules.eligible(plan, agreed, active)[:, cols] & ~self.broken[rows][:, None]
        rate = np.stack([params.outside_rate[x][rows] for x in cols], axis=1)  # type: ignore[index]
        factors = rules.multiplier(plan, active, [f[rows] for f in params.factors])[:, cols]
        new = rules.outside_rate(rate, params.hazard_scale[rows], factors, open_)
        old = self.outside_rate[rows][:, cols]
        changed = new != old
        if not changed.any():
            return
        since = self.outside_since[rows][:, cols]
        left = rules.hazard_spent(self.outside_left[rows][:, cols], old, since, t[:, None])
        due = rules.hazard_due(t[:, None], left, new)
        for j, x in enumerate(cols):
            ch = changed[:, j]
            if not ch.any():
                continue
            r = rows[ch]
            self.outside_left[r, x] = left[ch, j]
            self.outside_since[r, x] = t[ch]
            self.outside_rate[r, x] = new[ch, j]
            self.outside_at[r, x] = due[ch, j]
            if np.isfinite(due[ch, j]).any():
                self.armed(rules.DECISION, x, rules.OUTSIDE, r[np.isfinite(due[ch, j])])

    def outside(self, x: int, rows: Rows, t: np.ndarray) -> None:
        """Item x's hazard outside rounds fires on day t: it is agreed (it was eligible until now)."""
        self.outside_at[rows, x] = INF
        now = np.zeros((rows.size, len(self.plan.items)), bool)
        now[:, x] = True
        self.agree(rows, t, now, HOW_OUTSIDE)
        self.settle(rows, t)

    # ---------------------------------------------------------------- the talks pausing and resuming

    def _arm_stall(self, rows: Rows, t: np.ndarray) -> None:
        """The next stall of talks that are going, from day t."""
        params = self.params
        j = self.stall_draws[rows]
        self.stall_draws[rows] += 1
        unit = -np.log1p(-self.draws.uniform("stall", "rounds/stall", rows, j))
        rate = params.stall_rate[rows] * params.stall_scale[rows]  # type: ignore[index]
        self.pause_at[rows] = rules.exp_wait(t, unit, rate)
        self.armed(rules.PROCESS, 0, rules.PAUSE, rows)

    def pause(self, rows: Rows, t: np.ndarray, why: str = "they stalled") -> None:
        """The talks pause on day t (a stall, or an event): no round is held until they resume."""
        plan, params = self.plan, self.params
        going = ~self.paused[rows] & ~self.broken[rows]
        rows, t = rows[going], t[going]
        if rows.size == 0:
            return
        self.paused[rows] = True
        self.pauses[rows] += 1
        self.paused_record[rows] |= rules.from_day(self._grid, t)
        seen = t <= self.census
        self.paused_at_census[rows[seen]] = True
        self.pauses_by_census[rows[seen]] += 1
        self.pause_at[rows] = INF
        if self.trace is not None:
            self._say(float(t[0]), "paused", f"talks paused ({why})")
        if plan.rounds.resume is not None:
            j = self.resume_draws[rows]
            self.resume_draws[rows] += 1
            unit = -np.log1p(-self.draws.uniform("resume", "rounds/resume", rows, j))
            self.resume_at[rows] = rules.exp_wait(t, unit, params.resume_rate[rows])  # type: ignore[index]
            self.armed(rules.PROCESS, 0, rules.RESUME, rows)

    def stall(self, rows: Rows, t: np.ndarray) -> None:
        """The stall hazard fires on day t."""
        self.pause_at[rows] = INF
        self.pause(rows, t)

    def resume(self, rows: Rows, t: np.ndarray) -> None:
        """The talks resume on day t: the next scheduled round is held; the stall hazard restarts."""
        self.resume_at[rows] = INF
        live = self.paused[rows] & ~self.broken[rows]
        rows, t = rows[live], t[live]
        if rows.size == 0:
            return
        self._unpause(rows, t)
        if self.trace is not None:
            self._say(float(t[0]), "resumed", "talks resumed")
        if self.plan.rounds.stall is not None:
            self._arm_stall(rows, t)

    def _unpause(self, rows: Rows, t: np.ndarray) -> None:
        self.paused[rows] = False
        self.paused_record[rows] &= ~rules.from_day(self._grid, t)
        self.paused_at_census[rows[t <= self.census]] = False

    # ---------------------------------------------------------------- the regime moving

    def _arm_switch(self, rows: Rows, t: np.ndarray) -> None:
        """When each row's regime next moves, and to which state: a hazard of the total rate of its
        state's moves (a unit exponential and a uniform each time, from the stream ``regime/switch``)."""
        regime, params = self.plan.regime, self.params
        assert regime is not None
        state = params.regime[rows].astype(np.int64)
        width = max(len(m) for m in regime.moves)
        rates = np.zeros((rows.size, max(width, 1)))
        targets = np.zeros((rows.size, max(width, 1)), np.int8)
        for s, moves in enumerate(regime.moves):
            here = state == s
            if not here.any():
                continue
            for j, (target, rate) in enumerate(moves):
                rates[here, j] = params.value(rate, rows[here]) / PER_YEAR
                targets[here, j] = target
        j = self.switches[rows].astype(np.int64)
        unit = -np.log1p(-self.draws.uniform("switch", "regime/switch", rows, 2 * j))
        pick = rules.next_state(self.draws.uniform("switch", "regime/switch", rows, 2 * j + 1), rates)
        self.switch_at[rows] = rules.exp_wait(t, unit, rates.sum(axis=1))
        self.switch_to[rows] = targets[np.arange(rows.size), pick]
        self.armed(rules.PROCESS, 0, rules.SWITCH, rows)

    def switch(self, rows: Rows, t: np.ndarray) -> None:
        """The regime moves on day t (the leaders decide, or a decision unravels): every judgement
        that depends on it follows from now on."""
        self.switch_at[rows] = INF
        live = ~self.broken[rows]
        rows, t = rows[live], t[live]
        if rows.size == 0:
            return
        self.params.switch(rows, self.switch_to[rows])
        self.switches[rows] += 1
        if self.plan.leaders_matrix is not None:
            self._decide(rows, t, self.plan.leaders_matrix[self.params.regime[rows]], "the leaders decided")
        seen = t <= self.census
        self.regime_at_census[rows[seen]] = self.params.regime[rows[seen]]
        if self.trace is not None:
            regime = self.plan.regime
            assert regime is not None
            name = regime.names[int(self.params.regime[rows[0]])]
            self._say(float(t[0]), "regime", f"regime: now {name}", name)
        if self.plan.rounds.stall is not None:  # the stall hazard follows the new state (memoryless: drawn afresh)
            going = ~self.paused[rows]
            if going.any():
                self._arm_stall(rows[going], t[going])
        self._arm_switch(rows, t)
        self.settle(rows, t)

    # ---------------------------------------------------------------- constraints

    def review(self, c: int, rows: Rows, t: np.ndarray, j: np.ndarray) -> None:
        """Review j of constraint c on day t: an active constraint lifts with the review's chance."""
        active = self.active[rows, c]
        lifted = active & rules.happens(self.draws.review[c][rows, j], self.params.review_p[c][rows])  # type: ignore[index]
        if lifted.any():
            self.lift(c, rows[lifted], t[lifted], f"at review {int(j[0]) + 1}" if self.trace is not None else "")
            self.settle(rows[lifted], t[lifted])
        elif self.trace is not None and active[0]:
            name = self.plan.constraints[c].name
            self._say(float(t[0]), "review", f"{name} reviewed and kept", name)

    def lift_on(self, c: int, rows: Rows, t: np.ndarray) -> None:
        """Constraint c's fixed lifting date: lifted if active."""
        go = self.active[rows, c]
        if go.any():
            self.lift(c, rows[go], t[go], "on its date")
            self.settle(rows[go], t[go])

    def hazard(self, c: int, rows: Rows, t: np.ndarray, generation: np.ndarray) -> None:
        """The hazard lift started by activation number ``generation`` of constraint c: it lifts
        only if the constraint is still active from that same activation."""
        go = self.active[rows, c] & (self.generation[rows, c] == generation)
        if go.any():
            self.lift(c, rows[go], t[go], "hazard")
            self.settle(rows[go], t[go])

    def lift(self, c: int, rows: Rows, t: np.ndarray, why: str) -> None:
        self.active[rows, c] = False
        self.in_force[rows, c] &= ~rules.from_day(self._grid, t)
        self.lifts[rows, c] += 1
        first = np.isnan(self.lift_day[rows, c])
        self.lift_day[rows[first], c] = t[first]
        self.active_at_census[rows[t <= self.census], c] = False
        if self.trace is not None:
            name = self.plan.constraints[c].name
            self._say(float(t[0]), "lifted", f"{name} lifted ({why})", name)

    def activate(self, c: int, rows: Rows, t: np.ndarray, initial: bool = False) -> None:
        """Constraint c becomes active (at the start, or imposed): its lifting starts afresh
        (reviews keep their calendar), and it lifts at once if its items are already agreed."""
        plan = self.plan
        con = plan.constraints[c]
        self.active[rows, c] = True
        self.in_force[rows, c] |= rules.from_day(self._grid, t)
        self.generation[rows, c] += 1
        seen = t <= self.census
        self.active_at_census[rows[seen], c] = True
        if not initial:
            self.imposed_by_census[rows[seen], c] += 1
        if not initial and self.trace is not None:
            self._say(float(t[0]), "imposed", f"{con.name} imposed", con.name)
        if con.rate is not None:
            self.start_hazard(c, rows, t)
        if con.when_agreed is not None:
            done = rules.lifted_by_agreement(plan, self.agreed[rows], self.active[rows])[:, c]
            if done.any():
                self.lift(c, rows[done], t[done], "its items are agreed")

    # ---------------------------------------------------------------- events

    def occur(self, e: int, rows: Rows, t: np.ndarray) -> None:
        """An occurrence of event kind e: trust, suspension, breakdown, pause, impositions, decisions."""
        plan, d = self.plan, self.draws
        ev = plan.events[e]
        occurrence = self.event_count[rows, e]
        self.event_count[rows, e] += 1
        before = self.trust[rows]
        if ev.trust != 0.0:  # a judgement (text) or a number other than 0
            self.trust[rows] = rules.add_trust(before, self.params.event_trust[e][rows], plan.trust_min, plan.trust_max)
        tracing = self.trace is not None
        if tracing:
            self._say(float(t[0]), "event", f"{ev.name}; trust {before[0]:+.2f} -> {self.trust[0]:+.2f}", ev.name)
        suspend = d.suspend[e]
        if suspend is not None:
            days = suspend[rows, occurrence]
            self.suspended_until[rows] = rules.suspended_until(self.suspended_until[rows], t, days)
            if tracing:
                self._say(float(t[0]), "suspended", f"talks suspended for {days[0]:.0f} days", ev.name)
        breakdown = d.breakdown[e]
        if breakdown is not None:
            now = ~self.broken[rows] & rules.happens(breakdown[rows, occurrence], self.params.event_breakdown[e][rows])
            if now.any():
                self._break(rows[now], t[now])
                if tracing:
                    self._say(float(t[0]), "breakdown", "talks broken off for good", ev.name)
        pause = d.pause[e]
        if pause is not None:
            go = rules.happens(pause[rows, occurrence], self.params.event_pause[e][rows])
            if go.any():
                self.pause(rows[go], t[go], ev.name)
        for c in ev.impose:
            self.activate(c, rows, t)
        if ev.decides:
            newly = np.zeros((rows.size, len(plan.items)), bool)
            newly[:, list(ev.decides)] = True
            self._decide(rows, t, newly, ev.name)
        self.settle(rows, t)

    def _break(self, rows: Rows, t: np.ndarray) -> None:
        """The talks end for good: nothing more is agreed, enacted or resumed."""
        self.broken[rows] = True
        self.breakdown_day[rows] = t
        if self.plan.pausing:
            was = self.paused[rows]
            self._unpause(rows[was], t[was])
            self.pause_at[rows] = INF
            self.resume_at[rows] = INF
        if self.plan.enacted:
            self.enact_at[rows] = INF
            self.enact_wait[rows] = False
        self.switch_at[rows] = INF

    def _say(self, day: float, kind: str, text: str, subject: str = "") -> None:
        assert self.trace is not None
        self.trace.append((day, kind, subject, text))
