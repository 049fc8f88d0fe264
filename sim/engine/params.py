"""Each replication's judgements: the plan's numbers, with every uncertain one drawn per replication.

An uncertain judgement at ``path`` takes the first uniform of the keyed stream ``param/<path>`` of
each replication through its inverse CDF, so replication *i* draws the same value wherever it runs,
a larger mean moves every replication's draw the same way, and plain numbers need no stream at all
(a scenario without judgements gives the same bytes as before they existed). The regime, when a
scenario has one, is drawn the same way from the stream ``regime``. The rule book reads judgements
from here, row by row, never from the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.engine.plan import PER_YEAR, Plan, RegimeValue, Value, has_judgement
from sim.engine.streams import chunks
from sim.errors import UserError


@dataclass(frozen=True)
class Rows:
    """Some rows' judgements, as :func:`sim.engine.rules.agreement_probability` reads them."""

    p: np.ndarray
    logit: np.ndarray
    certain: np.ndarray
    weight: np.ndarray
    factors: list[np.ndarray]
    shift: np.ndarray
    """The regime's log odds ratio of each row (0 without a regime)."""


def logits(p: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)) elementwise, with p = 0 and p = 1 mapped to -inf and +inf."""
    inner = (p > 0) & (p < 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(inner, np.log(p / (1 - p)), np.where(p <= 0, -np.inf, np.inf))


class Params:
    """The judgements of replications ``start .. stop - 1``: arrays of one value per replication."""

    # Derived by _derive for every row, and again for the rows whose regime switches.
    p: np.ndarray
    logit: np.ndarray
    cancel: np.ndarray
    weight: np.ndarray
    gain: np.ndarray
    factors: list[np.ndarray]
    review_p: list[np.ndarray | None]
    event_trust: list[np.ndarray]
    event_breakdown: list[np.ndarray]
    event_pause: list[np.ndarray]
    enact_p: list[np.ndarray | None]
    outside_rate: list[np.ndarray | None]
    """Each item's hazard outside rounds, per day (None: none)."""
    stall_rate: np.ndarray | None
    resume_rate: np.ndarray | None
    shift: np.ndarray
    """The regime's (and the case effect's) log odds ratio of each row."""
    hazard_scale: np.ndarray
    stall_scale: np.ndarray

    def __init__(self, plan: Plan, start: int, stop: int) -> None:
        n = stop - start
        self.n = n
        self.start = start
        self.plan = plan
        self.drawn: dict[str, np.ndarray] = {}
        for path, judged in plan.judgements:
            with np.errstate(all="ignore"):
                drawn = judged.ppf(chunks(plan.seed, f"param/{path}", start, stop, 0)[:, 0])
            bad = ~np.isfinite(drawn)
            if bad.any():  # validation refuses such judgements: this is the last guard before the rule book
                r = int(np.argmax(bad))
                raise UserError(
                    f"{path}: {judged.describe()} drew {drawn[r]} in replication {start + r}: a judgement's draws "
                    "must be finite numbers; narrow its distribution"
                )
            self.drawn[path] = drawn
        self.regime = np.zeros(n, np.int8)
        """Each replication's state of the regime now (it may switch during a run: :meth:`switch`)."""
        everyone = np.arange(n)
        regime = plan.regime
        if regime is not None:
            u = chunks(plan.seed, "regime", start, stop, 0)[:, 0]
            bound = np.zeros(n)
            for share in regime.shares:  # the first state whose cumulative share passes u; the last takes the rest
                bound = bound + self.value(share, everyone)
                self.regime += (u >= bound).astype(np.int8)
        # What sets the schedules the clocks know in advance: fixed for the run (a regime that can
        # switch may not move them; see sim.scenario.checks).
        self.hazard_mean = [
            None if c.rate is None else mean_wait(self.value(c.rate, everyone)) for c in plan.constraints
        ]
        self.event_gap = [None if e.rate is None else mean_wait(self.value(e.rate, everyone)) for e in plan.events]
        self._derive(everyone)

    def value(self, v: Value, rows: np.ndarray) -> np.ndarray:
        """A judgement's value in ``rows``: its number, its draw, or its draw in each row's state."""
        if isinstance(v, RegimeValue):
            return np.stack([self.value(x, rows) for x in v.values], axis=1)[
                np.arange(rows.size), self.regime[rows].astype(np.int64)
            ]
        return self.drawn[v][rows] if isinstance(v, str) else np.full(rows.size, float(v))

    def _derive(self, rows: np.ndarray) -> None:
        """Every judgement read when something is decided, for ``rows`` in their current states of
        the regime: at the start for every row, and again for the rows whose state switches."""
        plan, n = self.plan, rows.size
        items = plan.items
        k = len(items)

        def value(v: Value) -> np.ndarray:
            return self.value(v, rows)

        fresh = not hasattr(self, "p")
        if fresh:
            self.p = np.empty((self.n, k))
            self.logit = np.empty((self.n, k))
        if all(not has_judgement(v) for x in items for v in x.terms):
            self.p[rows] = np.array([x.p for x in items], dtype=np.float64)  # the plan's own numbers, bit for bit
            self.logit[rows] = np.array([x.logit for x in items], dtype=np.float64)
        else:
            p = np.empty((n, k))
            for x, item in enumerate(items):
                out = np.ones(n)
                for term in item.terms:
                    out = out * value(term)
                p[:, x] = out
            logit = logits(p)
            for x, item in enumerate(items):  # a fixed p keeps the plan's logit exactly
                if not any(has_judgement(v) for v in item.terms):
                    logit[:, x] = item.logit
            self.p[rows], self.logit[rows] = p, logit
        values: dict[str, Any] = {
            "cancel": value(plan.rounds.cancel),
            "weight": value(plan.weight),
            "gain": np.stack([value(x.gain) for x in items], axis=1) if k else np.zeros((n, 0)),
            "factors": [np.stack([value(f) for f in factor], axis=1) for _, factor, _ in plan.effect_slots],
            "review_p": [None if c.review is None else value(c.review.p) for c in plan.constraints],
            "event_trust": [value(e.trust) for e in plan.events],
            "event_breakdown": [value(e.breakdown) for e in plan.events],
            "event_pause": [value(e.pause) for e in plan.events],
            "enact_p": [None if x.enact is None else value(x.enact.p) for x in items],
            # each item's hazard outside rounds, per day (None: none)
            "outside_rate": [None if x.hazard is None else value(x.hazard) / PER_YEAR for x in items],
            "stall_rate": None if plan.rounds.stall is None else value(plan.rounds.stall) / PER_YEAR,
            "resume_rate": None if plan.rounds.resume is None else value(plan.rounds.resume) / PER_YEAR,
            "shift": np.zeros(n),
            "hazard_scale": np.ones(n),
            "stall_scale": np.ones(n),
        }
        regime = plan.regime
        if regime is not None:
            values["shift"] = np.log(value(RegimeValue(regime.odds)))
            values["hazard_scale"] = value(RegimeValue(regime.hazard))
            values["stall_scale"] = value(RegimeValue(regime.stall))
        if plan.case_effect is not None:  # the case as a whole: every chance's log odds, every hazard's log
            z = value(plan.case_effect)
            values["shift"] = values["shift"] + z
            values["hazard_scale"] = values["hazard_scale"] * np.exp(z)
        for name, v in values.items():
            if fresh:
                setattr(self, name, v)
            elif isinstance(v, list):
                for mine, new in zip(getattr(self, name), v, strict=True):
                    if mine is not None:
                        mine[rows] = new
            elif v is not None:
                getattr(self, name)[rows] = v
        self._guard(rows, values)
        self.certain = (self.p <= 0.0) | (self.p >= 1.0)

    def _guard(self, rows: np.ndarray, values: dict[str, Any]) -> None:
        """No NaN, and no chance outside [0, 1], reaches the rule book (a NaN chance would read as
        certain agreement): a clear message naming the item and the replication instead."""
        p = self.p[rows]
        bad = ~((p >= 0.0) & (p <= 1.0))
        if bad.any():
            r, x = (int(i[0]) for i in np.nonzero(bad))
            raise UserError(
                f"items.{self.plan.items[x].name}: its chance of agreement comes out as {p[r, x]} in replication "
                f"{self.start + int(rows[r])}: its judgements must give a chance within [0, 1]"
            )
        for name, v in values.items():
            for part in v if isinstance(v, list) else [v]:
                if part is not None and np.isnan(part).any():
                    r = int(np.argmax(np.isnan(part).reshape(len(part), -1).any(axis=1)))
                    raise UserError(
                        f"the judgements of replication {self.start + int(rows[r])} give no number (NaN) for "
                        f"{name.replace('_', ' ')}: check their distributions"
                    )

    def switch(self, rows: np.ndarray, to: np.ndarray) -> None:
        """The regime of ``rows`` moves to the states ``to``: their judgements follow."""
        self.regime[rows] = to
        self._derive(rows)

    def take(self, rows: np.ndarray) -> Rows:
        """What the agreement rule reads, for some rows."""
        return Rows(
            self.p[rows],
            self.logit[rows],
            self.certain[rows],
            self.weight[rows],
            [f[rows] for f in self.factors],
            self.shift[rows],
        )

    def row(self, i: int) -> Params:
        """Replication ``start + i`` alone."""
        out = object.__new__(Params)
        out.n = 1
        out.start = self.start + i
        for name, value in vars(self).items():
            if name == "start":
                continue
            if isinstance(value, np.ndarray):
                setattr(out, name, value[i : i + 1])
            elif isinstance(value, list):
                setattr(out, name, [None if v is None else v[i : i + 1] for v in value])
            elif isinstance(value, dict):
                setattr(out, name, {k: v[i : i + 1] for k, v in value.items()})
            else:
                setattr(out, name, value)
        out.regime = self.regime[i : i + 1].copy()
        return out


def mean_wait(rate: np.ndarray) -> np.ndarray:
    """Days between events of ``rate`` per 365 days (infinite for a rate of 0)."""
    with np.errstate(divide="ignore"):
        return np.where(rate > 0, PER_YEAR / rate, np.inf)


def needs_draws(v: Value) -> bool:
    """Whether a chance may be above 0 in some replication (so its stream is drawn)."""
    return has_judgement(v) or float(v) > 0  # type: ignore[arg-type]
