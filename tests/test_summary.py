"""What summary.json, summary.csv and the printed table say about a run."""

from __future__ import annotations

import numpy as np
import pytest

from sim.results.stats import wilson
from sim.results.summary import joint_outcomes, summarize, summary_csv
from tests.helpers import make, records

S = make(
    calendar={"start": "2025-01-01", "horizon": 100, "milestones": [10, 50]},
    items={"a": {"p": 0.5}, "b": {"p": 0.5}},
)


def test_probability_and_wilson_interval_per_item() -> None:
    """P(agreed by horizon) is the share agreed, with its Wilson interval and count."""
    rec = records([[1, None], [2, None], [None, 5], [3, None]])
    a, b = summarize(S, rec)["items"]
    assert (a["p"], a["count"]) == (0.75, 3)
    assert (a["ci_low"], a["ci_high"]) == pytest.approx(wilson(3, 4), abs=1e-6)
    assert (b["p"], b["count"]) == (0.25, 1)


def test_milestones_count_agreements_on_the_day_itself() -> None:
    """P(agreed by a milestone) includes agreements on the milestone's own day."""
    rec = records([[10, 50], [11, 49], [None, 51], [9, None]])
    a, b = summarize(S, rec)["items"]
    assert [m["p"] for m in a["by_milestone"]] == [0.5, 0.75]
    assert [m["p"] for m in b["by_milestone"]] == [0.0, 0.5]
    assert [m["date"] for m in a["by_milestone"]] == ["2025-01-11", "2025-02-20"]


def test_median_counts_the_replications_that_never_agreed() -> None:
    """The median date is reached only if half of all replications agreed by then."""
    rec = records([[1, 1], [90, None], [None, None], [None, None], [2, None]])
    a, b = summarize(S, rec)["items"]
    assert a["median"]["day"] == 90.0  # 3 of 5 agreed; the 3rd earliest day
    assert b["median"] is None


def test_median_if_agreed_is_the_median_not_the_mean() -> None:
    """Among the replications that agreed: the median day (1, 2, 90 -> 2), not the mean (31)."""
    rec = records([[1, None], [90, None], [2, None], [None, None]])
    assert summarize(S, rec)["items"][0]["median_if_agreed"]["day"] == 2.0
    even = records([[1, None], [90, None], [3, None], [4, None]])
    assert summarize(S, even)["items"][0]["median_if_agreed"]["day"] == 3.5  # numpy's median of 1, 3, 4, 90


def test_day_quantiles() -> None:
    """Quantiles of the agreement day over all replications (never agreed counts as after the horizon)."""
    rec = records([[d, None] for d in (1, 2, 3, 4, 5, 6, 7, 8, None, None)])
    q = summarize(S, rec)["items"][0]["day_quantiles"]
    assert {k: (v or {}).get("day") for k, v in q.items()} == {
        "0.1": 1.0,
        "0.25": 3.0,
        "0.5": 5.0,
        "0.75": 8.0,
        "0.9": None,
    }


def test_joint_outcomes_most_frequent_first_ties_in_a_fixed_order() -> None:
    """Sets of items agreed by the horizon, most frequent first; equal counts in a fixed order."""
    rec = records([[1, 1], [1, None], [None, None], [None, 2], [1, None], [None, None], [1, 1], [1, None]])
    out = joint_outcomes(rec, ("a", "b"))
    assert [(o["agreed"], o["count"]) for o in out] == [(["a"], 3), ([], 2), (["a", "b"], 2), (["b"], 1)]
    assert out[0]["p"] == 3 / 8
    assert joint_outcomes(rec, ("a", "b"), top=2) == out[:2]
    assert [(o["agreed"], o["count"]) for o in joint_outcomes(rec.take(1), ("a", "b"))] == [(["a", "b"], 1)]
    assert joint_outcomes(rec.take(0), ("a", "b")) == []


def test_all_agreed_breakdown_and_rounds() -> None:
    """P(all agreed), P(breakdown) with its median day, and rounds held."""
    rec = records(
        [[1, 1], [1, None], [2, 3], [None, None]],
        breakdown=[False, True, False, True],
        breakdown_day=[np.nan, 40.0, np.nan, 60.0],
        rounds_held=[1, 2, 3, 10],
    )
    sm = summarize(S, rec)
    assert sm["all_agreed"]["count"] == 2
    assert (sm["breakdown"]["p"], sm["breakdown"]["median_day"]["day"]) == (0.5, 60.0)
    assert sm["rounds"]["held_mean"] == 4.0
    assert sm["rounds"]["held_quantiles"]["0.5"] == 2


def test_summary_csv_has_one_row_per_item_and_a_column_per_milestone() -> None:
    """summary.csv: item, probability, interval, medians, then P by each milestone; missing values empty."""
    text = summary_csv(summarize(S, records([[10, None], [None, None]])))
    lines = text.splitlines()
    assert lines[0].split(",")[-2:] == ["p_by_2025-01-11", "p_by_2025-02-20"]
    assert lines[1].startswith("a,a,0.5,")
    assert lines[2].split(",")[5:8] == ["", "", ""]  # item b: no median, no conditional median
    assert len(lines) == 3


def test_summary_json_is_exactly_this() -> None:
    """The whole of summary.json for three replications built by hand: every key, every rounding."""
    s = make(
        title="T",
        calendar={"start": "2025-01-01", "horizon": 100, "milestones": [50]},
        items={"a": {"p": 0.5, "title": "A"}, "b": {"p": 0.5}},
        constraints={"c": {"title": "C", "lift": {"rate": 1}}, "d": {"active": False, "lift": {"on": 5}}},
        events={"e": {"rate": 1}},
    )
    rec = records(
        [[10, None], [60, 70], [None, None]],
        constraints=2,
        events=1,
        rounds_held=[1, 2, 4],
        rounds_cancelled=[0, 1, 0],
        rounds_suspended=[2, 0, 0],
        item_round=[[1, -1], [2, 3], [-1, -1]],
        constraint_lifted=[[True, False], [False, False], [True, False]],
        constraint_day=[[40.0, np.nan], [np.nan, np.nan], [80.0, np.nan]],
        constraint_active=[[False, False], [True, False], [False, True]],
        constraint_in_force=[[0b111, 0], [0b1, 0b10], [0, 0]],
        breakdown=[False, True, False],
        breakdown_day=[np.nan, 30.5, np.nan],
        trust=[0.1, -0.2, 0.3333333],
        event_count=[[1], [0], [2]],
        next_round_day=[5.0, 95.0, np.nan],
    )

    def prop(k: int, n: int = 3) -> dict[str, object]:
        low, high = wilson(k, n)
        return {"p": round(k / n, 6), "ci_low": round(low, 6), "ci_high": round(high, 6), "count": k}

    def day(d: float, date: str) -> dict[str, object]:
        return {"day": d, "date": date}

    assert summarize(s, rec) == {
        "scenario": "test",
        "title": "T",
        "replications": 3,
        "seed": 12345,
        "start": "2025-01-01",
        "horizon": day(100.0, "2025-04-11"),
        "items": [
            {
                "item": "a",
                "title": "A",
                **prop(2),
                "by_milestone": [{**day(50.0, "2025-02-20"), **prop(1)}],
                "day_quantiles": {
                    "0.1": day(10.0, "2025-01-11"),
                    "0.25": day(10.0, "2025-01-11"),
                    "0.5": day(60.0, "2025-03-02"),
                    "0.75": None,
                    "0.9": None,
                },
                "median": day(60.0, "2025-03-02"),
                "median_if_agreed": day(35.0, "2025-02-05"),
                "mean_round_if_agreed": 1.5,
            },
            {
                "item": "b",
                "title": "b",
                **prop(1),
                "by_milestone": [{**day(50.0, "2025-02-20"), **prop(0)}],
                "day_quantiles": {
                    "0.1": day(70.0, "2025-03-12"),
                    "0.25": day(70.0, "2025-03-12"),
                    "0.5": None,
                    "0.75": None,
                    "0.9": None,
                },
                "median": None,
                "median_if_agreed": day(70.0, "2025-03-12"),
                "mean_round_if_agreed": 3.0,
            },
        ],
        "constraints": [
            {
                "constraint": "c",
                "title": "C",
                "active_at_start": True,
                "lifted": prop(2),
                "active_at_horizon": prop(1),
                "median_first_lift": day(80.0, "2025-03-22"),
                "in_force": [2, 1, 1] + [0] * 61,  # counts on each of the 64 record days
            },
            {
                "constraint": "d",
                "title": "d",
                "active_at_start": False,
                "lifted": prop(0),
                "active_at_horizon": prop(1),
                "median_first_lift": None,
                "in_force": [0, 1] + [0] * 62,
            },
        ],
        "breakdown": {**prop(1), "median_day": None},
        "rounds": {
            "held_mean": 2.3333,
            "held_quantiles": {"0.1": 1, "0.25": 1, "0.5": 2, "0.75": 4, "0.9": 4},
            "cancelled_mean": 0.3333,
            "suspended_mean": 0.6667,
            # no round held by 2025-04-01 (day 90; six months would pass the horizon): the second and third
            "no_round_within": [{"months": 3, "until": "2025-04-01", **prop(2)}],
        },
        "all_agreed": prop(1),
        "joint_outcomes": [
            {"agreed": [], **prop(1)},
            {"agreed": ["a"], **prop(1)},
            {"agreed": ["a", "b"], **prop(1)},
        ],
        "events": [{"event": "e", "mean_count": 1.0}],
        "judgements": [],
        "trust": {
            "mean": 0.0778,
            "quantiles": {"0.1": -0.14, "0.25": -0.05, "0.5": 0.1, "0.75": 0.2167, "0.9": 0.2867},
        },
    }


def test_an_empty_run_summarises_to_nothing_not_a_crash() -> None:
    """No replications: probabilities are null, lists are empty."""
    sm = summarize(S, records([[None, None]]).take(0))
    assert sm["replications"] == 0 and sm["joint_outcomes"] == [] and sm["rounds"]["held_quantiles"] == {}
    assert sm["items"][0]["p"] is None and sm["rounds"]["held_mean"] is None


def test_summary_csv_is_exactly_this() -> None:
    """summary.csv, whole, for a run built by hand."""
    text = summary_csv(summarize(S, records([[10, None], [60, None], [None, 5]])))
    low, high = wilson(2, 3)
    low1, high1 = wilson(1, 3)
    assert text == (
        "item,title,p_agreed,ci_low,ci_high,median_date,median_day,median_date_if_agreed,p_by_2025-01-11,p_by_2025-02-20\n"
        f"a,a,0.666667,{round(low, 6)},{round(high, 6)},2025-03-02,60.0,2025-02-05,0.333333,0.333333\n"
        f"b,b,0.333333,{round(low1, 6)},{round(high1, 6)},,,2025-01-06,0.333333,0.333333\n"
    )


def test_judgements_say_which_items_they_drive() -> None:
    """Per uncertain judgement: its draws' quantiles, and P(agreed) in each quarter of its draws."""
    from sim.engine.plan import compile_plan
    from sim.engine.simulate import simulate

    s = make(items={"a": {"p": {"dist": "uniform", "low": 0.0, "high": 0.4}}, "b": {"p": 0.3}})
    sm = summarize(s, simulate(compile_plan(s), 0, 4000))
    (row,) = sm["judgements"]
    assert row["path"] == "items.a.p" and row["distribution"] == "uniform(low=0, high=0.4)"
    assert row["quantiles"]["0.5"] == pytest.approx(0.2, abs=0.02)
    a, b = row["items"]["a"], row["items"]["b"]
    assert a["p_by_quarter"] == sorted(a["p_by_quarter"]) and a["spread"] > 0.3  # higher p, more agreement
    assert abs(b["spread"]) < 0.06  # item b does not depend on a's p (common random numbers: exact)


def test_talks_regime_and_how_items_were_agreed_are_exactly_this() -> None:
    """A scenario that can pause its talks, has a regime and agrees items outside rounds: the talks,
    the regime's shares at the start and at the horizon, how each item was agreed, and the roundings
    (a mean round and an event's mean count of thirds, a day of five decimals)."""
    from sim.engine.records import HOW_ENACTED, HOW_OUTSIDE, HOW_ROUND

    s = make(
        calendar={"start": "2025-01-31", "horizon": 500},
        rounds={"stall": 1.0, "resume": 2.0},
        items={"a": {"p": 0.5, "hazard": 1.0}, "b": {"p": 0.5}},
        events={"e": {"rate": 1}},
        regime={"states": {"decided": {"share": 0.3, "odds": 4.0, "title": "Decided"}, "not": {"odds": 0.5}}},
    )
    rec = records(
        [[10.12345, None], [60, 70.5], [200.7, None]],
        events=1,
        item_round=[[1, -1], [1, 3], [2, -1]],
        item_how=[[HOW_ROUND, 0], [HOW_OUTSIDE, HOW_ROUND], [HOW_ENACTED, 0]],
        event_count=[[1], [0], [1]],
        paused=[True, False, True],
        pauses=[1, 0, 1],
        rounds_paused=[2, 0, 3],
        paused_record=[0b11, 0b1, 0],
        regime_start=[0, 1, 1],
        regime=[0, 0, 1],
    )

    def prop(k: int, n: int = 3) -> dict[str, object]:
        low, high = wilson(k, n)
        return {"p": round(k / n, 6), "ci_low": round(low, 6), "ci_high": round(high, 6), "count": k}

    sm = summarize(s, rec)
    a, b = sm["items"]
    assert a["mean_round_if_agreed"] == 1.333 and b["mean_round_if_agreed"] == 3.0
    assert a["day_quantiles"]["0.1"] == {"day": 10.123, "date": "2025-02-10"}
    assert a["how"] == {"round": prop(1), "enacted": prop(1), "outside": prop(1)}
    assert b["how"] == {"round": prop(1), "enacted": prop(0), "outside": prop(0)}
    assert sm["events"] == [{"event": "e", "mean_count": 0.6667}]
    assert sm["talks"] == {
        "paused_at_horizon": prop(2),
        "pauses_mean": 0.6667,
        "rounds_paused_mean": 1.6667,
        "paused": [2, 1] + [0] * 62,
    }
    assert sm["regime"] == [
        {"state": "decided", "title": "Decided", **prop(1), "at_horizon": prop(2)},
        {"state": "not", "title": "not", **prop(2), "at_horizon": prop(1)},
    ]
    rec.regime = np.zeros(3, np.int8)  # no replication ends in the last state: it is still listed, at 0
    assert [(r["count"], r["at_horizon"]["count"]) for r in summarize(s, rec)["regime"]] == [(1, 3), (2, 0)]
    rec.regime_start = np.zeros(3, np.int8)  # nor starts in it
    assert [(r["count"], r["at_horizon"]["count"]) for r in summarize(s, rec)["regime"]] == [(3, 3), (0, 0)]
    plain = make(items={"a": {"p": 0.5}})
    assert not {"talks", "regime"} & set(summarize(plain, records([[1]])))
    assert "how" not in summarize(plain, records([[1]]))["items"][0]


def test_no_round_within_counts_calendar_months_from_the_origin() -> None:
    """From an origin on day 59.5 (31 March 2025, half a day in), 3, 6 and 12 months are the 28th of
    June, September and March (the day of the month kept, at most the 28th), plus the half day; a
    round on the limit itself is within it, and a span ending on the horizon is still given."""
    import datetime as dt

    start = dt.date(2025, 1, 31)
    limits = [(dt.date(y, m, 28) - start).days + 0.5 for y, m in ((2025, 6), (2025, 9), (2026, 3))]
    assert limits == [148.5, 240.5, 421.5]
    s = make(calendar={"start": "2025-01-31", "horizon": 421.5}, items={"a": {"p": 0.5}})
    rec = records([[None]] * 4, next_round_day=[148.5, 200.0, 421.5, np.nan])
    rows = summarize(s, rec, origin=59.5)["rounds"]["no_round_within"]
    assert [(r["months"], r["until"], r["count"]) for r in rows] == [
        (3, "2025-06-28", 3),  # the round on day 148.5 itself is within the first three months
        (6, "2025-09-28", 2),
        (12, "2026-03-28", 1),
    ]
    shorter = make(calendar={"start": "2025-01-31", "horizon": 421.0}, items={"a": {"p": 0.5}})
    assert [r["months"] for r in summarize(shorter, rec, origin=59.5)["rounds"]["no_round_within"]] == [3, 6]


def test_judgement_quarters_spread_and_shares_are_exactly_these() -> None:
    """Quarters of a judgement's draws ranked with ties in replication order; the spread between the
    highest and lowest quarter; the share and its interval as shares.share gives them for this
    judgement and item; and two replications leave quarters empty, with no spread."""
    from sim.results import shares

    s = make(items={"a": {"p": {"dist": "uniform", "low": 0.0, "high": 0.4}}, "b": {"p": 0.3}})
    rng = np.random.default_rng(9)  # ties (draws in threes) across the quarters' edges, and in no order
    draws = rng.permutation(np.repeat(np.arange(22), 3)[:64] / 40)
    agreed = rng.random(64) < 0.5
    n = draws.size
    rec = records([[1 if x else None, None] for x in agreed], parameters=draws[:, None])
    (row,) = summarize(s, rec)["judgements"]
    quarter = np.zeros(n, int)
    quarter[sorted(range(n), key=lambda i: (draws[i], i))] = np.arange(n) * 4 // n
    want = [round(float(agreed[quarter == q].mean()), 6) for q in range(4)]
    a = row["items"]["a"]
    assert a["p_by_quarter"] == want and a["spread"] == round(want[3] - want[0], 6)
    share = shares.share(shares.bins_of(draws), agreed, s.simulation.seed, "items.a.p", "a")
    assert share is not None
    assert (a["share"], a["share_low"], a["share_high"]) == tuple(round(x, 6) for x in share)
    assert row["mean"] == round(float(draws.mean()), 6)
    two = summarize(s, rec.take(2))["judgements"][0]["items"]["a"]
    assert two["p_by_quarter"][1] is None and two["spread"] is None
    assert summarize(s, rec.take(0))["judgements"][0]["quantiles"] == {}


def test_summary_csv_of_one_item_and_of_none() -> None:
    """The milestone columns come from the first item; a summary without items is a header alone."""
    one = make(calendar={"start": "2025-01-01", "horizon": 100, "milestones": [10]}, items={"a": {"p": 0.5}})
    assert summary_csv(summarize(one, records([[5]]))).splitlines()[0].endswith(",p_by_2025-01-11")
    assert summary_csv({"items": []}) == (
        "item,title,p_agreed,ci_low,ci_high,median_date,median_day,median_date_if_agreed\n"
    )
