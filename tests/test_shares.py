"""A run's variance shares of its judgements: the closed form recovered, the band chance alone gives."""

from __future__ import annotations

import numpy as np
import pytest

from sim.api import Results
from sim.results import shares
from sim.results.summary import summarize
from sim.views.plots.judgements import judgements as judgements_figure
from sim.views.text import judgements_table
from tests.helpers import Z, make, run


@pytest.mark.parametrize("q", [0.95, 0.99, 1 - 0.05 / 40, 1 - 0.05 / 500])
def test_the_chi_square_quantile_is_within_one_and_a_half_percent_of_scipy_s(q: float) -> None:
    """Wilson and Hilferty's cube, at the bins' 9 degrees of freedom, as far out as a table of 500 cells."""
    from scipy.stats import chi2

    assert shares.chi2_quantile(q, shares.BINS - 1) == pytest.approx(chi2.ppf(q, shares.BINS - 1), rel=0.015)


def test_the_share_of_a_uniform_chance_is_a_third() -> None:
    """y ~ Bernoulli(theta), theta ~ U(0, 1): Var(E[y | theta]) / Var(y) = (1/12) / (1/4) = 1/3, less
    the variance left inside the bins: (1/3)(1 - 1/B^2). Over 40 runs of 5,000 replications the mean
    estimate is within Z standard errors of it, and the 95% intervals cover it about 95% of the time."""
    exact = (1 / 3) * (1 - 1 / shares.BINS**2)
    found = []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        theta = rng.random(5000)
        one = shares.share(shares.bins_of(theta), rng.random(5000) < theta, seed=seed, path="t", item="y")
        assert one is not None
        found.append(one)
    estimates = np.array([f[0] for f in found])
    assert abs(estimates.mean() - exact) <= Z * estimates.std(ddof=1) / np.sqrt(estimates.size)
    covered = sum(low <= exact <= high for _, low, high in found)
    assert covered >= 33  # P(X <= 32) < 0.3% for X ~ Binomial(40, 0.95)
    widths = np.array([high - low for _, low, high in found])
    assert abs(widths.mean() / (2 * 1.96) - estimates.std(ddof=1)) < 0.3 * estimates.std(ddof=1)


def test_with_no_effect_the_band_is_passed_as_often_as_its_level_says() -> None:
    """400 judgements that decide nothing, 2,000 replications each: about 5% of their shares pass the
    one-cell band, and about 5% of tables of 40 have a cell past the 40-cell band."""
    rng = np.random.default_rng(7)
    n, cells = 2000, 400
    draws = rng.random((cells, n))
    y = rng.random((cells, n)) < 0.3
    counts = np.full((cells, shares.BINS), n / shares.BINS)
    bins = np.argsort(np.argsort(draws, axis=1), axis=1) * shares.BINS // n
    hits = np.stack([np.bincount(b, weights=yy, minlength=shares.BINS) for b, yy in zip(bins, y, strict=True)])
    found = shares.epsilon_squared(hits, counts)
    passed = float((found > shares.band(n, 1)).mean())
    se = np.sqrt(0.05 * 0.95 / cells)
    assert abs(passed - 0.05) <= Z * se
    assert abs(found.mean()) < 0.001  # epsilon squared takes chance's share out
    tables = found.reshape(10, 40)
    assert (tables.max(axis=1) > shares.band(n, 40)).sum() <= 3


def test_a_run_s_table_marks_only_shares_beyond_the_band() -> None:
    """a's own p decides a (a share far beyond the band, marked); b's p, between 0.49 and 0.51, moves
    nothing beyond chance (unmarked): the figure's heading names the first, and says the second's own
    item is within chance."""
    s = make(
        calendar={"start": "2025-01-01", "horizon": 100},
        rounds={"first": 0, "interval": 1000},
        items={
            "a": {"p": {"dist": "uniform", "low": 0.0, "high": 1.0}},
            "b": {"p": {"dist": "uniform", "low": 0.49, "high": 0.51}},
        },
    )
    rec = run(s, 5000)
    sm = summarize(s, rec)
    rows = {row["path"]: row for row in sm["judgements"]}
    band = rows["items.a.p"]["band"]
    assert band == pytest.approx(shares.band(5000, 4), abs=1e-6)
    on_a, b_on_a = rows["items.a.p"]["items"]["a"], rows["items.b.p"]["items"]["a"]
    assert on_a["share"] > 0.25 and on_a["share_low"] <= 1 / 3 <= on_a["share_high"]
    assert b_on_a["share"] < band and rows["items.b.p"]["items"]["b"]["share"] < band
    assert shares.headline(rows["items.a.p"]).startswith("moves a by +")
    assert shares.headline(rows["items.b.p"]).startswith("b ") and "within chance" in shares.headline(rows["items.b.p"])
    table = judgements_table(sm)
    line = next(x for x in table.splitlines() if x.startswith("items.a.p"))
    assert line.count("*") == 1
    fig = judgements_figure(Results(s, rec))
    headings = [ax.get_title(loc="left") for ax in fig.axes if ax.get_visible()]
    assert any(h.startswith("items.a.p\nmoves a by") for h in headings)
    assert any(h.startswith("items.b.p\nb ") and h.endswith("within chance") for h in headings)


def test_a_heading_never_names_an_effect_within_the_band() -> None:
    """The quartile difference may be large by chance; without a share beyond the band, no 'moves'."""
    row = {
        "path": "trust.weight",
        "band": 0.004,
        "items": {"banking": {"spread": -0.04, "share": 0.0012}, "flights": {"spread": 0.01, "share": 0.0}},
    }
    assert shares.headline(row) == "moves no item beyond chance"
    row["items"]["flights"]["share"] = 0.02
    assert shares.headline(row) == "moves flights by +0.01 (2.0% of its variance)"
