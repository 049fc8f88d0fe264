"""How much of each item's outcome each uncertain judgement explains, with the band chance alone gives.

A run keeps every replication's draw of each uncertain judgement and whether each item was agreed
by the horizon. The *share* of judgement *j* on item *x* is the share of the outcome's variance
(per replication, P(1 - P)) that the draw explains on its own: Var(E[agreed | draw]) / Var(agreed),
the first-order Sobol' index of the per-replication outcome. (It is the first-order index a Sobol
sweep over the judgements' own distributions finds for *x*'s chance, times the share of *x*'s
variance the judgements make at all, which that sweep also reports.)

It is estimated by ranking the draws into ``BINS`` bins of equal count and taking the between-bin
share of the variance, less what chance alone puts there (epsilon squared: (SSB - (B - 1) MSW) /
SST). With no effect at all, the estimate scatters around zero; the *band* is the share that chance
alone exceeds with probability 5% in the largest of the run's (judgement, item) cells (Bonferroni
over the cells, the F statistic's chi-square limit with the Wilson-Hilferty quantile, so that a
run needs no scipy.stats). A share beyond the band is an effect; one within it may be chance. The
95% interval resamples the replications (bootstrap), by a multinomial draw of each cell's table of
bin x outcome counts, which is exact for the statistic and costs the same for any number of
replications; it is shifted by the bootstrap's bias (resampling adds between-bin noise of its own).
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np

from sim.engine.streams import stream_key

BINS = 10
"""Bins of equal count the draws are ranked into."""
LEVEL = 0.05
"""The band's level, shared among the cells of a run's table."""
RESAMPLES = 200
"""Bootstrap resamples for a share's interval."""


def chi2_quantile(q: float, k: int) -> float:
    """The chi-square quantile of ``k`` degrees of freedom at ``q`` (Wilson and Hilferty's cube: for the
    bins' 9 degrees of freedom within 1.5% of the exact quantile up to q = 0.9999)."""
    z = NormalDist().inv_cdf(q)
    return k * (1 - 2 / (9 * k) + z * math.sqrt(2 / (9 * k))) ** 3


def band(n: int, cells: int, bins: int = BINS, level: float = LEVEL) -> float | None:
    """The share chance alone exceeds with probability ``level`` in the largest of ``cells``
    estimates from ``n`` replications (None when there are too few replications to bin)."""
    if n <= 2 * bins or cells < 1:
        return None
    chi = chi2_quantile(1 - level / cells, bins - 1)
    return (chi - (bins - 1)) / (chi + n - bins)


def bins_of(draws: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Each replication's bin: the draws ranked (ties by replication order) into ``bins`` of equal count."""
    n = draws.size
    out = np.zeros(n, np.int64)
    out[np.argsort(draws, kind="stable")] = np.arange(n) * bins // max(n, 1)
    return out


def epsilon_squared(hits: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The between-bin share of a 0/1 outcome's variance, less chance's: ``hits`` and ``counts`` per
    bin on the last axis (any leading axes: resamples). NaN where the outcome does not vary."""
    n = counts.sum(axis=-1)
    k = hits.sum(axis=-1)
    bins = counts.shape[-1]
    p = k / n
    sst = n * p * (1 - p)
    with np.errstate(divide="ignore", invalid="ignore"):
        pb = np.where(counts > 0, hits / np.where(counts > 0, counts, 1), 0.0)
        ssb = (counts * (pb - p[..., None]) ** 2).sum(axis=-1)
        msw = (sst - ssb) / (n - bins)
        return np.where(sst > 0, (ssb - (bins - 1) * msw) / sst, np.nan)


def share(
    bins: np.ndarray, agreed: np.ndarray, seed: int, path: str, item: str, resamples: int = RESAMPLES
) -> tuple[float, float, float] | None:
    """One judgement's share of one item's variance (its draws ranked into ``bins`` by :func:`bins_of`),
    with its 95% bootstrap interval, shifted by the bootstrap's bias (None when there are too few
    replications to bin, or the item's outcome never varies)."""
    n = bins.size
    if n <= 2 * BINS or agreed.all() or not agreed.any():
        return None
    counts = np.bincount(bins, minlength=BINS).astype(float)
    hits = np.bincount(bins, weights=agreed.astype(float), minlength=BINS)
    estimate = float(epsilon_squared(hits, counts))
    cells = np.concatenate([hits, counts - hits])
    rng = np.random.default_rng([seed, stream_key(f"shares/{path}/{item}")])
    drawn = rng.multinomial(n, cells / n, size=resamples).astype(float)
    boot = epsilon_squared(drawn[:, :BINS], drawn[:, :BINS] + drawn[:, BINS:])
    boot = boot[np.isfinite(boot)]
    if boot.size == 0:
        return estimate, math.nan, math.nan
    bias = float(boot.mean()) - estimate  # resampling adds its own between-bin noise
    low, high = np.quantile(boot, [0.025, 0.975]) - bias
    return estimate, float(low), float(high)


def beyond(cell: dict[str, Any], noise: float | None) -> bool:
    """Whether a judgement's share of an item's variance is beyond the band chance alone gives."""
    return noise is not None and cell.get("share") is not None and cell["share"] > noise


def cell_text(cell: dict[str, Any], noise: float | None) -> str:
    """``-0.130 (1.1%)*``: the quartile difference, the share of the variance, and ``*`` beyond the band."""
    if cell.get("spread") is None:
        return ""
    text = f"{cell['spread']:+.3f}"
    if cell.get("share") is not None:
        text += f" ({max(cell['share'], 0.0):.1%}){'*' if beyond(cell, noise) else ''}"
    return text


def headline(row: dict[str, Any]) -> str:
    """What a judgement's panel says it does: the item whose variance it explains most beyond the
    band; else its own item (``items.flights.p``: flights), marked within chance; else nothing."""
    noise = row.get("band")
    found = [(name, c) for name, c in row["items"].items() if beyond(c, noise)]
    if found:
        name, c = max(found, key=lambda kv: kv[1]["share"])
        return f"moves {name} by {c['spread']:+.2f} ({c['share']:.1%} of its variance)"
    parts = str(row["path"]).split(".")
    own = parts[1] if parts[0] == "items" and len(parts) > 1 else None
    if own is not None and own in row["items"] and row["items"][own].get("spread") is not None:
        return f"{own} {row['items'][own]['spread']:+.2f}: within chance"
    return "moves no item beyond chance"


def band_text(n: int, noise: float | None, cells: int) -> str:
    """What the band is, in a sentence."""
    if noise is None:
        return ""
    return (
        f"* beyond chance: a share above {noise:.2%}, which chance alone gives the largest of these {cells} cells\n"
        f"  once in {round(1 / LEVEL)} runs of {n:,} replications"
    )
