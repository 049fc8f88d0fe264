"""Forecast scores that do not depend on checkpoints, the baselines beside them, and their intervals.

For each item the forecast is a whole distribution of its agreement day: the replications' days
(NaN: not agreed by the horizon). It is scored over every day of the scored window ``[lo, hi]``
(from the forecast's origin to the observed file's ``as_of``):

* the **window Brier score**: the Brier score of P(agreed by day t) integrated over the window and
  divided by its length, ``(1 / (hi - lo)) ∫ (F(t) - 1{agreed by t})^2 dt``. It is the CRPS of the
  agreement day censored to the window (threshold-weighted CRPS with the chaining function
  ``clip(x, lo, hi)``), computed by ``scoringrules.twcrps_ensemble``; 0 is perfect, and a forecast
  that is wrong with certainty on every day scores 1;
* the **censored log score**: minus the log of the probability the forecast gave to the calendar
  month in which the item was agreed, or to "not agreed by ``as_of``" (probabilities floored at
  :data:`FLOOR`, so one confident miss costs at most ln(1/FLOOR)).

Skill against a baseline is ``1 - score / baseline score`` over the same items. Every score has a
95% interval from resampling items (pooled: cases, then items within each case). A skill's interval
is the interval of the paired difference ``baseline score - score`` over the same resamples, divided
by the baseline's mean score: it spans zero exactly when the difference does, and it stays finite
when a resample happens to hold only items the baseline got right (the ratio of resampled means
would explode there); its upper end is at most 1, as skill is. Skill is undefined against a
baseline that is practically perfect (mean score below :data:`PERFECT`): nothing can beat it, and
the ratio says nothing.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np

# Mutation testing (mutmut): the surviving mutants of this module are equivalent. The messages of
# the ValueErrors guard invariants the callers never break; `dtype=float` casts arrays that are
# float already; `hi + 2.0` for `hi + 1.0` is clipped to hi alike; `>` for `>=` against the last
# month edge (a nextafter, which no day equals); and in month_edges, `start - ...` for `start + ...`
# or `>=` for `>` only visits months the `d > lo` test skips.

FLOOR = 0.001
"""Probabilities are kept within [FLOOR, 1 - FLOOR] for log scores."""
RESAMPLES = 2000
"""Bootstrap resamples for every interval (seeded: the same intervals every time)."""
METRICS = ("window_brier", "log_score")
PERFECT = 0.01
"""A baseline whose mean score is below this (a window Brier score of 0.01 or a log score of 0.01,
about a probability of 0.99 on what happened) is practically perfect: skill against it is undefined."""


def window_brier(days: np.ndarray, agreed: float | None, lo: float, hi: float) -> float:
    """The Brier score of P(agreed by t) averaged over t in [lo, hi] (see the module)."""
    import scoringrules

    if hi <= lo:
        raise ValueError("the scored window is empty")
    beyond = hi + 1.0  # "not by hi": the chaining function puts it at hi, as for any day after it
    members = np.nan_to_num(np.asarray(days, dtype=float), nan=beyond)
    obs = beyond if agreed is None else float(agreed)
    return float(scoringrules.twcrps_ensemble(obs, members, a=lo, b=hi)) / (hi - lo)


def month_edges(start: dt.date, lo: float, hi: float) -> np.ndarray:
    """Days of the first of each calendar month inside (lo, hi], with lo first and just after hi
    last: the bins ``[edge, next edge)`` of the censored log score (a day d is on the date
    ``start + floor(d)``; the last bin ends with ``hi`` itself)."""
    edges = [lo]
    first = start + dt.timedelta(days=math.floor(lo))
    y, m = first.year, first.month
    while True:
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        d = float((dt.date(y, m, 1) - start).days)
        if d > hi:
            break
        if d > lo:
            edges.append(d)
    edges.append(float(np.nextafter(hi, np.inf)))  # "by as_of" includes as_of
    return np.array(edges)


def month_log_score(days: np.ndarray, agreed: float | None, edges: np.ndarray, floor: float = FLOOR) -> float:
    """Minus the log of the probability given to the month of agreement, or to "not agreed by the
    window's end" (everything at or after the last edge, and never)."""
    days = np.asarray(days, dtype=float)
    n = days.size
    lo, stop = edges[0], edges[-1]
    if agreed is None:
        p = float(np.sum(np.nan_to_num(days, nan=np.inf) >= stop)) / n if n else 0.0
    else:
        b = int(np.searchsorted(edges, agreed, side="right")) - 1
        if not 0 <= b < len(edges) - 1 or agreed < lo:
            raise ValueError("the agreement day is outside the scored window")
        p = float(np.sum((days >= edges[b]) & (days < edges[b + 1]))) / n if n else 0.0
    return -math.log(min(max(p, floor), 1 - floor))


def monthly_cells(days: np.ndarray, agreed: float | None, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P(agreed by the end of each month of the window) and whether it had been: the cells of a
    reliability diagram."""
    d = np.nan_to_num(np.asarray(days, dtype=float), nan=np.inf)
    p = np.array([float(np.mean(d < e)) if d.size else 0.0 for e in edges[1:]])
    o = np.array([agreed is not None and agreed < e for e in edges[1:]], dtype=float)
    return p, o


@dataclass
class ItemScore:
    """One item of one case: when it was agreed (day, or None) and each forecaster's scores."""

    case: str
    item: str
    agreed: float | None
    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # forecaster -> metric -> score


def score_item(
    case: str,
    item: str,
    forecasts: dict[str, np.ndarray],
    agreed: float | None,
    lo: float,
    hi: float,
    edges: np.ndarray,
) -> ItemScore:
    """Every forecaster's scores for one item: ``forecasts`` maps a name to agreement days."""
    out = ItemScore(case, item, agreed)
    for name, days in forecasts.items():
        out.scores[name] = {
            "window_brier": window_brier(days, agreed, lo, hi),
            "log_score": month_log_score(days, agreed, edges),
        }
    return out


@dataclass(frozen=True)
class Interval:
    """A figure and its 95% bootstrap interval."""

    value: float
    low: float
    high: float

    @property
    def spans_zero(self) -> bool | None:
        """Whether 0 lies in the interval (None when the figure is undefined)."""
        if math.isnan(self.low) or math.isnan(self.high):
            return None
        return self.low <= 0.0 <= self.high

    def as_dict(self, digits: int = 4) -> dict[str, float | bool | None]:
        """Plain data; an undefined figure (skill against a practically perfect baseline) is None."""

        def r(x: float) -> float | None:
            return None if math.isnan(x) else round(x, digits)

        return {"value": r(self.value), "low": r(self.low), "high": r(self.high), "spans_zero": self.spans_zero}


def _resample_indices(sizes: list[int], resamples: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``resamples`` bootstrap resamples of cases of ``sizes`` items: cases with replacement (when
    more than one), then items with replacement within each; each resample as indices into the items
    of every case laid end to end."""
    offsets = np.cumsum([0, *sizes[:-1]])
    out = []
    for _ in range(resamples):
        picked = rng.integers(0, len(sizes), len(sizes)) if len(sizes) > 1 else range(len(sizes))
        out.append(np.concatenate([offsets[c] + rng.integers(0, sizes[c], sizes[c]) for c in picked]))
    return out


def _resampled_means(values: np.ndarray, draws: list[np.ndarray]) -> np.ndarray:
    """``values``' mean over each resample's indices (rows: forecaster-metrics; columns: resamples).
    Resamples of the same length are averaged together as one matrix: numpy sums each row of a
    C-ordered matrix as it sums one array (pairwise), so each mean is the same float as ``np.mean``
    of that resample alone. (Indexing every forecaster-metric at once lays the items out otherwise,
    and numpy then sums them in another order: other last bits.)"""
    out = np.empty((values.shape[0], len(draws)))
    by_length: dict[int, list[int]] = {}
    for i, d in enumerate(draws):
        by_length.setdefault(len(d), []).append(i)
    for which in by_length.values():
        picks = np.stack([draws[i] for i in which])  # (resamples, items)
        for row, line in enumerate(values):  # row by row: each resample's items contiguous, summed as one array
            out[row, which] = line[picks].mean(axis=1)
    return out


def _mean(items: list[ItemScore], who: str, metric: str) -> float:
    return float(np.mean([it.scores[who][metric] for it in items]))


def skill(items: list[ItemScore], name: str, baseline: str, metric: str) -> float:
    """1 - mean score / mean baseline score over ``items`` (NaN when the baseline is practically perfect)."""
    b = _mean(items, baseline, metric)
    return 1.0 - _mean(items, name, metric) / b if b >= PERFECT else math.nan


def intervals(
    cases: list[list[ItemScore]], name: str, baselines: list[str], resamples: int = RESAMPLES, seed: int = 0
) -> dict[str, dict[str, dict[str, Interval]]]:
    """Mean scores of ``name`` and of each baseline, and skill against each, with 95% percentile
    intervals from ``resamples`` bootstrap resamples (cases, then items; seeded). A skill's interval
    is the paired difference's, over the baseline's mean (the module's doc says why). The resamples'
    means are computed on arrays (a fifth of ``score --origins`` went on Python loops here), the
    same numbers as item by item."""
    cases = [c for c in cases if c]
    every = [it for c in cases for it in c]
    rng = np.random.default_rng(seed)
    rows = [(who, m) for who in [name, *baselines] for m in METRICS]
    means: dict[tuple[str, str], np.ndarray] = {}
    if len(every) >= 2:
        draws = _resample_indices([len(c) for c in cases], resamples, rng)
        values = np.array([[it.scores[who][m] for it in every] for who, m in rows], dtype=float)
        means = dict(zip(rows, _resampled_means(values, draws), strict=True))

    def percentiles(resampled: np.ndarray | None) -> tuple[float, float]:
        if resampled is None:  # one item: resampling it gives no spread, so no interval rather than a zero-width one
            return math.nan, math.nan
        low, high = np.quantile(resampled, [0.025, 0.975])
        return float(low), float(high)

    out: dict[str, dict[str, dict[str, Interval]]] = {"score": {}, "skill": {}}
    for who in [name, *baselines]:
        out["score"][who] = {}
        for m in METRICS:
            low, high = percentiles(means.get((who, m)))
            out["score"][who][m] = Interval(_mean(every, who, m), low, high)
    for b in baselines:
        out["skill"][b] = {}
        for m in METRICS:
            value, base = skill(every, name, b, m), _mean(every, b, m)
            if math.isnan(value):
                out["skill"][b][m] = Interval(math.nan, math.nan, math.nan)
                continue
            low, high = percentiles(means[b, m] - means[name, m] if means else None)
            out["skill"][b][m] = Interval(
                value, low / base, min(high / base, 1.0)
            )  # skill is at most 1 (nan stays nan)
    return out


def rounds_score(counts: np.ndarray, observed: int) -> dict[str, float]:
    """The forecast number of rounds held by ``as_of`` against the observed number: the ranked
    probability score (sum over k of (P(count <= k) - 1{observed <= k})^2; 0 is perfect), the
    probability of exactly the observed number, and the forecast's median and 80% range."""
    counts = np.asarray(counts, dtype=np.int64)
    top = int(max(counts.max(initial=0), observed)) + 1
    cdf = np.cumsum(np.bincount(counts, minlength=top)[:top]) / max(counts.size, 1)
    step = (np.arange(top) >= observed).astype(float)
    return {
        "observed": observed,
        "rps": float(np.sum((cdf - step) ** 2)),
        "p_observed": float(np.mean(counts == observed)) if counts.size else 0.0,
        "median": float(np.quantile(counts, 0.5, method="inverted_cdf")) if counts.size else math.nan,
        "low": float(np.quantile(counts, 0.1, method="inverted_cdf")) if counts.size else math.nan,
        "high": float(np.quantile(counts, 0.9, method="inverted_cdf")) if counts.size else math.nan,
    }
