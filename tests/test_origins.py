"""``negsim score --origins``: forecasts made on a series of dates, each given the history by then."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pytest
import yaml
from scipy import special

from sim.cli import main
from sim.errors import UserError
from sim.results.observed import Observed, Rounds, as_at
from sim.results.score import origin_dates
from tests.helpers import BASE, SCENARIOS, assert_proportion, make, merge

CUBA = SCENARIOS / "backtests-v1" / "cuba-2015" / "scenario.yaml"
D = dt.date.fromisoformat


def test_the_history_as_at_a_date_forgets_what_came_later() -> None:
    obs = Observed(
        as_of=D("2015-12-31"),
        items={"a": D("2015-03-01"), "b": D("2015-08-01"), "c": None},
        constraints={"k": D("2015-05-29"), "e": None},
        breakdown=D("2015-11-01"),
        rounds=Rounds(held=[D("2015-01-22"), D("2015-03-16"), D("2015-07-01")], cancelled=[D("2015-06-01")]),
    )
    then = as_at(obs, D("2015-05-29"))
    assert then.as_of == D("2015-05-29")
    assert then.items == {"a": D("2015-03-01"), "b": None, "c": None}
    assert then.constraints == {"k": D("2015-05-29"), "e": None}  # lifted that very day: known (inclusive)
    assert then.breakdown is None
    assert then.rounds == Rounds(held=[D("2015-01-22"), D("2015-03-16")], cancelled=[])
    assert as_at(obs, D("2015-11-01")).breakdown == D("2015-11-01")
    unknown = obs.model_copy(update={"rounds": Rounds(held=[D("2015-01-22")], cancelled=None)})
    assert as_at(unknown, D("2015-02-01")).rounds == Rounds(held=[D("2015-01-22")], cancelled=None)


def test_origin_dates() -> None:
    s = make(calendar={"start": "2015-01-21", "horizon": "2016-01-21"})
    obs = Observed(as_of=D("2015-12-01"), items={"a": None})
    assert origin_dates("quarterly", s, obs) == [D("2015-01-21"), D("2015-03-31"), D("2015-06-30"), D("2015-09-30")]
    monthly = origin_dates("monthly", s, obs)
    assert monthly[:3] == [D("2015-01-21"), D("2015-01-31"), D("2015-02-28")] and monthly[-1] == D("2015-11-30")
    assert len(monthly) == 12
    assert origin_dates("2015-06-30, 2015-01-21,2015-06-30", s, obs) == [D("2015-01-21"), D("2015-06-30")]
    with pytest.raises(UserError, match="'soon' is not a date"):
        origin_dates("2015-06-30,soon", s, obs)
    with pytest.raises(UserError, match="2015-12-01 is outside the scored window"):
        origin_dates("2015-12-01", s, obs)  # as_of itself: nothing left to forecast
    with pytest.raises(UserError, match="2015-01-20 is outside"):
        origin_dates("2015-01-20", s, obs)


def write(tmp_path: Path, name: str, data: dict) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_a_forecast_from_an_origin_is_the_beta_geometric_posterior(tmp_path: Path) -> None:
    """One item, p ~ Beta(a, b), a round every 10 days from 1 January; never agreed. The forecast made
    on day 20 (three rounds without agreement) of agreement in the three rounds left is
    1 - B(a, b + 6) / B(a, b + 3); the one made on the start, at the end of the day of the first round,
    knows that round failed too: 1 - B(a, b + 6) / B(a, b + 1)."""
    a, b, n = 2.0, 3.0, 20_000
    scenario = write(
        tmp_path,
        "one.yaml",
        merge(
            BASE,
            {
                "calendar": {"start": "2025-01-01", "horizon": 50},
                "items": {"x": {"p": {"dist": "beta", "a": a, "b": b}}},
                "trust": {"weight": 0.0},
            },
        ),
    )
    observed = write(tmp_path, "observed.yaml", {"as_of": "2025-02-20", "items": {"x": None}})
    run, out = tmp_path / "run", tmp_path / "score"
    assert main(["run", str(scenario), "-n", "200", "--out", str(run), "--no-plots", "--quiet"]) == 0
    argv = ["score", str(run), "--observed", str(observed), "--origins", "2025-01-01,2025-01-21"]
    assert main([*argv, "-n", str(n), "--jobs", "1", "--out", str(out), "--no-plots"]) == 0
    block = json.loads((out / "score.json").read_text())["origins"]
    first, later = block["rows"]
    assert first["origin"] == "2025-01-01" and later["origin"] == "2025-01-21" and later["day"] == 20
    assert first["kept"] == later["kept"] == n

    def exact(m: int) -> float:
        return 1 - math.exp(special.betaln(a, b + 6) - special.betaln(a, b + m))

    assert_proportion(round(first["p_by_horizon"]["x"]["p"] * n), n, exact(1), "from the start")
    assert_proportion(round(later["p_by_horizon"]["x"]["p"] * n), n, exact(3), "after three rounds")

    # kept in proportion to P(no agreement in m rounds) = B(a, b + m) / B(a, b)
    def agreeing(row: dict) -> int:  # batches run whole: more agree than are kept
        return round(row["acceptance"] * row["tried"])

    assert_proportion(agreeing(first), first["tried"], b / (a + b), "acceptance on the start")
    assert_proportion(
        agreeing(later), later["tried"], math.exp(special.betaln(a, b + 3) - special.betaln(a, b)), "acceptance"
    )
    assert later["status"] == "scored" and later["window_brier"]["scenario"] < later["window_brier"]["null"]


def test_origins_on_the_cuba_backtest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run, out = tmp_path / "run", tmp_path / "score"
    assert main(["run", str(CUBA), "-n", "300", "--out", str(run), "--no-plots", "--quiet"]) == 0
    observed = CUBA.parent / "observed.yaml"
    argv = ["score", str(run), "--observed", str(observed), "--out", str(out), "-n", "300", "--jobs", "1"]
    assert main([*argv, "--origins", "2015-01-21,2015-06-30,2016-12-31"]) == 0
    said = capsys.readouterr().out
    assert "forecasts made on each origin" in said and "nothing open" in said
    data = json.loads((out / "score.json").read_text())
    rows = {r["origin"]: r for r in data["origins"]["rows"]}
    assert rows["2015-06-30"]["p_by_horizon"]["banking"]["p"] == 1.0  # found a bank in May 2015: known
    assert rows["2016-12-31"]["status"] == "nothing open" and rows["2016-12-31"]["tried"] == 0
    assert [r["window"]["from"] for r in data["runs"]] == ["2015-01-21", "2015-06-30"]
    assert "pooled" not in data  # one history, forecast twice: not two cases
    assert {p.name for p in (out / "plots").iterdir()} == {"origins.png", "reliability.png", "timeline-cuba-2015.png"}
    report = (out / "report.html").read_text()
    assert "Forecasts over time" in report and report.count("timeline-cuba-2015") <= 1


def test_origins_refuses_what_it_cannot_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run, given = tmp_path / "run", tmp_path / "given"
    observed = CUBA.parent / "observed.yaml"
    mid = CUBA.parent / "observed-mid-2015.yaml"
    common = ["-n", "200", "--no-plots", "--quiet", "--jobs", "1"]
    assert main(["run", str(CUBA), *common, "--out", str(run)]) == 0
    assert main(["run", str(CUBA), *common, "--out", str(given), "--given", str(mid)]) == 0
    cases = [
        (["score", str(run), str(run), "--observed", str(observed), "--origins", "quarterly"], "one run"),
        (["score", str(given), "--observed", str(observed), "--origins", "quarterly"], "a --given run"),
        (["score", str(run), "--observed", str(observed), "-n", "100"], "go with --origins"),
        (["score", str(run), "--observed", str(observed), "--origins", "2018-01-01"], "outside the scored window"),
    ]
    for argv, message in cases:
        assert main([*argv, "--out", str(tmp_path / "nowhere")]) == 2, argv
        assert message in capsys.readouterr().err
        assert not (tmp_path / "nowhere").exists()


def test_an_origin_after_a_pause_the_scenario_cannot_have_is_left_out_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An origin whose history holds a pause, on a scenario that never pauses the talks, tried a
    million replications before leaving it out as too unlikely: it is left out without trying, and
    says why; the origins before the pause are scored as before."""
    run, out = tmp_path / "run", tmp_path / "score"
    assert main(["run", str(CUBA), "-n", "300", "--out", str(run), "--no-plots", "--quiet"]) == 0
    observed = tmp_path / "observed.yaml"
    text = (CUBA.parent / "observed.yaml").read_text()
    observed.write_text(text + "talks: {paused: [2015-09-01], resumed: [2015-10-01]}\n")
    argv = ["score", str(run), "--observed", str(observed), "--out", str(out), "-n", "300", "--jobs", "1"]
    assert main([*argv, "--origins", "2015-06-30,2015-12-31"]) == 0
    said = capsys.readouterr().out
    assert "cannot happen: the talks had paused by then, and cuba-2015 never pauses them" in said
    rows = {r["origin"]: r for r in json.loads((out / "score.json").read_text())["origins"]["rows"]}
    assert rows["2015-12-31"]["status"] == "too unlikely" and rows["2015-12-31"]["tried"] == 0
    assert rows["2015-06-30"]["status"] == "scored" and "why" not in rows["2015-06-30"]
