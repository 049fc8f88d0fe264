"""The batch engine: a whole batch of replications in lockstep, vectorised with numpy.

Everything that happens in a replication is known in advance except its consequences: the round
schedule, event arrivals, review dates, fixed lifting dates, and even the hazard lifts (each
starts at an activation, and activations come from events). So each replication's timeline is
built and sorted up front, by (day, priority, creation order) exactly as the SimPy model orders
its events; then the batch walks the timelines step by step together, each step applying, for
the replications whose step is a round, an event, a review or a lift, the same rules as
:class:`sim.engine.state.Replication` does one replication at a time, with the same keyed draws and the
same floating-point operations. ``tests/test_engine.py`` checks that the records are
byte-identical to the SimPy model's.
"""

from __future__ import annotations

import numpy as np

from sim.engine.draws import Draws, review_span
from sim.engine.plan import Plan
from sim.engine.records import Records

PRIO_EVENT = 1_000
PRIO_CONSTRAINT = 2_000
PRIO_ROUND = 3_000
NONE, ROUND, EVENT, REVIEW, ON, HAZARD = range(6)


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


def _clip(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """``rules.add_trust``'s bound, elementwise."""
    return np.where(x < low, low, np.where(x > high, high, x))


class _State:
    """The state of every replication of the batch, as arrays."""

    def __init__(self, plan: Plan, n: int) -> None:
        k, m, e = len(plan.items), len(plan.constraints), len(plan.events)
        self.plan = plan
        self.agreed = np.tile(np.array(plan.agreed0, bool), (n, 1)).reshape(n, k)
        self.day = np.where(self.agreed, 0.0, np.nan)
        self.round = np.where(self.agreed, 0, -1).astype(np.int32)
        self.on_agenda = np.zeros((n, k), np.int64)
        self.active = np.tile(np.array(plan.active0, bool), (n, 1)).reshape(n, m)
        self.lift_day = np.full((n, m), np.nan)
        self.lifts = np.zeros((n, m), np.int32)
        self.generation = np.zeros((n, m), np.int64)
        self.trust = np.full(n, plan.trust0)
        self.suspended_until = np.full(n, -np.inf)
        self.broken = np.zeros(n, bool)
        self.breakdown_day = np.full(n, np.nan)
        self.held = np.zeros(n, np.int32)
        self.cancelled = np.zeros(n, np.int32)
        self.suspended = np.zeros(n, np.int32)
        self.event_count = np.zeros((n, e), np.int64)

    def lift(self, c: int, idx: np.ndarray, t: np.ndarray) -> None:
        self.active[idx, c] = False
        self.lifts[idx, c] += 1
        first = np.isnan(self.lift_day[idx, c])
        self.lift_day[idx[first], c] = t[first]

    def activate(self, c: int, idx: np.ndarray, t: np.ndarray) -> None:
        """An imposition (or the start): lifting starts afresh; lifted at once if its items are agreed."""
        self.active[idx, c] = True
        self.generation[idx, c] += 1
        needed = self.plan.when_agreed[c]
        if needed is not None:
            done = self.agreed[np.ix_(idx, np.array(needed, dtype=np.int64))].all(axis=1)
            if done.any():
                self.lift(c, idx[done], t[done])


def simulate_batch(plan: Plan, start: int, stop: int) -> Records:
    """Replications ``start..stop-1``, all at once; the same records as the SimPy model."""
    n = stop - start
    d = Draws(plan, start, stop)
    h = plan.horizon
    state = _State(plan, n)
    line = _Timeline(n)
    # Creation order mirrors the SimPy model's processes: constraints, events, rounds.
    for c in range(len(plan.constraints)):
        span = review_span(plan, c)
        if span is not None:
            first, every, _ = plan.review[c]  # type: ignore[misc]
            j = np.arange(span[0], span[1] + 1)
            line.add(first + j * every, PRIO_CONSTRAINT + c, REVIEW, c, j)
        on = plan.lift_on[c]
        if on is not None and on <= h and (plan.active0[c] or plan.imposable[c]):
            line.add(np.array([on]), PRIO_CONSTRAINT + c, ON, c)
    for e in range(len(plan.events)):
        times = d.arrival_times[e]
        if times is not None:
            line.add(np.where(times <= h, times, np.inf), PRIO_EVENT + e, EVENT, e)
        dates = np.array([t for t in plan.event_dates[e] if t <= h])
        line.add(dates, PRIO_EVENT + e, EVENT, e)
    line.add(
        np.where(d.round_times <= h, d.round_times, np.inf),
        PRIO_ROUND,
        ROUND,
        0,
        np.arange(d.round_times.shape[1]),
    )
    # Hazard lifts: one per activation (the start, then each imposing event, in timeline order).
    for c in range(len(plan.constraints)):
        if plan.hazard_mean[c] is None:
            continue
        imposers = _Timeline(n)
        for e in range(len(plan.events)):
            if c in plan.event_impose[e]:
                times = d.arrival_times[e]
                if times is not None:
                    imposers.add(np.where(times <= h, times, np.inf), PRIO_EVENT + e, EVENT, e)
                imposers.add(np.array([t for t in plan.event_dates[e] if t <= h]), PRIO_EVENT + e, EVENT, e)
        starts = imposers.sorted()[0]
        if plan.active0[c]:
            starts = np.concatenate([np.zeros((n, 1)), starts], axis=1)
        unit = d.hazard[c]
        assert unit is not None
        width = min(starts.shape[1], unit.shape[1])  # the draws cover every activation there is
        assert not np.isfinite(starts[:, width:]).any()
        starts = starts[:, :width]
        lift = starts + plan.hazard_mean[c] * unit[:, :width]  # type: ignore[operator]
        lift = np.where(np.isfinite(starts) & (lift <= h), lift, np.inf)
        line.add(lift, PRIO_CONSTRAINT + c, HAZARD, c, np.arange(1, width + 1))  # generation after activation m
    day, kind, index, extra = line.sorted()
    # Day 0: constraints active at the start begin their lifting.
    everyone = np.arange(n)
    zero = np.zeros(n)
    for c in range(len(plan.constraints)):
        if plan.active0[c]:
            state.activate(c, everyone, zero)
    items = np.stack(d.item, axis=1) if d.item else np.zeros((n, 0, 1))  # (replications, items, rounds)
    steps = int((np.isfinite(day)).sum(axis=1).max(initial=0))
    for step in range(steps):
        col_kind, col_day, col_index, col_extra = kind[:, step], day[:, step], index[:, step], extra[:, step]
        live = np.isfinite(col_day)
        if not live.any():
            break
        for what in (EVENT, REVIEW, ON, HAZARD, ROUND):
            idx = np.flatnonzero(live & (col_kind == what))
            if idx.size == 0:
                continue
            t = col_day[idx]
            if what == ROUND:
                _rounds(state, d, items, idx, t, col_extra[idx])
            elif what == EVENT:
                for e in np.unique(col_index[idx]).tolist():
                    sel = col_index[idx] == e
                    _events(state, d, e, idx[sel], t[sel])
            else:
                for c in np.unique(col_index[idx]).tolist():
                    sel = col_index[idx] == c
                    _constraint_step(state, d, what, c, idx[sel], t[sel], col_extra[idx][sel])
    return Records(
        start=start,
        item_agreed=state.agreed,
        item_day=state.day,
        item_round=state.round,
        constraint_lifted=state.lifts > 0,
        constraint_day=state.lift_day,
        constraint_lifts=state.lifts,
        constraint_active=state.active,
        rounds_held=state.held,
        rounds_cancelled=state.cancelled,
        rounds_suspended=state.suspended,
        breakdown=state.broken,
        breakdown_day=state.breakdown_day,
        trust=state.trust,
        event_count=state.event_count.astype(np.int32),
    )


def _constraint_step(state: _State, d: Draws, what: int, c: int, idx: np.ndarray, t: np.ndarray, x: np.ndarray) -> None:
    """A review, a fixed lifting date, or a hazard lift of constraint c."""
    active = state.active[idx, c]
    if what == REVIEW:
        p = state.plan.review[c][2]  # type: ignore[index]
        go = active & (d.review[c][idx, x] < p)  # type: ignore[index]
    elif what == ON:
        go = active
    else:
        go = active & (state.generation[idx, c] == x)
    if go.any():
        state.lift(c, idx[go], t[go])


def _events(state: _State, d: Draws, e: int, idx: np.ndarray, t: np.ndarray) -> None:
    """Occurrences of event kind e: trust, suspension, breakdown, impositions."""
    plan = state.plan
    occurrence = state.event_count[idx, e]
    state.event_count[idx, e] += 1
    if plan.event_trust[e]:
        state.trust[idx] = _clip(state.trust[idx] + plan.event_trust[e], plan.trust_min, plan.trust_max)
    suspend = d.suspend[e]
    if suspend is not None:
        state.suspended_until[idx] = np.maximum(state.suspended_until[idx], t + suspend[idx, occurrence])
    breakdown = d.breakdown[e]
    if breakdown is not None:
        now = ~state.broken[idx] & (breakdown[idx, occurrence] < plan.event_breakdown[e])
        state.broken[idx[now]] = True
        state.breakdown_day[idx[now]] = t[now]
    for c in plan.event_impose[e]:
        state.activate(c, idx, t)


def _rounds(state: _State, d: Draws, items: np.ndarray, idx: np.ndarray, t: np.ndarray, k: np.ndarray) -> None:
    """Scheduled round k (per replication) on day t, for replications idx."""
    plan = state.plan
    go = ~state.broken[idx]  # after a breakdown, no round is held or counted
    idx, t, k = idx[go], t[go], k[go]
    suspended = t < state.suspended_until[idx]
    state.suspended[idx[suspended]] += 1
    idx, t, k = idx[~suspended], t[~suspended], k[~suspended]
    if d.cancel is not None:
        cancelled = d.cancel[idx, k] < plan.cancel
        state.cancelled[idx[cancelled]] += 1
        idx, t, k = idx[~cancelled], t[~cancelled], k[~cancelled]
    if idx.size == 0:
        return
    state.held[idx] += 1
    agreed = state.agreed[idx]
    active = state.active[idx]
    # The agenda: eligible items by priority, at most `capacity` (rules.agenda, for many at once).
    eligible = ~agreed
    for x in range(len(plan.items)):
        if plan.requires[x]:
            eligible[:, x] &= agreed[:, list(plan.requires[x])].all(axis=1)
        if plan.blocks[x]:
            eligible[:, x] &= ~active[:, list(plan.blocks[x])].any(axis=1)
    order = list(plan.order)
    if plan.capacity < len(order):
        ranked = eligible[:, order]
        ranked &= np.cumsum(ranked, axis=1) <= plan.capacity
        on = np.zeros_like(eligible)
        on[:, order] = ranked
    else:
        on = eligible
    ready = on & (state.on_agenda[idx] >= np.array(plan.after_rounds))
    state.on_agenda[idx] += on
    if not ready.any():
        return
    # p_eff = expit(logit(p) + weight * trust) * multipliers, clipped (rules.agreement_probability).
    trust = state.trust[idx]
    shift = plan.weight * trust
    p = np.empty(ready.shape)
    for x in range(len(plan.items)):
        base_p = plan.item_p[x]
        if base_p <= 0.0 or base_p >= 1.0:
            base = np.full(idx.size, base_p)
        else:
            z = plan.item_logit[x] + shift
            expit = 1.0 / (1.0 + np.exp(-np.maximum(z, -700.0)))
            base = np.where(shift == 0.0, base_p, np.where(z > -700.0, expit, 0.0))
        mult = np.ones(idx.size)
        for c, factor in plan.effects[x]:
            mult = mult * np.where(active[:, c], factor, 1.0)
        q = base * mult
        p[:, x] = np.where(q < 0.0, 0.0, np.where(q > 1.0, 1.0, q))
    u = items[idx, :, k]
    now = ready & (u < p)
    if not now.any():
        return
    any_now = now.any(axis=1)
    state.agreed[idx] = agreed | now
    state.day[idx] = np.where(now, t[:, None], state.day[idx])
    state.round[idx] = np.where(now, state.held[idx][:, None], state.round[idx])
    # Each agreement adds its trust gain, bounded, in agenda order.
    for x in order:
        if now[:, x].any():
            trust = np.where(now[:, x], _clip(trust + plan.gain[x], plan.trust_min, plan.trust_max), trust)
    state.trust[idx] = trust
    for c, needed in enumerate(plan.when_agreed):
        if needed is None:
            continue
        go = any_now & state.active[idx, c] & state.agreed[np.ix_(idx, np.array(needed, dtype=np.int64))].all(axis=1)
        if go.any():
            state.lift(c, idx[go], t[go])
