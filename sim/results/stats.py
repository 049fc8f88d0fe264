"""Intervals and curves: Wilson intervals, day quantiles, cumulative curves of agreement days.

These are the formulas of scipy.stats (``binomtest(...).proportion_ci(method="wilson")`` and the
Kaplan-Meier ``ecdf`` with its exponential-Greenwood, log-log band), written out with numpy so that
a run does not import scipy.stats as a whole (most of a second); ``tests/test_stats.py`` holds them
to scipy's own results. An item not agreed by the horizon is right-censored there, so its curve is
the Kaplan-Meier estimate, which with every censoring at the horizon is the share agreed by each day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Mutation testing (mutmut): the surviving mutants of this module are equivalent. They are dtype
# casts of arrays that are float already; the n <= 0 guards of wilson_array, which wilson and every
# caller have passed already; the k == n end of the Wilson interval, which the formula gives as
# exactly 1.0 anyway; the censored branch of `cumulative`, where Kaplan-Meier equals the empirical
# distribution (see there); the errstate, clip and nan_to_num guards on the log-log band, whose
# undefined ends are overwritten by the `done` rows; and quantile_day's `k < 1` guard, which `<= 1`
# or `< 2` leave at 1.

Z95 = 1.959963984540054
"""The normal 97.5% quantile, as scipy.special.ndtri(0.975) gives it (a test checks)."""


def wilson(successes: int, n: int) -> tuple[float, float]:
    """Wilson score interval (95%) for a binomial proportion, as scipy.stats.binomtest gives it."""
    if n <= 0:
        return (0.0, 1.0)
    low, high = wilson_array(np.array([successes]), n)
    return (float(low[0]), float(high[0]))


def wilson_array(successes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Wilson intervals (95%) for many counts out of the same ``n``, elementwise (Newcombe 1998)."""
    k = np.asarray(successes, dtype=np.float64)
    if n <= 0:
        return np.zeros_like(k), np.ones_like(k)
    z = Z95
    p = k / n
    denom = 2 * (n + z**2)
    center = (2 * n * p + z**2) / denom
    delta = z / denom * np.sqrt(4 * n * p * (1 - p) + z**2)
    low = np.where(k == 0, 0.0, center - delta)
    high = np.where(k == n, 1.0, center + delta)
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


def cumulative(days: np.ndarray, horizon: float) -> Curve:
    """P(event by day t) from event days (NaN where it did not happen by the horizon), with the
    pointwise 95% log-log band of the Kaplan-Meier estimate (undefined ends taken as 0 and 1; once
    every replication has had the event, the Wilson interval of n out of n)."""
    days = np.asarray(days, dtype=float)
    hit = np.sort(days[~np.isnan(days)])
    n_all = days.size
    if hit.size == 0:
        z = np.zeros(2)
        return Curve(np.array([0.0, horizon]), z, z, np.full(2, wilson(0, n_all)[1]))
    new = np.empty(hit.size, bool)  # the first of each run of equal days (hit is sorted: no argsort needed)
    new[0] = True
    np.not_equal(hit[1:], hit[:-1], out=new[1:])
    first = np.flatnonzero(new)
    q = hit[first]
    del new
    d = np.diff(np.append(first, hit.size)).astype(float)  # events on each day
    at_risk = (n_all - first).astype(float)
    # Censoring happens only at the horizon, after every event, so Kaplan-Meier equals the empirical
    # distribution either way: the branch only spares rounding, and mutants of it are equivalent.
    censored = hit.size < n_all  # else the plain empirical distribution
    sf = np.cumprod((at_risk - d) / at_risk) if censored else 1 - np.cumsum(d) / n_all
    with np.errstate(divide="ignore", invalid="ignore"):
        var = 1 / np.log(sf) ** 2 * np.cumsum(d / (at_risk * (at_risk - d)))
        centre = np.log(-np.log(sf))
    z_se = Z95 * np.sqrt(var)
    with np.errstate(invalid="ignore", over="ignore"):
        low = np.nan_to_num(np.clip(1 - np.exp(-np.exp(centre - z_se)), 0, 1), nan=0.0)
        high = np.nan_to_num(np.clip(1 - np.exp(-np.exp(centre + z_se)), 0, 1), nan=1.0)
    done = sf <= 0  # every replication has had the event: the log-log band is undefined there
    low[done], high[done] = wilson(n_all, n_all)[0], 1.0
    p = 1 - sf if censored else np.cumsum(d) / n_all
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
