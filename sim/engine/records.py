"""Per-replication records, columnar: one numpy array per field, one row per replication."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

HOW = ("", "before", "round", "enacted", "outside")
"""How an item was agreed (``Records.item_how``): not agreed, before the start, in a round, enacted
after a decision, or by a step outside the rounds."""
HOW_BEFORE, HOW_ROUND, HOW_ENACTED, HOW_OUTSIDE = 1, 2, 3, 4


@dataclass
class Records:
    """Outcomes of replications ``start .. start + n - 1`` (arrays of ``n`` rows)."""

    start: int
    item_agreed: np.ndarray  # (n, items) bool
    item_day: np.ndarray  # (n, items) float64, NaN if not agreed
    item_round: np.ndarray  # (n, items) int32, held-round number; 0 = agreed before the start, -1 = not
    constraint_lifted: np.ndarray  # (n, constraints) bool, lifted at least once
    constraint_day: np.ndarray  # (n, constraints) float64, day of the first lift
    constraint_lifts: np.ndarray  # (n, constraints) int32
    constraint_active: np.ndarray  # (n, constraints) bool, active at the horizon
    constraint_in_force: np.ndarray  # (n, constraints) uint64, bit g: active at the end of rules.in_force_days[g]
    rounds_held: np.ndarray  # (n,) int32
    rounds_cancelled: np.ndarray  # (n,) int32
    rounds_suspended: np.ndarray  # (n,) int32
    breakdown: np.ndarray  # (n,) bool
    breakdown_day: np.ndarray  # (n,) float64
    trust: np.ndarray  # (n,) float64, at the horizon
    event_count: np.ndarray  # (n, events) int32
    parameters: np.ndarray  # (n, judgements) float64: each uncertain judgement's draw (Plan.judgements order)
    replication: np.ndarray  # (n,) int64: each row's replication number (start .. start + n - 1 unless selected)
    held_by_census: np.ndarray  # (n,) int32: rounds held on or before Plan.census (0 without one)
    cancelled_by_census: np.ndarray  # (n,) int32: rounds cancelled on or before Plan.census
    item_how: np.ndarray  # (n, items) int8: an index of HOW (0 = not agreed)
    regime: np.ndarray  # (n,) int8: the regime's state at the horizon (Plan.regime.names order; 0 without a regime)
    regime_start: np.ndarray  # (n,) int8: the regime's state at the start (drawn by the shares)
    regime_at_census: np.ndarray  # (n,) int8: the regime's state at the end of Plan.census
    regime_switches: np.ndarray  # (n,) int32: times the regime moved
    rounds_paused: np.ndarray  # (n,) int32: scheduled rounds not held because the talks were paused
    pauses: np.ndarray  # (n,) int32: times the talks paused
    paused: np.ndarray  # (n,) bool: paused at the horizon
    paused_record: np.ndarray  # (n,) uint64: bit g: paused at the end of rules.in_force_days[g]
    paused_at_census: np.ndarray  # (n,) bool: paused at the end of Plan.census
    pauses_by_census: np.ndarray  # (n,) int32: pauses on or before Plan.census
    constraint_active_at_census: np.ndarray  # (n, constraints) bool: in force at the end of Plan.census
    constraint_imposed_by_census: np.ndarray  # (n, constraints) int32: impositions on or before Plan.census
    next_round_day: (
        np.ndarray
    )  # (n,) float64: the first round held after Plan.census (after day 0 without one: the first), NaN if none

    @property
    def n(self) -> int:
        return int(self.rounds_held.shape[0])

    @classmethod
    def empty(
        cls, n: int, n_items: int, n_constraints: int, n_events: int, start: int = 0, n_parameters: int = 0
    ) -> Records:
        return cls(
            start=start,
            item_agreed=np.zeros((n, n_items), bool),
            item_day=np.full((n, n_items), np.nan),
            item_round=np.full((n, n_items), -1, np.int32),
            constraint_lifted=np.zeros((n, n_constraints), bool),
            constraint_day=np.full((n, n_constraints), np.nan),
            constraint_lifts=np.zeros((n, n_constraints), np.int32),
            constraint_active=np.zeros((n, n_constraints), bool),
            constraint_in_force=np.zeros((n, n_constraints), np.uint64),
            rounds_held=np.zeros(n, np.int32),
            rounds_cancelled=np.zeros(n, np.int32),
            rounds_suspended=np.zeros(n, np.int32),
            breakdown=np.zeros(n, bool),
            breakdown_day=np.full(n, np.nan),
            trust=np.zeros(n),
            event_count=np.zeros((n, n_events), np.int32),
            parameters=np.zeros((n, n_parameters)),
            replication=np.arange(start, start + n, dtype=np.int64),
            held_by_census=np.zeros(n, np.int32),
            cancelled_by_census=np.zeros(n, np.int32),
            item_how=np.zeros((n, n_items), np.int8),
            regime=np.zeros(n, np.int8),
            regime_start=np.zeros(n, np.int8),
            regime_at_census=np.zeros(n, np.int8),
            regime_switches=np.zeros(n, np.int32),
            rounds_paused=np.zeros(n, np.int32),
            pauses=np.zeros(n, np.int32),
            paused=np.zeros(n, bool),
            paused_record=np.zeros(n, np.uint64),
            paused_at_census=np.zeros(n, bool),
            pauses_by_census=np.zeros(n, np.int32),
            constraint_active_at_census=np.zeros((n, n_constraints), bool),
            constraint_imposed_by_census=np.zeros((n, n_constraints), np.int32),
            next_round_day=np.full(n, np.nan),
        )

    @classmethod
    def concat(cls, parts: list[Records]) -> Records:
        """Join batches in replication order."""
        parts = sorted(parts, key=lambda r: r.start)
        out = {f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls) if f.name != "start"}
        return cls(start=parts[0].start, **out)

    def take(self, n: int) -> Records:
        """The first ``n`` rows."""
        return self._rows(slice(None, n))

    def drop(self, n: int) -> Records:
        """All but the first ``n`` rows."""
        return self._rows(slice(n, None))

    def pick(self, rows: np.ndarray) -> Records:
        """The rows at ``rows`` (indices, repeats allowed: a resampled forecast), in that order."""
        return self._rows(np.asarray(rows, dtype=np.int64))

    def select(self, keep: np.ndarray) -> Records:
        """The rows where ``keep`` (bool, n) is true, under their own replication numbers."""
        return self._rows(keep)

    def _rows(self, which: slice | np.ndarray) -> Records:
        out = {f.name: getattr(self, f.name)[which] for f in fields(self) if f.name != "start"}
        ids = out["replication"]
        return Records(start=int(ids[0]) if ids.size else self.start + self.n, **out)

    def equals(self, other: Records) -> bool:
        return all(np.array_equal(getattr(self, f.name), getattr(other, f.name), equal_nan=True) for f in fields(self))
