"""The command line, in-process: results, messages, exit codes; bad input included."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pyarrow.parquet as pq
import pytest

from sim.cli import main
from sim.scenario.load import load_scenario
from tests.helpers import BUNDLED, ROOT, SCENARIOS

ISTANBUL = str(SCENARIOS / "istanbul-2025.yaml")
FILES = {
    "parameters.parquet",  # the bundled scenario has uncertain judgements
    "scenario.yaml",
    "manifest.json",
    "items.parquet",
    "constraints.parquet",
    "replications.parquet",
    "summary.json",
    "summary.csv",
    "plots",
    "report.html",
}
PLOTS = [
    "agreement_curves",
    "agreed_by_horizon",
    "agreement_dates",
    "rounds_breakdowns",
    "joint_outcomes",
    "constraints_lifted",
    "judgements",  # the bundled scenario has uncertain judgements
]


def no_traceback(text: str) -> None:
    assert "Traceback" not in text


def test_run_writes_the_whole_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["run", ISTANBUL, "-n", "300", "--jobs", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "P(agreed by horizon)" in printed and f"wrote {out}" in printed
    assert {p.name for p in out.iterdir()} == FILES
    assert sorted(p.name for p in (out / "plots").iterdir()) == sorted(f"{name}.png" for name in PLOTS)
    svg = tmp_path / "svg"  # SVG only when asked, by --svg or NEGSIM_SVG=1
    assert main(["run", ISTANBUL, "-n", "300", "--jobs", "1", "--out", str(svg), "--svg", "--quiet"]) == 0
    assert sorted(p.name for p in (svg / "plots").iterdir()) == sorted(
        f"{name}.{ext}" for name in PLOTS for ext in ("png", "svg")
    )
    assert [(svg / "plots" / f"{n}.png").read_bytes() for n in PLOTS] == [
        (out / "plots" / f"{n}.png").read_bytes() for n in PLOTS
    ]
    for png in (out / "plots").glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    s = load_scenario(ISTANBUL)
    items = pq.read_table(out / "items.parquet")
    assert items.column_names == ["replication", "item", "agreed", "day", "round", "how"]  # it can enact flights
    assert items.num_rows == 300 * len(s.items)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["replications"] == 300
    assert [it["item"] for it in summary["items"]] == list(s.items)
    for it in summary["items"]:
        assert it["ci_low"] <= it["p"] <= it["ci_high"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == s.simulation.seed and manifest["replications"] == 300
    assert len(manifest["scenario_sha256"]) == 64
    assert {"numpy", "simpy", "python", "negsim"} <= set(manifest["versions"])
    as_run = load_scenario(out / "scenario.yaml")
    assert as_run.simulation.replications == 300 and as_run.items == s.items
    assert not list(tmp_path.glob(".*partial"))


def test_existing_folder_is_kept_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    assert main(["run", ISTANBUL, "-n", "50", "--jobs", "1", "--out", str(out), "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "--force" in err
    assert (out / "precious.txt").read_text() == "keep me"
    assert main(["run", ISTANBUL, "-n", "50", "--jobs", "1", "--out", str(out), "--no-plots", "--force"]) == 2
    assert "not a folder negsim wrote" in capsys.readouterr().err  # --force replaces only negsim's own folders
    assert (out / "precious.txt").read_text() == "keep me"
    run = tmp_path / "negsim-run"
    for _ in range(2):  # a run folder is replaced by a run with --force
        assert main(["run", ISTANBUL, "-n", "50", "--jobs", "1", "--out", str(run), "--no-plots", "--force"]) == 0
    assert main(["compare", str(run), str(run), "--out", str(run), "--force", "--no-plots"]) == 2
    assert "a negsim run folder" in capsys.readouterr().err  # a comparison never replaces a run
    assert (run / "items.parquet").exists()


def test_plot_redraws_from_a_saved_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["run", ISTANBUL, "-n", "200", "--jobs", "1", "--out", str(out), "--no-plots"]) == 0
    assert not (out / "plots").exists()
    assert main(["plot", str(out)]) == 0
    assert len(list((out / "plots").glob("*.png"))) == len(PLOTS)
    assert main(["plot", str(tmp_path / "nothing")]) == 2
    assert "no such result folder" in capsys.readouterr().err


def test_trace_tells_a_dated_timeline(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trace", ISTANBUL, "--replication", "2"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("Russia")
    assert any(" round " in line and "held; agenda:" in line for line in lines)
    assert any("horizon" in line and "agreed:" in line for line in lines)
    dates = [line[:10] for line in lines[3:] if line[:4].isdigit()]
    assert dates == sorted(dates) and dates[0] == "2025-04-10"


def test_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", *map(str, BUNDLED)]) == 0
    assert ": ok (" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(ISTANBUL).read_text().replace("requires: [staffing]", "requires: [stafing]"))
    assert main(["validate", ISTANBUL, str(bad)]) == 2
    err = capsys.readouterr().err
    assert "unknown item 'stafing' (did you mean 'staffing'?)" in err
    no_traceback(err)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run", "missing.yaml"], "missing.yaml: no such file"),
        (["run", ISTANBUL, "-n", "0"], "must be between 1 and 100,000,000"),
        (["run", ISTANBUL, "-n", "many"], "'many' is not a whole number"),
        (["run", ISTANBUL, "--precision", "2"], "must be between 0 and 0.5"),
        (["run", ISTANBUL, "--seed", "-4"], "between 0 and 2**64 - 1"),
        (["trace", ISTANBUL, "--replication", "x"], "not a whole number"),
        (["frobnicate"], "invalid choice"),
        (["run"], "the following arguments are required: FILE"),
        (["plot", ISTANBUL], "no such result folder"),
    ],
)
def test_user_mistakes_exit_2_with_one_message(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err
    assert len(err.strip().splitlines()) == 1
    no_traceback(err)


def test_precision_adds_replications_until_narrow(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    args = ["run", ISTANBUL, "-n", "500", "--precision", "0.02", "--jobs", "1", "--out", str(out), "--no-plots"]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    n = summary["replications"]
    assert n > 500
    for it in summary["items"]:
        assert it["ci_high"] - it["p"] <= 0.02 and it["p"] - it["ci_low"] <= 0.02
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["precision"]["reached"] is True and manifest["replications"] == n
    assert "precision: +/-0.02 reached" in capsys.readouterr().out
    capped = tmp_path / "capped"
    assert main([*args[:-3], "--out", str(capped), "--no-plots", "--max-replications", "600"]) == 0
    assert json.loads((capped / "summary.json").read_text())["replications"] == 600
    assert "NOT reached" in capsys.readouterr().err  # said on stderr, even under --quiet


def test_help_and_module_entry_point() -> None:
    done = subprocess.run([sys.executable, "-m", "sim", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0 and "validate" in done.stdout and "sweep" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "sim", "run", "nope.yaml"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.strip() == "nope.yaml: no such file"


CUBA = SCENARIOS / "backtests-v1" / "cuba-2015"


@pytest.fixture
def umask_027() -> Iterator[int]:
    """The process's umask set to 027 for the test (group may read, others nothing), then restored."""
    old = os.umask(0o027)
    try:
        yield 0o027
    finally:
        os.umask(old)


def assert_umask_modes(folder: Path) -> None:
    """The folder and everything in it have the modes umask 027 gives new files and folders."""
    wrong = {
        str(p): oct(p.stat().st_mode & 0o777)
        for p in [folder, *folder.rglob("*")]
        if p.stat().st_mode & 0o777 != (0o750 if p.is_dir() else 0o640)
    }
    assert not wrong, wrong


def test_every_command_writes_folders_a_colleague_can_open(tmp_path: Path, umask_027: int) -> None:
    """run, plot, sweep (new and --force), compare, score and backtest follow the umask, as Parquet and PNG do."""
    run, sweep, library = tmp_path / "run", tmp_path / "sweep", tmp_path / "library"
    shutil.copytree(CUBA, library / CUBA.name)
    quiet = ["--jobs", "1", "--quiet"]
    assert main(["run", str(CUBA / "scenario.yaml"), "-n", "100", "--out", str(run), *quiet]) == 0
    assert main(["plot", str(run)]) == 0
    for force in ([], ["--force"]):
        argv = ["sweep", str(CUBA / "scenario.yaml"), "--set", "rounds.cancel=0.1,0.3", "-n", "100", "--out"]
        assert main([*argv, str(sweep), *quiet, *force]) == 0
    assert main(["compare", str(run), f"{sweep}:1", "--out", str(tmp_path / "compare")]) == 0
    assert main(["score", str(run), "--observed", str(CUBA / "observed.yaml"), "--out", str(tmp_path / "score")]) == 0
    assert main(["backtest", str(library), "-n", "100", "--jobs", "1", "--out", str(tmp_path / "backtest")]) == 0
    for name in ("run", "sweep", "compare", "score", "backtest"):
        assert_umask_modes(tmp_path / name)


def test_fewer_processes_than_asked_are_said_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A small run or sweep uses this process alone: it says so, and why, rather than ignoring --jobs."""
    argv = ["run", ISTANBUL, "-n", "300", "--jobs", "3", "--no-plots", "--out", str(tmp_path / "run")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "300 replications in" in out and "on 1 job (3 asked: fewer than 20,000 replications" in out, out
    sweep = ["sweep", ISTANBUL, "--set", "trust.weight=0,1", "-n", "100", "--jobs", "3", "--no-plots"]
    assert main([*sweep, "--out", str(tmp_path / "sweep")]) == 0
    out = capsys.readouterr().out
    assert "on 1 local worker (3 asked: fewer than 20,000 replications" in out, out
    assert main(["run", ISTANBUL, "-n", "300", "--jobs", "1", "--no-plots", "--out", str(tmp_path / "one")]) == 0
    assert "on 1 job\n" in capsys.readouterr().out  # as many as asked: nothing to explain


def test_one_of_anything_is_singular(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """'1 replication', '1 point': never '1 replications'."""
    assert main(["run", ISTANBUL, "-n", "1", "--jobs", "1", "--no-plots", "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "1 replication in" in out and "1 replications" not in out, out
    sweep = ["sweep", str(CUBA / "scenario.yaml"), "--set", "rounds.cancel=0.1", "-n", "1", "--jobs", "1", "--no-plots"]
    assert main([*sweep, "--out", str(tmp_path / "sweep")]) == 0
    out = capsys.readouterr().out
    assert "1 point (0 failed) x 1 replication = 1 in" in out and "1 replications" not in out, out


class _Recorder:
    """A stand-in for tqdm that records (done, total) after every change."""

    seen: ClassVar[list[tuple[int, int]]] = []

    def __init__(self, total: int = 0, **_: object) -> None:
        self.n, self.total = 0, total

    def update(self, n: int) -> None:
        self.n += n
        _Recorder.seen.append((self.n, self.total))

    def refresh(self) -> None:
        _Recorder.seen.append((self.n, self.total))

    def close(self) -> None:
        pass


def test_the_progress_bar_of_precision_shows_the_work_still_planned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --precision the bar's total is the replications planned so far, so it reads less than 100% while
    more are being added (it used to grow with the count, always full)."""
    import tqdm

    monkeypatch.setattr(tqdm, "tqdm", _Recorder)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    _Recorder.seen = []
    argv = ["run", ISTANBUL, "-n", "1000", "--precision", "0.015", "--jobs", "1", "--no-plots", "--quiet", "--out"]
    assert main([*argv, str(tmp_path / "run")]) == 0
    seen = _Recorder.seen
    first = min(n for n, _ in seen if n)
    assert all(n <= total for n, total in seen), seen
    assert any(first < n < total for n, total in seen), seen  # part way through the replications added
    assert seen[-1][0] == seen[-1][1] == json.loads((tmp_path / "run" / "summary.json").read_text())["replications"]


def _library(tmp_path: Path, *cases: str) -> Path:
    """A backtest library of some of the bundled cases."""
    library = tmp_path / "library"
    for case in cases:
        shutil.copytree(SCENARIOS / "backtests-v1" / case, library / case)
    return library


def test_backtest_replaces_its_folder_whole_and_only_with_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --force an existing backtest folder is kept; with --force --no-plots the new folder has no report
    or figures of the old numbers beside it."""
    library = _library(tmp_path, "cuba-2015")
    out = tmp_path / "bt"
    argv = ["backtest", str(library), "-n", "100", "--jobs", "1", "--out", str(out)]
    assert main(argv) == 0
    assert (out / "report.html").is_file() and (out / "plots").is_dir()
    before = (out / "backtest.json").read_bytes()
    assert main([*argv[:3], "200", *argv[4:]]) == 2
    assert "pass --force" in capsys.readouterr().err and (out / "backtest.json").read_bytes() == before
    assert main([*argv[:3], "200", *argv[4:], "--force", "--no-plots"]) == 0
    assert json.loads((out / "runs" / "cuba-2015" / "manifest.json").read_text())["replications"] == 200
    assert json.loads((out / "backtest.json").read_text())["runs"][0]["run"] == str(out / "runs" / "cuba-2015")
    assert not (out / "report.html").exists() and not (out / "plots").exists()


def test_backtest_checks_every_case_before_writing_and_names_the_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken second case is found before the first is run or anything written; a case whose file is misspelt
    is said to be skipped, on the terminal and in backtest.json."""
    library = _library(tmp_path, "cuba-2015", "israel-uae-2020")
    broken = library / "israel-uae-2020" / "scenario.yaml"
    good = broken.read_text()
    broken.write_text(good.replace("\nitems:\n", "\nitemz:\n", 1))
    out = tmp_path / "bt"
    argv = ["backtest", str(library), "-n", "100", "--jobs", "1", "--no-plots", "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "israel-uae-2020/scenario.yaml" in err and "Traceback" not in err, err
    assert not out.exists() and list(tmp_path.iterdir()) == [library]
    broken.write_text(good)
    (library / "israel-uae-2020" / "scenario.yaml").rename(library / "israel-uae-2020" / "scenaro.yaml")
    assert main(argv) == 0
    printed = capsys.readouterr()
    assert "skipped israel-uae-2020: no scenario.yaml" in printed.out + printed.err, printed
    assert json.loads((out / "backtest.json").read_text())["skipped"] == ["israel-uae-2020: no scenario.yaml"]
