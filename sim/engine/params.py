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

import numpy as np

from sim.engine.plan import PER_YEAR, Plan, RegimeValue, Value, has_judgement
from sim.engine.streams import chunks


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

    def __init__(self, plan: Plan, start: int, stop: int) -> None:
        n = stop - start
        self.n = n
        self.drawn: dict[str, np.ndarray] = {
            path: judged.ppf(chunks(plan.seed, f"param/{path}", start, stop, 0)[:, 0])
            for path, judged in plan.judgements
        }

        rows = np.arange(n)
        self.regime = np.zeros(n, np.int8)

        def value(v: Value) -> np.ndarray:
            if isinstance(v, RegimeValue):  # each replication takes its own state's value
                return np.stack([value(x) for x in v.values], axis=1)[rows, self.regime.astype(np.int64)]
            return self.drawn[v] if isinstance(v, str) else np.full(n, float(v))

        regime = plan.regime
        if regime is not None:
            u = chunks(plan.seed, "regime", start, stop, 0)[:, 0]
            bound = np.zeros(n)
            for share in regime.shares:  # the first state whose cumulative share passes u; the last takes the rest
                bound = bound + value(share)
                self.regime += (u >= bound).astype(np.int8)
        items = plan.items
        k = len(items)
        self.cancel = value(plan.rounds.cancel)
        self.weight = value(plan.weight)
        self.gain = np.stack([value(x.gain) for x in items], axis=1) if k else np.zeros((n, 0))
        if all(not has_judgement(v) for x in items for v in x.terms):
            self.p = np.tile(
                np.array([x.p for x in items], dtype=np.float64), (n, 1)
            )  # the plan's own numbers, bit for bit
            self.logit = np.tile(np.array([x.logit for x in items], dtype=np.float64), (n, 1))
        else:
            self.p = np.empty((n, k))
            for x, item in enumerate(items):
                out = np.ones(n)
                for term in item.terms:
                    out = out * value(term)
                self.p[:, x] = out
            self.logit = logits(self.p)
            for x, item in enumerate(items):  # a fixed p keeps the plan's logit exactly
                if not any(has_judgement(v) for v in item.terms):
                    self.logit[:, x] = item.logit
        self.certain = (self.p <= 0.0) | (self.p >= 1.0)
        self.factors = [np.stack([value(f) for f in factor], axis=1) for _, factor, _ in plan.effect_slots]
        self.review_p = [None if c.review is None else value(c.review.p) for c in plan.constraints]
        self.hazard_mean = [None if c.rate is None else mean_wait(value(c.rate)) for c in plan.constraints]
        self.event_gap = [None if e.rate is None else mean_wait(value(e.rate)) for e in plan.events]
        self.event_trust = [value(e.trust) for e in plan.events]
        self.event_breakdown = [value(e.breakdown) for e in plan.events]
        self.event_pause = [value(e.pause) for e in plan.events]
        self.enact_p = [None if x.enact is None else value(x.enact.p) for x in items]
        self.outside_rate = [None if x.hazard is None else value(x.hazard) / PER_YEAR for x in items]
        """Each item's hazard outside rounds, per day (None: none)."""
        self.stall_rate = None if plan.rounds.stall is None else value(plan.rounds.stall) / PER_YEAR
        self.resume_rate = None if plan.rounds.resume is None else value(plan.rounds.resume) / PER_YEAR
        self.shift = np.zeros(n)
        self.hazard_scale = np.ones(n)
        self.stall_scale = np.ones(n)
        if regime is not None:
            self.shift = np.log(value(RegimeValue(regime.odds)))
            self.hazard_scale = value(RegimeValue(regime.hazard))
            self.stall_scale = value(RegimeValue(regime.stall))

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
        for name, value in vars(self).items():
            if isinstance(value, np.ndarray):
                setattr(out, name, value[i : i + 1])
            elif isinstance(value, list):
                setattr(out, name, [None if v is None else v[i : i + 1] for v in value])
            elif isinstance(value, dict):
                setattr(out, name, {k: v[i : i + 1] for k, v in value.items()})
            else:
                setattr(out, name, value)
        return out


def mean_wait(rate: np.ndarray) -> np.ndarray:
    """Days between events of ``rate`` per 365 days (infinite for a rate of 0)."""
    with np.errstate(divide="ignore"):
        return np.where(rate > 0, PER_YEAR / rate, np.inf)


def needs_draws(v: Value) -> bool:
    """Whether a chance may be above 0 in some replication (so its stream is drawn)."""
    return has_judgement(v) or float(v) > 0  # type: ignore[arg-type]
