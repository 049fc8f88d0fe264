"""What is known of a negotiation up to a day, and which replications agree with it (``--given``).

A :class:`History` is a list of conditions on a replication's record up to day ``as_of``: each item
agreed by then or not, each constraint first lifted by then or not, the talks broken off by then
or not, and how many rounds were held (and cancelled) by then. Keeping exactly the replications
that meet every condition is Bayesian conditioning by rejection: the kept replications' futures
are the forecast given the history, and their judgement draws are the posterior.

An event's day counts as "by ``as_of``" when it is on or before ``as_of`` (the day itself
included), as in :attr:`sim.engine.plan.Plan.census`, which counts the rounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine.records import Records
from sim.errors import plural


def by(days: np.ndarray, limit: float) -> np.ndarray:
    """Whether each day (NaN: never) is on or before ``limit``."""
    return np.nan_to_num(days, nan=np.inf) <= limit


@dataclass(frozen=True)
class History:
    """Conditions on a replication up to day ``as_of``; ``None`` leaves an aspect unconditioned."""

    as_of: float
    items: tuple[tuple[int, str, bool], ...] = ()  # (item index, name, agreed by as_of)
    constraints: tuple[tuple[int, str, bool], ...] = ()  # (constraint index, name, first lifted by as_of)
    breakdown: bool | None = None  # talks broken off by as_of
    held: int | None = None  # rounds held by as_of
    cancelled: int | None = None  # rounds cancelled by as_of
    in_force: tuple[tuple[int, str, bool], ...] = ()  # (constraint index, name, in force at as_of)
    imposed: tuple[tuple[int, str, int], ...] = ()  # (constraint index, name, times imposed by as_of)
    pauses: int | None = None  # times the talks paused by as_of
    paused: bool | None = None  # talks paused at as_of

    @property
    def saw_pause(self) -> bool:
        """Whether the talks paused by as_of: a history only a scenario that can pause them can have."""
        return bool(self.pauses or self.paused)

    def conditions(self, rec: Records) -> list[tuple[str, np.ndarray]]:
        """Each condition, named, with the rows that meet it."""
        out = []
        for x, name, agreed in self.items:
            out.append((f"{name} {'agreed' if agreed else 'not agreed'}", by(rec.item_day[:, x], self.as_of) == agreed))
        for c, name, lifted in self.constraints:
            seen = by(rec.constraint_day[:, c], self.as_of)
            out.append((f"{name} {'lifted' if lifted else 'not lifted'}", seen == lifted))
        for c, name, on in self.in_force:
            out.append((f"{name} {'in force' if on else 'not in force'}", rec.constraint_active_at_census[:, c] == on))
        for c, name, times in self.imposed:
            out.append((f"{name} imposed {plural(times, 'time')}", rec.constraint_imposed_by_census[:, c] == times))
        if self.breakdown is not None:
            broken = by(rec.breakdown_day, self.as_of)
            out.append(("talks broken off" if self.breakdown else "talks not broken off", broken == self.breakdown))
        if self.held is not None:
            out.append((f"{plural(self.held, 'round')} held", rec.held_by_census == self.held))
        if self.cancelled is not None:
            out.append((f"{plural(self.cancelled, 'round')} cancelled", rec.cancelled_by_census == self.cancelled))
        if self.pauses is not None:
            out.append((f"{plural(self.pauses, 'pause')}", rec.pauses_by_census == self.pauses))
        if self.paused is not None:
            out.append(("talks paused" if self.paused else "talks not paused", rec.paused_at_census == self.paused))
        return out

    def agrees(self, rec: Records) -> np.ndarray:
        """The rows that meet every condition."""
        keep = np.ones(rec.n, bool)
        for _, met in self.conditions(rec):
            keep &= met
        return keep

    @property
    def empty(self) -> bool:
        """No condition at all: every replication agrees."""
        unset = (self.breakdown, self.held, self.cancelled, self.pauses, self.paused)
        return not (self.items or self.constraints or self.in_force or self.imposed) and all(v is None for v in unset)
