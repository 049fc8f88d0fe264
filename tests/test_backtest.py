"""Scoring beside baselines (score_case), forecasts on record, rounds, and ``negsim backtest``."""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from pathlib import Path

import pytest

from sim.cli import main
from sim.engine.history import History
from sim.results.observed import BaseRate, Observed, OnRecord, Rounds
from sim.results.score import score_case
from sim.results.skill import FLOOR, month_edges, month_log_score, window_brier
from sim.runs.executors import InProcess
from sim.runs.forecasting import baselines, rounds_held
from sim.scenario.null import base_rate_scenario
from tests.helpers import SCENARIOS, make, records, run

LIBRARY = SCENARIOS / "backtests-v1"


def test_score_case_sets_every_baseline_beside_the_forecast() -> None:
    s = make(calendar={"start": "2025-01-01", "horizon": 100}, items={"a": {"p": 0.5}, "b": {"p": 0.2}})
    rec = records([[10, None], [31, 5], [None, None]])
    obs = Observed(
        as_of=dt.date(2025, 3, 1),  # day 59
        items={"a": dt.date(2025, 1, 11), "b": None},
        base_rate=BaseRate(per_round=0.1, row="R0"),
        forecasts=[
            OnRecord(source="an expert", made=dt.date(2025, 1, 2), item="a", by=dt.date(2025, 2, 1), p=0.8),
            OnRecord(source="a market", made=dt.date(2025, 1, 2), item="b", by=dt.date(2025, 6, 1), p=0.3),
        ],
    )
    with InProcess() as pool:
        made = baselines(s, obs, rec.n, pool)
    case = score_case("t", s, rec, obs, made.records)
    assert case.end == 59.0 and case.origin == 0.0
    a, b = case.items
    assert (a.item, a.agreed, b.item, b.agreed) == ("a", 10.0, "b", None)
    edges = month_edges(s.calendar.start, 0.0, 59.0)
    assert a.scores["scenario"]["window_brier"] == pytest.approx(window_brier(rec.item_day[:, 0], 10.0, 0.0, 59.0))
    assert a.scores["scenario"]["log_score"] == pytest.approx(month_log_score(rec.item_day[:, 0], 10.0, edges))
    # the status quo: nothing more is agreed
    assert a.scores["status_quo"]["window_brier"] == pytest.approx((59 - 10) / 59)
    assert a.scores["status_quo"]["log_score"] == pytest.approx(-math.log(FLOOR))
    assert b.scores["status_quo"] == {"window_brier": 0.0, "log_score": pytest.approx(-math.log(1 - FLOOR))}
    assert set(a.scores) == {"scenario", "null", "status_quo", "base_rate"}
    # the base rate gives every item the row's chance in every scheduled round, and nothing else
    rate = base_rate_scenario(s, 0.1)
    assert [item.probability() for item in rate.items.values()] == [0.1, 0.1]
    assert rate.constraints == {} and rate.events == {} and rate.rounds.cancel == 0
    # forecasts on record: scored only where resolved by as_of (b's by-date is after it)
    assert [c["item"] for c in case.on_record] == ["a"]
    assert case.on_record[0]["observed"] == 1 and case.on_record[0]["scenario"] == pytest.approx(2 / 3)


def test_a_forecast_made_later_is_scored_from_its_origin_and_known_items_are_left_out() -> None:
    s = make(calendar={"start": "2025-01-01", "horizon": 100}, items={"a": {"p": 0.5}, "b": {"p": 0.2}})
    rec = records([[10, 50], [20, None]])
    obs = Observed(as_of=dt.date(2025, 3, 1), items={"a": dt.date(2025, 1, 11), "b": dt.date(2025, 2, 20)})
    known = History(as_of=30.0, items=((0, "a", True), (1, "b", False)), held=4)
    with InProcess() as pool:
        made = baselines(s, obs, 2000, pool, known)
    case = score_case("t", s, rec, obs, made.records, origin=30.0)
    assert [it.item for it in case.items] == ["b"]  # a was agreed (day 10) before the origin
    null = made.records["null"]
    assert not (null.item_day[:, 1] <= 30.0).any()  # the baselines too are given that b was open at the origin
    assert (null.item_day[:, 0] <= 30.0).all()  # ... that a was agreed by then
    assert made.notes == []  # and, rounds every 10 days from day 0, the null held the 4 rounds by day 30
    with pytest.raises(Exception, match="not after the forecast's origin"):
        score_case("t", s, rec, obs, made.records, origin=70.0)


def test_a_baseline_that_cannot_hold_the_rounds_is_conditioned_on_the_items_and_says_so() -> None:
    """Rounds every 10 days without fail: the null model never holds just 2 rounds by day 30."""
    s = make(calendar={"start": "2025-01-01", "horizon": 100}, items={"a": {"p": 0.0}})
    obs = Observed(as_of=dt.date(2025, 3, 1), items={"a": None})
    known = History(as_of=30.0, items=((0, "a", False),), held=2)
    with InProcess() as pool:
        made = baselines(s, obs, 500, pool, known)
    assert made.records["null"].n == 500
    assert made.notes and "almost never holds 2 rounds" in made.notes[0]


def test_rounds_held_by_as_of_are_re_simulated_and_scored() -> None:
    s = make(rounds={"first": 0, "interval": {"dist": "uniform", "low": 5, "high": 15}}, items={"x": {"p": 0.1}})
    rec = run(s, 300)
    with InProcess() as pool:
        held = rounds_held(s, rec, 40.0, pool)
        other = run(make(rounds={"first": 0, "interval": 7}, items={"x": {"p": 0.1}}), 300)
        assert rounds_held(s, other, 40.0, pool) is None  # records the scenario does not reproduce
        obs = Observed(
            as_of=dt.date(2025, 2, 10), items={"x": None}, rounds=Rounds(held=[dt.date(2025, 1, d) for d in (1, 9, 20)])
        )
        made = baselines(s, obs, rec.n, pool)
    assert held is not None and held.min() >= 3 and held.max() <= 9  # rounds on day 0 and every 5-15 days
    case = score_case("t", s, rec, obs, made.records, held)
    assert case.rounds is not None and case.rounds["scenario"]["observed"] == 3
    assert case.rounds["null"]["rps"] >= 0 and 0 <= case.rounds["scenario"]["p_observed"] <= 1


@pytest.mark.slow
def test_backtest_runs_every_case_reuses_runs_and_pools(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    library = tmp_path / "library"
    shutil.copytree(LIBRARY, library)
    out = tmp_path / "bt"
    args = ["backtest", str(library), "-n", "400", "--jobs", "1", "--out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    cases = sorted(p.name for p in library.iterdir() if p.is_dir())
    assert len(cases) >= 6
    assert "pooled over" in printed and "against the base rate" in printed and "reused" not in printed
    data = json.loads((out / "backtest.json").read_text())
    assert [r["scenario"] for r in data["runs"]] == cases and data["pooled"]["cases"] == len(cases)
    assert set(data["pooled"]["skill"]) == {"null", "status_quo", "base_rate"}
    assert (out / "plots" / "reliability.png").is_file() and (out / "report.html").is_file()
    assert all((out / "plots" / f"timeline-{c}.png").is_file() for c in cases)
    made = {c: (out / "runs" / c / "items.parquet").stat().st_mtime_ns for c in cases}
    # a second backtest reuses every run; a changed scenario is run again, alone
    scenario = library / cases[0] / "scenario.yaml"
    scenario.write_text(scenario.read_text() + "\n# touched\n")
    assert main(args) == 2  # the folder exists: replaced only with --force
    assert "pass --force" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0
    printed = capsys.readouterr().out
    assert f"reused the runs of {', '.join(cases[1:])}" in printed
    assert (out / "runs" / cases[0] / "items.parquet").stat().st_mtime_ns != made[cases[0]]
    assert all((out / "runs" / c / "items.parquet").stat().st_mtime_ns == made[c] for c in cases[1:])


def test_backtest_refuses_an_empty_library_and_a_foreign_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["backtest", str(tmp_path)]) == 2
    assert "no backtest case" in capsys.readouterr().err
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    assert main(["backtest", str(LIBRARY), "--out", str(foreign), "--force"]) == 2
    assert "not a folder negsim wrote" in capsys.readouterr().err and (foreign / "notes.txt").read_text() == "keep me"


def test_a_case_added_to_the_library_changes_no_other_case(tmp_path: Path) -> None:
    """Each case runs on its own seed and the library's table, whatever else the library holds: the
    runs and scores of the cases already there are the same bytes after a case is added."""
    library = tmp_path / "library"
    library.mkdir()
    cases = sorted(p.name for p in LIBRARY.iterdir() if p.is_dir())
    for name in [*cases[:2], *(p.name for p in LIBRARY.iterdir() if p.is_file())]:
        src = LIBRARY / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, library / name)

    def backtest(out: Path) -> dict:
        assert main(["backtest", str(library), "-n", "300", "--jobs", "1", "--no-plots", "--out", str(out)]) == 0
        return {r["scenario"]: r for r in json.loads((out / "backtest.json").read_text())["runs"]}

    before = backtest(tmp_path / "before")
    shutil.copytree(LIBRARY / cases[2], library / cases[2])
    after = backtest(tmp_path / "after")
    assert sorted(after) == sorted(cases[:3]) and sorted(before) == sorted(cases[:2])
    for case in cases[:2]:
        old, new = dict(before[case]), dict(after[case])
        assert old.pop("run").endswith(case) and new.pop("run").endswith(case)
        assert old == new
        for name in ("items.parquet", "replications.parquet", "summary.json"):
            a = (tmp_path / "before" / "runs" / case / name).read_bytes()
            assert a == (tmp_path / "after" / "runs" / case / name).read_bytes(), (case, name)


KINDS = {"R1": "R13.lag_decree", "R2": "R13.lag_text", "R3": "R13.lag_arrangement", "R4": "R13.lag_service"}


@pytest.mark.parametrize(
    "case",
    sorted(
        f"{library}/{p.name}"
        for library in ("backtests", "backtests-heldout")
        for p in (SCENARIOS / library).iterdir()
        if p.is_dir()
    ),
)
def test_every_case_of_version_4_puts_its_r1_to_r4_items_in_the_leaders_package(case: str) -> None:
    """Protocol version 4, rules 5 and 6, as written in each case's file: the decided state decides
    exactly the items whose chance cites R1 to R4 (never an R5 item), and each has an enact whose lag
    is its kind's (an item implementing another keeps the lag of what it implements)."""
    import yaml

    data = yaml.safe_load((SCENARIOS / case / "scenario.yaml").read_text(encoding="utf-8"))
    kinds = {}
    for name, item in data["items"].items():
        p = item["p"]
        kinds[name] = (p["regime"]["decided"]["row"] if "regime" in p else p["row"]).split(".")[0]
    package = [name for name, kind in kinds.items() if kind in KINDS]
    assert package and data["regime"]["states"]["decided"]["decides"] == package
    for name in package:
        enact = data["items"][name]["enact"]
        assert enact["lag"]["row"] in {*KINDS.values(), "R13.lag_office"}, name
        assert enact["p"]["regime"]["decided"]["row"].startswith("R13."), name
    for name, kind in kinds.items():  # an item given its enact by version 4 takes its kind's lag
        item = data["items"][name]
        if kind in KINDS and "after" not in item["enact"] and name not in opened(data):
            assert item["enact"]["lag"]["row"] == KINDS[kind], name


def opened(data: dict) -> set[str]:
    """The items an event of the case decides (the opening statement's immediate steps)."""
    return {x for event in (data.get("events") or {}).values() for x in event.get("decides") or []}
