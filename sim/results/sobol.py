"""Sobol' indices of swept judgements on each item's chance, with the Monte Carlo noise kept apart.

**The design** (Saltelli, "Making best use of model evaluations to compute sensitivity indices",
Computer Physics Communications, 2002): two matrices A and B of ``N`` points each (the two halves of
a scrambled Sobol' sequence in twice as many dimensions as there are judgements, scipy.stats.qmc),
then for each judgement *i* the matrix AB_i (A with column *i* taken from B), then R (the points of
A again). A sweep runs them as consecutive blocks of ``N`` points: A, B, AB_1 ... AB_d, R.

**Random streams.** A point's chance is estimated from ``n`` replications, so each point carries
Monte Carlo noise of variance p(1 - p)/n (at most 0.25/n). How the points share random numbers
decides what that noise does to the indices:

- row *j* of A and of every AB_i share one seed (common random numbers): the difference between
  f(A_j) and f(AB_ij) is then the judgement's effect and little else, and exactly zero on an item
  the judgement cannot reach, whose total index is exactly zero;
- B_j has a seed of its own: with the same streams as AB_ij (which shares judgement *i*'s value
  with it), B's noise would follow AB_ij's and add its own variance to the first-order numerator
  f(B)(f(AB_i) - f(A)): shared streams inflate first-order indices;
- R_j has a seed of its own too, so that f(A) and f(R) differ only by noise: their covariance over
  the rows is the variance the judgements make (the *two-seed* estimate), free of any noise model;
- every row has its own seeds, so rows are independent and can be resampled.

Seeds are derived from the sweep's seed, the block and the row (:func:`point_seeds`) and written in
``sweep.yaml``; other designs keep one seed for every point (paired comparisons, OAT, the explorer).

**Estimators**, per item, on the points' chances f (Saltelli et al., "Variance based sensitivity
analysis of model output", Computer Physics Communications, 2010, as scipy.stats.sobol_indices
computes them, centred on the mean of A and B):

- the judgements' variance V = Var(f(A), f(B)) minus the mean noise variance of those points
  (each p̂(1 - p̂)/(n - 1), an unbiased estimate of p(1 - p)/n);
- first order S_i = mean(f(B) (f(AB_i) - f(A))) / V (B's noise is independent of the rest: nothing
  to subtract);
- total S_Ti = mean((f(A) - f(AB_i))² - var_ij) / 2V, where var_ij is the noise variance of the
  paired difference f(A_j) - f(AB_ij), from the per-replication differences, counted in whole
  numbers (:func:`squared_differences`): exactly zero where the judgement cannot reach the item;
- the share of the item's variance (per replication, P(1 - P)) that the judgements make at all:
  cov(f(A), f(R)) / P(1 - P); and each judgement's first-order share of that per-replication
  variance (``outcome_share``: its first-order variance over P(1 - P)), the quantity a run's own
  judgement table estimates from its draws (:mod:`sim.results.shares`), so the two can be set side
  by side.

scipy.stats.sobol_indices computes the same first and total indices but divides by the raw variance
of the points (noise included) and cannot subtract the noise of each point, so the estimators are
written out here; with no noise they equal scipy's (``tests/test_sobol.py``). Intervals are 95%
percentile bootstrap intervals over the rows (the same resampled rows for every quantity), from a
generator seeded by the sweep's seed.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np

from sim.engine.streams import stream_key
from sim.results.atomic import write_text
from sim.results.files import csv_text, json_text
from sim.results.sweepfolder import Metric, SweepResults, point_indicators
from sim.scenario.titles import field_title, item_title

RESAMPLES = 1000
"""Bootstrap resamples of the rows."""
SHOWN = 0.01
"""A judgement is named in an item's sentence when its total index is at least this, and above zero."""
COLUMNS = ["item", "parameter", "first", "first_low", "first_high", "total", "total_low", "total_high"]
"""The columns of ``sobol.csv``."""


def blocks(paths: list[str]) -> list[str]:
    """The design's blocks in the order a sweep runs them: A, B, one AB per judgement, R."""
    return ["A", "B", *(f"AB:{p}" for p in paths), "R"]


def unit_design(d: int, samples: int, seed: int) -> np.ndarray:
    """The design's points in the unit cube: ``samples`` rows per block, blocks as :func:`blocks`."""
    from scipy.stats import qmc

    m = max(1, math.ceil(math.log2(max(samples, 2))))
    base = qmc.Sobol(d=2 * d, scramble=True, seed=np.random.default_rng([seed, stream_key("sweep/sobol")]))
    both = base.random_base2(m)[:samples]  # the first N of 2^m points: no warning, balance kept best at 2^m
    a, b = both[:, :d], both[:, d:]
    out = [a, b]
    for i in range(d):
        ab = a.copy()
        ab[:, i] = b[:, i]
        out.append(ab)
    out.append(a.copy())
    return np.vstack(out)


def row_seed(seed: int, block: str, row: int) -> int:
    """The seed of row ``row`` of a block (A and every AB share ``A``'s): a 64-bit hash of the three."""
    text = f"{seed}/sobol/{'A' if block.startswith('AB') else block}/{row}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


def point_seeds(seed: int, paths: list[str], samples: int) -> list[int]:
    """Every point's seed, in the design's order."""
    return [row_seed(seed, block, row) for block in blocks(paths) for row in range(samples)]


def squared_differences(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The unbiased estimate of (P_a - P_b)² from two points' outcomes on the same replications
    ((replications, items) booleans), per item: with k+ replications agreed only at a and k- only at
    b, [(k+ - k-)² - (k+ + k-)] / (n (n - 1)), which is the squared difference of the two shares less
    the variance of its noise (the paired differences' variance over n), in whole numbers until the
    last division: exactly 0 where the points never differ, or differ in one replication."""
    n = a.shape[0]
    if n < 2:
        return np.zeros(a.shape[1])
    plus = (a & ~b).sum(axis=0).astype(np.int64)
    minus = (b & ~a).sum(axis=0).astype(np.int64)
    return ((plus - minus) ** 2 - (plus + minus)) / (n * (n - 1))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den where the judgements make some variance; exactly 0 where the numerator is (a
    judgement that cannot reach the item); NaN where the variance is not above the noise."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return np.where(num == 0, 0.0, out)


def estimate(
    fa: np.ndarray,
    fb: np.ndarray,
    fab: np.ndarray,
    fr: np.ndarray,
    va: np.ndarray,
    vb: np.ndarray,
    squared: np.ndarray,
    rows: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The estimators on rows ``rows`` (an index array, or a stack of them for the bootstrap: shape
    (..., N)). ``fa``, ``fb``, ``fr``: each row's chance at A, B, R (N); ``fab``: at AB_i (d, N);
    ``va``, ``vb``: the noise variance of A's and B's points; ``squared``: (g(A) - g(AB_i))² estimated
    without its noise (d, N): see :func:`squared_differences`."""
    if rows is None:
        rows = np.arange(fa.size)
    a, b, r = fa[rows], fb[rows], fr[rows]
    ab = fab[:, rows]
    both = np.concatenate([a, b], axis=-1)
    centre = both.mean(axis=-1, keepdims=True)
    observed = both.var(axis=-1)
    noise = np.concatenate([va[rows], vb[rows]], axis=-1).mean(axis=-1)
    v = observed - noise
    every = np.concatenate([a, b, r], axis=-1)
    p = every.mean(axis=-1)
    spread = p * (1 - p)
    alone = np.mean((b - centre) * (ab - a), axis=-1)  # each judgement's first-order variance
    first = _ratio(alone, v)
    total = _ratio(0.5 * np.mean(squared[:, rows], axis=-1), v)
    cov = np.mean((a - a.mean(axis=-1, keepdims=True)) * (r - r.mean(axis=-1, keepdims=True)), axis=-1)
    return {
        "first": first,
        "outcome": _ratio(alone, spread),
        "total": total,
        "observed": observed,
        "noise": noise,
        "judgements": v,
        "share": _ratio(cov, spread),
        "share_subtracted": _ratio(v, spread),
        "mean": p,
    }


def _interval(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size < values.size * 0.5:  # most resamples leave no variance above the noise
        return (math.nan, math.nan)
    low, high = np.quantile(finite, [0.025, 0.975])
    return float(low), float(high)


def _r(v: float) -> float | None:
    """Six significant digits (variances are small numbers); None for what could not be estimated."""
    return None if v is None or not math.isfinite(v) else float(f"{float(v):.6g}") + 0.0


def from_hits(
    hits: dict[int, np.ndarray], samples: int, d: int, seed: int, resamples: int = RESAMPLES
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """The indices from each point's per-replication outcomes (``hits``: point -> (replications, items)
    booleans, points numbered as the design runs them; a point that failed is missing). Returns the
    rows used (those whose every point ran) and, per item, the estimates and their 95% intervals:
    ``first``, ``total`` (per judgement, with ``_low``/``_high``), the variances and the share."""
    count = d + 3
    rows = np.flatnonzero([all(block * samples + j in hits for block in range(count)) for j in range(samples)])
    if rows.size == 0:
        return rows, []
    n, k = hits[int(rows[0])].shape

    def chances(block: int) -> np.ndarray:
        return np.stack([hits[block * samples + int(j)].mean(axis=0) for j in rows]).reshape(rows.size, k)

    def paired(i: int) -> np.ndarray:  # (g(A_j) - g(AB_ij))², per row and item, without the noise
        return np.stack([squared_differences(hits[int(j)], hits[(2 + i) * samples + int(j)]) for j in rows]).reshape(
            rows.size, k
        )

    fa, fb, fr = chances(0), chances(1), chances(count - 1)
    fab = np.stack([chances(2 + i) for i in range(d)])  # (d, rows, items)
    squared = np.stack([paired(i) for i in range(d)])
    noise = lambda f: f * (1 - f) / max(n - 1, 1)  # noqa: E731  (unbiased for p(1 - p)/n)
    rng = np.random.default_rng([seed, stream_key("sobol/bootstrap")])
    picks = rng.integers(0, rows.size, (resamples, rows.size))
    out = []
    for x in range(k):
        args = (fa[:, x], fb[:, x], fab[:, :, x], fr[:, x], noise(fa[:, x]), noise(fb[:, x]), squared[:, :, x])
        est, boot = estimate(*args), estimate(*args, rows=picks)
        entry: dict[str, Any] = {"replications": n}
        for key in ("first", "total", "outcome"):
            entry[key] = est[key]
            entry[f"{key}_low"], entry[f"{key}_high"] = np.array([_interval(boot[key][i]) for i in range(d)]).T
        for key in ("judgements", "share"):
            entry[key] = float(est[key])
            entry[f"{key}_low"], entry[f"{key}_high"] = _interval(boot[key])
        for key in ("observed", "noise", "share_subtracted", "mean"):
            entry[key] = float(est[key])
        out.append(entry)
    return rows, out


def indices(sw: SweepResults, metric: Metric, resamples: int = RESAMPLES) -> dict[str, Any]:
    """Every item's indices from a finished sobol sweep: everything ``sobol.json`` holds."""
    d = sw.described
    samples = int(d["sobol"]["samples"])
    paths = list(sw.parameters)
    replications = int(d["replications"])
    rows, found = from_hits(point_indicators(sw, metric), samples, len(paths), int(d["seed"]), resamples)
    s = sw.base
    out_items = []
    for x, name in enumerate(s.items):
        entry: dict[str, Any] = {"item": name, "title": item_title(s, name)}
        if not found:
            out_items.append({**entry, "parameters": []})
            continue
        e = found[x]
        params = [
            {
                "path": path,
                "title": field_title(s, path),
                **{
                    key: _r(float(e[key][i]))
                    for key in ("first", "first_low", "first_high", "total", "total_low", "total_high")
                },
                "outcome_share": [_r(float(e[key][i])) for key in ("outcome", "outcome_low", "outcome_high")],
            }
            for i, path in enumerate(paths)
        ]
        firsts = [float(e["first"][i]) for i in range(len(paths)) if math.isfinite(e["first"][i])]
        out_items.append(
            {
                **entry,
                "mean": _r(e["mean"]),
                "variance": {
                    "points": _r(e["observed"]),
                    "noise": _r(e["noise"]),
                    "noise_bound": _r(0.25 / replications),
                    "judgements": _r(e["judgements"]),
                    "judgements_low": _r(e["judgements_low"]),
                    "judgements_high": _r(e["judgements_high"]),
                },
                "judgement_share": {
                    "two_seed": _r(e["share"]),
                    "low": _r(e["share_low"]),
                    "high": _r(e["share_high"]),
                    "subtracted": _r(e["share_subtracted"]),
                },
                "first_sum": _r(sum(firsts)) if firsts else None,
                "parameters": params,
            }
        )
    return {
        "format": 1,
        "metric": metric.key,
        "label": metric.label(s.calendar.start),
        "samples": samples,
        "rows_used": int(rows.size),
        "replications": replications,
        "resamples": resamples,
        "parameters": [{"path": p, "title": field_title(s, p)} for p in paths],
        "items": out_items,
    }


def csv_of(data: dict[str, Any]) -> str:
    """``sobol.csv``: one row per item and judgement."""
    return csv_text(
        COLUMNS,
        ([it["item"], p["path"], *(p[c] for c in COLUMNS[2:])] for it in data["items"] for p in it["parameters"]),
    )


def file_names(metric: Metric) -> tuple[str, str]:
    """``sobol.csv`` and ``sobol.json`` for P(agreed by horizon); ``sobol_p_by_DATE.*`` for another date."""
    stem = "sobol" if metric.kind == "p_agreed" else f"sobol_{metric.key}"
    return f"{stem}.csv", f"{stem}.json"


def write_files(data: dict[str, Any], folder: Any, metric: Metric) -> None:
    table, full = file_names(metric)
    write_text(folder / table, csv_of(data))
    write_text(folder / full, json_text(data))


def item_words(entry: dict[str, Any], label: str) -> str:
    """One item's variance in a sentence: how much the judgements make, the noise taken out, and
    the judgements whose total index is clearly above zero."""
    if not entry["parameters"]:
        return f"{entry['item']}: no complete row of the design ran"
    share = entry["judgement_share"]
    var = entry["variance"]
    head = f"{entry['item']} ({label} {entry['mean']:.3f} on average): "
    if share["low"] is None or share["high"] is None or share["low"] <= 0:
        body = "the judgements make no variance beyond the Monte Carlo noise"
        if share["two_seed"] is not None:
            body += f" (share {share['two_seed']:.1%}, interval {_pct(share['low'])} to {_pct(share['high'])})"
        return head + body
    body = (
        f"the judgements make {share['two_seed']:.0%} ({share['low']:.0%} to {share['high']:.0%}) of its variance, "
        "chance the rest"
    )
    big = [p for p in entry["parameters"] if p["total_low"] is not None and p["total_low"] > 0 and p["total"] >= SHOWN]
    big.sort(key=lambda p: -(p["total"] or 0))
    if big:
        body += "; of the judgements' part: " + ", ".join(
            f"{p['title']} {max(p['first'], 0.0):.0%} alone, {p['total']:.0%} with interactions" for p in big
        )
    noise, points = var["noise"] or 0.0, var["points"] or 0.0
    if points > 0:
        body += (
            f". Monte Carlo noise subtracted: {noise:.2g} per point (at most {var['noise_bound']:.2g}), "
            f"{noise / points:.0%} of the points' variance"
        )
    return head + body + "."


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1%}"
