"""Observed files: what happened, read with the care of a scenario file; what cannot have happened refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from sim.errors import UserError
from sim.results.observed import load_observed
from sim.scenario.load import load_scenario
from tests.helpers import SCENARIOS

CUBA = SCENARIOS / "backtests-v1" / "cuba-2015"
GOOD = (CUBA / "observed.yaml").read_text()
ON_RECORD = """forecasts:
  - {source: "A think tank", made: 2015-03-01, item: embassies, by: 2015-12-31, p: 0.6}
  - {source: "A market", made: 2015-03-01, item: embassies, by: 2015-12-31, p: 0.5}
  - {source: "A think tank", made: 2015-03-01, item: embassies, by: 2015-12-31, p: 0.6}
"""
ROUNDS = "rounds:\n  held: [2015-01-22, 2015-02-27, 2015-05-21]\n  cancelled: [2015-04-10, 2015-05-21]\n"


def _validate(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "observed.yaml"
    path.write_text(text)
    code = main(["validate", str(path)])
    return code, capsys.readouterr().err


def test_a_forecast_on_record_listed_twice_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same source, day, item and date twice would be scored twice: refused at the second, with its line."""
    code, err = _validate(tmp_path, GOOD + ON_RECORD, capsys)
    assert code == 2 and "Traceback" not in err
    line = GOOD.count("\n") + 4
    assert f"observed.yaml:{line}: forecasts[2]: listed twice (as forecasts[0]: A think tank" in err
    assert "forecasts[1]" not in err  # another source's forecast of the same is another forecast
    code, _ = _validate(tmp_path, GOOD + ON_RECORD.rsplit("  - ", 1)[0], capsys)
    assert code == 0


def test_a_round_held_and_called_off_the_same_day_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _validate(tmp_path, GOOD + ROUNDS, capsys)
    line = GOOD.count("\n") + 3
    assert code == 2
    assert f"observed.yaml:{line}: rounds.cancelled[1]: 2015-05-21 is also listed as held (rounds.held[2])" in err
    code, _ = _validate(tmp_path, GOOD + ROUNDS.replace("[2015-04-10, 2015-05-21]", "[2015-04-10]"), capsys)
    assert code == 0


@pytest.mark.parametrize(
    ("rounds", "expected"),
    [
        ("rounds: {held: [2015-01-22, 2015-06-15]}", "rounds.held[1]: 2015-06-15 is after the breakdown (2015-06-01)"),
        (
            "rounds: {held: [2015-01-22], cancelled: [2015-07-01]}",
            "rounds.cancelled[0]: 2015-07-01 is after the breakdown (2015-06-01)",
        ),
        (
            "talks: {paused: [2015-03-01], resumed: [2015-07-01]}",
            "talks.resumed[0]: 2015-07-01 is after the breakdown (2015-06-01)",
        ),
        ("talks: {paused: [2015-07-01]}", "talks.paused[0]: 2015-07-01 is after the breakdown (2015-06-01)"),
    ],
)
def test_rounds_after_a_breakdown_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rounds: str, expected: str
) -> None:
    """Talks broken off for good hold no round and call none off (none is scheduled), nor resume:
    what the file says then is a pause, and the message says so."""
    text = (
        GOOD.replace("breakdown: null", "breakdown: 2015-06-01")
        .replace("  aviation_arrangement: 2016-02-16", "  aviation_arrangement: null")
        .replace("  scheduled_flights: 2016-08-31", "  scheduled_flights: null")
        .replace("  embassies: 2015-07-20", "  embassies: null")
    )
    code, err = _validate(tmp_path, text + rounds + "\n", capsys)
    assert code == 2 and expected in err and "talks.paused" in err
    on_the_day = rounds.replace("2015-06-15", "2015-06-01").replace("2015-07-01", "2015-06-01")
    code, err = _validate(tmp_path, text + on_the_day + "\n", capsys)
    assert code == 0, err  # the round the talks broke off at, or one called off that day


def test_an_agreement_after_a_breakdown_is_allowed_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Something can be agreed after talks break off (a step one side takes, a decree), but no
    replication does that: a warning with file, line and field, and the file is still read."""
    text = GOOD.replace("breakdown: null", "breakdown: 2016-01-01")
    code, err = _validate(tmp_path, text, capsys)
    assert code == 0
    line = next(i for i, x in enumerate(GOOD.splitlines(), 1) if x.startswith("  aviation_arrangement: 2016-02-16"))
    assert f"observed.yaml:{line}: items.aviation_arrangement: warning: 2016-02-16 is after the breakdown" in err
    assert "items.banking" not in err  # agreed before it
    run = tmp_path / "run"
    assert (
        main(
            ["run", str(CUBA / "scenario.yaml"), "-n", "200", "--jobs", "1", "--out", str(run), "--quiet", "--no-plots"]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["score", str(run), "--observed", str(tmp_path / "observed.yaml"), "--no-plots"]) == 0
    assert "items.aviation_arrangement: warning: 2016-02-16 is after the breakdown" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "  sst_list: 2015-05-29 ",
            "  sst_list: {lifted: 2015-05-29, in_force: true} ",
            "constraints.sst_list.in_force: true, but it was lifted on 2015-05-29 and nothing imposed it again",
        ),
        (
            "  embargo: null ",
            "  embargo: {lifted: null, in_force: false} ",
            "constraints.embargo.in_force: false, but it is in force from the start and was never lifted",
        ),
        (
            "  sst_list: 2015-05-29 ",
            "  sst_list: {lifted: 2015-05-29, imposed: [2015-03-01]} ",
            "constraints.sst_list.imposed[0]: 2015-03-01: the constraint is in force from the start and was first "
            "lifted on 2015-05-29",
        ),
    ],
)
def test_what_a_file_says_of_a_constraint_is_one_story(tmp_path: Path, old: str, new: str, expected: str) -> None:
    """Lifted yet in force with nothing imposing it again, never lifted yet not in force, imposed
    again before it was ever lifted: each passed without a word (held-out hostile cases o03, o24,
    o25). Judged against the scenario, which says whether the constraint is in force at the start."""
    s = load_scenario(CUBA / "scenario.yaml")
    assert old in GOOD
    path = tmp_path / "observed.yaml"
    path.write_text(GOOD.replace(old, new))
    with pytest.raises(UserError) as exc:
        load_observed(path, s)
    assert expected in str(exc.value), str(exc.value)
    swap = {"in_force: true": "in_force: false", "in_force: false": "in_force: true", "2015-03-01]": "2015-08-01]"}
    agreeing = next(new.replace(a, b) for a, b in swap.items() if a in new)
    path.write_text(GOOD.replace(old, agreeing))
    load_observed(path, s)  # the same record told as one story is read


def test_a_misspelt_field_of_a_constraint_record_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A record with a misspelt field was two problems, one of them about the date it might have been
    and one naming pydantic's class (constraints.sst_list.ConstraintRecord.in_forse): now one line."""
    code, err = _validate(
        tmp_path, GOOD.replace("  sst_list: 2015-05-29 ", "  sst_list: {lifted: 2015-05-29, in_forse: true} "), capsys
    )
    assert code == 2 and "Traceback" not in err
    said = "constraints.sst_list.in_forse: unknown field 'in_forse' (did you mean 'in_force'?)"
    assert err.strip().splitlines() == [f"{tmp_path / 'observed.yaml'}:9: {said}"]
