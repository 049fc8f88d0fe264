"""Comparisons: differences against closed forms, pairing, scenario diffs, reports, the notebook API."""

from __future__ import annotations

import base64
import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.api import load_results
from sim.cli import main
from sim.errors import UserError
from sim.results.compare import compare, scenario_diff
from sim.results.stats import newcombe, paired
from tests.helpers import SCENARIOS, make

N = 6000


def one_item(tmp_path: Path, name: str, p: float, seed: int = 5, n: int = N) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        f"schema: 1\nname: {name}\ncalendar: {{start: 2025-01-01, horizon: 30}}\n"
        f"simulation: {{replications: {n}, seed: {seed}}}\nrounds: {{interval: 10}}\n"
        f"items:\n  a: {{p: {p}}}\n"
    )
    out = tmp_path / "runs" / name
    assert main(["run", str(path), "--jobs", "1", "--out", str(out), "--no-plots", "--quiet"]) == 0
    return str(out)


@pytest.mark.parametrize(
    ("first", "second", "interval"),
    [
        ((48, 80), (56, 70), (0.0524, 0.3339)),  # Newcombe (1998), Table II, example (a), method 10
        ((3, 10), (9, 10), (0.1705, 0.8090)),  # (b)
        ((0, 29), (5, 56), (-0.0381, 0.1926)),  # (d)
        ((0, 20), (0, 10), (-0.1611, 0.2775)),  # (e)
    ],
)
def test_newcombe_matches_the_published_examples(
    first: tuple[int, int], second: tuple[int, int], interval: tuple[float, float]
) -> None:
    """The unpaired interval for p2 - p1 is Newcombe's method 10 ("Interval estimation for the
    difference between independent proportions: comparison of eleven methods", Statistics in
    Medicine 17, 1998), to the four decimals of its Table II."""
    assert newcombe(*first, *second) == pytest.approx(interval, abs=6e-5)


def test_paired_difference_is_the_mean_of_per_replication_differences() -> None:
    """Paired: the mean difference with mean -/+ z * sd / sqrt(n) of the differences."""
    a = np.array([1, 0, 0, 1, 0, 0, 1, 0], bool)
    b = np.array([1, 1, 0, 1, 0, 1, 1, 0], bool)
    d, lo, hi = paired(a, b)
    diff = b.astype(float) - a.astype(float)
    half = 1.959963984540054 * diff.std(ddof=1) / math.sqrt(8)
    assert (d, lo, hi) == pytest.approx((0.25, 0.25 - half, 0.25 + half))


def test_difference_matches_the_closed_form_and_pairing_narrows_it(tmp_path: Path) -> None:
    low = one_item(tmp_path, "low", 0.2)
    high = one_item(tmp_path, "high", 0.4)
    other_seed = one_item(tmp_path, "high-other-seed", 0.4, seed=6)
    exact = (1 - 0.6**4) - (1 - 0.8**4)  # four rounds: days 0, 10, 20, 30
    c = compare([low, high, other_seed])
    rows = {r["run"]: r for r in c.rows}
    paired, unpaired = rows["high"], rows["high-other-seed"]
    assert paired["paired"] and not unpaired["paired"]
    for row in (paired, unpaired):
        half = (row["diff_high"] - row["diff_low"]) / 2
        assert row["diff_low"] <= row["diff"] <= row["diff_high"]
        assert abs(row["diff"] - exact) < 4.5 * half / 1.96  # within 4.5 standard errors
    # Under common random numbers, agreement at p = 0.2 implies agreement at p = 0.4 in the same replication,
    # so the paired difference is a Bernoulli(d) variable: width 2 * 1.96 * sqrt(d (1 - d) / n), against
    # 2 * 1.96 * sqrt((pa qa + pb qb) / n) for independent samples.
    pa, pb = 1 - 0.8**4, 1 - 0.6**4
    paired_w, unpaired_w = paired["diff_high"] - paired["diff_low"], unpaired["diff_high"] - unpaired["diff_low"]
    assert paired_w == pytest.approx(2 * 1.96 * math.sqrt(exact * (1 - exact) / N), rel=0.1)
    assert unpaired_w == pytest.approx(2 * 1.96 * math.sqrt((pa * (1 - pa) + pb * (1 - pb)) / N), rel=0.1)
    assert paired_w < 0.85 * unpaired_w
    # Under common random numbers a higher p never agrees later: every paired difference is >= 0.
    assert c.runs[1].agreed[c.runs[0].agreed].all()


def test_identical_scenarios_differ_by_exactly_zero(tmp_path: Path) -> None:
    a = one_item(tmp_path, "a1", 0.3)
    b = one_item(tmp_path, "a2", 0.3)
    row = compare([a, b]).rows[1]
    assert row["diff"] == row["diff_low"] == row["diff_high"] == 0.0 and row["paired"]


def test_field_by_field_scenario_diff() -> None:
    base = make(items={"a": {"p": 0.5}}, constraints={"c": {"lift": {"reviews": {"first": 10, "every": 30}, "p": 0.1}}})
    other = make(
        items={"a": {"p": 0.5, "requires": ["b"]}, "b": {"p": 0.2}},
        constraints={"c": {"lift": {"reviews": {"first": 10, "every": 30}, "p": 0.4}}},
    )
    assert scenario_diff(base, other) == [
        ("items.a.requires", "[]", "['b']"),
        ("constraints.c.lift.p", "0.1", "0.4"),
        ("items.b.p", "(absent)", "0.2"),
        ("items.b.requires", "(absent)", "[]"),
        ("items.b.constraints", "(absent)", "{}"),
        ("items.b.after_rounds", "(absent)", "0"),
        ("items.b.priority", "(absent)", "0"),
        ("items.b.status", "(absent)", "open"),
    ]


def test_compare_command_writes_the_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = []
    for name in ("istanbul-2025", "istanbul-2025-aviation-eased"):
        out = tmp_path / name
        assert (
            main(["run", str(SCENARIOS / f"{name}.yaml"), "-n", "400", "--jobs", "1", "--out", str(out), "--quiet"])
            == 0
        )
        runs.append(str(out))
    out = tmp_path / "cmp"
    assert main(["compare", *runs, "--labels", "base,eased", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "constraints.aviation.lift.on: (absent) -> 2025-09-18" in printed
    assert "constraints.aviation.lift.p.mean: 0.1 -> (absent)" in printed
    table = pd.read_csv(out / "comparison.csv")
    assert list(table.columns) == [
        "run",
        "item",
        "p_agreed",
        "ci_low",
        "ci_high",
        "diff",
        "diff_low",
        "diff_high",
        "paired",
    ]
    assert (table[table.run == "base"]["diff"] == 0).all()
    flights = table[(table.run == "eased") & (table.item == "flights")].iloc[0]
    assert flights["diff"] > 0 and flights["paired"]
    assert sorted(p.name for p in (out / "plots").glob("*.png")) == [
        "compare_by_horizon.png",
        "compare_curves.png",
        "compare_differences.png",
    ]
    html = (out / "report.html").read_text()
    assert "What differs between the scenarios" in html and "What pairing buys" in html
    assert "Milestones, median dates and P(breakdown)" in html
    assert "milestones and median dates against 'base'" in printed and "P(breakdown): base " in printed
    outcomes = pd.read_csv(out / "outcomes.csv", keep_default_na=False)
    assert list(outcomes.columns) == ["run", "item", "measure", "value", "diff", "diff_low", "diff_high", "paired"]
    assert set(outcomes.measure) >= {"P(agreed by 2025-06-10)", "median date", "P(breakdown)"}
    assert main(["compare", runs[0]]) == 2
    assert main(["compare", runs[0], runs[1], "--labels", "x"]) == 2
    assert main(["compare", runs[0], str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "at least two" in err and "2 runs" in err and "no such result folder" in err


def test_compare_points_of_a_sweep(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "schema: 1\nname: s\ncalendar: {start: 2025-01-01, horizon: 30}\n"
        "simulation: {replications: 3000, seed: 3}\nrounds: {interval: 10}\nitems:\n  a: {p: 0.3}\n"
    )
    sw = tmp_path / "sw"
    assert main(["sweep", str(scenario), "--set", "items.a.p=0.2,0.4", "--jobs", "1", "--out", str(sw), "--quiet"]) == 0
    c = compare([f"{sw}:0", f"{sw}:1"])
    assert c.runs[1].scenario.items["a"].p == 0.4
    assert c.runs[1].label == "sw:1 (items.a.p=0.4)" and c.runs[1].agreed.shape == (3000, 1)
    assert np.isnan(c.runs[1].day[~c.runs[1].agreed]).all() and not np.isnan(c.runs[1].day[c.runs[1].agreed]).any()
    with pytest.raises(UserError, match=r"the sweep has points 0 to 2$"):
        compare([f"{sw}:0", f"{sw}:3"])
    assert c.rows[1]["paired"] and c.rows[1]["diff"] > 0
    assert scenario_diff(c.runs[0].scenario, c.runs[1].scenario) == [("items.a.p", "0.2", "0.4")]
    written = compare([f"{sw}:0", f"{sw}:2"])  # 0.3, off the grid: the scenario as written, run as its last point
    assert written.runs[1].label == "sw:2 (the scenario as written)" and written.runs[1].scenario.items["a"].p == 0.3
    assert main(["compare", f"{sw}:0", f"{sw}:7"]) == 2


def _embedded_images(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)]


def test_reports_are_self_contained(tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert (
        main(["run", str(SCENARIOS / "istanbul-2025.yaml"), "-n", "300", "--jobs", "1", "--out", str(run), "--quiet"])
        == 0
    )
    html = (run / "report.html").read_text()
    images = _embedded_images(html)
    assert len(images) == len(list((run / "plots").glob("*.png"))) == 7
    assert all(img[:8] == b"\x89PNG\r\n\x1a\n" for img in images)
    assert not re.search(r'(src|href)="(http|//)', html)  # nothing fetched from a network
    assert "scenario.yaml" in html and "manifest.json" in html and "banking" in html
    sw = tmp_path / "sw"
    assert (
        main(
            [
                "sweep",
                str(SCENARIOS / "istanbul-2025.yaml"),
                "--set",
                "trust.weight=0,1",
                "-n",
                "200",
                "--jobs",
                "1",
                "--out",
                str(sw),
                "--quiet",
            ]
        )
        == 0
    )
    html = (sw / "report.html").read_text()
    assert len(_embedded_images(html)) == 1 and "trust.weight" in html


@pytest.mark.slow
def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("Chromium is not installed")
    run = tmp_path / "run"
    assert (
        main(["run", str(SCENARIOS / "istanbul-2025.yaml"), "-n", "300", "--jobs", "1", "--out", str(run), "--quiet"])
        == 0
    )
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    done = subprocess.run(
        [browser, *flags, "--dump-dom", (run / "report.html").as_uri()], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0
    assert done.stdout.count("<img") == 7 and "Chance of agreement" in done.stdout
    shot = tmp_path / "shot.png"
    subprocess.run(
        [browser, *flags, f"--screenshot={shot}", "--window-size=1200,3000", (run / "report.html").as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 50_000


def test_notebook_api(tmp_path: Path) -> None:
    from matplotlib.figure import Figure

    run = tmp_path / "run"
    assert (
        main(
            [
                "run",
                str(SCENARIOS / "istanbul-2025.yaml"),
                "-n",
                "300",
                "--jobs",
                "1",
                "--out",
                str(run),
                "--quiet",
                "--no-plots",
            ]
        )
        == 0
    )
    res = load_results(run)
    assert list(res.summary["item"]) == ["banking", "staffing", "property_roadmap", "flights", "property_access"]
    assert len(res.items) == 300 * 5 and set(res.items.columns) == {
        "replication",
        "item",
        "agreed",
        "day",
        "round",
        "how",
    }
    assert len(res.replications) == 300 and len(res.constraints) == 600
    assert isinstance(res.plot("agreement_curves"), Figure)
    assert "<table>" in res._repr_html_()
    sw = tmp_path / "sw"
    assert (
        main(
            [
                "sweep",
                str(SCENARIOS / "istanbul-2025.yaml"),
                "--set",
                "trust.weight=0,1",
                "-n",
                "200",
                "--jobs",
                "1",
                "--out",
                str(sw),
                "--quiet",
                "--no-plots",
            ]
        )
        == 0
    )
    sweep = load_results(sw)
    # two values of trust.weight, and the scenario as written, which draws it from a distribution
    assert sweep.summary.shape == (3, 5) and len(sweep.points) == 15 and len(sweep.items) == 3 * 200 * 5
    assert isinstance(sweep.plot(), Figure) and isinstance(sweep.plot("median_day"), Figure)
    assert "trust.weight" in sweep._repr_html_()
    cmp = tmp_path / "cmp"
    assert main(["compare", str(run), f"{sw}:1", "--out", str(cmp)]) == 0
    comparison = load_results(cmp)
    assert comparison.summary.shape == (5, 2)
    assert isinstance(comparison.plot(), Figure)
    assert not math.isnan(comparison.table["diff"].iloc[-1])
    assert "<table" in comparison._repr_html_()


def _rundata(label: str, s: object, agreed: list[list[bool]]) -> object:
    from sim.results.compare import RunData

    a = np.array(agreed, bool)
    return RunData(label, label, s, a, np.where(a, 1.0, np.nan))  # type: ignore[arg-type]


def test_comparison_rows_are_exactly_these() -> None:
    """Each run's P and Wilson interval; against the first: zero, paired, unpaired (other n), n/a (item absent)."""
    from sim.results.compare import comparison_rows
    from sim.results.stats import wilson

    base = make(items={"a": {"p": 0.5}, "b": {"p": 0.5}})
    other = make(items={"a": {"p": 0.5}, "c": {"p": 0.5}})
    bigger = make(items={"a": {"p": 0.5}}, simulation={"replications": 1000, "seed": 3})
    first = _rundata("base", base, [[True, False], [False, False], [True, True], [False, True]])
    second = _rundata("other", other, [[True, True], [True, False], [True, True], [False, False]])
    third = _rundata("bigger", bigger, [[True], [False], [True], [True], [True]])
    rows = comparison_rows([first, second, third])  # type: ignore[list-item]
    key = [(r["run"], r["item"]) for r in rows]
    assert key == [("base", "a"), ("base", "b"), ("other", "a"), ("other", "c"), ("bigger", "a")]
    by = dict(zip(key, rows, strict=True))
    assert by["base", "a"] == {
        "run": "base",
        "item": "a",
        "p_agreed": 0.5,
        "ci_low": wilson(2, 4)[0],
        "ci_high": wilson(2, 4)[1],
        "diff": 0.0,
        "diff_low": 0.0,
        "diff_high": 0.0,
        "paired": True,
    }
    d, lo, hi = paired(np.array([1, 0, 1, 0], bool), np.array([1, 1, 1, 0], bool))
    assert (by["other", "a"]["diff"], by["other", "a"]["diff_low"], by["other", "a"]["diff_high"]) == (d, lo, hi)
    assert by["other", "a"]["paired"] is True and d == 0.25
    assert math.isnan(by["other", "c"]["diff"]) and math.isnan(by["other", "c"]["diff_low"])
    assert math.isnan(by["other", "c"]["diff_high"]) and by["other", "c"]["paired"] is True
    lo, hi = newcombe(2, 4, 4, 5)
    assert by["bigger", "a"]["diff"] == pytest.approx(0.3) and (
        by["bigger", "a"]["diff_low"],
        by["bigger", "a"]["diff_high"],
    ) == (lo, hi)
    assert by["bigger", "a"]["paired"] is False


def test_comparison_files_are_exactly_these(tmp_path: Path) -> None:
    """comparison.csv (six decimals, empty for n/a, true/false) and scenario_diff.csv, whole."""
    from sim.results.compare import Comparison, comparison_rows, write

    base = make(items={"a": {"p": 0.5}})
    other = make(items={"a": {"p": 0.25}, "c": {"p": 0.5}})
    runs = [
        _rundata("base", base, [[True], [False], [False]]),
        _rundata("alt", other, [[True, True], [True, False], [False, False]]),
    ]
    write(Comparison(runs, comparison_rows(runs)), tmp_path / "c")  # type: ignore[arg-type]
    lines = (tmp_path / "c" / "comparison.csv").read_text().splitlines()
    assert lines[0] == "run,item,p_agreed,ci_low,ci_high,diff,diff_low,diff_high,paired"
    assert lines[1].startswith("base,a,0.333333,") and lines[1].endswith(",0.000000,0.000000,0.000000,true")
    assert lines[2].startswith("alt,a,0.666667,") and ",0.333333," in lines[2] and lines[2].endswith(",true")
    assert lines[3].startswith("alt,c,0.333333,") and lines[3].endswith(",,,,true")
    assert (tmp_path / "c" / "scenario_diff.csv").read_text() == (
        "run,field,first_run,this_run\nalt,items.a.p,0.5,0.25\nalt,items.c.p,(absent),0.5\n"
        "alt,items.c.requires,(absent),[]\nalt,items.c.constraints,(absent),{}\n"
        "alt,items.c.after_rounds,(absent),0\nalt,items.c.priority,(absent),0\nalt,items.c.status,(absent),open\n"
    )
    made = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert made["kind"] == "comparison"
    assert made["runs"] == [
        {"label": "base", "source": "base", "replications": 3, "seed": 12345},
        {"label": "alt", "source": "alt", "replications": 3, "seed": 12345},
    ]


def test_labels_that_collide_are_told_apart(tmp_path: Path) -> None:
    """Two runs of the same scenario get the folder's name added; the first keeps its own."""
    a = one_item(tmp_path, "same", 0.5, n=200)
    b = str(Path(a).parent.parent / "copy")
    import shutil

    shutil.copytree(a, b)
    comparison = compare([a, b])
    assert [r.label for r in comparison.runs] == ["same [same]", "same [copy]"]
    assert [r.label for r in compare([a, b], ["x", "y"]).runs] == ["x", "y"]
    # the same folder twice: the folder's name does not tell them apart either, so they are numbered
    assert [r.label for r in compare([a, a]).runs] == ["1: same [same]", "2: same [same]"]
    with pytest.raises(UserError, match="compare needs at least two result folders"):
        compare([a])


def test_outcome_rows_are_milestones_medians_and_breakdown() -> None:
    """P(agreed by each milestone, inclusive) by date, the unconditional median date, P(breakdown), each
    with its difference from the first run; a later start aligns by date; a sweep point has no breakdown."""
    from sim.results.compare import RunData, outcome_rows

    base = make(calendar={"start": "2025-01-01", "horizon": 100, "milestones": [10, 30]})
    later = make(calendar={"start": "2025-01-11", "horizon": 100})  # day 0 is base's day 10
    days = np.array([[10.0], [20.0], [30.0], [np.nan]])
    first = RunData("base", "base", base, ~np.isnan(days), days, np.array([False, False, True, True]))
    shifted = days - 10.0  # the same dates
    other = RunData("later", "later", later, ~np.isnan(shifted), shifted, np.array([False, True, True, True]))
    point = RunData("point", "p", base, ~np.isnan(days), days + 10.0)  # ten days later, no breakdown kept
    rows = outcome_rows([first, other, point])  # type: ignore[list-item]
    got = {(r["run"], r["measure"]): r for r in rows}
    assert got["base", "P(agreed by 2025-01-11)"]["value"] == 0.25  # day 10 agreed on the milestone: counted
    assert got["base", "P(agreed by 2025-01-31)"]["value"] == 0.75
    assert (
        got["later", "P(agreed by 2025-01-31)"]["value"] == 0.75
        and got["later", "P(agreed by 2025-01-31)"]["diff"] == 0
    )
    assert got["point", "P(agreed by 2025-01-11)"]["value"] == 0.0
    assert got["later", "P(agreed by 2025-01-11)"]["value"] == 0.25  # its own day 0 is on its calendar
    assert got["point", "P(agreed by 2025-01-31)"]["diff"] == pytest.approx(-0.25)
    assert got["base", "median date"]["value"] == "2025-01-21"  # the 2nd of 4 replications: day 20
    assert got["point", "median date"]["value"] == "2025-01-31" and got["point", "median date"]["diff"] == 10
    assert got["later", "median date"]["diff"] == 0
    d, lo, hi = paired(first.breakdown, other.breakdown)  # type: ignore[arg-type]
    assert (got["later", "P(breakdown)"]["value"], got["later", "P(breakdown)"]["diff"]) == (0.75, d)
    assert (got["later", "P(breakdown)"]["diff_low"], got["later", "P(breakdown)"]["diff_high"]) == (lo, hi)
    assert ("point", "P(breakdown)") not in got
    assert got["base", "P(breakdown)"]["diff"] == 0.0


def test_diff_values_are_shown_short_and_plain() -> None:
    from sim.results.compare import _show

    assert _show(True) == "true" and _show(False) == "false"
    assert _show("x" * 60) == "x" * 60  # sixty characters fit
    assert _show("x" * 61) == "x" * 57 + "..."


def test_sweep_point_specs(tmp_path: Path) -> None:
    """SWEEP_DIR:POINT is a folder and a number; anything else is not a point (a colon in the folder's
    own name is allowed: the point follows the last colon)."""
    from sim.results.compare import sweep_point_spec

    odd = tmp_path / "a:b"
    odd.mkdir()
    assert sweep_point_spec(f"{odd}:3") == (odd, 3)
    assert sweep_point_spec(str(odd)) is None  # the folder itself
    assert sweep_point_spec(f"{odd}:x") is None and sweep_point_spec(f"{tmp_path}/missing:3") is None
    assert sweep_point_spec("plain") is None


def test_milestones_outside_a_runs_calendar_are_left_out_and_pairing_is_kept() -> None:
    from sim.results.compare import RunData, outcome_rows

    base = make(calendar={"start": "2025-01-01", "horizon": 40, "milestones": [10, 30, 40]})
    late = make(calendar={"start": "2025-01-20", "horizon": 15})  # sees 31 Jan only (day 11); 10 Feb is day 21
    days = np.array([[10.0], [20.0], [np.nan], [np.nan]])
    first = RunData("base", "base", base, ~np.isnan(days), days)
    other = RunData("late", "late", late, ~np.isnan(days), days - 19.0)
    got = {(r["run"], r["measure"]): r for r in outcome_rows([first, other])}  # type: ignore[list-item]
    assert ("late", "P(agreed by 2025-01-11)") not in got  # before its start
    assert ("late", "P(agreed by 2025-02-10)") not in got  # after its horizon
    assert got["late", "P(agreed by 2025-01-31)"]["paired"] is True  # same seed and count
    assert got["base", "P(agreed by 2025-02-10)"]["value"] == 0.5  # the horizon itself counts
    assert got["base", "median date"]["value"] == "2025-01-21"
    assert got["late", "median date"]["value"] == "2025-01-21" and got["late", "median date"]["diff"] == 0
    never = RunData("never", "n", base, np.zeros((4, 1), bool), np.full((4, 1), np.nan))
    rows = {(r["run"], r["measure"]): r for r in outcome_rows([first, never])}  # type: ignore[list-item]
    assert rows["never", "median date"]["value"] == "after the horizon"
    assert math.isnan(rows["never", "median date"]["diff"])


def test_an_item_the_first_run_lacks_has_no_difference() -> None:
    from sim.results.compare import RunData, outcome_rows

    one = make(calendar={"horizon": 20, "milestones": [10]}, items={"a": {"p": 0.5}})
    two = make(calendar={"horizon": 20, "milestones": [10]}, items={"a": {"p": 0.5}, "b": {"p": 0.5}})
    a = np.array([[5.0], [np.nan]])
    ab = np.array([[5.0, 6.0], [np.nan, 7.0]])
    runs = [RunData("one", "1", one, ~np.isnan(a), a), RunData("two", "2", two, ~np.isnan(ab), ab)]
    got = {(r["run"], r["item"], r["measure"]): r for r in outcome_rows(runs)}  # type: ignore[arg-type]
    assert got["two", "b", "P(agreed by 2025-01-11)"]["value"] == 1.0
    assert math.isnan(got["two", "b", "P(agreed by 2025-01-11)"]["diff"])
    assert got["two", "b", "median date"]["value"] == "2025-01-07" and math.isnan(
        got["two", "b", "median date"]["diff"]
    )
    assert got["two", "a", "median date"]["value"] == "2025-01-06" and got["two", "a", "median date"]["diff"] == 0


def test_outcomes_csv_leaves_missing_figures_blank(tmp_path: Path) -> None:
    from sim.results.compare import Comparison, RunData, comparison_rows, outcome_rows, write

    base = make(calendar={"horizon": 20, "milestones": [10]})
    days = np.array([[5.0], [np.nan]])
    runs = [RunData(x, x, base, ~np.isnan(days), days, np.array([False, True])) for x in ("a", "b")]
    write(Comparison(runs, comparison_rows(runs), outcome_rows(runs)), tmp_path / "c")  # type: ignore[arg-type]
    lines = (tmp_path / "c" / "outcomes.csv").read_text().splitlines()
    assert lines[0] == "run,item,measure,value,diff,diff_low,diff_high,paired"
    assert "b,a,median date,2025-01-06,0,,,true" in lines
    assert "a,,P(breakdown),0.500000,0.000000,0.000000,0.000000,true" in lines
    with pytest.raises(UserError, match="a sweep folder; choose a point"):
        from sim.results.compare import load_run

        (tmp_path / "sw").mkdir()
        (tmp_path / "sw" / "sweep.yaml").write_text("x: 1")
        load_run(str(tmp_path / "sw"))


def test_compare_names_every_item_and_says_when_the_runs_are_of_different_scenarios(tmp_path: Path) -> None:
    """Rows of an item the first run lacks carry the item's name; runs of different scenarios, items
    a run lacks and calendars that differ are said in the terminal, the report and the manifest."""
    from sim.engine.plan import compile_plan
    from sim.engine.simulate import simulate
    from sim.results.compare import Comparison, RunData, comparison_rows, write
    from sim.views.report import comparison_body
    from sim.views.text import comparison_table

    one = make(name="talks-a", items={"a": {"p": 0.5}})
    two = make(name="talks-b", calendar={"horizon": 80}, items={"a": {"p": 0.5}, "extra": {"p": 0.3}})
    runs = []
    for label, s in (("first", one), ("second", two)):
        rec = simulate(compile_plan(s), 0, 300)
        runs.append(RunData(label, label, s, rec.item_agreed, rec.item_day))
    c = Comparison(runs, comparison_rows(runs))
    text = comparison_table(c)
    (row,) = [line for line in text.splitlines() if line.split()[:2] == ["extra", "second"]]
    assert "n/a" in row
    assert "different scenarios" in text and "talks-a" in text and "talks-b" in text
    assert "'second' has items the first run ('first') lacks" in text and "calendars differ" in text
    assert "The runs are of different scenarios" in comparison_body(c)
    write(c, tmp_path / "c")
    assert any("different scenarios" in n for n in json.loads((tmp_path / "c" / "manifest.json").read_text())["notes"])
    same = Comparison(runs[:1] * 2, comparison_rows(runs[:1] * 2))
    assert same.notes == [] and "note:" not in comparison_table(same)


@pytest.mark.parametrize(("old", "new"), [("0.", "x"), ("0.", "5")])
def test_a_comparison_folder_read_back_holds_probabilities(tmp_path: Path, old: str, new: str) -> None:
    """sim.load_results of a comparison whose comparison.csv was edited: one line naming the file, line and field."""
    run = tmp_path / "run"
    argv = ["run", str(SCENARIOS / "istanbul-2025.yaml"), "-n", "50", "--jobs", "1", "--no-plots", "--quiet"]
    assert main([*argv, "--out", str(run)]) == 0
    assert main(["compare", str(run), str(run), "--no-plots", "--out", str(tmp_path / "c")]) == 0
    path = tmp_path / "c" / "comparison.csv"
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace("," + old, "," + new, 1)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(UserError, match=re.escape(f"{path}:2: p_agreed: '{new}") + ".* is not a probability"):
        load_results(tmp_path / "c")
