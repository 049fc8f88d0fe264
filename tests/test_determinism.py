"""Same seed, same bytes: whatever the number of processes, and across save and load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.cli import main
from sim.results.folder import RunResults, load, save
from tests.helpers import SCENARIOS, make, run

ISTANBUL = str(SCENARIOS / "istanbul-2025.yaml")


def files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in ("manifest.json", "report.html")
    }


@pytest.mark.slow
def test_result_files_are_identical_for_any_number_of_jobs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.runs import executors

    monkeypatch.setattr(executors, "POOL_MIN", 0)  # use worker processes even for a small run
    outs = {}
    for jobs in (1, 2, 4):
        out = tmp_path / f"j{jobs}"
        assert main(["run", ISTANBUL, "-n", "1300", "--jobs", str(jobs), "--out", str(out), "--quiet"]) == 0
        outs[jobs] = files(out)
        assert json.loads((out / "manifest.json").read_text())["jobs"] == jobs
    assert len(outs[1]) == 7 + 7  # data files and figures, but not manifest.json and report.html (they hold the time)
    assert outs[1] == outs[2] == outs[4]


def test_another_seed_gives_other_numbers(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["run", ISTANBUL, "-n", "300", "--jobs", "1", "--out", str(a), "--no-plots", "--quiet"]) == 0
    assert (
        main(["run", ISTANBUL, "-n", "300", "--jobs", "1", "--seed", "7", "--out", str(b), "--no-plots", "--quiet"])
        == 0
    )
    assert files(a)["items.parquet"] != files(b)["items.parquet"]


def test_save_and_load_give_back_the_records(tmp_path: Path) -> None:
    s = make(
        calendar={"horizon": 200},
        items={"a": {"p": 0.3}, "b": {"p": 0.1, "requires": ["a"]}},
        constraints={"c": {"lift": {"rate": 2.0}}, "d": {"active": False}},
        events={"e": {"rate": 3.0, "breakdown": 0.2, "impose": ["d"]}},
    )
    rec = run(s, 400)
    save(RunResults(s, rec, {"note": "test"}), tmp_path / "r")
    back = load(tmp_path / "r")
    assert back.scenario == s
    assert back.records.equals(rec)
    assert back.summary_data == RunResults(s, rec).summary_data


def test_a_failure_while_writing_leaves_nothing(tmp_path: Path) -> None:
    s = make()
    results = RunResults(s, run(s, 50))

    def crash(_: Path) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        save(results, tmp_path / "r", before_rename=crash)
    assert list(tmp_path.iterdir()) == []
    save(results, tmp_path / "r")
    before = files(tmp_path / "r")
    with pytest.raises(RuntimeError):
        save(results, tmp_path / "r", force=True, before_rename=crash)
    assert files(tmp_path / "r") == before  # the old folder is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["r"]
