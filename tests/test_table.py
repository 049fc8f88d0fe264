"""The reference-class table as data: rows cited as ``{row: R2}``, resolved at load, recorded in manifests."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sim.cli import main
from sim.errors import UserError
from sim.results.folder import scenario_yaml
from sim.scenario.load import load_scenario, load_table
from sim.scenario.table import markdown
from tests.helpers import ROOT, SCENARIOS

TABLE = """\
name: test-table
version: 3
rows:
  R1:
    kind: an enabler
    figure: {dist: beta, mean: 0.25, concentration: 6}
    anchors: [{source: "a source", date: "2001-02"}]
  R8:
    kind: rounds
    figures:
      interval: {dist: triangular, low: 21, mode: 45, high: 120}
      cancel: 0.1
  R9:
    kind: too large for a chance
    figure: 1.5
"""

SCENARIO = """\
schema: 1
name: cites
calendar: {start: 2025-01-01, horizon: 300}
rounds:
  interval: {row: R8.interval}
  cancel: {row: R8.cancel}
items:
  bank: {p: {row: R1}}
"""


def files(tmp_path: Path, scenario: str = SCENARIO, table: str = TABLE) -> tuple[Path, Path]:
    (tmp_path / "table.yaml").write_text(table)
    case = tmp_path / "case"
    case.mkdir(exist_ok=True)
    (case / "scenario.yaml").write_text(scenario)
    return case / "scenario.yaml", tmp_path / "table.yaml"


def test_a_row_stands_where_its_figure_would(tmp_path: Path) -> None:
    """{row: R1} reads as the row's figure, found in the library's table.yaml."""
    path, _ = files(tmp_path)
    s = load_scenario(path)
    assert s.items["bank"].p.expected() == pytest.approx(0.25)  # type: ignore[union-attr]
    assert s.rounds.cancel == 0.1 and s.rounds.interval.dist == "triangular"
    assert s.table is not None and s.table["version"] == 3 and len(s.table["sha256"]) == 64
    again = tmp_path / "again.yaml"  # the scenario as run holds the figures, not the citations
    again.write_text(scenario_yaml(s))
    assert "{row:" not in again.read_text() and "row: " not in again.read_text() and load_scenario(again) == s


def test_the_command_line_table_wins_and_a_scenario_may_name_its_own(tmp_path: Path) -> None:
    path, _ = files(tmp_path)
    other = tmp_path / "other.yaml"
    other.write_text(TABLE.replace("mean: 0.25", "mean: 0.4").replace("version: 3", "version: 4"))
    assert load_scenario(path, table=other).items["bank"].p.expected() == pytest.approx(0.4)  # type: ignore[union-attr]
    named = tmp_path / "alone.yaml"
    named.write_text("table: other.yaml\n" + SCENARIO)
    assert load_scenario(named).table["version"] == 4  # type: ignore[index]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("{row: R1}", "{row: R2}", "items.bank.p: no row 'R2' in test-table version 3"),
        (
            "{row: R8.cancel}",
            "{row: R8.cancle}",
            "rounds.cancel: no row 'R8.cancle' in test-table version 3 (did you mean 'R8.cancel'?)",
        ),
        ("{row: R1}", "{row: R9}", "items.bank.p: must be <= 1"),
        ("{row: R8.cancel}", "{row: R8}", "rounds.cancel: no row 'R8'"),
    ],
)
def test_a_wrong_citation_is_one_located_line(tmp_path: Path, old: str, new: str, expected: str) -> None:
    """An unknown row, a figure the field does not take: file, line and field, exit 2."""
    path, _ = files(tmp_path, SCENARIO.replace(old, new))
    with pytest.raises(UserError) as exc:
        load_scenario(path)
    lines = str(exc.value).splitlines()
    assert any(line.startswith(f"{path}:") and expected in line for line in lines), lines
    assert main(["validate", str(path)]) == 2


def test_a_citation_without_a_table_says_how_to_give_one(tmp_path: Path) -> None:
    lone = tmp_path / "lone.yaml"
    lone.write_text(SCENARIO)
    with pytest.raises(
        UserError,
        match=r"lone.yaml:5: rounds.interval: cites row 'R8.interval', but no table is given: pass --table FILE",
    ):
        load_scenario(lone)


def test_a_broken_table_is_located_in_its_own_file(tmp_path: Path) -> None:
    path, table = files(tmp_path, table=TABLE.replace("version: 3", "version: three"))
    with pytest.raises(UserError) as exc:
        load_scenario(path)
    assert f"{table}:2: version:" in str(exc.value)


def test_the_manifest_records_the_table(tmp_path: Path) -> None:
    path, table = files(tmp_path)
    out = tmp_path / "run"
    assert main(["run", str(path), "-n", "200", "--jobs", "1", "--no-plots", "--quiet", "--out", str(out)]) == 0
    made = json.loads((out / "manifest.json").read_text())
    assert made["table"]["name"] == "test-table" and made["table"]["version"] == 3
    assert made["table"]["sha256"] == load_table(table).sha256


@pytest.mark.parametrize("library", ["backtests-v1", "backtests-v2", "backtests"])
def test_a_library_readme_holds_exactly_the_generated_table(library: str) -> None:
    """The README's table is `negsim table`'s output for the library's table.yaml, so the two cannot disagree."""
    folder = SCENARIOS / library
    text = (folder / "README.md").read_text()
    found = re.search(r"edit the file, not this copy -->\n(.*?)<!-- end of the generated table -->", text, re.S)
    assert found, "the README has no generated table"
    assert found.group(1) == markdown(load_table(folder / "table.yaml"))


def test_negsim_table_prints_the_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    path = ROOT / "scenarios" / "backtests-v1" / "table.yaml"
    assert main(["table", str(path)]) == 0
    assert capsys.readouterr().out == markdown(load_table(path))


COPIED = [
    ("rounds.stall", "R15.stall"),
    ("rounds.resume", "R15.resume"),
    ("regime.states.decided.share", "R12.talks"),
    ("items.banking.hazard.regime.decided", "R14.decided"),
    ("items.banking.hazard.regime.undecided", "R14.undecided"),
    ("items.flights.enact.lag", "R13.lag_service"),
    ("items.flights.enact.p.regime.decided", "R13.decided"),
    ("items.flights.enact.p.regime.undecided", "R13.undecided"),
    ("events.escalation.pause", "R10.incident_pause"),
    ("regime.states.decided.stall", "R12.stall_decided"),
    ("regime.states.decided.to.undecided", "R12.unravel"),
    ("regime.states.undecided.to.decided", "R12.decide"),
]


@pytest.mark.parametrize("name", ["istanbul-2025", "istanbul-2025-aviation-eased", "istanbul-2025-relinked"])
def test_the_bundled_scenario_copies_the_table_figure_for_figure(name: str) -> None:
    """The Istanbul scenarios stand alone (their figures copied, not cited): each copy equals its row."""
    from sim.scenario.paths import scenario_data

    data = scenario_data(load_scenario(SCENARIOS / f"{name}.yaml"))
    table = load_table(SCENARIOS / "backtests" / "table.yaml")
    for path, row in COPIED:
        node = data
        for key in path.split("."):
            node = node[key]
        figure = table.figure(row)
        if isinstance(figure, dict):
            assert {k: v for k, v in node.items()} == {k: float(v) if k != "dist" else v for k, v in figure.items()}, (
                path
            )
        else:
            assert node == figure, path


def test_a_scenario_knows_which_row_each_cited_field_came_from(tmp_path: Path) -> None:
    path, _ = files(tmp_path)
    s = load_scenario(path)
    assert s.rows == {"rounds.interval": "R8.interval", "rounds.cancel": "R8.cancel", "items.bank.p": "R1"}
    assert s.with_values(simulation={"replications": 10, "seed": 1}).rows == s.rows


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("figure: 1.5", "figure: .nan", "rows.R9: a figure must be a finite number, not nan"),
        ("mean: 0.25, concentration: 6", "mean: 1.4, concentration: 6", "rows.R1: a beta's mean must lie strictly"),
    ],
)
def test_negsim_table_refuses_figures_no_scenario_could_take(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, expected: str
) -> None:
    """A NaN figure or a beta of mean 1.4 was printed as it was (held-out hostile cases tb1, tb2):
    refused only once a scenario cited it. Now the table itself is refused, at the row's line."""
    _, table = files(tmp_path, table=TABLE.replace(old, new))
    assert main(["table", str(table)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and re.search(rf"{re.escape(str(table))}:\d+: {re.escape(expected)}", err), err
    ok = tmp_path / "ok"
    ok.mkdir()
    assert main(["table", str(files(ok)[1])]) == 0  # the table as written is printed
