"""A second round of hostile inputs, made after the corpus and aimed at what came later (judgements as
distributions, observed files with rounds, forecasts and base rates, --given, --origins, backtest
libraries, sweep points to score): each is refused with exit 2 and a message, never a traceback;
the few valid oddities among them run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.cli import main
from tests.helpers import SCENARIOS

ROOT = SCENARIOS.parent
CUBA = SCENARIOS / "backtests-v1" / "cuba-2015" / "scenario.yaml"
OBS = SCENARIOS / "backtests-v1" / "cuba-2015" / "observed.yaml"
IST = SCENARIOS / "istanbul-2025.yaml"


def build(W: Path) -> list[tuple[str, list[str], int | None]]:
    """The cases, with their files written under ``W``: (description, argv, expected exit or None for
    'runs or refuses, cleanly')."""
    base = CUBA.read_text()
    obs = OBS.read_text()
    write = W.is_dir()  # False: only the descriptions are wanted (test ids)

    def put(path: Path, text: str) -> str:
        if write:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return str(path)

    def f(name: str, text: str) -> str:
        return put(W / name, text)

    def sub(text: str, old: str, new: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)

    cases: list[tuple[str, list[str], int | None]] = []

    def case(desc: str, argv: list[str], expect: int | None = 2) -> None:
        cases.append((desc, argv, expect))

    # judgements
    B = "p: {dist: beta, mean: 0.25, concentration: 6}   # [R1] an enabler"
    for i, bad in enumerate(
        [
            "p: {dist: beta, a: 0, b: 2}",
            "p: {dist: beta, a: -1, b: 2}",
            "p: {dist: beta, mean: 1.5, concentration: 3}",
            "p: {dist: beta, mean: 0.3, concentration: 0}",
            "p: {dist: beta, mean: 0.3}",
            "p: {dist: beta, a: 1, b: 2, mean: 0.3, concentration: 3}",
            "p: {dist: normal, mean: 0.3, sd: 0.1}",
            "p: {dist: gamma, shape: 2, scale: 0.1}",
            "p: {dist: uniform, low: 0.2, high: 1.2}",
            "p: {dist: beta, a: .inf, b: 2}",
            "p: {dist: beta, a: '1', b: 2}",
            "p: {dist: beta, a: true, b: 2}",
            "p: {dist: lognormal, mu: 0, sigma: 1}",
            "p: {dist: beta, mean: 0, concentration: 5}",
            "p: {dist: beta, mean: 1, concentration: 5}",
            "p: {dist: triangular, low: 0, mode: 0.5, high: 1.01}",
            "p: {dist: fixed, value: 2}",
            "p: []",
        ]
    ):
        case(f"judgement {bad}", ["run", f(f"j{i}.yaml", sub(base, B, bad)), "-n", "100", "--no-plots"])
    case(
        "trust weight gamma negative scale",
        [
            "run",
            f(
                "t1.yaml",
                sub(base, "weight: 1.0                  # [R9]", "weight: {dist: gamma, shape: 2, scale: -1}"),
            ),
            "-n",
            "100",
        ],
    )
    case(
        "event rate beta",
        [
            "validate",
            f("t2.yaml", sub(base, "rate: 1.0                  # [R10]", "rate: {dist: normal, mean: 1, sd: 2}")),
        ],
    )
    case(
        "multiplier uncertain >1 (valid: a multiplier may raise the odds)",
        [
            "validate",
            f(
                "t3.yaml",
                sub(
                    base, "constraints: {sst_list: 0.5}", "constraints: {sst_list: {dist: uniform, low: 0.5, high: 3}}"
                ),
            ),
        ],
        expect=None,
    )
    # observed files
    text = obs
    for i, (old, new) in enumerate(
        [
            ("as_of: 2017-01-21", "as_of: 2017-13-01"),
            ("as_of: 2017-01-21", "as_of: yesterday"),
            ("as_of: 2017-01-21", "as_of: 2014-01-01"),
            ("  banking: 2015-05-19", "  banking: 2018-05-19"),
            ("  banking: 2015-05-19", "  banking: [2015-05-19]"),
            ("breakdown: null", "breakdown: 2016-01-01T10:00:00"),
            ("breakdown: null", "breakdown: yes"),
            ("base_rate: {per_round: 0.15", "base_rate: {per_round: 1.5"),
            ("base_rate: {per_round: 0.15", "base_rate: {per_round: '0.15'"),
            ("breakdown: null", "rounds: {held: [2016-01-01, 2015-01-01, 2030-01-01]}"),
            ("breakdown: null", "rounds: {held: 3}"),
            ("breakdown: null", "rounds: {held: [], cancelled: [2099-01-01]}"),
            ("breakdown: null", "forecasts: [{source: x, made: 2015-01-01, item: banking, by: 2015-06-01, p: 2}]"),
            ("breakdown: null", "forecasts: [{source: x, made: 2015-07-01, item: banking, by: 2015-06-01, p: 0.5}]"),
            ("breakdown: null", "forecasts: [{source: x, made: 2015-01-01, item: bankng, by: 2015-06-01, p: 0.5}]"),
            ("breakdown: null", "checkpoints: [2015-06-01, 2015-06-01]"),
            ("breakdown: null", "checkpoints: 2015-06-01"),
            ("breakdown: null", "sources: {a: 1}"),
            ("  sst_list: 2015-05-29", "  sst_lst: 2015-05-29"),
            ("as_of: 2017-01-21", "as_of: 2017-01-21\nas_of: 2017-01-22"),
        ]
    ):
        p = f(f"o{i}.yaml", sub(text, old, new))
        case(
            f"observed {new[:50]}", ["validate", p], expect=None if i in (2, 14, 18) else 2
        )  # names and start need the scenario
        case(f"score with observed {new[:40]}", ["score", "RUN", "--observed", p, "--out", str(W / f"so{i}")])
    # --given
    MID = (ROOT / "scenarios/backtests-v1/cuba-2015/observed-mid-2015.yaml").read_text()
    case(
        "given with as_of after horizon",
        ["run", str(CUBA), "--given", f("g1.yaml", sub(MID, "as_of: 2015-06-30", "as_of: 2018-01-01")), "-n", "100"],
    )
    case(
        "given impossible history",
        [
            "run",
            str(CUBA),
            "--given",
            f("g2.yaml", sub(MID, "embassies: null", "embassies: 2015-02-01")),
            "-n",
            "200",
            "--max-replications",
            "2000",
            "--no-plots",
        ],
    )
    case("given missing file", ["run", str(CUBA), "--given", str(W / "nope.yaml")])
    case("given a directory", ["run", str(CUBA), "--given", str(W)])
    case(
        "given with --null",
        [
            "run",
            str(CUBA),
            "--given",
            str(ROOT / "scenarios/backtests-v1/cuba-2015/observed-mid-2015.yaml"),
            "--null",
            "-n",
            "100",
            "--max-replications",
            "500",
        ],
    )
    case(
        "given max-replications 0",
        [
            "run",
            str(CUBA),
            "--given",
            str(ROOT / "scenarios/backtests-v1/cuba-2015/observed-mid-2015.yaml"),
            "--max-replications",
            "0",
        ],
    )
    case("given observed for another scenario", ["run", str(IST), "--given", str(OBS), "-n", "100"])
    # origins
    case("origins garbage", ["score", "RUN", "--observed", str(OBS), "--origins", "weekly"])
    case("origins empty", ["score", "RUN", "--observed", str(OBS), "--origins", ""])
    case("origins comma only", ["score", "RUN", "--observed", str(OBS), "--origins", ","])
    case("origins -n 0", ["score", "RUN", "--observed", str(OBS), "--origins", "quarterly", "-n", "0"])
    case("origins date 2015-02-30", ["score", "RUN", "--observed", str(OBS), "--origins", "2015-02-30"])
    case(
        "origins max-repl tiny",
        [
            "score",
            "RUN",
            "--observed",
            str(OBS),
            "--origins",
            "2016-06-30",
            "-n",
            "200",
            "--max-replications",
            "300",
            "--out",
            str(W / "or1"),
        ],
    )
    # backtest
    put(W / "lib1" / "a" / "scenario.yaml", base)
    put(W / "lib1" / "a" / "observed.yaml", "as_of: [")
    case("backtest broken observed", ["backtest", str(W / "lib1"), "--out", str(W / "bt1"), "-n", "100"])
    if write:
        (W / "lib2").mkdir()
    case("backtest empty library", ["backtest", str(W / "lib2"), "--out", str(W / "bt2")])
    case("backtest library is a file", ["backtest", str(OBS), "--out", str(W / "bt3")])
    put(W / "notbt" / "x.txt", "mine")
    case(
        "backtest into a foreign folder",
        ["backtest", str(ROOT / "scenarios/backtests-v1"), "--out", str(W / "notbt"), "-n", "100"],
    )
    put(W / "lib3" / "a" / "scenario.yaml", base.replace("schema: 1", "schema: 2"))
    put(W / "lib3" / "a" / "observed.yaml", obs)
    case("backtest broken scenario", ["backtest", str(W / "lib3"), "--out", str(W / "bt4"), "-n", "100"])
    # score sweep point
    case("score sweep point out of range", ["score", "SWEEP:9", "--observed", str(OBS)])
    case("score sweep folder without point", ["score", "SWEEP", "--observed", str(OBS)])
    case(
        "score point with origins",
        ["score", "SWEEP:0", "--observed", str(OBS), "--origins", "quarterly", "--out", str(W / "sp")],
        expect=None,
    )
    # compare
    case("compare with a score folder", ["compare", "RUN", "RUNSCORE"])
    case("compare sweep point negative", ["compare", "RUN", "SWEEP:-1"])
    # run misc
    case("run seed negative", ["run", str(CUBA), "--seed", "-1"])
    case("schema unknown kind", ["schema", "backtest"])
    case("run -n 1e3", ["run", str(CUBA), "-n", "1e3"])

    return cases


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[str, list[str], int | None]]]:
    W = tmp_path_factory.mktemp("hostile")
    run = W / "RUN"
    assert main(["run", str(CUBA), "-n", "300", "--out", str(run), "--no-plots", "--quiet", "--jobs", "1"]) == 0
    assert main(["score", str(run), "--observed", str(OBS), "--out", str(W / "RUNSCORE"), "--no-plots"]) == 0
    sweep = ["sweep", str(CUBA), "--set", "rounds.cancel=0.1,0.3", "-n", "300", "--out", str(W / "SWEEP")]
    assert main([*sweep, "--no-plots", "--quiet", "--jobs", "1"]) == 0
    return W, build(W)


CASES = build(Path("/nonexistent"))  # only for the ids: the files are written under the fixture's folder


@pytest.mark.parametrize(
    "index",
    range(len(CASES)),
    ids=[f"{i:02d}-{re.sub('[^a-z0-9]+', '-', c[0].lower())[:50].strip('-')}" for i, c in enumerate(CASES)],
)
def test_hostile_input_is_refused_cleanly(
    index: int, place: tuple[Path, list], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    W, cases = place
    desc, argv, expect = cases[index]
    monkeypatch.chdir(W)  # a run that is valid writes under results/ here
    named = {"RUNSCORE": W / "RUNSCORE", "RUN": W / "RUN", "SWEEP": W / "SWEEP"}
    args = []
    for a in argv:
        for key, path in named.items():
            if a.startswith(key):
                a = str(path) + a[len(key) :]
                break
        args.append(a)
    try:
        code = main(args)
    except SystemExit as exc:  # argparse refuses a malformed command line with exit 2
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    if expect == 2:
        assert code == 2 and err.strip(), (desc, code, err)
    else:
        assert code in (0, 2), (desc, code, err)
