"""The run folder: what is written is what is read back, the same bytes however it was batched."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
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


# ---------------------------------------------------------------------- a folder read back is untrusted input

CUBA = SCENARIOS / "backtests-v1" / "cuba-2015"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run and a --given run of a scenario with uncertain judgements, made once for the damages below."""
    from sim.cli import main

    root = tmp_path_factory.mktemp("made")
    argv = ["run", str(CUBA / "scenario.yaml"), "-n", "200", "--jobs", "1", "--no-plots", "--quiet"]
    assert main([*argv, "--out", str(root / "run")]) == 0
    assert main([*argv, "--out", str(root / "given"), "--given", str(CUBA / "observed-mid-2015.yaml")]) == 0
    return root


def set_column(path: Path, name: str, values: Any) -> None:
    """Replace (or, with None, drop) a column of a Parquet file, as someone editing a folder would."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    if values is None:
        table = table.drop_columns([name])
    else:
        old = table.column(name).to_pylist()
        new = pa.array(values(old) if callable(values) else values)
        table = table.set_column(table.column_names.index(name), name, new)
    pq.write_table(table, path)


def edit_manifest(folder: Path, change: Any) -> None:
    data = json.loads((folder / "manifest.json").read_text())
    change(data)
    (folder / "manifest.json").write_text(json.dumps(data, indent=2))


def _given(field: str, value: Any) -> Any:
    return lambda f: edit_manifest(f, lambda m: m["given"].__setitem__(field, value))


DAMAGES: list[tuple[str, str, Any, str]] = [
    # (id, folder, damage, what the one line says)
    (
        "agreed-as-text",
        "run",
        lambda f: set_column(f / "items.parquet", "agreed", lambda v: ["yes" if x else "no" for x in v]),
        "items.parquet: column 'agreed' holds text, not true/false",
    ),
    (
        "day-overflows",
        "run",
        lambda f: set_column(f / "items.parquet", "day", lambda v: [None if x is None else 1e300 for x in v]),
        "items.parquet: column 'day', row 0: 1e+300: the day of agreement must lie between 0 and the horizon",
    ),
    (
        "day-negative",
        "run",
        lambda f: set_column(f / "items.parquet", "day", lambda v: [None if x is None else -5.0 for x in v]),
        "column 'day', row 0: -5: the day of agreement must lie between 0",
    ),
    (
        "day-where-none",
        "run",
        lambda f: set_column(f / "items.parquet", "day", lambda v: [3.0] * len(v)),
        "3: a day for an item not agreed",
    ),
    (
        "round-as-text",
        "run",
        lambda f: set_column(f / "items.parquet", "round", lambda v: [str(x) for x in v]),
        "items.parquet: column 'round' holds text, not whole numbers",
    ),
    (
        "items-out-of-order",
        "run",
        lambda f: set_column(f / "items.parquet", "item", lambda v: list(reversed(v))),
        "items.parquet: column 'item', row 0: lists other items than scenario.yaml",
    ),
    (
        "replications-twice",
        "run",
        lambda f: set_column(f / "replications.parquet", "replication", lambda v: [0] * len(v)),
        "replications.parquet: column 'replication', row 1: 0: each replication once",
    ),
    (
        "rounds-negative",
        "run",
        lambda f: set_column(f / "replications.parquet", "rounds_held", lambda v: [-3] * len(v)),
        "replications.parquet: column 'rounds_held', row 0: -3: a count cannot be negative",
    ),
    (
        "rounds-beyond-int32",
        "run",
        lambda f: set_column(f / "replications.parquet", "rounds_held", lambda v: [2**40] * len(v)),
        "replications.parquet: column 'rounds_held', row 0: beyond the int32",
    ),
    (
        "trust-infinite",
        "run",
        lambda f: set_column(f / "replications.parquet", "trust", lambda v: [float("inf")] * len(v)),
        "replications.parquet: column 'trust', row 0: inf: must be a finite number",
    ),
    (
        "breakdown-day-without-one",
        "run",
        lambda f: set_column(f / "replications.parquet", "breakdown_day", lambda v: [1e300] * len(v)),
        "column 'breakdown_day', row 0: 1e+300: a day without a breakdown",
    ),
    (
        "lifted-as-numbers",
        "run",
        lambda f: set_column(f / "constraints.parquet", "lifted", lambda v: [7] * len(v)),
        "constraints.parquet: column 'lifted' holds whole numbers, not true/false",
    ),
    (
        "judgement-column-missing",
        "run",
        lambda f: set_column(f / "parameters.parquet", "items.banking.p", None),
        "parameters.parquet: column 'items.banking.p' is missing",
    ),
    (
        "judgement-draw-infinite",
        "run",
        lambda f: set_column(f / "parameters.parquet", "items.banking.p", lambda v: [float("inf")] * len(v)),
        "parameters.parquet: column 'items.banking.p', row 0: inf: must be a finite number",
    ),
    ("parameters-missing", "run", lambda f: (f / "parameters.parquet").unlink(), "parameters.parquet: missing"),
    ("as-of-day-as-text", "given", _given("as_of_day", "soon"), "manifest.json:"),
    (
        "as-of-day-nan",
        "given",
        lambda f: (f / "manifest.json").write_text(
            (f / "manifest.json").read_text().replace('"as_of_day": ', '"as_of_day": NaN, "was": ')
        ),
        "given.as_of_day: must be a finite number",
    ),
    (
        "as-of-day-beyond-the-horizon",
        "given",
        _given("as_of_day", 1e300),
        "given.as_of_day: 1e+300 is not a day before the horizon",
    ),
    ("as-of-day-not-as-of", "given", _given("as_of_day", 3.0), "given.as_of_day: 3 is not the day of as_of 2015-06-30"),
    (
        "given-a-list",
        "given",
        lambda f: edit_manifest(f, lambda m: m.__setitem__("given", [1])),
        "given: must be a mapping",
    ),
    ("kept-as-text", "given", _given("kept", "many"), "given.kept: must be a whole number, not the text 'many'"),
    (
        "a-count-missing",  # held-out hostile case R27: a numpy cast warning, then a value not in the file
        "run",
        lambda f: set_column(
            f / "replications.parquet", "rounds_held", lambda v: [None if i == 3 else x for i, x in enumerate(v)]
        ),
        "replications.parquet: column 'rounds_held', row 3: missing (every row has one)",
    ),
]


@pytest.mark.parametrize(("base", "damage", "message"), [d[1:] for d in DAMAGES], ids=[d[0] for d in DAMAGES])
def test_a_damaged_run_folder_is_one_clear_line_everywhere_it_is_read(
    made: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], base: str, damage: Any, message: str
) -> None:
    """plot, compare, score and sim.load_results name the file and the field; exit 2, never a wrong number."""
    import sim
    from sim.cli import main

    folder = tmp_path / "damaged"
    shutil.copytree(made / base, folder)
    damage(folder)
    for argv in (
        ["plot", str(folder)],
        ["compare", str(made / "run"), str(folder), "--out", str(tmp_path / "c"), "--no-plots"],
        ["score", str(folder), "--observed", str(CUBA / "observed.yaml"), "--out", str(tmp_path / "s"), "--no-plots"],
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        assert message in err and str(folder) in err, err
    with pytest.raises(UserError, match=re.escape(message)):
        sim.load_results(folder).summary  # noqa: B018 - reading it is the test
    assert not (folder / "plots").exists() and not (tmp_path / "c").exists() and not (tmp_path / "s").exists()


def test_the_summary_is_what_the_records_say_not_what_summary_json_says(made: Path, tmp_path: Path) -> None:
    """A summary.json of another shape (or other numbers) is never read back: plot and load_results use the records."""
    import sim
    from sim.cli import main

    folder = tmp_path / "edited"
    shutil.copytree(made / "given", folder)
    written = json.loads((folder / "summary.json").read_text())
    for text in ('{"replications": 200, "items": "x"}', json.dumps({**written, "items": [{"item": 1}]})):
        (folder / "summary.json").write_text(text)
        assert main(["plot", str(folder)]) == 0
        assert load(folder).summary_data == written
        assert list(sim.load_results(folder).summary["item"]) == [it["item"] for it in written["items"]]


def test_a_long_table_with_rows_repeated_is_named_with_its_file(tmp_path: Path) -> None:
    """items.parquet with every row twice was refused naming only the folder (held-out hostile case
    d14): the message names the file, the rows it holds and the rows the replications need."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rec = simulate(compile_plan(S), 0, 50)
    save(RunResults(S, rec, {}), tmp_path / "r")
    path = tmp_path / "r" / "items.parquet"
    table = pq.read_table(path)
    pq.write_table(pa.concat_tables([table, table]), path)
    with pytest.raises(UserError) as exc:
        load(tmp_path / "r")
    assert str(exc.value) == (
        f"{path}: 200 rows, where the 50 replications of replications.parquet need 100, a row for each of "
        "the scenario's 2 items in each (rows missing, repeated or from another run)"
    )


@pytest.mark.parametrize(
    "values, fill",
    [
        ([3, -1, 2**40], None),
        ([True, False, None, True, True, False, False, True, True, None], False),
        ([0.5, None, float("inf"), -2.0], float("nan")),
        ([7, None, 9], -1),
    ],
)
def test_columns_read_from_arrow_buffers_equal_pyarrows_own(values: list[Any], fill: Any) -> None:
    """numpy_of (which reads Arrow's buffers, to spare every command pandas' import) gives what
    pyarrow's fill_null and to_numpy give, for slices that start inside a byte of a bitmap and for
    arrays in several chunks."""
    import pyarrow as pa

    from sim.results.files import numpy_of

    whole = pa.array(values)
    for arr in (whole, whole.slice(1), whole.slice(1, len(values) - 2), pa.chunked_array([whole, whole.slice(2)])):
        want = (arr if fill is None else arr.fill_null(fill)).to_numpy(zero_copy_only=False)
        got = numpy_of(arr, fill)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_reading_a_run_folder_imports_no_pandas(tmp_path: Path) -> None:
    """pyarrow's to_numpy and fill_null import pandas (45 MB) on first use; opening, checking and
    summarising a folder reads Arrow's buffers itself, so `negsim plot` of a million replications
    stays under 300 MB (benchmarks/plot_memory.py)."""
    import subprocess
    import sys

    save(RunResults(S, simulate(compile_plan(S), 0, 300)), tmp_path / "r")
    code = (
        "import sys; from sim.results.folder import load; r = load(sys.argv[1]); r.summary_data; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pandas')[:3])"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "r")], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_folder_keeps_at_most_its_budget_of_columns_and_reads_the_rest_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With room for two item columns, the columns kept never exceed it (but for one wider than the
    room), those dropped come back equal when used again, and the summary is the one computed from
    the records in memory."""
    rec = simulate(compile_plan(S), 0, 400)
    save(RunResults(S, rec, {}), tmp_path / "r")
    opened = results_folder.FolderRecords(S, tmp_path / "r")
    room = 2 * rec.item_day.nbytes
    monkeypatch.setattr(results_folder, "KEEP_BYTES", room)
    for name in ("item_day", "item_round", "item_agreed", "trust", "constraint_day", "item_day", "parameters"):
        np.testing.assert_array_equal(getattr(opened, name), getattr(rec, name))
        kept = opened._cache
        assert list(kept)[-1] == name
        assert sum(v.nbytes for v in kept.values()) <= room
    assert "item_round" not in opened._cache
    np.testing.assert_array_equal(opened.item_round, rec.item_round)
    np.testing.assert_array_equal(opened.item_day, rec.item_day)
    monkeypatch.setattr(results_folder, "KEEP_BYTES", 1)
    assert RunResults(S, opened).summary_data == RunResults(S, rec).summary_data  # type: ignore[arg-type]


def test_a_long_table_out_of_order_in_a_later_row_group_names_its_row(tmp_path: Path) -> None:
    """A long table is checked row group by row group; the row named is counted from the file's
    start, and rows beyond or short of the replications are named where they begin."""
    import pyarrow as pa

    from sim.results.checks import check_long

    names = ("a", "b", "c")
    ids = np.arange(10, 14)
    item = pa.array(["a", "b", "c"] * 4).dictionary_encode()
    table = pa.table({"replication": pa.array(np.repeat(ids, 3)), "item": item})
    batches = table.to_batches(max_chunksize=5)
    assert len(batches) == 3
    check_long("f", "item", batches, names, ids)  # in order: no complaint
    swapped = pa.table({"replication": table.column("replication"), "item": pa.array(list("abcabcabcacb"))})
    with pytest.raises(UserError, match=r"^f: column 'item', row 10: lists other items"):
        check_long("f", "item", swapped.to_batches(max_chunksize=5), names, ids)
    shifted = table.set_column(0, "replication", pa.array(np.r_[np.repeat(ids[:3], 3), [14, 14, 14]]))
    with pytest.raises(UserError, match=r"^f: column 'replication', row 9: the rows are not in replication order"):
        check_long("f", "item", shifted.to_batches(max_chunksize=5), names, ids)
    with pytest.raises(UserError, match=r"^f: column 'item', row 9: lists other items"):
        check_long("f", "item", table.slice(0, 9).to_batches(max_chunksize=5), names, ids)
    with pytest.raises(UserError, match=r"^f: column 'item', row 12: lists other items"):
        check_long("f", "item", pa.concat_tables([table, table.slice(0, 3)]).to_batches(5), names, ids)


def test_how_items_were_agreed_is_read_by_name_and_checked_against_agreed(tmp_path: Path) -> None:
    """The 'how' column's nulls are "not agreed" whatever its dictionary's first name (held-out
    hostile cases R06, R54, R55: a dictionary re-encoded in another order counted every item not
    agreed as agreed in a round, silently); an agreed row without one, or one on a row not agreed,
    is refused with its row."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    s = make(calendar={"horizon": 200}, items={"a": {"p": 0.3, "hazard": 2.0}, "b": {"p": 0.2}})
    rec = simulate(compile_plan(s), 0, 300)
    save(RunResults(s, rec), tmp_path / "r")
    path = tmp_path / "r" / "items.parquet"
    values = pq.read_table(path).column("how").to_pylist()
    agreed = rec.item_agreed.ravel()
    assert agreed.any() and not agreed.all()
    pq.write_table(pq.read_table(path).set_column(5, "how", pa.array(values).dictionary_encode()), path)
    assert load(tmp_path / "r").summary_data == RunResults(s, rec).summary_data  # re-encoded: same summary
    first = int(np.flatnonzero(agreed)[0])
    missing = [None if i == first else x for i, x in enumerate(values)]
    pq.write_table(pq.read_table(path).set_column(5, "how", pa.array(missing).dictionary_encode()), path)
    with pytest.raises(UserError, match=rf"items.parquet: column 'how', row {first}: missing: an agreed item"):
        load(tmp_path / "r")
    none = int(np.flatnonzero(~agreed)[0])
    extra = ["round" if i == none else x for i, x in enumerate(values)]
    pq.write_table(pq.read_table(path).set_column(5, "how", pa.array(extra).dictionary_encode()), path)
    with pytest.raises(UserError, match=rf"column 'how', row {none}: round: an item not agreed was agreed no way"):
        load(tmp_path / "r")
