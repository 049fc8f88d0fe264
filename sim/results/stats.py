"""Intervals and curves, from scipy.stats: Wilson intervals, ECDFs of agreement days.

An item not agreed by the horizon is right-censored there, so the curves are the
Kaplan-Meier estimate of ``scipy.stats.ecdf`` (which, with every censoring at the horizon,
equals the share of replications agreed by each day).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

Z95 = float(stats.norm.ppf(0.975))


def wilson(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (scipy.stats.binomtest)."""
    if n <= 0:
        return (0.0, 1.0)
    ci = stats.binomtest(int(successes), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return (float(ci.low), float(ci.high))


def wilson_array(successes: np.ndarray, n: int, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson intervals for many counts out of the same ``n``."""
    pairs = [wilson(int(k), n, level) for k in np.asarray(successes).ravel()]
    low = np.array([p[0] for p in pairs]).reshape(np.shape(successes))
    high = np.array([p[1] for p in pairs]).reshape(np.shape(successes))
    return low, high


@dataclass(frozen=True)
class Curve:
    """A cumulative probability over days with a pointwise 95% band (step function)."""

    days: np.ndarray  # step positions, starting at 0
    p: np.ndarray
    low: np.ndarray
    high: np.ndarray

    def on_grid(self, points: int = 600) -> Curve:
        """The same step function read at ``points`` evenly spaced days (for drawing)."""
        if self.days.size <= points:
            return self
        grid = np.linspace(self.days[0], self.days[-1], points)
        i = np.searchsorted(self.days, grid, side="right") - 1
        return Curve(grid, self.p[i], self.low[i], self.high[i])


def cumulative(days: np.ndarray, horizon: float, level: float = 0.95) -> Curve:
    """P(event by day t) from event days (NaN where it did not happen by the horizon)."""
    days = np.asarray(days, dtype=float)
    hit = ~np.isnan(days)
    n_hit = int(hit.sum())
    if n_hit == 0:
        z = np.zeros(2)
        return Curve(np.array([0.0, horizon]), z, z, np.full(2, wilson(0, days.size, level)[1]))
    if n_hit == days.size and days.size > 0:
        observed = stats.CensoredData(uncensored=days[hit])
    else:
        observed = stats.CensoredData(uncensored=days[hit], right=np.full(days.size - n_hit, horizon))
    res = stats.ecdf(observed)
    cdf = res.cdf
    q = cdf.quantiles
    p = cdf.probabilities
    with warnings.catch_warnings():  # undefined at p = 0 or 1, where we take the bounds 0 and 1
        warnings.filterwarnings("ignore", "The confidence interval is undefined", RuntimeWarning)
        ci = cdf.confidence_interval(level, method="log-log")
    low = np.nan_to_num(ci.low.probabilities, nan=0.0)
    high = np.nan_to_num(ci.high.probabilities, nan=1.0)
    keep = q <= horizon
    q, p, low, high = q[keep], p[keep], low[keep], high[keep]
    if q.size == 0 or q[0] > 0:
        q = np.concatenate([[0.0], q])
        p = np.concatenate([[0.0], p])
        low = np.concatenate([[0.0], low])
        high = np.concatenate([[0.0], high])
    if q[-1] < horizon:
        q = np.concatenate([q, [horizon]])
        p = np.concatenate([p, p[-1:]])
        low = np.concatenate([low, low[-1:]])
        high = np.concatenate([high, high[-1:]])
    return Curve(q, p, low, high)


def quantile_day(days: np.ndarray, q: float) -> float | None:
    """The smallest day by which a share ``q`` of all replications agreed, or None if never."""
    days = np.asarray(days, dtype=float)
    hit = np.sort(days[~np.isnan(days)])
    k = int(np.ceil(q * days.size - 1e-9))
    if k < 1:
        k = 1
    if hit.size < k:
        return None
    return float(hit[k - 1])


def newcombe(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """95% interval for p2 - p1 from independent samples (Newcombe 1998, method 10)."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1)
    l2, u2 = wilson(k2, n2)
    d = p2 - p1
    return (d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2), d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2))


def paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Difference of means of b and a over the same replications, with a 95% normal interval."""
    diff = b.astype(float) - a.astype(float)
    n = diff.size
    d = float(diff.mean())
    se = float(diff.std(ddof=1)) / math.sqrt(n) if n > 1 else math.inf
    return d, d - Z95 * se, d + Z95 * se
