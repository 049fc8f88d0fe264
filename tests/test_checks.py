"""Scenario files: every problem reported with file, line and field path; nothing else accepted."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import pytest

from sim.cli import main
from sim.errors import UserError, did_you_mean
from sim.results.folder import scenario_yaml
from sim.scenario.documents import load_document
from sim.scenario.load import load_scenario
from tests.helpers import BUNDLED, stem

GOOD = """\
schema: 1
name: small
calendar:
  start: 2025-04-10
  horizon: 2025-12-31
rounds:
  interval: {dist: triangular, low: 20, mode: 40, high: 80}
parties:
  ru: {name: Russia}
  us: {name: United States}
items:
  visas:
    accept: {ru: 0.7, us: 0.5}
  flights:
    p: 0.3
    requires: [visas]
    constraints: {aviation: block}
constraints:
  aviation:
    lift:
      on: 2025-09-01
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str, name: str = "s.yaml") -> list[str]:
    path = write(tmp_path, text, name)
    with pytest.raises(UserError) as exc:
        load_scenario(path)
    return str(exc.value).splitlines()


def test_a_good_file_loads(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, GOOD))
    assert s.horizon == 265
    assert s.items["visas"].probability() == pytest.approx(0.35)
    assert s.constraints["aviation"].lift is not None
    assert s.day(s.constraints["aviation"].lift.on) == 144  # type: ignore[arg-type]


def test_yaml_12_booleans_keep_on_as_a_key(tmp_path: Path) -> None:
    doc = load_document(write(tmp_path, "a: {on: 1, no: 2, yes: 3, off: true}\n"))
    assert doc.data == {"a": {"on": 1, "no": 2, "yes": 3, "off": True}}


def test_the_example_message_of_the_issue(tmp_path: Path) -> None:
    text = GOOD.replace("requires: [visas]", "requires: [visa]")
    assert problems(tmp_path, text, "istanbul-2025.yaml") == [
        f"{tmp_path / 'istanbul-2025.yaml'}:16: items.flights.requires: unknown item 'visa' (did you mean 'visas'?)"
    ]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        GOOD.replace("p: 0.3", "p: 1.3")
        .replace("mode: 40", "mode: 400")
        .replace("requires: [visas]", "requires: [visa]\n    prority: 2")
        .replace("{aviation: block}", "{aviaton: block}")
    )
    lines = problems(tmp_path, text)
    assert len(lines) == 5, lines
    joined = "\n".join(lines)
    assert ":7: rounds.interval: mode (400) must lie between low (20) and high (80)" in joined
    assert ":15: items.flights.p: must be <= 1.0, not 1.3" in joined
    assert ":17: items.flights.prority: unknown field 'prority' (did you mean 'priority'?)" in joined
    assert ":18: items.flights.constraints: unknown constraint 'aviaton' (did you mean 'aviation'?)" in joined
    assert ":16: items.flights.requires: unknown item 'visa'" in joined


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("requires: [visas]", "requires: [flights]"), "items.flights.requires: requires cycle: flights -> flights"),
        (("accept: {ru: 0.7, us: 0.5}", "accept: {ru: 0.7}"), "agreement needs every party: give acceptance for 'us'"),
        (("accept: {ru: 0.7, us: 0.5}", "accept: {ru: 0.7, uk: 0.5}"), "unknown party 'uk'"),
        (("accept: {ru: 0.7, us: 0.5}", "p: 0.4\n    accept: {ru: 0.7, us: 0.5}"), "not both"),
        (("start: 2025-04-10", "start: 2025-02-30"), "calendar.start: must be a date"),
        (("horizon: 2025-12-31", "horizon: 2025-01-31"), "calendar.horizon: 2025-01-31 is not after calendar.start"),
        (("on: 2025-09-01", "on: 2024-09-01"), "constraints.aviation.lift.on: 2024-09-01 is before calendar.start"),
        (("lift:\n      on: 2025-09-01", "lift:\n      p: 0.5"), "'p' is the chance of lifting at each review"),
        (
            ("interval: {dist: triangular, low: 20, mode: 40, high: 80}", "interval: {dist: gamma, shape: 2}"),
            "rounds.interval: gamma needs 'scale'",
        ),
        (
            ("interval: {dist: triangular, low: 20, mode: 40, high: 80}", "interval: {dist: poisson, mean: 2}"),
            "rounds.interval.dist: must be 'fixed'",
        ),
        (
            ("interval: {dist: triangular, low: 20, mode: 40, high: 80}", "interval: 0.001"),
            "rounds.interval: a mean of 0.001 days gives about 265,000 rounds",
        ),
        (("p: 0.3", "p: .nan"), "items.flights.p: must be a finite number"),
        (("p: 0.3", "p: yes"), "items.flights.p: must be a number, not the text 'yes'"),
        (("p: 0.3", "p: true"), "items.flights.p: must be a number, not 'true'"),
        (("name: small", "name: Small Talks"), "name: 'Small Talks' is not a valid name"),
        (("name: small", "name: ../../etc"), "name: '../../etc' is not a valid name"),
        (("schema: 1", "schema: 2"), "schema: must be 1, not 2"),
        (("  visas:\n", "  visas:\n    status: done\n"), "items.visas.status: must be 'open' or 'agreed'"),
        (("constraints:\n  aviation:\n", "constraints:\n  - aviation:\n"), "constraints: must be a mapping"),
    ],
)
def test_bad_fields_are_named(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in GOOD
    lines = problems(tmp_path, GOOD.replace(old, new, 1))
    assert any(expected in line for line in lines), lines
    assert all(line.startswith(str(tmp_path / "s.yaml") + ":") for line in lines)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"   \n# only a comment\n", "the file is empty"),
        (b"schema: 1\nname: [unclosed\n", "YAML syntax error"),
        (b"- a\n- b\n", "a scenario must be a mapping of sections, not a list"),
        (b"schema: 1\nschema: 1\n", ":2: duplicate key 'schema'"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary data"),
        (b"name: caf\xe9\n", ":1: not UTF-8 text"),
        (b"a: !!python/object/apply:os.system ['echo hi']\n", "could not determine a constructor"),
        (
            b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
            b"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
            "too many YAML nodes",
        ),
        (b"a: " + b"[" * 200 + b"]" * 200 + b"\n", "nested"),
    ],
)
def test_unreadable_files_are_user_errors(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    with pytest.raises(UserError) as exc:
        load_scenario(path)
    assert expected in str(exc.value)
    assert str(exc.value).startswith(str(path))


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file"):
        load_scenario(tmp_path / "nope.yaml")
    with pytest.raises(UserError, match="is a directory"):
        load_scenario(tmp_path)


def test_json_is_accepted_with_line_numbers(tmp_path: Path) -> None:
    good = (
        '{\n  "schema": 1,\n  "name": "j",\n  "calendar": {"start": "2025-01-01", "horizon": 90},\n'
        '  "rounds": {"interval": 30},\n  "items": {\n    "a": {"p": 0.5, "requires": ["b"]}\n  }\n}\n'
    )
    path = write(tmp_path, good, "s.json")
    with pytest.raises(UserError) as exc:
        load_scenario(path)
    assert str(exc.value) == f"{path}:7: items.a.requires: unknown item 'b'"
    path.write_text(good.replace(', "requires": ["b"]', ""))
    assert load_scenario(path).items["a"].p == 0.5
    path.write_text('{"schema": 1,\n "schema": 1}')
    with pytest.raises(UserError, match="duplicate key 'schema'"):
        load_scenario(path)


@pytest.mark.parametrize("path", BUNDLED, ids=stem)
def test_bundled_scenarios_are_valid_and_round_trip(path: Path, tmp_path: Path) -> None:
    s = load_scenario(path)
    again = write(tmp_path, scenario_yaml(s), "as-run.yaml")
    assert load_scenario(again) == s


# ---------------------------------------------------------------------- the rules outside rounds

CASCADE = GOOD.replace(
    "constraints:\n  aviation:",
    """  decree:
    p: 0.1
    hazard: 2
    enact: {after: [visas], p: 0.8, lag: {dist: uniform, low: 5, high: 40}}
regime:
  states:
    decided: {share: 0.4, odds: 3}
    undecided: {odds: 0.5}
events:
  summit: {rate: 1, decides: [decree], pause: 0.2}
constraints:
  aviation:""",
)


def test_a_good_file_with_every_rule_outside_rounds_loads(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, CASCADE))
    assert s.items["decree"].enact is not None and s.regime is not None
    assert load_scenario(write(tmp_path, scenario_yaml(s), "again.yaml")) == s


@pytest.mark.parametrize(
    ("old", "new", "line", "expected"),
    [
        (
            "after: [visas]",
            "after: [visa]",
            32,
            "items.decree.enact.after: unknown item 'visa' (did you mean 'visas'?)",
        ),
        ("after: [visas]", "after: [decree]", 32, "items.decree.enact.after: 'decree' cannot be enacted after its own"),
        ("decides: [decree]", "decides: [flights]", 38, "events.summit.decides: 'flights' has no 'enact'"),
        ("decides: [decree]", "decides: [decre]", 38, "events.summit.decides: unknown item 'decre'"),
        ("hazard: 2", "hazard: -2", 31, "items.decree.hazard: must be >= 0"),
        ("pause: 0.2", "pause: 1.5", 38, "events.summit.pause: must be <= 1"),
        (
            "lag: {dist: uniform, low: 5, high: 40}",
            "lag: -3",
            32,
            "items.decree.enact.lag: value: days cannot be negative",
        ),
        ("p: 0.8, lag", "p: 2, lag", 32, "items.decree.enact.p: must be <= 1"),
        (
            "decided: {share: 0.4, odds: 3}",
            "decided: {odds: 3}",
            34,
            "regime.states: leave out the share of exactly one",
        ),
        (
            "undecided: {odds: 0.5}",
            "undecided: {share: 0.7, odds: 0.5}",
            34,
            "regime.states: leave out the share of one",
        ),
        ("undecided: {odds: 0.5}", "undecided: {odds: 0}", 36, "regime.states.undecided.odds: must be > 0"),
        ("share: 0.4", "share: {dist: uniform, low: 0.5, high: 1.2}", 35, "regime.states.decided.share:"),
    ],
)
def test_bad_values_of_the_new_fields_are_one_located_line(
    tmp_path: Path, old: str, new: str, line: int, expected: str
) -> None:
    """Each new field's mistakes: file, line, field path and what is wrong, nothing else."""
    assert old in CASCADE
    found = problems(tmp_path, CASCADE.replace(old, new, 1))
    hits = [p for p in found if expected in p]
    assert hits, found
    assert hits[0].startswith(f"{tmp_path / 's.yaml'}:")


@pytest.mark.parametrize(
    ("decides", "expected"),
    [
        ("[flights]", "regime.states.decided.decides: 'flights' has no 'enact': give it one"),
        ("[decre]", "regime.states.decided.decides: unknown item 'decre' (did you mean 'decree'?)"),
        ("decree", "regime.states.decided.decides: "),
    ],
)
def test_bad_items_of_a_leaders_decision_are_one_located_line(tmp_path: Path, decides: str, expected: str) -> None:
    """A regime state's ``decides`` names items that exist and can be enacted, as a list."""
    text = CASCADE.replace("decided: {share: 0.4, odds: 3}", f"decided: {{share: 0.4, odds: 3, decides: {decides}}}")
    found = problems(tmp_path, text)
    hits = [p for p in found if expected in p]
    assert hits, found
    assert hits[0].startswith(f"{tmp_path / 's.yaml'}:24:")


def test_an_item_only_the_leaders_decide_is_not_warned_of(tmp_path: Path) -> None:
    """An enactment with no 'after' and in no package is warned of, unless a regime state decides it."""
    text = CASCADE.replace("decides: [decree], pause: 0.2", "trust: 0.1").replace("after: [visas], ", "")
    text = text.replace("decided: {share: 0.4, odds: 3}", "decided: {share: 0.4, odds: 3, decides: [decree]}")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = load_scenario(write(tmp_path, text))
    assert s.regime is not None and s.regime.states["decided"].decides == ["decree"]


def test_shares_that_can_pass_one_are_refused(tmp_path: Path) -> None:
    text = CASCADE.replace("undecided: {odds: 0.5}", "third: {share: 0.7}\n    undecided: {odds: 0.5}")
    assert any("the shares can sum to more than 1 (1.1)" in p for p in problems(tmp_path, text))


def test_what_nothing_decides_and_a_resume_without_pauses_are_warned(tmp_path: Path) -> None:
    text = CASCADE.replace("decides: [decree], pause: 0.2", "trust: 0.1").replace("after: [visas], ", "")
    text = text.replace("  interval:", "  resume: 3\n  interval:")
    with pytest.warns(UserWarning) as seen:
        load_scenario(write(tmp_path, text))
    said = [str(w.message) for w in seen]
    assert any("items.decree.enact: warning: can never happen: nothing decides it" in m for m in said), said
    assert any("rounds.resume: warning: the talks never pause" in m for m in said), said


def test_validate_warns_of_a_requires_chain_slower_than_the_horizon(tmp_path: Path) -> None:
    """Two links of p = 0.05 a round, rounds every 30 days: the chain's median is 30 days times the
    median of two geometric waits (a negative binomial), past a horizon of a year; printed."""
    import contextlib
    import io
    import warnings

    from scipy import stats

    from sim.cli import main

    text = GOOD.replace("interval: {dist: triangular, low: 20, mode: 40, high: 80}", "interval: 30")
    text = text.replace("accept: {ru: 0.7, us: 0.5}", "accept: {ru: 0.05, us: 1.0}").replace("p: 0.3", "p: 0.05")
    path = write(tmp_path, text)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["validate", str(path)]) == 0
    lines = [line for line in err.getvalue().splitlines() if "chain" in line]
    assert len(lines) == 1 and lines[0].startswith(
        f"{path}:16: items.flights.requires: warning: the chain visas -> flights"
    )
    median = 30 * (stats.nbinom(2, 0.05).median() + 2)
    shown = float(lines[0].split("takes about ")[1].split(" days")[0].replace(",", ""))
    assert abs(shown - median) <= 30, (shown, median)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_scenario(path)  # a run is not told: it is advice for editors, not an impossibility


@pytest.mark.parametrize(("share", "warned"), [(0.9, False), (0.1, True)])
def test_a_chain_the_leaders_decide_is_as_slow_as_their_share_says(tmp_path: Path, share: float, warned: bool) -> None:
    """The slow chain above, both links decided by the leaders (enacted 10 days on) in a regime state
    of share 0.9: its median is the enactment, and nothing is warned; at 0.1 the rounds still set it."""
    import contextlib
    import io

    from sim.cli import main

    text = GOOD.replace("interval: {dist: triangular, low: 20, mode: 40, high: 80}", "interval: 30")
    text = text.replace("accept: {ru: 0.7, us: 0.5}", "accept: {ru: 0.05, us: 1.0}\n    enact: {lag: 10}")
    text = text.replace("p: 0.3", "p: 0.05\n    enact: {lag: 10}").replace("    constraints: {aviation: block}\n", "")
    text += f"regime:\n  states:\n    decided: {{share: {share}, decides: [visas, flights]}}\n    undecided: {{}}\n"
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["validate", str(write(tmp_path, text))]) == 0
    assert ("warning: the chain visas -> flights" in err.getvalue()) is warned, err.getvalue()


@pytest.mark.parametrize("key", ["~", "null", "2025-01-01", "true", "1", "1.5", "-1"])
def test_a_key_yaml_reads_as_something_else_is_a_name_as_written(
    key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An item key read as nothing, a date, a boolean or a number is shown as written beside an unknown
    `requires` (its did-you-mean once sorted None with text and crashed): exit 2 or 0, never a traceback."""
    text = GOOD.replace("  visas:\n", f"  {key}:\n").replace("requires: [visas]", "requires: [visaz]")
    path = write(tmp_path, text)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "datetime" not in err and "None" not in err and "items[" not in err
    assert "items.flights.requires: unknown item 'visaz'" in err
    if key in ("~", "1.5", "-1"):
        assert f"items.{key}: '{key}' is not a valid name" in err
    else:  # a valid name, once quoted or not
        assert f"items.{key}" not in err


def test_did_you_mean_takes_any_candidates() -> None:
    assert did_you_mean("visa", [None, "visas", dt.date(2025, 1, 1), True]) == " (did you mean 'visas'?)"


CYCLE = """\
schema: 1
name: small
calendar:
  start: 2025-04-10
  horizon: 365
rounds:
  interval: 30
items:
  visas:
    p: 0.5
    constraints: {aviation: VISAS}
  flights:
    p: 0.3
    constraints: {banking: FLIGHTS}
  hotels:
    p: 0.3
constraints:
  aviation:
    lift:
      when_agreed: [flights]
  banking:
    lift:
      when_agreed: [visas]BANKING
  tourism:
    lift:
      when_agreed: [TOURISM]
"""


@pytest.mark.parametrize(
    ("visas", "flights", "banking", "tourism", "stuck"),
    [
        ("block", "block", "", "hotels", {"aviation", "banking"}),
        ("0", "0", "", "hotels", {"aviation", "banking"}),  # a multiplier of 0 blocks
        ("{dist: fixed, value: 0}", "block", "", "hotels", {"aviation", "banking"}),  # as a plain 0
        ("block", "block", "\n      on: 2030-01-01", "hotels", {"aviation", "banking"}),  # lifts after the horizon
        (
            "block",
            "block",
            "\n      reviews: {first: 2025-05-01, every: 30}\n      p: 0",
            "hotels",
            {"aviation", "banking"},
        ),
        ("block", "block", "", "visas", {"aviation", "banking", "tourism"}),  # waits behind the pair
        ("block", "block", "\n      rate: 2", "visas", set()),  # banking can lift by its rate: nothing is stuck
        ("0.5", "block", "", "visas", set()),
    ],
)
def test_constraints_waiting_on_each_other_through_when_agreed_are_warned(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    visas: str,
    flights: str,
    banking: str,
    tourism: str,
    stuck: set[str],
) -> None:
    """A cycle of any length through when_agreed (and what waits behind one) is a warning at each stuck
    constraint's when_agreed, naming the fields of the chain; a way out (a rate) silences it."""
    text = CYCLE.replace("VISAS", visas).replace("FLIGHTS", flights).replace("BANKING", banking)
    path = write(tmp_path, text.replace("TOURISM", tourism))
    assert main(["validate", str(path)]) == 0
    err = capsys.readouterr().err
    warned = {c for c in ("aviation", "banking", "tourism") if f"constraints.{c}.lift.when_agreed: warning" in err}
    assert warned == stuck, err
    if "aviation" in stuck:
        assert (
            "'aviation' waits for 'flights' (constraints.aviation.lift.when_agreed), 'flights' is blocked by "
            "'banking' (items.flights.constraints.banking), 'banking' waits for 'visas' "
            "(constraints.banking.lift.when_agreed), 'visas' is blocked by 'aviation' itself "
            "(items.visas.constraints.aviation)" in err
        ), err


def test_an_item_and_a_constraint_of_one_name_are_not_taken_for_each_other(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A constraint 'b' waiting for an item that requires the item 'b' is no cycle: item b can be agreed."""
    text = GOOD.replace(
        "constraints:\n  aviation:\n    lift:\n      on: 2025-09-01\n",
        "  b:\n    p: 0.5\n  c:\n    p: 0.5\n    requires: [b]\n"
        "constraints:\n  aviation:\n    lift:\n      on: 2025-09-01\n  b:\n    lift:\n      when_agreed: [c]\n",
    )
    path = write(tmp_path, text)
    assert main(["validate", str(path)]) == 0
    assert "warning" not in capsys.readouterr().err


def test_calendar_problems_are_reported_with_the_field_problems_and_say_their_values(tmp_path: Path) -> None:
    """Dates against the calendar are checked whatever else is wrong (every problem at once), and each
    message says the value it judges and what it is judged against."""
    text = GOOD.replace("  horizon: 2025-12-31\n", "  horizon: 2025-12-31\n  milestones: [2025-06-30, 2026-03-31]\n")
    text = text.replace("rounds:\n", "rounds:\n  first: 2025-01-01\n").replace("    p: 0.3\n", "    p: 1.5\n")
    found = problems(tmp_path, text)
    assert any(p.endswith("calendar.milestones[1]: 2026-03-31 is after the horizon (2025-12-31)") for p in found), found
    assert any(p.endswith("rounds.first: 2025-01-01 is before calendar.start (2025-04-10)") for p in found), found
    assert any(p.endswith("items.flights.p: must be <= 1.0, not 1.5") for p in found), found
    days = GOOD.replace("  horizon: 2025-12-31\n", "  horizon: 100\n  milestones: [50, 400]\n")
    assert problems(tmp_path, days.replace("    p: 0.3\n", "    p: x\n"))[0].endswith(
        "calendar.milestones[1]: 400 days is after the horizon (100 days)"
    )


@pytest.mark.parametrize(("high", "code"), [("2", 0), ("20000", 2)])
def test_rates_given_per_state_of_the_regime_are_judged_in_each_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], high: str, code: int
) -> None:
    """An event rate and a stall given per state were multiplied as numbers (a crash): each state is judged."""
    text = GOOD.replace(
        "rounds:\n",
        "regime:\n  states:\n    on: {share: 0.5}\n    off: {}\nrounds:\n  stall: {regime: {on: 1, off: 2}}\n",
    )
    text += f"events:\n  e:\n    rate: {{regime: {{on: 1, off: {high}}}}}\n"
    assert main(["validate", str(write(tmp_path, text))]) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert ("events.e.rate: in state 'off' it gives about 14,521 events in the horizon" in err) == (code == 2), err


def test_values_per_state_wait_for_a_regime_that_is_there_but_wrong(tmp_path: Path) -> None:
    """A regime with a bad share is said once; values per state are not then said to have no regime."""
    text = GOOD.replace("rounds:\n", "regime:\n  states:\n    on: {share: 1.5}\n    off: {}\nrounds:\n")
    found = problems(tmp_path, text.replace("    p: 0.3\n", "    p: {regime: {on: 0.5, off: 0.1}}\n"))
    assert len(found) == 1 and "regime.states.on.share: must be <= 1.0, not 1.5" in found[0], found


def test_a_name_yaml_reads_as_a_date_says_to_quote_it(tmp_path: Path) -> None:
    """An item named 2025-01-01 is a name; naming it unquoted in a list reads as a date, and the message says
    what to do; quoted, it is the item."""
    text = GOOD.replace("  visas:\n", "  2025-01-01:\n")
    found = problems(tmp_path, text.replace("requires: [visas]", "requires: [2025-01-01]"))
    assert any(
        "items.flights.requires[0]: must be text, not 2025-01-01 (YAML reads it as a date: put it in quotes" in p
        for p in found
    ), found
    assert load_scenario(write(tmp_path, text.replace("requires: [visas]", "requires: ['2025-01-01']")))


@pytest.mark.parametrize(("rate", "code"), [("20", 0), ("20000", 2)])
def test_moves_between_states_of_the_regime_are_bounded_like_pauses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rate: str, code: int
) -> None:
    """Rates of moving between the regime's states had no bound: 10,000 a year each way passed validate
    and the run hung. They are held to the same at most 10,000 in the horizon as pauses and events."""
    text = GOOD.replace(
        "rounds:\n",
        f"regime:\n  states:\n    on: {{share: 0.5, to: {{off: {rate}}}}}\n    off: {{to: {{on: {rate}}}}}\nrounds:\n",
    )
    assert main(["validate", str(write(tmp_path, text))]) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    said = "regime.states.on.to: the rates of moving between states give up to about 29,041 moves in the horizon"
    assert (said in err) == (code == 2), err


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (
            ("  visas:\n", "  visas:\n    status: agreed\n    hazard: 2\n"),
            "items.visas.hazard",
        ),
        (
            (
                "  visas:\n",
                "  visas:\n    status: agreed\n    enact: {after: [flights], lag: 5}\n",
            ),
            "items.visas.enact",
        ),
        (("rounds:\n", "rounds:\n  stall: 0\n"), "rounds.stall"),
        (("rounds:\n", "rounds:\n  stall: 0\n  resume: 2\n"), "rounds.resume"),
        (
            ("  flights:\n", "    status: agreed\n    enact: {lag: 5}\n  flights:\n    decides: [visas]\n"),
            "items.flights.decides[0]",
        ),
    ],
)
def test_fields_that_can_never_act_are_warned_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: tuple[str, str], said: str
) -> None:
    """A hazard or an enactment of an item agreed before the start, a stall of 0 (and the resume that
    then never acts), and a package that decides an item agreed before the start were silent or named
    another field (held-out hostile cases s69, s70, s72, s79): legal, and they can never do what they say."""
    path = write(tmp_path, GOOD.replace(*edit))
    assert main(["validate", str(path)]) == 0
    err = capsys.readouterr().err
    assert f"{said}: warning:" in err, err
    assert main(["validate", str(write(tmp_path, GOOD, "plain.yaml"))]) == 0
    assert "warning" not in capsys.readouterr().err


def test_a_table_named_and_missing_is_refused_though_no_row_is_cited(tmp_path: Path) -> None:
    """'table: nope/table.yaml' passed validate when no row was cited (held-out hostile case s39)."""
    found = problems(tmp_path, "table: nope/table.yaml\n" + GOOD)
    assert found[0].endswith("table: nope/table.yaml: no such file (relative to this file)"), found
