"""negsim discover: boxes over a run's judgement draws and a sweep's points, in the same words everywhere."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.api import Discovery, box_bounds, load_results
from sim.cli import main
from sim.errors import UserError
from sim.results import discovery
from sim.results.folder import RunResults
from sim.scenario.titles import field_title
from tests.helpers import SCENARIOS, make, run

ONE_ROUND = {
    "calendar": {"start": "2025-01-01", "horizon": 100},
    "rounds": {"first": 0, "interval": 1000},  # one round, on day 0: P(a agreed) = its p
    "simulation": {"replications": 4000, "seed": 31},
}


def decided() -> RunResults:
    """Item a is agreed with its own uncertain p (a uniform draw); b's p is uncertain too but decides nothing of a."""
    s = make(
        **ONE_ROUND,
        items={
            "a": {"title": "The deal", "p": {"dist": "uniform", "low": 0.0, "high": 1.0}},
            "b": {"p": {"dist": "uniform", "low": 0.0, "high": 1.0}},
        },
    )
    return RunResults(s, run(s, 4000))


def test_a_run_s_box_bounds_the_judgement_that_decides_the_item() -> None:
    """P(a) = p_a: the box keeps the high draws of items.a.p and leaves items.b.p alone."""
    data = discovery.find(discovery.run_inputs(decided(), "a"), resamples=10, shuffles=5)
    (r,) = data["box"]["restrictions"]
    assert r["path"] == "items.a.p" and r["high"] is None and 0.2 < r["low"] < 0.8
    assert r["title"] == "The deal: chance of agreement per round"
    inside = data["box"]["density"]
    # the density of a box p >= L is the mean of p over [L, 1]: (1 + L) / 2, within the binomial SE
    se = math.sqrt(inside * (1 - inside) / data["box"]["count"])
    assert abs(inside - (1 + r["low"]) / 2) < 4.5 * se
    assert data["beyond_chance"] and data["box"]["separation"] > data["chance"]["separation"]
    assert data["words"].startswith("The deal: chance of agreement per round ≥ ")
    assert "see a agreed by 2025-04-11" in data["words"]


def test_not_and_by_turn_the_outcome_around() -> None:
    """--not: the box of the low draws; --by the day of the only round counts its agreements."""
    res = decided()
    data = discovery.find(discovery.run_inputs(res, "a", negated=True), resamples=0, shuffles=2)
    (r,) = data["box"]["restrictions"]
    assert r["path"] == "items.a.p" and r["low"] is None and r["high"] < 0.8
    assert "do not see a agreed" in data["words"]
    assert discovery.run_inputs(res, "a", by="2025-01-01").y.sum() == discovery.run_inputs(res, "a").y.sum()


@pytest.mark.parametrize(
    ("item", "by", "message"),
    [
        ("c", None, "--item c: no such item"),
        ("a", "2026-01-01", "--by 2026-01-01: outside the run"),
        ("a", "2024-12-31", "outside the run"),
        ("a", "soon", "--by soon: give a date"),
    ],
)
def test_a_wrong_item_or_date_is_one_clear_message(item: str, by: str | None, message: str) -> None:
    with pytest.raises(UserError, match=message):
        discovery.run_inputs(decided(), item, by)


def test_a_run_without_judgements_has_nothing_to_discover() -> None:
    s = make(**ONE_ROUND)
    with pytest.raises(UserError, match="no uncertain judgement"):
        discovery.run_inputs(RunResults(s, run(s, 100)), "a")


def test_an_item_never_agreed_has_no_box() -> None:
    s = make(**ONE_ROUND, items={"a": {"p": 0.0}, "b": {"p": {"dist": "uniform", "low": 0, "high": 1}}})
    with pytest.raises(UserError, match="never agreed"):
        discovery.find(discovery.run_inputs(RunResults(s, run(s, 200)), "a"))


def test_box_bounds_per_field_path() -> None:
    """The chosen box's bounds by path, open sides infinite; a box of the trajectory by number."""
    data = discovery.find(discovery.run_inputs(decided(), "a"), resamples=0, shuffles=1)
    bounds = box_bounds(data)
    assert set(bounds) == {"items.a.p"}
    low, high = bounds["items.a.p"]
    assert low == data["box"]["restrictions"][0]["low"] and high == math.inf
    assert box_bounds(data, 0) == {}
    with pytest.raises(UserError, match="boxes 0 to"):
        box_bounds(data, len(data["trajectory"]))


def test_field_titles_come_from_the_scenario() -> None:
    s = sim.load_scenario(SCENARIOS / "istanbul-2025.yaml")
    assert field_title(s, "constraints.aviation.lift.p").endswith(": chance of lifting at a review")
    assert field_title(s, "events.escalation.rate") == "Escalation in the Ukraine conflict: occurrences per year"
    assert field_title(s, "regime.states.decided.share") == "The leaders have decided: share at the start"
    assert field_title(s, "items.flights.enact.p.regime.undecided") == (
        "Direct flights resumed: chance of enactment once decided, when the leaders have not decided"
    )
    assert (
        field_title(s, "items.staffing.accept.us")
        == "Embassy staffing and diplomatic visas: chance United States accepts"
    )
    assert field_title(s, "trust.weight") == "weight of trust (log odds per unit)"
    assert field_title(s, "items.nothing.p") == "items.nothing.p"


def test_the_command_writes_the_folder_and_says_the_same_words_everywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Terminal, discover.json, report.html and the notebook object carry one sentence; the folder
    is written whole, and replaced only with --force."""
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "schema: 1\nname: s\ncalendar: {start: 2025-01-01, horizon: 100}\nsimulation: {replications: 3000, seed: 5}\n"
        "rounds: {first: 0, interval: 1000}\n"
        "items:\n  a: {title: The deal, p: {dist: uniform, low: 0, high: 1}}\n"
        "  b: {p: {dist: uniform, low: 0, high: 1}}\n"
    )
    out = tmp_path / "run"
    assert main(["run", str(scenario), "--out", str(out), "--jobs", "1", "--quiet", "--no-plots"]) == 0
    capsys.readouterr()
    assert main(["discover", str(out), "--item", "a", "--resamples", "5"]) == 0
    printed = capsys.readouterr().out
    folder = out / "discover-a"
    assert {p.name for p in folder.iterdir()} == {
        "discover.json",
        "boxes.csv",
        "trajectory.csv",
        "manifest.json",
        "plots",
        "report.html",
    }
    data = json.loads((folder / "discover.json").read_text())
    assert data["words"] in printed
    assert html.escape(data["words"]) in (folder / "report.html").read_text()
    found = load_results(folder)
    assert isinstance(found, Discovery) and data["words"] in str(found) and found.bounds() == box_bounds(folder)
    assert (folder / "boxes.csv").read_text().startswith("path,title,low,high,")
    assert list(found.boxes["path"]) == ["items.a.p"]
    notebook = sim.load_results(out).discover("a", resamples=5)
    assert notebook.words == data["words"]
    assert main(["discover", str(out), "--item", "a"]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert main(["discover", str(out), "--item", "a", "--force", "--box", "2", "--resamples", "0"]) == 0
    again = json.loads((folder / "discover.json").read_text())
    assert again["peeled_to"] == 2 and again["chosen_by"] == "asked"
    assert main(["discover", str(out), "--item", "a", "--box", "100000", "--out", str(tmp_path / "x")]) == 2
    assert "the peeling trajectory has boxes 0 to" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_discover_on_the_points_of_a_latin_hypercube(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A sweep's points: the box bounds the swept value that decides the item."""
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "schema: 1\nname: s\ncalendar: {start: 2025-01-01, horizon: 100}\nsimulation: {replications: 200, seed: 5}\n"
        "rounds: {first: 0, interval: 1000}\nitems:\n  a: {p: 0.5}\n  b: {p: 0.5}\n"
    )
    sweep = tmp_path / "sweep"
    args = ["sweep", str(scenario), "--set", "items.a.p=0:1:2", "--set", "items.b.p=0:1:2", "--design", "lhs"]
    assert main([*args, "--samples", "300", "--out", str(sweep), "--jobs", "1", "--quiet", "--no-plots"]) == 0
    sw = sim.load_results(sweep)
    found = sw.discover("a", resamples=5)
    assert list(found.boxes["path"]) == ["items.a.p"] and found.data["unit"] == "points"
    assert "chance that they see a agreed" in found.words
    grid = tmp_path / "grid"  # a judgement swept on a grid: the scenario as written is one more point, left out
    drawn = tmp_path / "d.yaml"
    drawn.write_text(scenario.read_text().replace("a: {p: 0.5}", "a: {p: {dist: uniform, low: 0, high: 1}}"))
    assert main(["sweep", str(drawn), "--set", "items.a.p=0:1:11", "--out", str(grid), "--quiet", "--no-plots"]) == 0
    on_grid = sim.load_results(grid)
    assert len(on_grid.described["points"]) == 12 and on_grid.discover("a", resamples=0).data["count"] == 11
    oat = tmp_path / "oat"
    assert (
        main(["sweep", str(scenario), "--set", "items.a.p=0.2,0.8", "--design", "oat", "--out", str(oat), "--quiet"])
        == 0
    )
    capsys.readouterr()
    assert main(["discover", str(oat), "--item", "a"]) == 2
    assert "one-at-a-time sweep" in capsys.readouterr().err


def test_the_figure_draws_every_panel() -> None:
    """Trajectory, bounds and points: three panels with titles and labelled axes."""
    res = decided()
    found = sim.api.Results.of(res).discover("a", resamples=3)
    fig = found.plot()
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    assert len(axes) == 3
    assert all(ax.get_xlabel() and ax.get_title(loc="left") for ax in axes)
    assert fig.get_suptitle().startswith("test: which judgements decide whether the replications see a agreed")
    assert np.isfinite(found.trajectory["density"]).all()
