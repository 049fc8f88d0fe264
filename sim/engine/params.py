"""Each replication's judgements: the plan's numbers, with every uncertain one drawn per replication.

An uncertain judgement at ``path`` takes the first uniform of the keyed stream ``param/<path>`` of
each replication through its inverse CDF, so replication *i* draws the same value wherever it runs,
a larger mean moves every replication's draw the same way, and plain numbers need no stream at all
(a scenario without judgements gives the same bytes as before they existed). The rule book reads
judgements from here, row by row, never from the plan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine.plan import PER_YEAR, Plan, Value, has_judgement
from sim.engine.streams import chunks


@dataclass(frozen=True)
class Rows:
    """Some rows' judgements, as :func:`sim.engine.rules.agreement_probability` reads them."""

    p: np.ndarray
    logit: np.ndarray
    certain: np.ndarray
    weight: np.ndarray
    factors: list[np.ndarray]


class Params:
    """The judgements of replications ``start .. stop - 1``: arrays of one value per replication."""

    def __init__(self, plan: Plan, start: int, stop: int) -> None:
        n = stop - start
        self.n = n
        self.drawn: dict[str, np.ndarray] = {
            path: judged.ppf(chunks(plan.seed, f"param/{path}", start, stop, 0)[:, 0])
            for path, judged in plan.judgements
        }

        def value(v: Value) -> np.ndarray:
            return self.drawn[v] if has_judgement(v) else np.full(n, float(v))  # type: ignore[index, arg-type]

        k = len(plan.items)
        self.cancel = value(plan.cancel)
        self.weight = value(plan.weight)
        self.gain = np.stack([value(g) for g in plan.gain], axis=1) if k else np.zeros((n, 0))
        if all(not has_judgement(v) for terms in plan.item_terms for v in terms):
            self.p = np.tile(np.array(plan.item_p, dtype=np.float64), (n, 1))  # the plan's own numbers, bit for bit
            self.logit = np.tile(np.array(plan.item_logit, dtype=np.float64), (n, 1))
        else:
            self.p = np.empty((n, k))
            for x, terms in enumerate(plan.item_terms):
                out = np.ones(n)
                for term in terms:
                    out = out * value(term)
                self.p[:, x] = out
            inner = (self.p > 0) & (self.p < 1)
            with np.errstate(divide="ignore", invalid="ignore"):
                self.logit = np.where(inner, np.log(self.p / (1 - self.p)), np.where(self.p <= 0, -np.inf, np.inf))
            for x, terms in enumerate(plan.item_terms):  # a fixed p keeps the plan's logit exactly
                if not any(has_judgement(v) for v in terms):
                    self.logit[:, x] = plan.item_logit[x]
        self.certain = (self.p <= 0.0) | (self.p >= 1.0)
        self.factors = [np.stack([value(f) for f in factor], axis=1) for _, factor, _ in plan.effect_slots]
        self.review_p = [None if r is None else value(r[2]) for r in plan.review]
        self.hazard_mean = [None if r is None else _mean_wait(value(r)) for r in plan.hazard_rate]
        self.event_gap = [None if r is None else _mean_wait(value(r)) for r in plan.event_rate]
        self.event_trust = [value(v) for v in plan.event_trust]
        self.event_breakdown = [value(v) for v in plan.event_breakdown]

    def take(self, rows: np.ndarray) -> Rows:
        """What the agreement rule reads, for some rows."""
        return Rows(
            self.p[rows], self.logit[rows], self.certain[rows], self.weight[rows], [f[rows] for f in self.factors]
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


def _mean_wait(rate: np.ndarray) -> np.ndarray:
    """Days between events of ``rate`` per 365 days (infinite for a rate of 0)."""
    with np.errstate(divide="ignore"):
        return np.where(rate > 0, PER_YEAR / rate, np.inf)


def needs_draws(v: Value) -> bool:
    """Whether a chance may be above 0 in some replication (so its stream is drawn)."""
    return has_judgement(v) or float(v) > 0  # type: ignore[arg-type]
