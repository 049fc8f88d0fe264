"""Every edge a user reaches: what they see there (one clear line, exit 2, nothing half-written)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.api import Results
from sim.cli import main, printable
from sim.engine.plan import compile_plan
from sim.engine.simulate import simulate
from sim.views.plots import FIGURES
from tests.helpers import SCENARIOS, make

ISTANBUL = str(SCENARIOS / "istanbul-2025.yaml")


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["simulation.replications=100,200"], "cannot be swept"),
        (["simulation.seed=1,2"], "cannot be swept"),
        (["trust.weight=0,1", "trust.weight=2"], "given twice"),
    ],
)
def test_sweeps_that_cannot_do_what_they_say_are_refused(
    sets: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Sweeping the replications or the seed, or giving a path twice, is refused before anything runs."""
    argv = ["sweep", ISTANBUL, *(x for s in sets for x in ("--set", s)), "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    assert message in one_error_line(capsys)
    assert not (tmp_path / "o").exists()


DOLLARS = make(
    title="Flights at $200 a seat, $50 off",
    description="$x$ and \\alpha",
    items={"a": {"p": 0.4, "title": "Banking ($ accounts) for $embassies$"}, "b": {"p": 0.2}},
    constraints={"c": {"title": "Sanctions $US", "lift": {"rate": 2}}},
)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_a_dollar_sign_is_a_dollar_sign_in_every_figure(name: str) -> None:
    """User text reaches figures as literal text: no mathtext, no crash, nothing garbled."""
    fig = FIGURES[name](Results(DOLLARS, simulate(compile_plan(DOLLARS), 0, 300)))
    fig.canvas.draw()  # mathtext would fail or garble here
    texts = [t for t in fig.findobj(lambda a: hasattr(a, "get_parse_math"))]
    assert all(not t.get_parse_math() for t in texts if "$" in t.get_text())
    assert any("$200" in t.get_text() for t in texts)


def test_a_run_with_dollars_everywhere_writes_its_figures(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text((SCENARIOS / "istanbul-2025.yaml").read_text().replace("title: ", "title: $5 $ ", 1))
    assert main(["run", str(path), "-n", "200", "--jobs", "1", "--out", str(tmp_path / "o"), "--quiet"]) == 0
    assert len(list((tmp_path / "o" / "plots").glob("*.png"))) == 7  # six, and the judgements


def test_control_characters_never_reach_the_terminal_raw(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An escape sequence in a title is printed as an escape, not sent to the terminal."""
    path = tmp_path / "s.yaml"
    text = (SCENARIOS / "istanbul-2025.yaml").read_text()
    path.write_text(re.sub(r"^title: .*$", lambda _: 'title: "\\e[2J\\a talks"', text, count=1, flags=re.M))
    assert main(["trace", str(path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\\x1b[2J\\x07" in out
    assert printable("ok\n\ttab\u202e") == "ok\n\ttab\\u202e"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", ISTANBUL, "-n", "100000000000"], "-n/--replications: must be between 1 and 100,000,000"),
        (["run", ISTANBUL, "--out", ""], "--out: must name a folder"),
        (["run", ISTANBUL, "--out", "/proc/negsim-test"], "cannot write there"),
        (["trace", ISTANBUL, "--replication", "99999999999999999999"], "--replication: must be between"),
        (["run", ISTANBUL, "--seed", "1" + "0" * 3000], "--seed: must be between 0 and 2**64 - 1"),
        (["sweep", ISTANBUL, "--set", "trust.weight=0,1", "--design", "lhs", "--samples", "3000000000"], "--samples"),
        (["sweep", ISTANBUL, "--set", "trust.weight=0,1", "--executor", "dask", "--address", "foo:bar"], "--address"),
        (["compare", ISTANBUL, ISTANBUL, "--labels", ""], "--labels: give a name for every run"),
        (["validate", "/dev/zero"], "not a regular file"),
        (["run", "/tmp", "-n", "10"], "is a directory"),
    ],
)
def test_bad_command_lines_are_one_line_and_exit_2(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every one of these gets exit 2, one line naming the option or file, and writes nothing."""
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert message in one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []


def test_an_out_under_a_file_or_in_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "f").write_text("x")
    for out in (tmp_path / "f", tmp_path / "f" / "sub"):
        assert main(["run", ISTANBUL, "-n", "10", "--out", str(out)]) == 2
        one_error_line(capsys)
    assert (tmp_path / "f").read_text() == "x"


def test_a_fifo_is_refused_without_waiting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A named pipe as input would wait for a writer forever: refused at once."""
    import os

    os.mkfifo(tmp_path / "pipe.yaml")
    assert main(["validate", str(tmp_path / "pipe.yaml")]) == 2
    assert "not a regular file" in one_error_line(capsys)


def test_a_full_disk_is_one_line_and_loses_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No space left: one line with the file, exit 2, and the earlier result is still there."""
    import errno

    from sim.results import folder

    out = tmp_path / "run"
    assert main(["run", ISTANBUL, "-n", "50", "--jobs", "1", "--no-plots", "--out", str(out), "--quiet"]) == 0
    before = sorted(p.name for p in out.iterdir())

    def full(path: Path, text: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(folder, "write_text", full)
    assert main(["run", ISTANBUL, "-n", "50", "--jobs", "1", "--no-plots", "--out", str(out), "--force"]) == 2
    line = one_error_line(capsys)
    assert "No space left on device" in line and "scenario.yaml" in line
    assert sorted(p.name for p in out.iterdir()) == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


WRITE = """\
schema: 1
name: w
calendar: {start: 2025-01-01, horizon: 100}
rounds: {first: FIRST, interval: 10}
items:
  a: {p: 0.5, constraints: {c: block}}
  b: {p: 0.5, STATUS}
constraints:
  c: {lift: {when_agreed: [a]}}
events:
  e: {dates: [DATES]}
"""


@pytest.mark.parametrize(
    ("first", "status", "dates", "exit_code", "message"),
    [
        ("0", "requires: [a]", "10", 0, "constraints.c.lift.when_agreed: warning: can never happen"),
        (
            "150",
            "requires: [a]",
            "10",
            0,
            "rounds.first: warning: 150 days is after the horizon (100 days): no round is held",
        ),
        ("0", "requires: [a]", "200", 0, "events.e.dates[0]: warning: 200 days is after the horizon (100 days)"),
        ("0", "status: agreed, requires: [a]", "10", 2, "'b' is agreed before the start but requires 'a'"),
        ("0", "requires: [a]", "1740614400", 2, "a Unix time stamp? give a date"),
    ],
)
def test_semantics_that_can_never_do_anything_are_said(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    first: str,
    status: str,
    dates: str,
    exit_code: int,
    message: str,
) -> None:
    """Errors where the file contradicts itself; warnings (stderr, exit 0) where a part can never happen."""
    path = tmp_path / "w.yaml"
    path.write_text(WRITE.replace("FIRST", first).replace("STATUS", status).replace("DATES", dates))
    assert main(["validate", str(path)]) == exit_code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    if exit_code == 0:
        assert main(["run", str(path), "-n", "20", "--jobs", "1", "--no-plots", "--out", str(tmp_path / "o")]) == 0
        assert message in capsys.readouterr().err  # a run says it too


def test_a_horizon_past_the_year_9999_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        WRITE.replace("2025-01-01", "9999-12-01").replace("FIRST", "0").replace("STATUS", "").replace("DATES", "1")
    )
    assert main(["validate", str(path)]) == 2
    assert "ends after the year 9999" in one_error_line(capsys)


def test_validate_reads_study_and_observed_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """validate tells a study file and an observed file from a scenario and checks each."""
    study = tmp_path / "study.yaml"
    study.write_text("design: oat\nparameters:\n  trust.weight: [0, 2]\n")
    observed = SCENARIOS / "backtests-v1" / "cuba-2015" / "observed.yaml"
    assert main(["validate", str(study), str(observed)]) == 0
    out = capsys.readouterr().out
    assert "a sweep file: 1 parameter," in out and "an observed file as of" in out
    study.write_text("parameters:\n  trust.weight: [0, yes]\n")
    assert main(["validate", str(study)]) == 2
    assert "parameters.trust.weight[1]: must be a number" in one_error_line(capsys)


def _run(tmp_path: Path, name: str = "run") -> Path:
    out = tmp_path / name
    assert main(["run", ISTANBUL, "-n", "100", "--jobs", "1", "--no-plots", "--out", str(out), "--quiet"]) == 0
    return out


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: (f / "manifest.json").write_text("[" * 200_000 + "]" * 200_000), "nested"),
        (lambda f: (f / "manifest.json").write_text('["not", "a", "manifest"]'), "not a manifest"),
        (lambda f: (f / "items.parquet").write_bytes(b"PAR1 garbage PAR1"), "items.parquet: not a readable Parquet"),
        (lambda f: (f / "scenario.yaml").write_text("a: &a [*a, *a]\n"), "scenario.yaml"),
    ],
)
def test_a_damaged_run_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: object, message: str
) -> None:
    """A result folder is read with the care of a scenario file: plot, compare and score say what is wrong."""
    out = _run(tmp_path)
    damage(out)  # type: ignore[operator]
    for argv in (["plot", str(out)], ["compare", str(out), str(out), "--out", str(tmp_path / "c")]):
        assert main(argv) == 2
        assert message in one_error_line(capsys)


def test_a_hostile_sweep_folder_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """sweep.yaml with a tag, or points.parquet of garbage: exit 2, one line, from plot and compare."""
    sw = tmp_path / "sw"
    assert (
        main(
            [
                "sweep",
                ISTANBUL,
                "--set",
                "trust.weight=0,1",
                "-n",
                "50",
                "--jobs",
                "1",
                "--no-plots",
                "--out",
                str(sw),
                "--quiet",
            ]
        )
        == 0
    )
    good = (sw / "sweep.yaml").read_text()
    for text in ("!!python/object/apply:os.system ['echo hi']\n", "points: 3\n", good.replace("point: 1", "point: 7")):
        (sw / "sweep.yaml").write_text(text)
        for argv in (["plot", str(sw)], ["compare", f"{sw}:0", f"{sw}:1", "--out", str(tmp_path / "c")]):
            assert main(argv) == 2, text
            assert "sweep.yaml" in one_error_line(capsys)
    (sw / "sweep.yaml").write_text(good)
    (sw / "points.parquet").write_bytes(b"garbage")
    assert main(["plot", str(sw)]) == 2
    assert "points.parquet: not a readable Parquet file" in one_error_line(capsys)


def test_titles_in_summary_csv_are_never_formulas(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        (SCENARIOS / "istanbul-2025.yaml")
        .read_text()
        .replace("title: Uninterrupted banking services for the missions", "title: '=HYPERLINK(\"http://x\")'", 1)
    )
    out = tmp_path / "o"
    assert main(["run", str(path), "-n", "50", "--jobs", "1", "--no-plots", "--out", str(out), "--quiet"]) == 0
    line = next(x for x in (out / "summary.csv").read_text().splitlines() if x.startswith("banking,"))
    assert line.split(",")[1].startswith(("\"'=", "'="))


def test_flags_that_would_be_ignored_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--samples without lhs, --max-replications without --precision, plot RUN --metric: exit 2, one line."""
    out = _run(tmp_path)
    for argv, message in (
        (["sweep", ISTANBUL, "--set", "trust.weight=0,1", "--samples", "5"], "needs --design lhs"),
        (["run", ISTANBUL, "--max-replications", "5000"], "give one of them too"),
        (["plot", str(out), "--metric", "median_day"], "--metric is for sweep folders"),
    ):
        assert main([*argv, "--out", str(tmp_path / "x")] if argv[0] != "plot" else argv) == 2
        assert message in one_error_line(capsys)


def test_a_precision_not_reached_is_said_even_when_quiet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "run",
        ISTANBUL,
        "-n",
        "500",
        "--precision",
        "0.001",
        "--max-replications",
        "1000",
        "--jobs",
        "1",
        "--no-plots",
        "--quiet",
        "--out",
        str(tmp_path / "o"),
    ]
    assert main(argv) == 0
    assert "NOT reached" in capsys.readouterr().err


def test_schema_list_paths_and_score_option_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """negsim schema prints JSON Schema; sweep --list-paths lists sweepable numbers; score takes --observed first."""
    import json

    for kind, field in (("scenario", "items"), ("study", "parameters"), ("observed", "as_of")):
        assert main(["schema", kind]) == 0
        assert field in json.loads(capsys.readouterr().out)["properties"]
    assert main(["sweep", ISTANBUL, "--list-paths"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert any(line.split()[0] == "items.flights.p" for line in listed)
    assert not any(line.startswith(("simulation.", "schema ")) for line in listed)
    cuba = tmp_path / "cuba"
    assert (
        main(
            [
                "run",
                str(SCENARIOS / "backtests-v1" / "cuba-2015" / "scenario.yaml"),
                "-n",
                "300",
                "--jobs",
                "1",
                "--no-plots",
                "--quiet",
                "--out",
                str(cuba),
            ]
        )
        == 0
    )
    observed = str(SCENARIOS / "backtests-v1" / "cuba-2015" / "observed.yaml")
    assert main(["score", "--observed", observed, str(cuba), "--no-plots"]) == 0
    assert "Brier score" in capsys.readouterr().out


def test_results_have_a_short_repr(tmp_path: Path) -> None:
    from sim.api import load_results

    res = load_results(_run(tmp_path))
    assert repr(res).startswith("<negsim run istanbul-2025: 100 replications") and "\n" not in repr(res)


@pytest.mark.filterwarnings("default::UserWarning")  # as the command line shows it, not an error
def test_characters_no_font_has_are_said_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Latin, Cyrillic and Arabic titles render with DejaVu Sans; Chinese without a CJK font gets one
    warning naming the characters and the font to install (not one per glyph and process)."""
    from sim.views.plots import style

    monkeypatch.setitem(style.RC, "font.family", ["DejaVu Sans"])  # as on a machine with no CJK font
    assert style.missing_glyphs(["Istanbul – переговоры, محادثات, $200"]) == []
    assert style.missing_glyphs(["中俄 talks", "中"]) == ["中", "俄"]
    scenario = tmp_path / "cjk.yaml"
    text = Path(ISTANBUL).read_text(encoding="utf-8")
    scenario.write_text(re.sub(r"(?m)^title: .*$", 'title: "中俄谈判 – переговоры"', text, count=1), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(scenario), "-n", "200", "--jobs", "2", "--out", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "4 characters" in err[0] and "fonts-noto-cjk" in err[0], err
    assert len(list((out / "plots").glob("*.png"))) == len(FIGURES)


def test_invisible_characters_in_a_name_are_shown_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A zero-width space (or a byte-order mark, a no-break space) in a key is visible in the message."""
    text = (SCENARIOS / "istanbul-2025.yaml").read_text(encoding="utf-8")
    path = tmp_path / "s.yaml"
    path.write_text(text.replace("\n  flights:\n", "\n  flights\u200b\ufeff:\n", 1), encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    line = one_error_line(capsys)
    assert "'flights\\u200b\\ufeff' is not a valid name" in line and "\u200b" not in line
    assert printable("Istanbul – İstanbul\u00a0talks") == "Istanbul – İstanbul\\xa0talks"  # letters and dashes stay
