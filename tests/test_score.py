"""Forecast scoring: Brier and log scores by hand, the null model against its closed form, bad files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.engine.plan import compile_plan
from sim.engine.simulate import simulate
from sim.results.score import FLOOR, brier, log_score
from sim.scenario.null import null_scenario
from tests.helpers import SCENARIOS, assert_proportion, make

CUBA = str(SCENARIOS / "backtests-v1" / "cuba-2015" / "scenario.yaml")
CUBA_OBSERVED = str(SCENARIOS / "backtests-v1" / "cuba-2015" / "observed.yaml")


def test_brier_and_log_scores_by_hand() -> None:
    p, o = np.array([0.8, 0.3, 0.5]), np.array([1, 0, 1])
    assert brier(p, o) == pytest.approx((0.2**2 + 0.3**2 + 0.5**2) / 3)
    assert log_score(p, o) == pytest.approx(-(math.log(0.8) + math.log(0.7) + math.log(0.5)) / 3)
    # A certain forecast that misses costs ln(1 / FLOOR), not infinity.
    assert log_score(np.array([0.0]), np.array([1])) == pytest.approx(-math.log(FLOOR))
    assert log_score(np.array([1.0]), np.array([1])) == pytest.approx(-math.log(1 - FLOOR))
    assert brier(np.array([1.0, 0.0]), np.array([1, 0])) == 0.0


def test_null_model_is_a_constant_chance_per_scheduled_round() -> None:
    # Rich scenario, but its null model: p per scheduled round, every round, nothing else.
    s = make(
        calendar={"horizon": 95},
        rounds={"interval": 10, "cancel": 0.5, "capacity": 1},
        parties={"x": {}, "y": {}},
        items={
            "a": {"p": 0.3, "constraints": {"ban": "block"}, "after_rounds": 2},
            "b": {"accept": {"x": 0.5, "y": 0.4}, "requires": ["a"]},
        },
        constraints={"ban": {"lift": {"rate": 0.1}}},
        events={"shock": {"rate": 5, "trust": -1, "breakdown": 0.5}},
        trust={"initial": 1.0},
    )
    null = null_scenario(s)
    assert null.constraints == {} and null.events == {} and null.rounds.cancel == 0
    assert null.simulation == s.simulation and null.calendar == s.calendar
    n = 20_000
    rec = simulate(compile_plan(null), 0, n)
    for x, p in ((0, 0.3), (1, 0.2)):
        for k in (1, 3, 10):  # rounds on days 0, 10, ..., 90
            assert_proportion(rec.item_day[:, x] <= 10 * (k - 1), n, 1 - (1 - p) ** k, f"item {x} by round {k}")


def test_cuba_backtest_scores_beside_every_baseline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "cuba"
    assert main(["run", CUBA, "-n", "4000", "--jobs", "1", "--out", str(run), "--quiet", "--no-plots"]) == 0
    out = tmp_path / "score"
    assert main(["score", str(run), "--observed", CUBA_OBSERVED, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "window Brier" in printed and "against the null model" in printed and "base rate" in printed
    score = json.loads((out / "score.json").read_text())
    entry = score["runs"][0]
    assert entry["window"] == {"from": "2015-01-21", "to": "2017-01-21", "days": 731.0}
    assert [it["item"] for it in entry["items"]] == [
        "banking",
        "embassies",
        "aviation_arrangement",
        "scheduled_flights",
    ]
    assert set(entry["score"]) == {"scenario", "null", "status_quo", "base_rate"}
    # The headline figures follow from the per-item scores, and the skill from the headline figures.
    for who in entry["score"]:
        for metric in ("window_brier", "log_score"):
            mean = np.mean([it[who][metric] for it in entry["items"]])
            assert entry["score"][who][metric]["value"] == pytest.approx(mean, abs=1e-4)
    wb = entry["score"]["scenario"]["window_brier"]["value"]
    assert entry["skill"]["null"]["window_brier"]["value"] == pytest.approx(
        1 - wb / entry["score"]["null"]["window_brier"]["value"], abs=2e-3
    )
    sk = entry["skill"]["null"]["window_brier"]
    assert sk["low"] <= sk["value"] <= sk["high"] and sk["spans_zero"] == (sk["low"] <= 0 <= sk["high"])
    # the status quo gave nothing a chance: every agreed item costs the log floor
    assert all(it["status_quo"]["log_score"] == pytest.approx(-math.log(FLOOR)) for it in entry["items"])
    # the checkpoint view is kept, secondary, on the file's checkpoints (quarter ends when none are given)
    marks = [c["checkpoint"] for c in entry["checkpoints"]["items"]["banking"]]
    assert marks[:2] == ["2015-03-31", "2015-06-30"] and marks[-2:] == ["2016-12-31", "2017-01-21"] and len(marks) == 9
    assert (out / "plots" / "reliability.png").stat().st_size > 20_000
    assert (out / "plots" / "timeline-cuba-2015.png").is_file() and (out / "report.html").is_file()
    assert "spans zero" in (out / "report.html").read_text() or not any(
        v["spans_zero"] for per in entry["skill"].values() for v in per.values()
    )
    assert (out / "forecasts.csv").read_text().splitlines()[0] == "run,kind,name,checkpoint,p,null_p,observed"


def test_null_run_from_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "null"
    assert main(["run", CUBA, "--null", "-n", "500", "--jobs", "1", "--out", str(out), "--quiet", "--no-plots"]) == 0
    text = (out / "scenario.yaml").read_text()
    assert "name: cuba-2015-null" in text and "constraints: {}" in text


def test_several_histories_are_pooled_and_one_history_is_not(tmp_path: Path) -> None:
    """Runs scored against different observed files are pooled (cases, then items); two forecasts of
    the same history are set side by side and never pooled as two cases."""
    runs = []
    for seed in ("1", "2"):
        run = tmp_path / f"r{seed}"
        assert (
            main(["run", CUBA, "-n", "500", "--seed", seed, "--jobs", "1", "--out", str(run), "--quiet", "--no-plots"])
            == 0
        )
        runs.append(str(run))
    other = tmp_path / "observed-shorter.yaml"  # another history: the same case scored a year earlier
    other.write_text(
        Path(CUBA_OBSERVED)
        .read_text()
        .replace("as_of: 2017-01-21", "as_of: 2016-01-21")
        .replace("  aviation_arrangement: 2016-02-16", "  aviation_arrangement: null")
        .replace("  scheduled_flights: 2016-08-31", "  scheduled_flights: null")
    )
    out = tmp_path / "pooled"
    assert main(["score", *runs, "--observed", CUBA_OBSERVED, str(other), "--out", str(out)]) == 0
    score = json.loads((out / "score.json").read_text())
    assert len(score["runs"]) == 2 and score["pooled"]["cases"] == 2 and score["pooled"]["items"] == 8
    same = tmp_path / "same"
    assert main(["score", *runs, "--observed", CUBA_OBSERVED, "--out", str(same), "--no-plots"]) == 0
    score = json.loads((same / "score.json").read_text())
    assert "pooled" not in score and "share a history" in score["not_pooled"]


def test_a_point_of_a_sweep_scores_as_the_run_it_stands_for(tmp_path: Path) -> None:
    """SWEEP_DIR:POINT is re-simulated from the point's scenario and the sweep's seed: point 0, at the
    scenario's own value, scores exactly as a run of the scenario; point 1 differs."""
    sweep, run = tmp_path / "sweep", tmp_path / "run"
    common = ["-n", "400", "--jobs", "1", "--no-plots", "--quiet"]
    assert main(["sweep", CUBA, "--set", "rounds.cancel=0.1,0.5", *common, "--out", str(sweep)]) == 0
    assert main(["run", CUBA, *common, "--out", str(run)]) == 0
    scores = {}
    for name, spec in (("run", str(run)), ("p0", f"{sweep}:0"), ("p1", f"{sweep}:1")):
        out = tmp_path / f"score-{name}"
        assert main(["score", spec, "--observed", CUBA_OBSERVED, "--out", str(out), "--no-plots"]) == 0
        scores[name] = json.loads((out / "score.json").read_text())["runs"][0]
    assert scores["p0"]["items"] == scores["run"]["items"]
    assert scores["p1"]["items"] != scores["run"]["items"]
    assert scores["p1"]["run"] == f"{sweep}:1"
    assert main(["score", f"{sweep}:7", "--observed", CUBA_OBSERVED, "--out", str(tmp_path / "x")]) == 2


GOOD = Path(CUBA_OBSERVED).read_text()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("  banking: 2015-05-19", "  bankng: 2015-05-19"),
            ":4: items.bankng: unknown item 'bankng' (did you mean 'banking'?)",
        ),
        (
            ("  embassies: 2015-07-20", "  embassies: 2014-07-20"),
            ":5: items.embassies: 2014-07-20 is before the scenario's start",
        ),
        (
            ("as_of: 2017-01-21", "as_of: 2017-01-21\ncheckpoints: [2014-03-31]"),
            ":3: checkpoints[0]: 2014-03-31 is before",
        ),
        (("as_of: 2017-01-21", "as_of: 2016-06-30"), "is after as_of"),
        (("as_of: 2017-01-21", "as_of: 2017-01-21\ncheckpoints: [2017-06-30]"), "after the run's horizon"),
        (("  sst_list: 2015-05-29", "  sst: 2015-05-29"), "unknown constraint 'sst'"),
        (("as_of: 2017-01-21", "as_of: soon"), ":2: as_of: must be a date"),
        (("breakdown: null", "breakdown: null\nweather: fine"), "unknown field 'weather'"),
        (("  banking: 2015-05-19", "  banking: [2015-05-19]"), "items.banking"),
    ],
)
def test_bad_observed_files(
    change: tuple[str, str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "cuba"
    assert main(["run", CUBA, "-n", "200", "--jobs", "1", "--out", str(run), "--quiet", "--no-plots"]) == 0
    old, new = change
    assert old in GOOD
    observed = tmp_path / "observed.yaml"
    observed.write_text(GOOD.replace(old, new, 1))
    assert main(["score", str(run), "--observed", str(observed)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert err.startswith(str(observed))
    assert not (run / "score").exists()


def test_forecasts_scores_and_per_item_are_exactly_these() -> None:
    """Forecasts P(by checkpoint, inclusive) for items, constraints and breakdown; scores rounded to six
    places; skill against the null model; the per-item view, in file order."""
    import datetime as dt

    from sim.results.observed import Observed
    from sim.results.score import forecasts, per_item, summarize
    from tests.helpers import records

    s = make(
        calendar={"start": "2025-01-01", "horizon": 100},
        items={"a": {"p": 0.5}, "b": {"p": 0.5}},
        constraints={"c": {"lift": {"rate": 1}}},
    )
    rec = records(
        [[10, None], [31, 5], [None, None]],
        constraints=1,
        constraint_day=[[20.0], [np.nan], [40.0]],
        breakdown_day=[np.nan, np.nan, 31.0],
    )
    null = records([[1, 1], [1, 1], [None, None]])
    obs = Observed(
        as_of=dt.date(2025, 3, 1),
        checkpoints=[dt.date(2025, 2, 1), dt.date(2025, 1, 11)],
        items={"a": dt.date(2025, 1, 11)},
        constraints={"c": None},
        breakdown=dt.date(2025, 2, 1),
    )
    rows = forecasts(s, rec, obs, null)
    assert [(r.kind, r.name, r.checkpoint.day, r.p, r.null_p, r.observed) for r in rows] == [
        ("item", "a", 11, 1 / 3, 2 / 3, 1),  # day 10 is on or before Jan 11 (day 10): inclusive
        ("item", "a", 1, 2 / 3, 2 / 3, 1),  # Feb 1 is day 31: the agreement on day 31 counts
        ("constraint", "c", 11, 0.0, None, 0),
        ("constraint", "c", 1, 1 / 3, None, 0),
        ("breakdown", "breakdown", 11, 0.0, None, 0),
        ("breakdown", "breakdown", 1, 1 / 3, None, 1),
    ]
    p, o, q = np.array([1 / 3, 2 / 3]), np.array([1, 1]), np.array([2 / 3, 2 / 3])
    assert summarize(rows) == {
        "brier": round(brier(p, o), 6),
        "log_score": round(log_score(p, o), 6),
        "log_floor": FLOOR,
        "forecasts": 2,
        "null_brier": round(brier(q, o), 6),
        "null_log_score": round(log_score(q, o), 6),
        "skill": round(1 - round(brier(p, o), 6) / round(brier(q, o), 6), 6),
        "log_skill": round(1 - round(log_score(p, o), 6) / round(log_score(q, o), 6), 6),
        "constraint_brier": round((0 + 1 / 9) / 2, 6),
        "breakdown_brier": round((0 + 4 / 9) / 2, 6),
    }
    assert summarize(rows)["brier"] == 0.277778  # (4/9 + 1/9) / 2, six places
    view = per_item(rows)
    assert list(view) == ["items", "constraints", "breakdown"]
    assert view["items"]["a"][0] == {"checkpoint": "2025-01-11", "p": 0.333333, "null_p": 0.666667, "observed": 1}
    assert view["constraints"]["c"][1] == {"checkpoint": "2025-02-01", "p": 0.333333, "observed": 0}


def test_skill_is_undefined_against_a_perfect_null_model() -> None:
    """A null model with zero Brier score leaves the skill undefined (None), not infinite."""
    import datetime as dt

    from sim.results.score import Forecast, summarize

    rows = [Forecast("item", "a", dt.date(2025, 1, 1), 0.5, 1.0, 1)]
    out = summarize(rows)
    assert out["null_brier"] == 0.0 and out["skill"] is None
    assert out["log_skill"] == round(1 - out["log_score"] / out["null_log_score"], 6)


def _cuba_run(tmp_path: Path, name: str = "cuba", n: str = "400") -> str:
    run = tmp_path / name
    assert main(["run", CUBA, "-n", n, "--jobs", "1", "--out", str(run), "--quiet", "--no-plots"]) == 0
    return str(run)


def test_a_breakdown_that_happened_is_shown_scored_in_the_terminal_and_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """score.json, the terminal and report.html all say that the talks broke off, with the forecast's
    chance of it and its Brier score beside the null model's."""
    run = _cuba_run(tmp_path)
    observed = tmp_path / "broke.yaml"
    observed.write_text(
        GOOD.replace("breakdown: null", "breakdown: 2016-09-01")  # nothing was agreed after it
    )
    out = tmp_path / "score"
    assert main(["score", run, "--observed", str(observed), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    b = json.loads((out / "score.json").read_text())["runs"][0]["breakdown"]
    assert b["observed"] == "2016-09-01" and b["brier"] == pytest.approx((1 - b["p_by_as_of"]) ** 2, abs=1e-6)
    said = f"the talks broke off on 2016-09-01; the scenario gave P(broken off by as_of) {b['p_by_as_of']:.2f}"
    assert said in printed and f"Brier score {b['brier']:.3f} (null model 1.000)" in printed
    assert said in (out / "report.html").read_text()


def test_a_run_beside_a_point_of_a_sweep_of_the_same_case_is_not_pooled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two forecasts of one history (a run and a sweep point of the same case) are scored side by
    side and never pooled as two cases: score.json, the terminal and the report say so."""
    run = _cuba_run(tmp_path)
    sweep = tmp_path / "sweep"
    args = ["--set", "rounds.cancel=0.1,0.5", "-n", "400", "--jobs", "1", "--no-plots", "--quiet"]
    assert main(["sweep", CUBA, *args, "--out", str(sweep)]) == 0
    capsys.readouterr()
    out = tmp_path / "score"
    assert main(["score", run, f"{sweep}:1", "--observed", CUBA_OBSERVED, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    score = json.loads((out / "score.json").read_text())
    assert len(score["runs"]) == 2 and "pooled" not in score and "share a history" in score["not_pooled"]
    assert "pooled over" not in printed and "not pooled: these forecasts share a history" in printed
    assert "Not pooled" in (out / "report.html").read_text() and "Pooled over" not in (out / "report.html").read_text()


def test_an_item_agreed_on_as_of_is_scored_as_agreed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """as_of is inside the scored window: an item agreed that very day is agreed, so the status quo
    ('nothing further is agreed') gave the month of agreement no chance and takes the log score's
    floor (scored as not agreed, it would be right and score about 0)."""
    run = _cuba_run(tmp_path)
    observed = tmp_path / "last-day.yaml"
    observed.write_text(GOOD.replace("  scheduled_flights: 2016-08-31", "  scheduled_flights: 2017-01-21"))
    out = tmp_path / "score"
    assert main(["score", run, "--observed", str(observed), "--out", str(out), "--no-plots"]) == 0
    items = {it["item"]: it for it in json.loads((out / "score.json").read_text())["runs"][0]["items"]}
    flights = items["scheduled_flights"]
    assert flights["agreed"] == "2017-01-21"
    assert flights["status_quo"]["log_score"] == pytest.approx(-math.log(FLOOR), abs=1e-6)
    assert any(line.split()[:2] == ["scheduled_flights", "2017-01-21"] for line in capsys.readouterr().out.splitlines())


def test_a_run_without_its_manifest_is_refused_rather_than_scored_from_the_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The manifest says whether a run was conditioned on a history (--given) and from when: without
    it a --given run was scored silently from the start (window Brier 0.13 instead of 0.20)."""
    run = tmp_path / "given"
    mid = str(SCENARIOS / "backtests-v1" / "cuba-2015" / "observed-mid-2015.yaml")
    argv = ["run", CUBA, "--given", mid, "-n", "200", "--jobs", "1", "--out", str(run), "--quiet", "--no-plots"]
    assert main(argv) == 0
    (run / "manifest.json").unlink()
    capsys.readouterr()
    for extra in ([], ["--origins", "quarterly"]):
        out = tmp_path / f"score{len(extra)}"
        assert main(["score", str(run), "--observed", CUBA_OBSERVED, "--out", str(out), "--no-plots", *extra]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and f"{run / 'manifest.json'}: missing" in err, err
        assert not out.exists()
