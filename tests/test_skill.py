"""Checkpoint-free scores against hand-computed values; baselines, intervals and the rounds score."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from sim.results.skill import (
    FLOOR,
    METRICS,
    PERFECT,
    Interval,
    ItemScore,
    intervals,
    month_edges,
    month_log_score,
    monthly_cells,
    rounds_score,
    score_item,
    skill,
    window_brier,
)

DAYS = np.array([10.0, 30.0, np.nan, np.nan])  # F(t) = 0, then 1/4 from day 10, 1/2 from day 30


def test_window_brier_by_hand() -> None:
    """(1 / (hi - lo)) * integral of (F(t) - 1{agreed by t})^2 over the window, worked by hand."""
    # agreed on day 20: 0 on [0,10); 1/16 on [10,20); (3/4)^2 on [20,30); (1/2)^2 on [30,40)
    assert window_brier(DAYS, 20.0, 0.0, 40.0) == pytest.approx((10 / 16 + 10 * 9 / 16 + 10 / 4) / 40)
    # not agreed by day 40: 1/16 on [10,30); 1/4 on [30,40)
    assert window_brier(DAYS, None, 0.0, 40.0) == pytest.approx((20 / 16 + 10 / 4) / 40)
    # a window from day 15 (a forecast's origin): only [15, 40) counts, divided by 25
    assert window_brier(DAYS, 20.0, 15.0, 40.0) == pytest.approx((5 / 16 + 10 * 9 / 16 + 10 / 4) / 25)
    # agreement after the window's end is "not agreed by as_of"
    assert window_brier(DAYS, None, 0.0, 40.0) == window_brier(DAYS, 45.0, 0.0, 40.0)
    # certain and right scores 0; certain and wrong on every day scores 1
    assert window_brier(np.array([0.0]), 0.0, 0.0, 40.0) == 0.0
    assert window_brier(np.array([np.nan]), 0.0, 0.0, 40.0) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        window_brier(DAYS, None, 10.0, 10.0)


def test_month_edges_are_the_firsts_of_months_inside_the_window() -> None:
    start = dt.date(2025, 1, 15)  # day 17 is 1 February, day 45 is 1 March
    edges = month_edges(start, 0.0, 50.0)
    assert edges[:-1].tolist() == [0.0, 17.0, 45.0] and edges[-1] == np.nextafter(50.0, np.inf)
    assert month_edges(start, 17.0, 50.0)[:-1].tolist() == [17.0, 45.0]  # an origin on a first opens its month


def test_censored_log_score_by_hand() -> None:
    edges = month_edges(dt.date(2025, 1, 1), 0.0, 58.0)  # January [0, 31), February [31, 58]
    days = np.array([10.0, 30.0, 40.0, np.nan])
    assert month_log_score(days, 35.0, edges) == pytest.approx(-math.log(1 / 4))  # February: day 40
    assert month_log_score(days, 5.0, edges) == pytest.approx(-math.log(2 / 4))  # January: days 10, 30
    assert month_log_score(days, None, edges) == pytest.approx(-math.log(1 / 4))  # never
    assert month_log_score(np.array([58.5]), None, edges) == pytest.approx(-math.log(1 - FLOOR))  # after as_of
    assert month_log_score(days, 58.0, edges) == pytest.approx(-math.log(1 / 4))  # as_of itself is inside
    assert month_log_score(np.array([np.nan]), 5.0, edges) == pytest.approx(-math.log(FLOOR))  # floored
    with pytest.raises(ValueError):
        month_log_score(days, 70.0, edges)


def test_monthly_cells_are_p_by_each_months_end() -> None:
    edges = month_edges(dt.date(2025, 1, 1), 0.0, 58.0)
    p, o = monthly_cells(np.array([10.0, 30.0, 40.0, np.nan]), 35.0, edges)
    assert p.tolist() == [0.5, 0.75] and o.tolist() == [0.0, 1.0]


def test_rounds_score_by_hand() -> None:
    """RPS = sum over k of (P(count <= k) - 1{observed <= k})^2."""
    out = rounds_score(np.array([2, 3, 3, 4]), 3)
    assert out["rps"] == pytest.approx(0.25**2 + 0.25**2)
    assert out["p_observed"] == 0.5 and out["median"] == 3 and out["low"] == 2 and out["high"] == 4
    assert rounds_score(np.array([3, 3]), 3)["rps"] == 0.0
    assert rounds_score(np.array([0, 0]), 2)["rps"] == pytest.approx(2.0)  # off by two rounds, certain


def scores(a: list[float], b: list[float]) -> list[ItemScore]:
    return [
        ItemScore(
            "case",
            f"i{k}",
            None,
            {"scenario": {"window_brier": x, "log_score": x}, "null": {"window_brier": y, "log_score": y}},
        )
        for k, (x, y) in enumerate(zip(a, b, strict=True))
    ]


def test_skill_and_its_intervals() -> None:
    items = scores([0.1, 0.2, 0.3], [0.2, 0.4, 0.6])
    assert skill(items, "scenario", "null", "window_brier") == pytest.approx(0.5)
    out = intervals([items], "scenario", ["null"], resamples=400)
    sk = out["skill"]["null"]["window_brier"]
    # the paired differences are 0.1, 0.2, 0.3 over a baseline mean of 0.4; each item alone three times
    # is a resample of chance 1/27 > 2.5%, so the interval runs from 0.1 / 0.4 to 0.3 / 0.4
    assert sk.value == pytest.approx(0.5) and sk.low == pytest.approx(0.25) and sk.high == pytest.approx(0.75)
    assert sk.spans_zero is False  # better than the baseline in every resample
    mean = out["score"]["scenario"]["window_brier"]
    assert mean.value == pytest.approx(0.2) and 0.1 <= mean.low <= mean.value <= mean.high <= 0.3
    # a forecaster that is sometimes better and sometimes worse: the interval spans zero
    mixed = intervals([scores([0.1, 0.5, 0.2, 0.4], [0.3, 0.3, 0.3, 0.3])], "scenario", ["null"], resamples=400)
    assert mixed["skill"]["null"]["window_brier"].spans_zero
    # seeded: the same intervals every time
    again = intervals([scores([0.1, 0.5, 0.2, 0.4], [0.3, 0.3, 0.3, 0.3])], "scenario", ["null"], resamples=400)
    assert again["skill"]["null"]["window_brier"] == mixed["skill"]["null"]["window_brier"]
    # against a baseline that scores 0, skill is undefined, not infinite
    perfect = intervals([scores([0.1], [0.0])], "scenario", ["null"], resamples=50)["skill"]["null"]["window_brier"]
    assert math.isnan(perfect.value) and perfect.as_dict()["value"] is None and perfect.spans_zero is None
    near = intervals([scores([0.1], [PERFECT * 0.99])], "scenario", ["null"], resamples=50)
    assert near["skill"]["null"]["window_brier"].spans_zero is None  # practically perfect: undefined too
    # a resample of only the item the baseline got right stays finite: -0.1 / 0.25 at worst
    lucky = intervals([scores([0.1, 0.05], [0.0, 0.5])], "scenario", ["null"], resamples=400)
    sk = lucky["skill"]["null"]["window_brier"]
    assert sk.value == pytest.approx(0.7) and sk.low == pytest.approx(-0.4)
    assert sk.high == 1.0  # 0.45 / 0.25 = 1.8, but no forecast beats a baseline by more than all of its score


def test_pooled_intervals_resample_cases_then_items() -> None:
    """With two cases, a resample can hold one case twice: the pooled mean then moves to that case's."""
    good, bad = scores([0.1, 0.1], [0.2, 0.2]), scores([0.4, 0.4], [0.2, 0.2])
    out = intervals([good, bad], "scenario", ["null"], resamples=400)
    mean = out["score"]["scenario"]["window_brier"]
    assert mean.value == pytest.approx(0.25)
    assert mean.low == pytest.approx(0.1) and mean.high == pytest.approx(0.4)  # both cases twice turn up


def test_month_boundaries_belong_to_the_month_they_open() -> None:
    """A day on the first of a month is in that month, for the forecast and for the outcome alike."""
    edges = month_edges(dt.date(2025, 1, 1), 0.0, 58.0)  # January [0, 31), February [31, 58]
    on_first = np.array([31.0])
    assert month_log_score(on_first, 31.0, edges) == pytest.approx(-math.log(1 - FLOOR))  # both in February
    assert month_log_score(on_first, 5.0, edges) == pytest.approx(-math.log(FLOOR))  # none in January
    assert month_log_score(np.array([0.0, 40.0]), 0.0, edges) == pytest.approx(-math.log(0.5))  # the window's day 0
    assert month_log_score(np.array([]), 5.0, edges) == pytest.approx(-math.log(FLOOR))  # no forecast: floored
    assert month_log_score(np.array([]), None, edges) == pytest.approx(-math.log(FLOOR))
    p, o = monthly_cells(on_first, 31.0, edges)
    assert p.tolist() == [0.0, 1.0] and o.tolist() == [0.0, 1.0]  # not by the end of January
    p, _ = monthly_cells(np.array([]), None, edges)
    assert p.tolist() == [0.0, 0.0]


def test_month_edges_across_a_year_end_and_on_a_first() -> None:
    edges = month_edges(dt.date(2024, 12, 15), 0.0, 80.0)  # 1 Jan is day 17, 1 Feb day 48, 1 Mar day 76
    assert edges[:-1].tolist() == [0.0, 17.0, 48.0, 76.0]
    on_first = month_edges(dt.date(2025, 1, 1), 0.0, 31.0)  # as_of is 1 February: its own one-day month
    assert on_first.tolist() == [0.0, 31.0, np.nextafter(31.0, np.inf)]


def test_rounds_score_beyond_the_forecast_and_with_no_forecast() -> None:
    out = rounds_score(np.array([0, 1, 1, 2, 5]), 1)
    # cdf 0.2, 0.6, 0.8, 0.8, 0.8, 1.0 against the step at 1
    assert out["rps"] == pytest.approx(0.04 + 0.16 + 0.04 * 3)
    assert out["p_observed"] == pytest.approx(0.4)
    assert out["median"] == 1 and out["low"] == 0 and out["high"] == 5  # inverted CDF: counts that happened
    assert rounds_score(np.array([0, 1]), 3)["rps"] == pytest.approx(0.25 + 1 + 1)  # more held than forecast
    empty = rounds_score(np.array([], dtype=np.int64), 2)
    assert empty["p_observed"] == 0.0 and math.isnan(empty["median"]) and math.isnan(empty["high"])


def test_skill_at_the_perfect_threshold_and_after_an_undefined_baseline() -> None:
    assert skill(scores([0.005], [PERFECT]), "scenario", "null", "window_brier") == pytest.approx(0.5)
    items = [
        ItemScore(
            "case",
            "i",
            None,
            {
                "scenario": {m: 0.1 for m in METRICS},
                "zero": {m: 0.0 for m in METRICS},
                "null": {m: 0.2 for m in METRICS},
            },
        )
    ]
    out = intervals([items], "scenario", ["zero", "null"], resamples=20)
    assert out["skill"]["zero"]["window_brier"].spans_zero is None  # undefined, and the next is still computed
    assert out["skill"]["null"]["window_brier"].value == pytest.approx(0.5)
    it = score_item(
        "cuba", "banking", {"scenario": np.array([5.0])}, 5.0, 0.0, 58.0, month_edges(dt.date(2025, 1, 1), 0.0, 58.0)
    )
    assert (it.case, it.item, it.agreed) == ("cuba", "banking", 5.0)


def _intervals_item_by_item(
    cases: list[list[ItemScore]], name: str, baselines: list[str], resamples: int, seed: int = 0
) -> dict[str, dict[str, dict[str, tuple[float, float]]]]:
    """The intervals as negsim computed them before they were vectorised: each resample a list of
    items, each mean ``np.mean`` of a list (the reference the arrays must match bit for bit)."""
    cases = [c for c in cases if c]
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(resamples):
        picked = [cases[i] for i in rng.integers(0, len(cases), len(cases))] if len(cases) > 1 else cases
        draws.append([c[i] for c in picked for i in rng.integers(0, len(c), len(c))])

    def mean(items: list[ItemScore], who: str, m: str) -> float:
        return float(np.mean([it.scores[who][m] for it in items]))

    def q(values: list[float]) -> tuple[float, float]:
        low, high = np.quantile(np.array(values, dtype=float), [0.025, 0.975])
        return float(low), float(high)

    out: dict[str, dict[str, dict[str, tuple[float, float]]]] = {"score": {}, "skill": {}}
    for who in [name, *baselines]:
        out["score"][who] = {m: q([mean(d, who, m) for d in draws]) for m in METRICS}
    for b in baselines:
        out["skill"][b] = {m: q([mean(d, b, m) - mean(d, name, m) for d in draws]) for m in METRICS}
    return out


@pytest.mark.parametrize("sizes", [[7], [3, 5, 1, 8], [4, 4, 4], [2, 13, 6, 1, 9, 3, 11]])
def test_vectorised_intervals_are_the_item_by_item_ones_bit_for_bit(sizes: list[int]) -> None:
    """The resamples' means on arrays give the same floats as the item-by-item loop they replaced
    (same seed, same draws), for one case and for cases of unequal sizes (resamples of many lengths)."""
    rng = np.random.default_rng(len(sizes))
    forecasters = ["scenario", "null", "naive"]
    cases = [
        [
            ItemScore(f"c{c}", f"i{i}", None, {f: {m: float(rng.random()) for m in METRICS} for f in forecasters})
            for i in range(n)
        ]
        for c, n in enumerate(sizes)
    ]
    got = intervals(cases, "scenario", ["null", "naive"], resamples=500, seed=3)
    want = _intervals_item_by_item(cases, "scenario", ["null", "naive"], resamples=500, seed=3)
    for who, by_metric in want["score"].items():
        for m, (low, high) in by_metric.items():
            assert (got["score"][who][m].low, got["score"][who][m].high) == (low, high)
    for b, by_metric in want["skill"].items():
        base = {m: float(np.mean([it.scores[b][m] for c in cases for it in c])) for m in METRICS}
        for m, (low, high) in by_metric.items():
            assert (got["skill"][b][m].low, got["skill"][b][m].high) == (low / base[m], min(high / base[m], 1.0))


def test_not_agreed_by_the_window_s_end_includes_its_last_day() -> None:
    """'Not agreed by the end' is everything at or after the last edge (and never): two of four
    replications agree on the last edge itself, so 3 of 4 said 'not within the window'."""
    edges = np.array([0.0, 30.0, 60.0])
    days = np.array([10.0, 60.0, 60.0, np.nan])
    assert month_log_score(days, None, edges) == pytest.approx(-math.log(0.75))
    assert month_log_score(days, 10.0, edges) == pytest.approx(-math.log(0.25))
    with pytest.raises(ValueError, match=r"^the agreement day is outside the scored window$"):
        month_log_score(days, 60.0, edges)
    with pytest.raises(ValueError, match=r"^the scored window is empty$"):
        window_brier(days, None, 5.0, 5.0)


def test_rounds_score_of_one_replication_and_an_even_median() -> None:
    """By hand: one replication holding 3 rounds, 1 observed: P(count <= k) is 0, 0, 0, 1 against
    the step 0, 1, 1, 1, so the RPS is 2. The median of 1 and 2 is 1 by the inverted CDF (not 1.5)."""
    assert rounds_score(np.array([3]), 1)["rps"] == pytest.approx(2.0)
    two = rounds_score(np.array([1, 2]), 2)
    assert (two["median"], two["low"], two["high"]) == (1.0, 1.0, 2.0)
    assert two["p_observed"] == 0.5 and two["rps"] == pytest.approx(0.25)


def test_a_metric_undefined_against_a_baseline_leaves_the_others_scored() -> None:
    """The null model perfect on the window Brier score but not on the log score: skill on the first
    is undefined and the second is still 1 - 0.5 / 1.0 (a loop that stopped at the undefined one left
    the log score out). An interval's plain data rounds to four places."""
    items = [
        ItemScore(
            "case",
            "i",
            None,
            {"scenario": {"window_brier": 0.1, "log_score": 0.5}, "null": {"window_brier": 0.0, "log_score": 1.0}},
        )
    ]
    out = intervals([items], "scenario", ["null"], resamples=50)["skill"]["null"]
    assert math.isnan(out["window_brier"].value)
    assert out["log_score"].value == pytest.approx(0.5)
    assert out["log_score"].as_dict()["value"] == 0.5
    assert Interval(0.123456, 0.1, 0.2).as_dict() == {"value": 0.1235, "low": 0.1, "high": 0.2, "spans_zero": False}
