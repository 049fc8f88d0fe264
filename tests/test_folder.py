"""The run folder: what is written is what is read back, the same bytes however it was batched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.engine.plan import compile_plan
from sim.engine.records import Records
from sim.engine.simulate import simulate
from sim.errors import UserError
from sim.results import folder as results_folder
from sim.results.files import csv_text, json_text, stamped_folder
from sim.results.folder import ParquetSink, RunResults, default_folder, load, manifest, save, write_parquet
from sim.scenario.load import load_scenario
from tests.helpers import SCENARIOS, make

S = make(
    calendar={"horizon": 200},
    items={"a": {"p": 0.3}, "b": {"p": 0.1, "requires": ["a"]}},
    constraints={"c": {"lift": {"rate": 2.0}}},
    events={"e": {"rate": 3.0, "breakdown": 0.2}},
)


def test_write_then_load_gives_back_the_records_scenario_and_manifest(tmp_path: Path) -> None:
    """Every field of every replication survives the round trip through Parquet."""
    rec = simulate(compile_plan(S), 100, 400)
    save(RunResults(S, rec, {"note": "x"}), tmp_path / "r")
    back = load(tmp_path / "r")
    assert back.records.equals(rec)
    assert back.records.start == 100
    assert back.scenario == S
    assert back.manifest == {"note": "x"}
    assert json.loads((tmp_path / "r" / "summary.json").read_text())["replications"] == 300


def test_row_groups_make_the_files_independent_of_batching(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Records sent in any batches are written in the same fixed row groups: the same bytes."""
    monkeypatch.setattr(results_folder, "GROUP", 70)
    rec = simulate(compile_plan(S), 0, 250)
    (tmp_path / "one").mkdir()
    (tmp_path / "many").mkdir()
    write_parquet(S, rec, tmp_path / "one")
    sink = ParquetSink(S, tmp_path / "many")
    for a, b in ((0, 13), (13, 140), (140, 141), (141, 250)):
        sink.write(simulate(compile_plan(S), a, b))
    sink.close()
    for name in ("items", "constraints", "replications"):
        assert (tmp_path / "one" / f"{name}.parquet").read_bytes() == (
            tmp_path / "many" / f"{name}.parquet"
        ).read_bytes()
    assert load_records(tmp_path / "many").equals(rec)


def load_records(path: Path) -> Records:
    return results_folder.read_records(S, path)


def test_a_folder_for_other_items_is_refused(tmp_path: Path) -> None:
    """Parquet files that do not match scenario.yaml are a user error, not a wrong answer."""
    save(RunResults(S, simulate(compile_plan(S), 0, 20)), tmp_path / "r")
    other = make(items={"x": {"p": 0.5}, "y": {"p": 0.5}}, constraints=dict(S.model_dump()["constraints"]))
    (tmp_path / "r" / "scenario.yaml").write_text(results_folder.scenario_yaml(other))
    with pytest.raises(UserError, match="other items"):
        load(tmp_path / "r")


@pytest.mark.parametrize("missing", ["scenario.yaml", "items.parquet", "replications.parquet"])
def test_an_incomplete_folder_is_named(tmp_path: Path, missing: str) -> None:
    save(RunResults(S, simulate(compile_plan(S), 0, 20)), tmp_path / "r")
    (tmp_path / "r" / missing).unlink()
    with pytest.raises(UserError, match=f"{missing} is missing"):
        load(tmp_path / "r")


def test_scenario_yaml_loads_back_to_the_same_scenario(tmp_path: Path) -> None:
    """scenario.yaml is the scenario as run, every default filled in, and it validates as is."""
    s = load_scenario(SCENARIOS / "istanbul-2025.yaml")
    path = tmp_path / "s.yaml"
    path.write_text(results_folder.scenario_yaml(s))
    assert load_scenario(path) == s


def test_manifest_says_how_the_run_was_made() -> None:
    """Seed, replications, jobs, executor, versions and the command line."""
    import datetime as dt

    m = manifest(
        S,
        scenario_file=None,
        replications=5,
        jobs=2,
        executor="dask",
        started=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc),
        wall_seconds=1.23456,
        argv=["negsim"],
    )
    assert (m["seed"], m["replications"], m["jobs"], m["executor"]) == (12345, 5, 2, "dask")
    assert m["wall_seconds"] == 1.235 and m["command"] == ["negsim"]
    assert {"numpy", "python", "negsim"} <= set(m["versions"])


def test_folder_names_are_time_stamps_made_unique(tmp_path: Path) -> None:
    """results/<name>/<UTC stamp>, with -2, -3 ... when the stamp is taken."""
    first = default_folder(S, tmp_path)
    assert first.parent == tmp_path / "test" and len(first.name) == len("20250101T000000Z")
    first.mkdir(parents=True)
    second = stamped_folder(tmp_path / "test")
    assert second.name in (f"{first.name}-2", second.name) and second != first


def test_json_and_csv_text() -> None:
    """JSON refuses NaN; CSV writes missing values as empty cells and booleans in lower case."""
    assert json_text({"a": 1}) == '{\n  "a": 1\n}\n'
    with pytest.raises(ValueError):
        json_text({"a": float("nan")})
    assert (
        csv_text(["x", "y", "z"], [[None, float("nan"), True], ["a,b", 1.5, False]])
        == 'x,y,z\n,,true\n"a,b",1.5,false\n'
    )


def test_text_that_a_spreadsheet_would_run_is_quoted() -> None:
    """Cells starting with =, +, -, @ are made text with an apostrophe; numbers stay numbers."""
    rows = [['=HYPERLINK("http://x")'], ["+1+1"], ["-0.25"], ["@SUM(A1)"], ["-x"], ["plain"]]
    assert csv_text(["t"], rows).splitlines()[1:] == [
        '"\'=HYPERLINK(""http://x"")"',
        "'+1+1",
        "-0.25",
        "'@SUM(A1)",
        "'-x",
        "plain",
    ]
