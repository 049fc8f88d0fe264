"""score.json's parts, made from cases built by hand: each case's entry, the pooled figures (items
alike and cases alike), the forecasts on record, the case that moves skill most, the origins of
``score --origins`` and their rows, and the score folder. The mutation run of ``score`` found these
reached only through the command line, where a key spelt otherwise or a figure rounded to seven
places went unseen."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest

from sim.errors import UserError
from sim.results.observed import Observed, OnRecord, Rounds
from sim.results.score import (
    METHOD,
    Case,
    Forecast,
    Scored,
    by_date,
    case_data,
    cases_alike,
    default_checkpoints,
    default_folder,
    forecasts,
    forecasts_csv,
    most_influential,
    on_record_scores,
    origin_dates,
    origin_entry,
    pooled_data,
    score_case,
    scored_data,
    summarize,
    write,
)
from sim.results.skill import skill
from sim.results.stats import wilson
from tests.helpers import make, records

D = dt.date
S = make(
    calendar={"start": "2025-01-01", "horizon": 100},
    items={"a": {"p": 0.5}, "b": {"p": 0.2}, "c": {"p": 0.1}},
)
NAN = math.nan


def a_case(label: str = "one", origin: float = 5.0, held: bool = True, **observed: object) -> Case:
    """Three replications of S scored from ``origin`` to as_of (day 59) beside a null model."""
    rec = records([[10, None, None], [31, 5.5, None], [None, None, 40]], breakdown_day=[NAN, NAN, 31.0])
    null = records([[1, 1, None], [50, None, None], [None, None, None]], held_by_census=[5, 6, 7])
    obs = Observed.model_validate(
        {
            "as_of": D(2025, 3, 1),
            "items": {"a": D(2025, 1, 11), "b": None},
            "breakdown": D(2025, 2, 1),
            "rounds": Rounds(held=[D(2025, 1, 1), D(2025, 1, 20), D(2025, 2, 10)]),
            "forecasts": [
                OnRecord(source="an expert", made=D(2025, 1, 9), item="a", by=D(2025, 2, 1), p=0.8),
                OnRecord(source="a market", made=D(2025, 1, 9), item="b", by=D(2025, 1, 31), p=0.3),
            ],
            **observed,
        }
    )
    counts = np.array([2, 3, 4]) if held else None
    return score_case(
        label, S, rec, obs, {"null": null}, counts, run=f"runs/{label}", observed_file=f"{label}.yaml", origin=origin
    )


def test_a_case_entry_says_what_the_case_holds_rounded_to_six_places() -> None:
    case = a_case()
    entry = case_data(case)
    assert (entry["run"], entry["observed"], entry["scenario"], entry["as_of"]) == (
        "runs/one",
        "one.yaml",
        S.name,
        "2025-03-01",
    )
    assert entry["window"] == {"from": "2025-01-06", "to": "2025-03-01", "days": 54.0}
    assert [(it["item"], it["agreed"]) for it in entry["items"]] == [("a", "2025-01-11"), ("b", None)]
    for shown, it in zip(entry["items"], case.items, strict=True):
        for who, scores in it.scores.items():
            assert shown[who] == {m: round(v, 6) for m, v in scores.items()}
            assert any(round(v, 6) != round(v, 7) for v in scores.values() if v)  # a seventh place would show
    mean = {who: np.mean([it.scores[who]["window_brier"] for it in case.items]) for who in ("scenario", "null")}
    assert entry["score"]["scenario"]["window_brier"]["value"] == pytest.approx(mean["scenario"], abs=5e-5)
    assert entry["skill"]["null"]["window_brier"]["value"] == pytest.approx(
        1 - mean["scenario"] / mean["null"], abs=5e-5
    )
    assert set(entry["score"]) == {"scenario", "null", "status_quo"}
    assert case.rounds is not None and entry["rounds"] == {
        k: {m: round(v, 6) for m, v in r.items()} for k, r in case.rounds.items()
    }
    assert entry["rounds"]["null"]["rps"] != round(case.rounds["null"]["rps"], 7)
    assert entry["breakdown"] == case.breakdown and entry["breakdown"]["observed"] == "2025-02-01"
    assert entry["notes"] == case.notes and "not scored (the observed file does not list them): c" in entry["notes"]
    expert = entry["on_record"][0]
    assert expert == {
        "source": "an expert",
        "made": "2025-01-09",
        "item": "a",
        "by": "2025-02-01",
        "observed": 1,
        "record": 0.8,
        "scenario": 0.666667,
        "null": 0.333333,
    }
    assert entry["checkpoints"]["forecasts"] == len([r for r in case.rows if r.kind == "item"])
    assert set(entry["checkpoints"]) >= {"brier", "items", "breakdown"}


def test_a_case_without_rounds_notes_or_forecasts_on_record_leaves_them_out() -> None:
    entry = case_data(a_case(held=False, forecasts=[], items={"a": D(2025, 1, 11), "b": None, "c": None}))
    assert "on_record" not in entry and "rounds" not in entry
    assert entry["notes"] == ["rounds held not scored: this negsim does not reproduce the run's records"]
    entry = case_data(a_case(held=False, forecasts=[], items={"a": D(2025, 1, 11), "b": None, "c": None}, rounds=None))
    assert "notes" not in entry


def test_pooled_figures_weigh_items_alike_and_count_only_cases_with_items() -> None:
    one, two = a_case("one"), a_case("two", origin=0.0)
    empty = a_case("none", items={"a": D(2025, 1, 2)})  # agreed before the origin: nothing to score
    assert empty.items == []
    pooled = pooled_data([one, two, empty])
    every = [*one.items, *two.items]
    assert (pooled["cases"], pooled["items"]) == (2, len(every))
    scores = [it.scores["scenario"]["window_brier"] for it in every]
    assert pooled["score"]["scenario"]["window_brier"]["value"] == pytest.approx(np.mean(scores), abs=5e-5)
    assert pooled["on_record"] == on_record_scores([one, two, empty])
    assert one.rounds is not None and two.rounds is not None and empty.rounds is not None
    rounds = [one.rounds, two.rounds, empty.rounds]
    assert pooled["rounds"] == {
        k: {"rps": round(float(np.mean([r[k]["rps"] for r in rounds])), 6)} for k in ("scenario", "null")
    }
    assert pooled["checkpoints"] == summarize([*one.rows, *two.rows, *empty.rows])
    alone = pooled_data([a_case(held=False, forecasts=[])])
    assert "rounds" not in alone and "on_record" not in alone


def test_forecasts_on_record_are_scored_on_their_cells_beside_the_scenario_and_the_null() -> None:
    one, two = a_case("one"), a_case("two", origin=0.0)
    cells = [*one.on_record, *two.on_record]
    assert [c["item"] for c in cells] == ["a", "b", "a", "b"]
    o = np.array([c["observed"] for c in cells], float)
    assert o.tolist() == [1.0, 0.0, 1.0, 0.0]
    got = on_record_scores([one, two])
    assert got is not None and got["cells"] == 4
    for who in ("record", "scenario", "null"):
        p = np.array([c[who] for c in cells])
        assert got[f"{who}_brier"] == round(float(np.mean((p - o) ** 2)), 6)
    assert got["record_brier"] == round((0.2**2 + 0.3**2) / 2, 6) and got["scenario_brier"] == 0.111111
    assert on_record_scores([a_case(forecasts=[])]) is None


def test_cases_alike_take_the_mean_of_each_case_mean() -> None:
    one, two = a_case("one"), a_case("two", items={"a": D(2025, 1, 11)})
    alike = cases_alike([one, two, a_case("none", items={"a": D(2025, 1, 2)})])
    means = [np.mean([it.scores["scenario"]["window_brier"] for it in c.items]) for c in (one, two)]
    assert alike["cases"] == 2
    assert alike["score"]["scenario"]["window_brier"]["value"] == pytest.approx(np.mean(means), abs=5e-5)
    assert cases_alike([]) == {"cases": 0}


def test_the_most_influential_case_is_the_one_whose_removal_moves_skill_most() -> None:
    cases = [a_case("one"), a_case("two", items={"a": D(2025, 1, 11)}), a_case("three", origin=0.0)]
    every = [it for c in cases for it in c.items]
    whole = skill(every, "scenario", "null", "window_brier")
    moves = {
        c.label: skill([it for o in cases if o is not c for it in o.items], "scenario", "null", "window_brier") - whole
        for c in cases
    }
    top = max(moves, key=lambda k: abs(moves[k]))
    assert sorted(abs(m) for m in moves.values())[-2] < abs(moves[top])  # one case stands out
    got = most_influential([*cases, a_case("none", items={"a": D(2025, 1, 2)})])
    assert got == {
        "case": top,
        "baseline": "null",
        "metric": "window_brier",
        "skill": round(whole, 4),
        "skill_without": round(whole + moves[top], 4),
        "change": round(moves[top], 4),
    }
    assert most_influential(cases, baseline="status_quo")["baseline"] == "status_quo"  # type: ignore[index]
    assert most_influential(cases[:1]) is None


def test_origins_are_the_start_and_each_month_or_quarter_end_before_as_of() -> None:
    s = make(calendar={"start": "2024-11-20", "horizon": 400}, items={"a": {"p": 0.5}})
    obs = Observed(as_of=D(2025, 4, 30), items={"a": None})
    assert origin_dates("monthly", s, obs) == [
        D(2024, 11, 20),
        D(2024, 11, 30),
        D(2024, 12, 31),
        D(2025, 1, 31),
        D(2025, 2, 28),
        D(2025, 3, 31),  # not April 30: that is as_of, with nothing left to forecast
    ]
    assert origin_dates("quarterly", s, obs) == [D(2024, 11, 20), D(2024, 12, 31), D(2025, 3, 31)]
    on_an_end = make(calendar={"start": "2025-01-31", "horizon": 400}, items={"a": {"p": 0.5}})
    assert origin_dates("monthly", on_an_end, obs)[:2] == [D(2025, 1, 31), D(2025, 2, 28)]
    listed = origin_dates(" 2025-02-01,2024-12-05, 2025-02-01", s, obs)
    assert listed == [D(2024, 12, 5), D(2025, 2, 1)]


def test_origins_that_are_not_dates_or_outside_the_window_are_refused_saying_what_to_give() -> None:
    s = make(calendar={"start": "2025-01-01", "horizon": 100}, items={"a": {"p": 0.5}})
    obs = Observed(as_of=D(2025, 3, 1), items={"a": None})
    with pytest.raises(UserError) as bad:
        origin_dates("montly", s, obs)
    assert str(bad.value) == (
        "--origins: 'montly' is not a date (YYYY-MM-DD) (did you mean 'monthly'?); "
        "give dates separated by commas, 'monthly' or 'quarterly'"
    )
    with pytest.raises(
        UserError, match=r"2025-03-01 is outside the scored window: .* \(2025-01-01\) .* \(2025-03-01\)"
    ):
        origin_dates("2025-03-01", s, obs)


def test_an_origin_row_says_what_was_kept_and_scored() -> None:
    when = D(2025, 1, 6)
    rec = records([[10, None, None], [31, 5, None], [None, None, 40]])
    too = origin_entry(when, S, None, 300, 0, None)
    assert too == {
        "origin": "2025-01-06",
        "day": 5.0,
        "tried": 300,
        "kept": 0,
        "acceptance": 0.0,
        "status": "too unlikely",
    }
    none = origin_entry(when, S, None, 0, 0, None, {})
    assert (none["status"], none["acceptance"], none["kept"]) == ("nothing open", None, 0)
    kept = origin_entry(when, S, rec, 9, 3, None, {})
    assert (kept["status"], kept["kept"], kept["acceptance"]) == ("nothing open", 3, 0.333333)
    assert "window_brier" not in kept
    a = kept["p_by_horizon"]["a"]
    assert a["p"] == 0.666667 and 0 < a["low"] < 0.666667 < a["high"] < 1
    low, high = wilson(2, 3)
    assert (a["low"], a["high"]) == (round(low, 6), round(high, 6)) and low != round(low, 6) != round(low, 7)
    case = a_case()
    scored = case_data(case)
    row = origin_entry(when, S, rec, 9, 3, case, scored)
    assert row["status"] == "scored" and row["items_scored"] == 2
    assert row["window_brier"] == {
        w: scored["score"][w]["window_brier"]["value"] for w in ("scenario", "null", "status_quo")
    }
    assert row["skill_null"] == scored["skill"]["null"]["window_brier"]
    empty = a_case(items={"a": D(2025, 1, 2)})
    assert origin_entry(when, S, rec, 9, 3, empty, scored)["status"] == "nothing open"


def test_the_score_folder_is_beside_one_run_and_stamped_for_several(tmp_path: Path) -> None:
    assert default_folder(["runs/x"]) == Path("runs/x/score")
    several = default_folder(["runs/x", "runs/y"])
    assert several.parent == Path("results/scores") and several.name[:4].isdigit()


def test_the_score_folder_holds_score_json_its_manifest_and_the_forecasts(tmp_path: Path) -> None:
    cases = [a_case("one"), a_case("two", origin=0.0)]
    scored = Scored(cases, scored_data(cases))
    target = tmp_path / "score"
    seen: list[Path] = []

    def extra(tmp: Path) -> None:
        seen.append(tmp)
        (tmp / "extra.png").write_bytes(b"x")

    assert write(scored, target, extra=extra) == target
    assert seen and seen[0] != target and (target / "extra.png").read_bytes() == b"x"
    assert json.loads((target / "score.json").read_text()) == json.loads(json.dumps(scored.data))
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["kind"] == "score"
    assert manifest["runs"] == [
        {"run": "runs/one", "observed": "one.yaml"},
        {"run": "runs/two", "observed": "two.yaml"},
    ]
    assert (target / "forecasts.csv").read_text() == forecasts_csv(scored.labelled)
    with pytest.raises(UserError):
        write(scored, target)  # an existing folder is kept without --force
    assert write(scored, target, force=True) == target and not (target / "extra.png").exists()
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({"kind": "run"}))
    with pytest.raises(UserError):
        write(scored, run, force=True)  # --force replaces a score folder, never a run


def test_forecasts_csv_writes_an_empty_cell_where_there_is_no_null_model() -> None:
    rows = [
        ("one", Forecast("item", "a", D(2025, 2, 1), 1 / 3, 2 / 3, 1)),
        ("one", Forecast("breakdown", "breakdown", D(2025, 2, 1), 0.25, None, 0)),
    ]
    table = list(csv.reader(io.StringIO(forecasts_csv(rows))))
    assert table == [
        ["run", "kind", "name", "checkpoint", "p", "null_p", "observed"],
        ["one", "item", "a", "2025-02-01", "0.333333", "0.666667", "1"],
        ["one", "breakdown", "breakdown", "2025-02-01", "0.250000", "", "0"],
    ]


def test_two_cases_are_enough_to_name_the_most_influential() -> None:
    cases = [a_case("one"), a_case("two", items={"a": D(2025, 1, 11)})]
    whole = skill([it for c in cases for it in c.items], "scenario", "null", "window_brier")
    got = most_influential(cases)
    assert got is not None and got["skill"] == round(whole, 4) != round(whole, 5)


def test_a_case_whose_removal_leaves_skill_undefined_is_never_the_most_influential() -> None:
    """Without the first case, the null model is perfect on what is left (it agrees nothing, and
    nothing was agreed): skill is undefined there, so that case's removal moves nothing we can
    measure, and the case named is another."""

    def quiet(label: str) -> Case:
        rec = records([[10, None, None], [None, None, None]])
        null = records([[None, None, None], [None, None, None]])
        obs = Observed(as_of=D(2025, 3, 1), items={"a": None, "b": None})
        return score_case(label, S, rec, obs, {"null": null})

    cases = [a_case("first"), quiet("second"), quiet("third")]
    rest = [it for c in cases[1:] for it in c.items]
    assert math.isnan(skill(rest, "scenario", "null", "window_brier"))
    got = most_influential(cases)
    assert got is not None and got["case"] in ("second", "third") and not math.isnan(got["change"])


def test_the_checkpoint_view_gives_each_item_constraint_and_breakdown_its_observed_outcome() -> None:
    """forecasts() without a null model leaves null_p out; a constraint lifted on its checkpoint
    counts as lifted; by_date of no replications is undefined, without a warning."""
    s = make(
        calendar={"start": "2025-01-01", "horizon": 100},
        items={"a": {"p": 0.5}},
        constraints={"ban": {"lift": {"rate": 1}}},
    )
    rec = records([[10], [None]], constraints=1, constraint_day=[[31.0], [np.nan]])
    obs = Observed(
        as_of=D(2025, 3, 1),
        checkpoints=[D(2025, 2, 1)],
        items={"a": D(2025, 1, 11)},
        constraints={"ban": D(2025, 2, 1)},
    )
    rows = forecasts(s, rec, obs)
    assert [(r.kind, r.name, r.p, r.null_p, r.observed) for r in rows] == [
        ("item", "a", 0.5, None, 1),
        ("constraint", "ban", 0.5, None, 1),
    ]
    assert math.isnan(by_date(np.array([]), s, D(2025, 2, 1)))


def test_the_log_score_of_the_checkpoint_view_gives_what_happened_its_chance() -> None:
    """Forecasts 0.9 and 0.2 of things that both happened: -(log 0.9 + log 0.2) / 2 (not the
    chance of their not happening)."""
    rows = [
        Forecast("item", "a", D(2025, 2, 1), 0.9, 0.5, 1),
        Forecast("item", "b", D(2025, 2, 1), 0.2, 0.5, 1),
    ]
    assert summarize(rows)["log_score"] == round(-(math.log(0.9) + math.log(0.2)) / 2, 6)


def test_default_checkpoints_are_quarter_ends_after_the_start_and_the_last_day() -> None:
    def cps(start: str, until: dt.date) -> list[dt.date]:
        return default_checkpoints(make(calendar={"start": start, "horizon": 400}, items={"a": {"p": 0.5}}), until)

    assert cps("2025-02-10", D(2025, 8, 15)) == [D(2025, 3, 31), D(2025, 6, 30), D(2025, 8, 15)]
    assert cps("2025-04-02", D(2025, 8, 15)) == [D(2025, 6, 30), D(2025, 8, 15)]
    assert cps("2024-11-05", D(2025, 4, 1)) == [D(2024, 12, 31), D(2025, 3, 31), D(2025, 4, 1)]
    assert cps("2025-03-31", D(2025, 9, 30)) == [D(2025, 6, 30), D(2025, 9, 30)]  # the start is not a checkpoint
    assert cps("2025-01-01", D(2025, 9, 30)) == [D(2025, 3, 31), D(2025, 6, 30), D(2025, 9, 30)]
    assert cps("2025-01-01", D(2025, 3, 31)) == [D(2025, 3, 31)]


def test_what_a_case_scores_and_leaves_out_follows_the_observed_file() -> None:
    """Items agreed before the start, or known at the origin (agreed on it or before), are not
    forecast; the first item unlisted does not stop the others; notes say what is unscored."""
    s = make(
        calendar={"start": "2025-01-01", "horizon": 100},
        items={
            "x": {"p": 0.5},
            "y": {"p": 0.5},
            "z": {"p": 0.5},
            "w": {"p": 0.5},
            "old": {"status": "agreed", "p": 0.5},
        },
    )
    rec = records([[3, 10, 20, None, 0.0], [None, 40, None, 12, 0.0], [None, None, None, None, 0.0]])
    null = records([[1, 5, 10, 50, 0.0], [None, 12, 30, None, 0.0], [None, None, 0.0, None, 0.0]])
    obs = Observed(as_of=D(2025, 3, 1), items={"y": D(2025, 1, 11), "z": None, "old": D(2024, 12, 1)})
    case = score_case("t", s, rec, obs, {"null": null}, origin=10.0)
    assert case.run == "" and case.observed_file == ""
    assert [it.item for it in case.items] == ["z"] and case.items[0].case == "t"  # y: agreed on day 10, the origin
    assert case.notes == ["not scored (the observed file does not list them): x, w"]
    assert case.forecasters["null"]["z"].tolist() == [30.0] and np.array_equal(
        case.forecasters["scenario"]["z"], [20.0, NAN, NAN], equal_nan=True
    )  # the null's days 10 and 0 are not after the origin: it is given that z was open then
    quo = case.forecasters["status_quo"]["z"]
    assert quo.dtype == np.float64 and quo.shape == (1,) and np.isnan(quo).all()
    assert "null_brier" in case.checkpoint_scores
    at_start = score_case("t", s, rec, obs, {"null": null})
    assert [it.item for it in at_start.items] == ["y", "z"]
    assert at_start.forecasters["null"]["z"].tolist() == [10.0, 30.0, 0.0]  # from the start, nothing is given
    late = score_case("t", s, rec, obs, {"null": null}, origin=0.5)
    assert late.forecasters["null"]["z"].tolist() == [10.0, 30.0]  # a baseline's day 0 is before an origin of 0.5
    for listed in ({}, {"old": None}):  # agreed before the start: never scored, never said to be left out
        again = score_case(
            "t", s, rec, obs.model_copy(update={"items": {"y": D(2025, 1, 11), "z": None, **listed}}), {"null": null}
        )
        assert [it.item for it in again.items] == ["y", "z"]
        assert again.notes == ["not scored (the observed file does not list them): x, w"]
    with pytest.raises(UserError, match=r"^t: as_of is not after the forecast's origin: nothing to score$"):
        score_case("t", s, rec, obs, {"null": null}, origin=59.0)
    with pytest.raises(UserError, match=r"^obs\.yaml: as_of is not after"):
        score_case("t", s, rec, obs, {"null": null}, origin=60.0, observed_file="obs.yaml")


def test_events_on_as_of_itself_count_and_forecasts_on_record_are_each_judged_alone() -> None:
    """A round held, a breakdown and an agreement on as_of (day 59) all happened within the window.
    Forecasts on record: one for an item the scenario lacks, one resolving after as_of, one made
    before the origin, and one made on the origin and resolving on as_of, whatever their order."""
    on_record = [
        OnRecord(source="unknown item", made=D(2025, 1, 9), item="zz", by=D(2025, 2, 1), p=0.5),
        OnRecord(source="too late", made=D(2025, 1, 9), item="a", by=D(2025, 6, 1), p=0.5),
        OnRecord(source="too early", made=D(2025, 1, 2), item="a", by=D(2025, 2, 1), p=0.5),
        OnRecord(source="on time", made=D(2025, 1, 6), item="b", by=D(2025, 3, 1), p=0.4),
    ]
    case = a_case(
        items={"a": D(2025, 1, 11), "b": D(2025, 3, 1)},
        breakdown=D(2025, 3, 1),
        rounds=Rounds(held=[D(2025, 1, 20), D(2025, 3, 1)]),
        forecasts=on_record,
    )
    assert case.items[1].agreed == 59.0
    assert case.rounds is not None and case.rounds["scenario"]["observed"] == 2
    assert case.breakdown == {"observed": "2025-03-01", "p_by_as_of": 0.333333, "brier": 0.444444, "null_brier": 1.0}
    assert [c["source"] for c in case.on_record] == ["on time"] and case.on_record[0]["observed"] == 1
    assert "a forecast on record by 2025-06-01 (too late) resolves after as_of: not scored" in case.notes


def test_score_json_holds_the_method_each_timeline_and_why_forecasts_of_one_history_are_not_pooled() -> None:
    one, two, other = a_case("one"), a_case("two"), a_case("other", items={"a": D(2025, 1, 11)})
    third = a_case("three")
    data = scored_data([one, other, two, third])
    assert data["method"] == METHOD
    assert [r["timeline"] for r in data["runs"]] == [
        f"timeline-{S.name}",
        *(f"timeline-{S.name}-{k}" for k in (2, 3, 4)),
    ]
    assert data["not_pooled"] == (
        "these forecasts share a history (the same observed file): one, two, three. Each is scored on its own "
        "above; pooling them would count one history as several cases"
    )
    four = scored_data([one, two, other, a_case("again", items={"a": D(2025, 1, 11)})])
    assert "; " in four["not_pooled"] and "one, two; other, again." in four["not_pooled"]
    assert "pooled" in scored_data([one, other]) and "not_pooled" not in scored_data([one, other])
