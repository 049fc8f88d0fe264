"""Intervals and curves that users read: Wilson intervals, day quantiles, cumulative curves."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

from sim.results.stats import Z95, cumulative, paired, quantile_day, wilson, wilson_array


def test_z95_is_the_normal_975_quantile() -> None:
    """The z of a two-sided 95% interval."""
    assert pytest.approx(1.959963984540054, abs=1e-12) == Z95


@pytest.mark.parametrize(("k", "n"), [(0, 1), (0, 10), (3, 10), (8, 10), (10, 10), (81, 263), (4999, 5000)])
def test_wilson_is_scipys_wilson_interval(k: int, n: int) -> None:
    """Our interval is scipy.stats.binomtest(...).proportion_ci(method='wilson'), not another method."""
    ci = sps.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_wilson_by_hand() -> None:
    """8 of 10: the Wilson score interval (p + z^2/2n -/+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)."""
    p, n, z = 0.8, 10, Z95
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert wilson(8, 10) == pytest.approx((centre - half, centre + half), abs=1e-12)
    exact = sps.binomtest(8, 10).proportion_ci(method="exact")  # Clopper-Pearson is wider
    assert wilson(8, 10)[0] > exact.low


def test_wilson_of_nothing_is_everything() -> None:
    """No replications: the interval is [0, 1]."""
    assert wilson(0, 0) == (0.0, 1.0)


def test_wilson_array_matches_wilson() -> None:
    """The array form gives each count's own interval, in shape."""
    low, high = wilson_array(np.array([[0, 5], [9, 10]]), 10)
    assert low.shape == (2, 2)
    for k, lo, hi in zip([0, 5, 9, 10], low.ravel(), high.ravel(), strict=True):
        assert (lo, hi) == wilson(k, 10)


days = st.lists(st.one_of(st.none(), st.integers(0, 60).map(float)), min_size=1, max_size=40)


@given(values=days, q=st.sampled_from([0.1, 0.25, 0.5, 0.75, 0.9, 1.0]))
def test_quantile_day_is_the_inverted_cdf_quantile(values: list[float | None], q: float) -> None:
    """The day by which a share q of all replications agreed: numpy's inverted-CDF quantile, with
    replications that never agreed counted as +inf (then: None)."""
    arr = np.array([np.nan if v is None else v for v in values])
    expected = float(np.quantile(np.where(np.isnan(arr), np.inf, arr), q, method="inverted_cdf"))
    got = quantile_day(arr, q)
    assert (got is None) == (expected == np.inf)
    if got is not None:
        assert got == expected


def test_quantile_day_examples() -> None:
    """Four replications agreed on days 5, 10, 20 and never: median 10, 75% 20, 90% never."""
    arr = np.array([20.0, np.nan, 5.0, 10.0])
    assert quantile_day(arr, 0.5) == 10.0
    assert quantile_day(arr, 0.25) == 5.0
    assert quantile_day(arr, 0.75) == 20.0
    assert quantile_day(arr, 0.9) is None


def test_cumulative_curve_is_the_share_agreed_by_each_day() -> None:
    """The curve at day t is the share of replications agreed on or before t, from day 0 to the horizon."""
    arr = np.array([3.0, 3.0, 7.0, np.nan, 10.0, np.nan, np.nan, 1.0])
    curve = cumulative(arr, 20.0)
    assert curve.days[0] == 0.0 and curve.days[-1] == 20.0
    for t in (0.0, 1.0, 2.0, 3.0, 6.9, 7.0, 10.0, 20.0):
        i = np.searchsorted(curve.days, t, side="right") - 1
        assert curve.p[i] == pytest.approx(np.mean(np.nan_to_num(arr, nan=np.inf) <= t)), t
    assert (curve.low <= curve.p + 1e-12).all() and (curve.p <= curve.high + 1e-12).all()
    assert (np.diff(curve.p) >= 0).all()


def test_cumulative_of_no_agreement_is_flat_zero_with_an_upper_bound() -> None:
    """Nothing agreed: the curve is 0, its band reaches the Wilson upper bound for 0 of n."""
    curve = cumulative(np.full(50, np.nan), 30.0)
    assert curve.p.tolist() == [0.0, 0.0]
    assert curve.high[-1] == pytest.approx(wilson(0, 50)[1])


def test_on_grid_reads_the_same_step_function() -> None:
    """Thinning a long curve for drawing keeps its values at the grid days."""
    rng = np.random.default_rng(3)
    arr = rng.integers(0, 1000, 5000).astype(float)
    curve = cumulative(arr, 1000.0)
    grid = curve.on_grid(50)
    assert grid.days.size == 50
    for t, p in zip(grid.days, grid.p, strict=True):
        assert p == pytest.approx(np.mean(arr <= t))


def test_cumulative_band_is_scipys_log_log_interval_and_ends_at_the_horizon() -> None:
    """Steps at each agreement day, from (0, 0) to the horizon; the band is scipy's log-log interval
    (undefined ends taken as 0 and 1)."""
    arr = np.array([2.0, 2.0, 5.0, np.nan, 9.0, np.nan])
    curve = cumulative(arr, 12.0)
    assert curve.days.tolist() == [0.0, 2.0, 5.0, 9.0, 12.0]
    assert curve.p.tolist() == pytest.approx([0.0, 2 / 6, 3 / 6, 4 / 6, 4 / 6])
    res = sps.ecdf(sps.CensoredData(uncensored=arr[~np.isnan(arr)], right=np.full(2, 12.0)))
    ci = res.cdf.confidence_interval(0.95, method="log-log")
    assert curve.low[1:].tolist() == pytest.approx(np.nan_to_num(ci.low.probabilities, nan=0.0).tolist())
    assert curve.high[1:].tolist() == pytest.approx(np.nan_to_num(ci.high.probabilities, nan=1.0).tolist())
    assert (curve.low[0], curve.high[0]) == (0.0, 0.0)
    assert (curve.low[-1], curve.high[-1]) == (curve.low[-2], curve.high[-2])


def test_cumulative_with_everything_agreed_and_an_agreement_on_day_zero() -> None:
    """All agreed (no censoring); an agreement on day 0 starts the curve above zero; the horizon adds no step."""
    curve = cumulative(np.array([0.0, 3.0, 3.0, 10.0]), 10.0)
    assert curve.days.tolist() == [0.0, 3.0, 10.0]
    assert curve.p.tolist() == [0.25, 0.75, 1.0]
    assert curve.high[-1] == 1.0
    assert curve.low[-1] == pytest.approx(wilson(4, 4)[0])  # not 0: the band hugs a certain outcome
    late = cumulative(np.array([11.0, 1.0]), 10.0)  # a day past the horizon is not drawn
    assert late.days.tolist() == [0.0, 1.0, 10.0] and late.p.tolist() == [0.0, 0.5, 0.5]


def test_on_grid_keeps_short_curves_and_thins_long_ones_from_first_to_last_day() -> None:
    """A curve of at most `points` steps is returned as it is; a longer one is read at `points` even days."""
    curve = cumulative(np.arange(10.0), 20.0)
    assert curve.on_grid(curve.days.size) is curve
    grid = curve.on_grid(5)
    assert grid.days.tolist() == np.linspace(0.0, 20.0, 5).tolist()
    assert grid.p.tolist() == [0.1, 0.6, 1.0, 1.0, 1.0]
    assert grid.low.tolist() == curve.low[[0, 5, 10, 10, 10]].tolist()
    assert grid.high.tolist() == curve.high[[0, 5, 10, 10, 10]].tolist()


@pytest.mark.filterwarnings("ignore:The confidence interval is undefined")  # scipy's, at the last step
def test_cumulative_band_without_censoring_is_scipys_too() -> None:
    """Everything agreed within the horizon (the plain empirical branch): still scipy's log-log band."""
    arr = np.array([1.0, 2.0, 2.0, 4.0, 6.0, 9.0])
    curve = cumulative(arr, 12.0)
    res = sps.ecdf(arr)
    ci = res.cdf.confidence_interval(0.95, method="log-log")
    inner = slice(1, -2)  # the steps before the last, where the band is defined
    assert curve.low[inner].tolist() == pytest.approx(ci.low.probabilities[:-1].tolist())
    assert curve.high[inner].tolist() == pytest.approx(ci.high.probabilities[:-1].tolist())


def test_curves_and_quantiles_at_their_edges() -> None:
    """No agreement draws from day 0; agreements only after the horizon leave a flat zero; the 0-quantile
    is the first day; one replication's paired difference has an unbounded interval."""
    assert cumulative(np.full(3, np.nan), 30.0).days.tolist() == [0.0, 30.0]
    beyond = cumulative(np.array([11.0, 12.0]), 10.0)
    assert beyond.days.tolist() == [0.0, 10.0] and beyond.p.tolist() == [0.0, 0.0]
    assert quantile_day(np.array([4.0, 2.0, 9.0]), 0.0) == 2.0
    d, lo, hi = paired(np.array([True]), np.array([False]))
    assert (d, lo, hi) == (-1.0, -math.inf, math.inf)


def test_two_replications_give_a_finite_paired_interval() -> None:
    """With two replications the standard error exists: differences -1 and 0 give -0.5 +/- 1.96 * 0.5."""
    d, lo, hi = paired(np.array([True, False]), np.array([False, False]))
    assert d == -0.5 and (lo, hi) == pytest.approx((-0.5 - Z95 * 0.5, -0.5 + Z95 * 0.5))
