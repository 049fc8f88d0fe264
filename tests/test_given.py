"""``negsim run --given``: conditioning on what happened, against closed forms; and what it writes."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import special

from sim.cli import main
from sim.engine.history import History
from sim.engine.plan import compile_plan
from sim.engine.simulate import simulate
from sim.errors import UserError
from sim.results.observed import history, load_observed
from sim.runs.executors import InProcess, LocalProcesses
from sim.runs.montecarlo import MIN_KEPT, run_given
from sim.scenario.load import load_scenario
from tests.helpers import SCENARIOS, assert_close, assert_proportion, make

CUBA = SCENARIOS / "backtests-v1" / "cuba-2015" / "scenario.yaml"


def lone_item(a: float, b: float, rounds: int) -> object:
    """One item, p ~ Beta(a, b), a round every 10 days from day 0, ``rounds`` rounds up to the horizon."""
    return make(
        calendar={"horizon": 10 * (rounds - 1)},
        rounds={"first": 0, "interval": 10},
        items={"x": {"p": {"dist": "beta", "a": a, "b": b}}},
        trust={"weight": 0.0},
    )


def betaratio(a: float, b: float, c: float) -> float:
    """B(a, c) / B(a, b)."""
    return math.exp(special.betaln(a, c) - special.betaln(a, b))


@pytest.mark.parametrize(("m", "k"), [(2, 3), (5, 2)])
def test_no_agreement_in_m_rounds_gives_the_beta_geometric_posterior(m: int, k: int) -> None:
    """Given no agreement in the first m rounds: P(agreed within the next k) = 1 - B(a, b+m+k) / B(a, b+m),
    and the kept draws of p have the posterior mean a / (a + b + m)."""
    a, b, n = 2.0, 3.0, 20_000
    s = lone_item(a, b, m + k)
    known = History(as_of=10.0 * (m - 1), items=((0, "x", False),), held=m)
    with InProcess() as pool:
        rec, given, _ = run_given(compile_plan(s, census=known.as_of), n, known, pool)
    assert rec.n == n
    assert not (rec.item_day[:, 0] <= known.as_of).any()  # the history holds in every kept replication
    exact = 1 - betaratio(a, b + m, b + m + k)
    assert_proportion(rec.item_agreed[:, 0], n, exact, f"m={m}, k={k}")
    post = a / (a + b + m)
    var = post * (1 - post) / (a + b + m + 1)
    assert_close(float(rec.parameters[:, 0].mean()), post, math.sqrt(var / n), "posterior mean of p")
    # the share of replications kept is P(no agreement in m rounds) = B(a, b+m) / B(a, b)
    assert_proportion(given.kept, given.tried, betaratio(a, b, b + m), "acceptance")


def test_a_constraint_not_lifted_by_as_of_has_a_closed_form_posterior() -> None:
    """Reviews every 30 days with q ~ Beta(a, b): given r reviews without a lift, q ~ Beta(a, b + r), and
    P(lifted at one of the next j reviews) = 1 - B(a, b+r+j) / B(a, b+r)."""
    a, b, r, j, n = 1.5, 2.5, 3, 2, 20_000
    s = make(
        calendar={"horizon": 30 * (r + j)},
        items={"x": {"p": 0.0}},
        constraints={
            "c": {
                "active": True,
                "lift": {"reviews": {"first": 30, "every": 30}, "p": {"dist": "beta", "a": a, "b": b}},
            }
        },
    )
    known = History(as_of=30.0 * r, constraints=((0, "c", False),))
    with InProcess() as pool:
        rec, _, _ = run_given(compile_plan(s, census=known.as_of), n, known, pool)
    exact = 1 - betaratio(a, b + r, b + r + j)
    assert_proportion(rec.constraint_lifted[:, 0], n, exact, "lifted after as_of")
    post = a / (a + b + r)
    var = post * (1 - post) / (a + b + r + 1)
    assert_close(float(rec.parameters[:, 0].mean()), post, math.sqrt(var / n), "posterior mean of q")


def test_kept_replications_are_the_unconditioned_runs_rows_under_their_own_numbers() -> None:
    """The first n agreeing replications, in replication order, byte for byte as in an unconditioned run;
    the same whatever the executor."""
    s = lone_item(2.0, 3.0, 6)
    known = History(as_of=20.0, items=((0, "x", False),), held=3)
    plan = compile_plan(s, census=known.as_of)
    with InProcess() as one:
        rec, given, _ = run_given(plan, 1500, known, one)
    with LocalProcesses(2) as two:
        again, _, _ = run_given(plan, 1500, known, two)
    assert rec.equals(again)
    everything = simulate(plan, 0, given.tried)
    keep = known.agrees(everything)
    assert given.kept == int(keep.sum())
    assert rec.equals(everything.select(keep).take(1500))
    assert rec.replication.tolist() == np.flatnonzero(keep)[:1500].tolist()


def test_rounds_held_by_as_of_are_counted_the_same_by_both_clocks() -> None:
    s = make(
        rounds={"first": 3, "interval": {"dist": "uniform", "low": 5, "high": 20}, "cancel": 0.3},
        items={"x": {"p": 0.1}},
    )
    plan = compile_plan(s, census=40.0)
    batch, model = simulate(plan, 0, 200), simulate(plan, 0, 200, engine="simpy")
    assert batch.equals(model)
    assert batch.held_by_census.max() > batch.held_by_census.min()  # the count varies, and it is compared
    assert (batch.held_by_census <= batch.rounds_held).all() and (batch.cancelled_by_census > 0).any()


def write_observed(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "observed.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_empty_history_changes_nothing(tmp_path: Path) -> None:
    """As of the start, nothing agreed and nothing lifted: every replication is kept, the same bytes."""
    obs = write_observed(
        tmp_path,
        "as_of: 2015-01-21\nitems: {banking: null, embassies: null}\nconstraints: {sst_list: null}\n",
    )
    plain, given = tmp_path / "plain", tmp_path / "given"
    common = [str(CUBA), "-n", "1200", "--jobs", "1", "--no-plots", "--quiet"]
    assert main(["run", *common, "--out", str(plain)]) == 0
    assert main(["run", *common, "--out", str(given), "--given", str(obs)]) == 0
    for name in ("items.parquet", "constraints.parquet", "replications.parquet", "parameters.parquet", "summary.json"):
        assert (plain / name).read_bytes() == (given / name).read_bytes(), name
    made = json.loads((given / "manifest.json").read_text())["given"]
    assert made["tried"] == made["kept"] == 1200 and made["acceptance"] == 1.0


MID = """as_of: 2015-06-30
items: {banking: 2015-05-21, embassies: null, aviation_arrangement: null, scheduled_flights: null}
constraints: {sst_list: 2015-05-29, embargo: null}
rounds:
  held: [2015-01-22, 2015-02-27, 2015-03-16, 2015-05-21]
"""


def test_given_run_writes_the_conditioned_forecast_with_prior_and_posterior(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    obs = write_observed(tmp_path, MID)
    out = tmp_path / "run"
    assert main(["run", str(CUBA), "-n", "1000", "--jobs", "1", "--out", str(out), "--given", str(obs)]) == 0
    said = capsys.readouterr().out
    assert "given the history as of 2015-06-30: kept 1,000 of" in said
    assert "prior" in said and "given the history" in said
    made = json.loads((out / "manifest.json").read_text())["given"]
    assert made["kept"] == 1000 and made["tried"] > 1000 and 0 < made["acceptance"] < 1
    assert {c["condition"] for c in made["conditions"]} >= {"banking agreed", "4 rounds held", "sst_list lifted"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["replications"] == 1000 and summary["items"][0]["p"] == 1.0  # banking was agreed by as_of
    judged = {j["path"]: j for j in summary["judgements"]}
    prior = load_scenario(CUBA).items["embassies"].p.mean
    assert judged["items.embassies.p"]["prior"]["mean"] == pytest.approx(prior)
    assert judged["items.embassies.p"]["mean"] < prior  # months without relations are evidence that p is low
    assert (out / "plots" / "judgements.png").is_file()
    report = (out / "report.html").read_text()
    assert "Given the history to 2015-06-30" in report and "given the history: mean" in report


def test_a_history_the_scenario_cannot_produce_is_refused_plainly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    obs = write_observed(tmp_path, "as_of: 2015-02-15\nitems: {scheduled_flights: 2015-02-01}\n")
    out = tmp_path / "run"
    code = main(["run", str(CUBA), "-n", "500", "--jobs", "1", "--out", str(out), "--given", str(obs),
                 "--max-replications", "5000"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert "too unlikely" in err and "0 of 5,000 replications" in err and "scheduled_flights agreed" in err
    assert f"at least {MIN_KEPT}" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("as_of: 2015-06-30\nitems: {banking: null}\nrounds: {held: [2015-07-02]}\n", "rounds.held[0]"),
        ("as_of: 2015-06-30\nitems: {banking: null}\nrounds: {held: [2015-02-01, 2015-02-01]}\n", "listed twice"),
        ("as_of: 2015-06-30\nitems: {banking: null}\nrounds: {held: [], lost: []}\n", "lost"),
        ("as_of: 2017-06-30\nitems: {banking: null}\n", "after the horizon"),
    ],
)
def test_bad_observed_files_for_given_are_refused_with_their_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    obs = write_observed(tmp_path, text)
    assert main(["run", str(CUBA), "-n", "500", "--out", str(tmp_path / "r"), "--given", str(obs)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_history_reads_the_observed_file() -> None:
    from sim.scenario.load import load_scenario

    s = load_scenario(CUBA)
    obs = load_observed(SCENARIOS / "backtests-v1" / "cuba-2015" / "observed-mid-2015.yaml", s)
    known = history(obs, s)
    assert known.as_of == s.day(obs.as_of)
    assert (0, "banking", True) in known.items and (1, "embassies", False) in known.items
    assert known.held == len(obs.rounds.held) if obs.rounds else known.held is None
    with pytest.raises(UserError):
        load_observed(SCENARIOS / "backtests-v1" / "cuba-2015" / "scenario.yaml", s)


# ---------------------------------------------------------------------- pauses, constraints, the regime


def test_a_pause_seen_at_as_of_keeps_exactly_the_paused_replications() -> None:
    """An event on day 25 pauses the talks with chance 0.4, nothing resumes them: given that the
    talks were paused at as_of (day 50), every kept replication is paused, and 40% are kept."""
    s = make(calendar={"horizon": 120}, items={"x": {"p": 0.0}}, events={"row": {"dates": [25], "pause": 0.4}})
    known = History(as_of=50.0, pauses=1, paused=True)
    with InProcess() as pool:
        rec, given, _ = run_given(compile_plan(s, census=known.as_of), 4000, known, pool)
    assert rec.paused_at_census.all() and rec.paused.all() and (rec.pauses_by_census == 1).all()
    assert_proportion(given.kept, given.tried, 0.4, "acceptance")
    assert not (rec.next_round_day <= 120).any()  # no round after as_of: nothing resumes them


def test_a_constraint_in_force_and_imposed_conditions_the_forecast() -> None:
    """A constraint lifted on day 10 and imposed again by an event of rate 3 a year: given that it
    was imposed once and in force at as_of (day 100), the kept replications saw exactly that."""
    s = make(
        calendar={"horizon": 200},
        items={"x": {"p": 0.0}},
        constraints={"ban": {"lift": {"on": 10}}},
        events={"row": {"rate": 3.0, "impose": ["ban"]}},
    )
    known = History(as_of=100.0, in_force=((0, "ban", True),), imposed=((0, "ban", 1),))
    with InProcess() as pool:
        rec, given, _ = run_given(compile_plan(s, census=known.as_of), 4000, known, pool)
    assert rec.constraint_active_at_census[:, 0].all() and (rec.constraint_imposed_by_census[:, 0] == 1).all()
    # Exactly one imposition in the 100 days, Poisson(3 x 100 / 365); it is in force at as_of unless it
    # came before day 10 (then the fixed lift on day 10 ends it): P = e^-m m (90 / 100).
    m = 3 * 100 / 365
    assert_proportion(given.kept, given.tried, math.exp(-m) * m * 0.9, "acceptance")


def test_the_regime_is_updated_by_what_happened() -> None:
    """Shares 0.3 (odds x9) and 0.7: given the item agreed in one of the first three rounds, the
    kept share of the first state is Bayes' posterior."""
    p, share = 0.1, 0.3
    s = make(
        calendar={"horizon": 100},
        items={"x": {"p": p}},
        regime={"states": {"decided": {"share": share, "odds": 9.0}, "not": {}}},
    )
    known = History(as_of=20.0, items=((0, "x", True),))
    with InProcess() as pool:
        rec, given, _ = run_given(compile_plan(s, census=known.as_of), 20_000, known, pool)
    fast = 9 * p / (1 - p) / (1 + 9 * p / (1 - p))
    like = share * (1 - (1 - fast) ** 3), (1 - share) * (1 - (1 - p) ** 3)
    assert_proportion(rec.regime == 0, rec.n, like[0] / sum(like), "posterior share of 'decided'")
    assert_proportion(given.regimes[0], given.tried, share, "prior share among those tried")


def test_an_observed_file_says_what_happened_to_constraints_and_talks(tmp_path: Path) -> None:
    """The mapping form of a constraint and the talks' pauses become conditions of --given."""
    s = make(
        calendar={"horizon": 300},
        rounds={"resume": 2.0},
        items={"x": {"p": 0.1}},
        constraints={"ban": {"lift": {"rate": 1}}},
        events={"row": {"rate": 2, "pause": 0.5, "impose": ["ban"]}},
    )
    path = tmp_path / "o.yaml"
    path.write_text(
        "as_of: 2025-03-01\nitems: {x: null}\n"
        "constraints: {ban: {lifted: 2025-01-20, imposed: [2025-02-01], in_force: true}}\n"
        "talks: {paused: [2025-02-01]}\n"
    )
    obs = load_observed(path, s)
    known = history(obs, s)
    assert known.in_force == ((0, "ban", True),) and known.imposed == ((0, "ban", 1),)
    assert known.constraints == ((0, "ban", True),) and known.pauses == 1 and known.paused is True


@pytest.mark.parametrize(
    ("talks", "expected"),
    [
        (
            "{paused: [2025-02-01], resumed: [2025-01-20]}",
            "talks.resumed[0]: 2025-01-20: the talks resume before the pause it ends",
        ),
        ("{resumed: [2025-01-20]}", "talks.resumed[0]: 2025-01-20: the talks resume without a pause to end"),
        (
            "{paused: [2025-01-02, 2025-02-01]}",
            "talks.paused[1]: 2025-02-01: the talks pause again without having resumed",
        ),
        ("{paused: [2025-04-01]}", "talks.paused[0]: 2025-04-01 is after as_of"),
    ],
)
def test_pauses_and_resumptions_must_alternate(tmp_path: Path, talks: str, expected: str) -> None:
    path = tmp_path / "o.yaml"
    path.write_text(f"as_of: 2025-03-01\nitems: {{x: null}}\ntalks: {talks}\n")
    s = make(items={"x": {"p": 0.1}}, calendar={"horizon": 300})
    with pytest.raises(UserError) as exc:
        load_observed(path, s)
    assert expected in str(exc.value)


MID_FILE = SCENARIOS / "backtests-v1" / "cuba-2015" / "observed-mid-2015.yaml"


@pytest.mark.parametrize(
    ("options", "scenario_replications", "message"),
    [
        (["-n", "50"], None, "negsim: -n 50: a forecast --given a history keeps at least 100 replications"),
        ([], "40", ":25: simulation.replications: 40: a forecast --given a history keeps at least 100"),
        (["-n", "1000", "--max-replications", "200"], None, "--max-replications 200: fewer replications tried than"),
        (["-n", "100", "--max-replications", "1000"], None, "--max-replications 1,000: only "),
    ],
)
def test_given_names_the_option_that_asks_for_too_few_replications(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    scenario_replications: str | None,
    message: str,
) -> None:
    """Too small a -n (or simulation.replications) or --max-replications is said of that option or field,
    not blamed on the scenario's account of the history; nothing is written."""
    scenario = CUBA
    if scenario_replications is not None:
        text = CUBA.read_text(encoding="utf-8")
        scenario = tmp_path / "scenario.yaml"
        scenario.write_text(re.sub(r"replications: \d+", f"replications: {scenario_replications}", text, count=1))
    out = tmp_path / "run"
    code = main(["run", str(scenario), "--given", str(MID_FILE), "--jobs", "1", "--out", str(out), "--quiet", *options])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists(), err
    assert message in err and "too unlikely" not in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("option", ["-n", "--max-replications"])
def test_origins_name_the_option_that_asks_for_too_few_replications(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    """score --origins with -n (or --max-replications) below what a forecast keeps names the option, rather
    than saying that no origin could be forecast from the observed file."""
    run = tmp_path / "run"
    assert main(["run", str(CUBA), "-n", "300", "--jobs", "1", "--out", str(run), "--quiet", "--no-plots"]) == 0
    capsys.readouterr()
    observed = CUBA.parent / "observed.yaml"
    argv = ["score", str(run), "--observed", str(observed), "--origins", "2016-06-30", option, "50"]
    assert main([*argv, "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert f"{option} 50: each origin's forecast keeps at least 100" in err and "Traceback" not in err, err
    assert not (tmp_path / "s").exists()


def test_given_holds_the_kept_replications_not_every_one_tried() -> None:
    """--given's memory is bounded by what it keeps: each task's replications are filtered as they
    come, never gathered first (at 6% acceptance it tried 138,500 replications to keep 8,000, and
    held them all, twice over, when it gathered each batch). tracemalloc counts numpy's arrays."""
    import dataclasses
    import tracemalloc

    s = lone_item(1.0, 30.0, 8)
    known = History(as_of=10.0, items=((0, "x", True),))  # agreed at the first or second round: rare
    plan = compile_plan(s, census=known.as_of)
    with InProcess() as pool:
        tracemalloc.start()
        try:
            rec, given, _ = run_given(plan, 8000, known, pool)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert rec.n == 8000 and given.tried > 15 * given.wanted
    every = simulate(plan, 0, given.tried)
    tried_bytes = sum(getattr(every, f.name).nbytes for f in dataclasses.fields(every) if f.name != "start")
    assert peak < tried_bytes  # about 0.4 of it now; 2.0 when every batch was gathered
    assert rec.equals(every.select(known.agrees(every)).take(8000))  # the same replications as ever


PAUSED = "as_of: 2015-06-30\nitems: {banking: null}\ntalks: {paused: [2015-04-01], resumed: [2015-05-01]}\n"


def test_a_pause_in_the_history_of_a_scenario_that_never_pauses_is_refused_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--given with talks that paused, on a scenario that can never pause them (no stall, no pausing
    event; or the null model), tried a million replications before saying none agree (held-out
    hostile case o26: over a minute): refused before simulating, naming the line and the field."""
    obs = write_observed(tmp_path, PAUSED)
    assert main(["run", str(CUBA), "-n", "200", "--jobs", "1", "--out", str(tmp_path / "r"), "--given", str(obs)]) == 2
    err = capsys.readouterr().err
    assert f"{obs}:3: talks.paused[0]: 2015-04-01: the talks paused, but cuba-2015 can never pause them" in err
    assert not (tmp_path / "r").exists()
    pausing = SCENARIOS / "backtests" / "cuba-2015" / "scenario.yaml"
    assert load_observed(obs, load_scenario(pausing), given=True).talks is not None
    argv = [
        "run",
        str(pausing),
        "--null",
        "-n",
        "200",
        "--jobs",
        "1",
        "--out",
        str(tmp_path / "n"),
        "--given",
        str(obs),
    ]
    assert main(argv) == 2
    assert (
        "talks.paused: the talks paused before as_of, but the null model never pauses them" in capsys.readouterr().err
    )
    assert load_observed(obs, load_scenario(CUBA)).talks is not None  # scored, the history is legal
