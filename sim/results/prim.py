"""PRIM, the patient rule induction method, on numpy arrays: the box of inputs where an outcome is dense.

Friedman and Fisher, "Bump hunting in high-dimensional data" (Statistics and Computing, 1999), as
scenario discovery uses it (Bryant and Lempert, "Thinking inside the box", Technological
Forecasting and Social Change, 2010). Starting from every point, PRIM *peels* again and again the
thin slice (``alpha`` of the box's points, at one end of one input) whose removal raises the mean
outcome most per point removed, until the box would hold less than ``min_mass`` of the points. The
boxes passed on the way are the *peeling trajectory*, each with its *coverage* (the share of all the
outcome that falls inside) and *density* (the mean outcome inside).

Peeling on noisy outcomes goes on raising the density inside a region where the outcome is in fact
flat (each peel removes the slice that happens to hold the fewest successes), so the densest box is
too small. The box chosen when the user names none is the one whose membership best *separates*
the outcome: the largest two-sample z statistic of the mean outcome inside against outside (the
correlation of "inside the box" with the outcome, times the square root of the count). The chosen
box is then *pasted* (a bound moved back out by ``paste_alpha`` of its points while that raises the
separation) and *pruned* (a bound dropped when dropping it does not lower the separation).
*Resampling* the points and doing it all again says how stable each bound is, and the same
peeling on shuffled outcomes says how much separation chance alone finds.

On boxes planted in 4 of 6 or 12 uniform inputs, with 5,000 points and the outcome's chance 0.7
inside against 0.3 outside, the chosen box's bounds fall within 0.035 of the planted ones at worst
over 20 draws (``tests/test_prim.py`` checks one within 0.05).

Why written here and not taken from a library: EMA Workbench's ``prim`` is the implementation
analysts know, but installing it adds 15 packages to negsim's (scikit-learn, statsmodels, seaborn,
SALib, Platypus and their dependencies: 51 MB of wheels, 171 MB installed, measured with pip for
ema_workbench 2.5.3); it works on pandas frames with its own plotting, and leaves the choice of a
box to the eye. PRIM itself is a loop over partitions of arrays, short enough to read in full and
to test against planted boxes. No other well-kept Python package implements it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

ALPHA = 0.05
"""Share of the box's points each peel removes (Friedman and Fisher suggest 0.05 to 0.1)."""
PASTE_ALPHA = 0.01
"""Share of the box's points each paste adds back."""
MIN_MASS = 0.05
"""Peeling stops before the box would hold less than this share of the points."""
RESAMPLES = 50
"""Bootstrap resamples for the stability of the chosen box's bounds."""
SHUFFLES = 20
"""Shuffles of the outcome for the separation chance alone gives."""
PRUNE_LEVEL = 0.05
"""A bound stays only if what it cuts off is worse than what it keeps at this level, shared among
the box's possible bounds (two per input: Bonferroni), one-sided."""


@dataclass(frozen=True)
class Box:
    """Bounds per input (``-inf`` or ``inf`` where the box does not restrict it) and what it holds."""

    low: np.ndarray
    high: np.ndarray
    count: int
    """Points inside."""
    mass: float
    """Share of all points inside."""
    coverage: float
    """Share of the whole outcome inside (sum of the outcome inside over its sum everywhere)."""
    density: float
    """Mean outcome inside."""
    separation: float
    """Two-sample z statistic of the mean outcome inside against outside (0 for the box of every point)."""

    def restricted(self) -> list[int]:
        """The inputs the box bounds, in input order."""
        return [j for j in range(self.low.size) if np.isfinite(self.low[j]) or np.isfinite(self.high[j])]

    def contains(self, x: np.ndarray) -> np.ndarray:
        """Which rows of ``x`` lie inside (bounds included)."""
        return np.all((x >= self.low) & (x <= self.high), axis=1)


def separation(held: float, count: int, total: float, n: int, variance: float) -> float:
    """The z statistic of the mean outcome of ``count`` points (holding ``held``) against the other
    ``n - count`` (holding the rest of ``total``); ``variance`` is the outcome's over all points."""
    if count <= 0 or count >= n or variance <= 0:
        return 0.0
    inside = held / count
    outside = (total - held) / (n - count)
    return (inside - outside) / math.sqrt(variance * (1 / count + 1 / (n - count)))


def box_of(x: np.ndarray, y: np.ndarray, low: np.ndarray, high: np.ndarray, inside: np.ndarray | None = None) -> Box:
    """The box with these bounds, and what it holds of the points ``x`` with outcome ``y``."""
    if inside is None:
        inside = np.all((x >= low) & (x <= high), axis=1)
    count = int(inside.sum())
    total = float(y.sum())
    held = float(y[inside].sum())
    n = y.size
    return Box(
        low.copy(),
        high.copy(),
        count,
        count / n if n else 0.0,
        held / total if total > 0 else 0.0,
        held / count if count else 0.0,
        separation(held, count, total, n, float(y.var()) if n else 0.0),
    )


def peel(x: np.ndarray, y: np.ndarray, alpha: float = ALPHA, min_mass: float = MIN_MASS) -> list[Box]:
    """The peeling trajectory: box 0 holds every point; each next box is the last with one slice
    peeled off. A slice is the ``alpha`` of the box's points lowest (or highest) in one input; the
    one peeled raises the box's mean outcome most per point removed (Friedman and Fisher's criterion),
    ties going to the first input and its lower end. Peeling stops when no slice raises the mean, or
    before the box would hold less than ``min_mass`` of the points."""
    n, d = x.shape
    low, high = np.full(d, -np.inf), np.full(d, np.inf)
    inside = np.ones(n, bool)
    boxes = [box_of(x, y, low, high, inside)]
    floor = min_mass * n
    orders = np.argsort(x, axis=0, kind="stable")  # sorted once; each step keeps the points inside
    while True:
        m = int(inside.sum())
        if m < 2:
            break
        k = min(max(1, math.ceil(alpha * m)), m - 1)
        total = float(y[inside].sum())
        mean = total / m
        best: tuple[float, int, int, float] | None = None
        for j in range(d):
            ranked = orders[inside[orders[:, j]], j]  # the points inside, lowest first in input j
            values = x[ranked, j]
            for side, bound in ((0, values[k]), (1, values[m - 1 - k])):
                if side == 0:
                    removed = int(np.searchsorted(values, bound, "left"))
                    lost = float(y[ranked[:removed]].sum())
                else:
                    removed = m - int(np.searchsorted(values, bound, "right"))
                    lost = float(y[ranked[m - removed :]].sum())
                if removed == 0 or m - removed < floor:
                    continue
                gain = ((total - lost) / (m - removed) - mean) / removed
                if best is None or gain > best[0]:
                    best = (gain, j, side, float(bound))
        if best is None or best[0] <= 0:
            break
        _, j, side, bound = best
        if side == 0:
            low[j] = bound
            inside &= x[:, j] >= bound
        else:
            high[j] = bound
            inside &= x[:, j] <= bound
        boxes.append(box_of(x, y, low, high, inside))
    return boxes


def choose(boxes: list[Box]) -> int:
    """The box of the trajectory whose membership best separates the outcome (the largest z of the
    mean inside against outside; of equal ones, the first, which restricts the fewest inputs)."""
    return max(range(len(boxes)), key=lambda i: (boxes[i].separation, -i))


def _outside(x: np.ndarray, low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    below, above = x < low, x > high
    return below, above, below.sum(axis=1) + above.sum(axis=1)


def paste(x: np.ndarray, y: np.ndarray, box: Box, alpha: float = PASTE_ALPHA) -> Box:
    """The box with bounds moved back out, ``alpha`` of its points at a time (each time the move
    that separates the outcome best), while that raises the separation. A bound moved past every
    point no longer restricts its input."""
    n, total, variance = y.size, float(y.sum()), float(y.var())
    low, high = box.low.copy(), box.high.copy()
    lowest, highest = x.min(axis=0), x.max(axis=0)
    while True:
        below, above, outside = _outside(x, low, high)
        inside = outside == 0
        m, held = int(inside.sum()), float(y[inside].sum())
        now = separation(held, m, total, n, variance)
        k = max(1, math.ceil(alpha * m))
        best: tuple[float, int, int, float] | None = None
        for j in range(x.shape[1]):
            for side, out in ((0, below[:, j]), (1, above[:, j])):
                near = np.flatnonzero((outside == 1) & out)
                if near.size == 0:
                    continue
                xs = x[near, j]
                ranked = np.sort(xs)
                bound = float(ranked[-min(k, xs.size)] if side == 0 else ranked[min(k, xs.size) - 1])
                add = near[xs >= bound] if side == 0 else near[xs <= bound]
                z = separation(held + float(y[add].sum()), m + add.size, total, n, variance)
                if z > now and (best is None or z > best[0]):
                    best = (z, j, side, bound)
        if best is None:
            break
        _, j, side, bound = best
        if side == 0:
            low[j] = -np.inf if bound <= lowest[j] else bound
        else:
            high[j] = np.inf if bound >= highest[j] else bound
    return box_of(x, y, low, high)


def prune(x: np.ndarray, y: np.ndarray, box: Box, level: float = PRUNE_LEVEL) -> Box:
    """The box without the bounds that cut off nothing worse than what they keep: each bound's slice
    (the points outside the box by that bound alone) is tested against the box, one-sided, with the
    outcome's variance, at ``level`` shared among the two ends of every input; the bound whose slice
    differs least goes first, while it is not significant. A slice cut off by chance is given back."""
    variance = float(y.var())
    z = NormalDist().inv_cdf(1 - level / (2 * max(x.shape[1], 1)))
    low, high = box.low.copy(), box.high.copy()
    while variance > 0:
        below, above, outside = _outside(x, low, high)
        inside = outside == 0
        m = int(inside.sum())
        mean = float(y[inside].mean()) if m else 0.0
        weakest: tuple[float, int, int] | None = None
        for j in range(x.shape[1]):
            for side, out, bound in ((0, below[:, j], low[j]), (1, above[:, j], high[j])):
                if not np.isfinite(bound):
                    continue
                cut = (outside == 1) & out
                r = int(cut.sum())
                test = -math.inf  # a bound that cuts nothing off (or keeps nothing) is no bound
                if r and m:
                    test = (mean - float(y[cut].mean())) / math.sqrt(variance * (1 / m + 1 / r))
                if test < z and (weakest is None or test < weakest[0]):
                    weakest = (test, j, side)
        if weakest is None:
            break
        _, j, side = weakest
        if side == 0:
            low[j] = -np.inf
        else:
            high[j] = np.inf
    return box_of(x, y, low, high)


def without(x: np.ndarray, y: np.ndarray, box: Box, j: int) -> Box:
    """The box with input ``j`` left unrestricted: what its bounds add."""
    low, high = box.low.copy(), box.high.copy()
    low[j], high[j] = -np.inf, np.inf
    return box_of(x, y, low, high)


def discover(
    x: np.ndarray, y: np.ndarray, *, alpha: float = ALPHA, min_mass: float = MIN_MASS, box: int | None = None
) -> tuple[list[Box], int, Box]:
    """Peel; choose a box (``box``, an index into the trajectory, or :func:`choose`); paste and prune it."""
    boxes = peel(x, y, alpha, min_mass)
    chosen = choose(boxes) if box is None else box
    return boxes, chosen, prune(x, y, paste(x, y, boxes[chosen]))


@dataclass(frozen=True)
class Stability:
    """How the chosen box fares when the points are resampled (bootstrap) and PRIM run again, and
    how much separation PRIM finds when the outcome is shuffled (chance alone)."""

    resamples: int
    restricted: np.ndarray
    """Per input: the share of resamples whose chosen box restricts it."""
    low: np.ndarray
    """Per input: the 5%, 50% and 95% quantiles of the lower bound over the resamples that bound
    it from below (NaN where none does): shape (d, 3)."""
    high: np.ndarray
    shuffles: int
    chance: float
    """The largest separation of a box found on the shuffled outcomes (the most chance gave)."""


def stability(
    x: np.ndarray,
    y: np.ndarray,
    seed: int,
    resamples: int = RESAMPLES,
    shuffles: int = SHUFFLES,
    *,
    alpha: float = ALPHA,
    min_mass: float = MIN_MASS,
) -> Stability:
    """Bootstrap the points ``resamples`` times and find the default box of each; shuffle the outcome
    ``shuffles`` times and peel. The generator is seeded with ``seed``: the same answer on every run."""
    n, d = x.shape
    rng = np.random.default_rng(seed)
    restricted = np.zeros(d)
    lows: list[list[float]] = [[] for _ in range(d)]
    highs: list[list[float]] = [[] for _ in range(d)]
    for _ in range(resamples):
        pick = rng.integers(0, n, n)
        xs, ys = x[pick], y[pick]
        _, _, found = discover(xs, ys, alpha=alpha, min_mass=min_mass)
        for j in found.restricted():
            restricted[j] += 1
            if np.isfinite(found.low[j]):
                lows[j].append(float(found.low[j]))
            if np.isfinite(found.high[j]):
                highs[j].append(float(found.high[j]))
    chance = 0.0
    for _ in range(shuffles):
        shuffled = y[rng.permutation(n)]
        chance = max(chance, max(b.separation for b in peel(x, shuffled, alpha, min_mass)))

    def spread(values: list[float]) -> list[float]:
        return [float(v) for v in np.quantile(values, [0.05, 0.5, 0.95])] if values else [math.nan] * 3

    return Stability(
        resamples,
        restricted / max(resamples, 1),
        np.array([spread(v) for v in lows]).reshape(d, 3),
        np.array([spread(v) for v in highs]).reshape(d, 3),
        shuffles,
        chance,
    )
