"""The keyed random draws of a batch of replications, for either engine.

Every stream (see :mod:`sim.engine.streams`) is drawn for the whole batch at once, as many chunks
as the longest replication of the batch needs, and transformed as a matrix (inverse CDFs; the
round schedule and the Poisson arrival times as cumulative sums, added one after the other). Both
engines index the same matrices the same way (``draws.cancel[rows, k]``); the SimPy model's
batch is its one replication.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import numpy as np

from sim.engine import rules
from sim.engine.params import Params, needs_draws
from sim.engine.plan import PER_YEAR, Plan
from sim.engine.streams import CHUNK, chunks
from sim.errors import UserError
from sim.scenario.distributions import Distribution
from sim.scenario.models import MAX_ROUNDS

Transform = Callable[[np.ndarray], np.ndarray]

MAX_WIDTH = 4 * MAX_ROUNDS
"""Most scheduled rounds, or event occurrences, drawn for one replication before the horizon:
validation holds a scenario to MAX_ROUNDS on average, so a replication past four times that is
one whose draws validation could not foresee (intervals nearly all of 0 days): refused rather than
drawn for ever."""


def unit_exponential(u: np.ndarray) -> np.ndarray:
    return -np.log1p(-u)


def review_span(plan: Plan, c: int) -> tuple[int, int] | None:
    """Indices (first, last) of constraint c's reviews within the horizon, if it can be reviewed."""
    con = plan.constraints[c]
    review = con.review
    if review is None or not (con.active0 or con.imposable):
        return None
    first, every = review.first, review.every
    h = plan.horizon
    j0 = rules.first_review(first, every)
    j1 = math.floor((h - first) / every) if h >= first else -1
    while first + (j1 + 1) * every <= h:  # exact, whatever the floor's rounding
        j1 += 1
    while j1 >= 0 and first + j1 * every > h:
        j1 -= 1
    return (j0, j1) if j1 >= j0 else None


class Draws:
    """The streams of replications ``start..stop-1`` of one plan, as (replications, width) matrices."""

    def __init__(self, plan: Plan, start: int, stop: int) -> None:
        self.plan = plan
        self.start = start
        self.n = n = stop - start
        h = plan.horizon
        self._uniforms: dict[str, list[np.ndarray]] = {}
        self._items: np.ndarray | None = None
        self.params = params = Params(plan, start, stop)
        rounds = plan.rounds
        self.first: np.ndarray | None = None
        if isinstance(rounds.first, Distribution):
            self.first = self.matrix("first", "rounds/first", 1, rounds.first.ppf)[:, 0]
        first = self.first[:, None] if self.first is not None else np.full((n, 1), float(rounds.first))  # type: ignore[arg-type]
        # Scheduled rounds: first, first + i0, first + i0 + i1, ... until every replication is past the horizon.
        width = CHUNK * max(1, math.ceil((h / max(rounds.interval.expected(), 1e-9) + 2) / CHUNK))
        while True:
            self.interval = self.matrix("interval", "rounds/interval", width, rounds.interval.ppf)
            self.round_times = np.cumsum(np.concatenate([first, self.interval[:, :-1]], axis=1), axis=1)
            short = self.round_times[:, -1] <= h
            if n == 0 or not short.any():
                break
            if width >= MAX_WIDTH:
                raise UserError(
                    f"rounds.interval: replication {start + int(np.argmax(short))} draws more than {MAX_WIDTH:,} "
                    f"rounds before the horizon (its intervals are nearly all close to 0 days); at most "
                    f"{MAX_ROUNDS:,} are expected: give the interval a distribution whose draws are days apart"
                )
            width = min(MAX_WIDTH, width + max(CHUNK, width // (2 * CHUNK) * CHUNK))  # grows by half: never quadratic
        self.round_count = (self.round_times <= h).sum(axis=1)
        count = int(self.round_count.max(initial=0))
        self.cancel = self.matrix("cancel", "rounds/cancel", count) if needs_draws(rounds.cancel) else None
        self.item = [self.matrix(f"item{x}", f"item/{name}", count) for x, name in enumerate(plan.item_names)]
        self.arrival: list[np.ndarray | None] = []
        self.arrival_times: list[np.ndarray | None] = []
        occurrences = []
        for e, name in enumerate(plan.event_names):
            dates = sum(1 for t in plan.events[e].dates if t <= h)
            gaps = params.event_gap[e]
            if gaps is None:
                self.arrival.append(None)
                self.arrival_times.append(None)
                occurrences.append(np.full(n, dates))
                continue
            shortest = float(gaps.min(initial=np.inf))
            width = CHUNK * max(1, math.ceil((h / shortest + 3) / CHUNK)) if math.isfinite(shortest) else CHUNK
            if width > MAX_WIDTH:
                r = int(np.argmin(gaps))
                raise UserError(
                    f"events.{name}.rate: replication {start + r} draws a rate of {PER_YEAR / gaps[r]:.3g} per 365 "
                    f"days, about {h / gaps[r]:,.0f} occurrences before the horizon; at most {MAX_ROUNDS:,} are "
                    "expected: narrow the rate's distribution"
                )
            while True:
                unit = self.matrix(f"arrival{e}", f"event/{name}/arrival", width, unit_exponential)
                times = np.cumsum(gaps[:, None] * unit, axis=1)
                short = times[:, -1] <= h
                if n == 0 or not short.any():
                    break
                if width >= MAX_WIDTH:
                    raise UserError(
                        f"events.{name}.rate: replication {start + int(np.argmax(short))} draws more than "
                        f"{MAX_WIDTH:,} occurrences before the horizon; at most {MAX_ROUNDS:,} are expected"
                    )
                width = min(MAX_WIDTH, width + max(CHUNK, width // (2 * CHUNK) * CHUNK))
            self.arrival.append(unit)
            self.arrival_times.append(times)
            occurrences.append((times <= h).sum(axis=1) + dates)
        self.occurrences = occurrences
        most = [int(occ.max(initial=0)) for occ in occurrences]
        self.suspend = [
            None
            if ev.suspend is None
            else self.matrix(f"suspend{e}", f"event/{ev.name}/suspend", most[e], ev.suspend.ppf)
            for e, ev in enumerate(plan.events)
        ]
        self.breakdown = [
            None
            if not needs_draws(ev.breakdown)
            else self.matrix(f"breakdown{e}", f"event/{ev.name}/breakdown", most[e])
            for e, ev in enumerate(plan.events)
        ]
        self.pause = [
            None if not needs_draws(ev.pause) else self.matrix(f"pause{e}", f"event/{ev.name}/pause", most[e])
            for e, ev in enumerate(plan.events)
        ]
        self.review: list[np.ndarray | None] = []
        self.hazard: list[np.ndarray | None] = []
        for c, con in enumerate(plan.constraints):
            span = review_span(plan, c)
            self.review.append(
                None
                if con.review is None
                else self.matrix(f"review{c}", f"constraint/{con.name}/review", span[1] + 1 if span else 0)
            )
            if con.rate is None:
                self.hazard.append(None)
                continue
            starts = int(con.active0) + sum(occurrences[e] for e, ev in enumerate(plan.events) if c in ev.impose)
            top = int(np.max(starts, initial=0)) if isinstance(starts, np.ndarray) else starts
            self.hazard.append(self.matrix(f"hazard{c}", f"constraint/{con.name}/hazard", top, unit_exponential))
        self.outside = [
            None
            if item.hazard is None
            else self.matrix(f"outside{x}", f"item/{item.name}/outside", 1, unit_exponential)[:, 0]
            for x, item in enumerate(plan.items)
        ]
        """Each item's budget of unit-exponential hazard outside the rounds (it is agreed when the
        hazard it has been exposed to reaches it)."""

    def matrix(self, key: str, name: str, width: int, transform: Transform | None = None) -> np.ndarray:
        """At least ``width`` draws (whole chunks, at least one) of a stream for every replication."""
        count = max(1, math.ceil(width / CHUNK))
        parts = self._uniforms.setdefault(key, [])
        stop = self.start + self.n
        parts.extend(chunks(self.plan.seed, name, self.start, stop, c) for c in range(len(parts), count))
        u = parts[0] if count == 1 else np.concatenate(parts[:count], axis=1)
        return u if transform is None else transform(u)

    def uniform(self, key: str, name: str, rows: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Uniform ``j`` (per row) of a stream, drawn as far as the largest ``j`` needs: for the draws
        whose number follows from what happened (enactments, pauses and resumptions)."""
        width = int(j.max(initial=0)) + 1
        return self.matrix(key, name, width)[rows, j]

    def row(self, i: int) -> Draws:
        """Replication ``start + i`` alone: a one-row view of every matrix (for the SimPy model)."""
        out = copy.copy(self)
        out.start, out.n = self.start + i, 1
        for name, value in vars(self).items():
            if isinstance(value, Params):
                setattr(out, name, value.row(i))
            elif isinstance(value, np.ndarray):
                setattr(out, name, value[i : i + 1])
            elif isinstance(value, list):
                setattr(out, name, [None if m is None else m[i : i + 1] for m in value])
        out._uniforms = {}
        return out

    @property
    def items(self) -> np.ndarray:
        """Every item's agreement draws: (replications, items, rounds)."""
        if self._items is None:
            n = self.n
            self._items = np.stack(self.item, axis=1) if self.item else np.zeros((n, 0, 1))
        return self._items
