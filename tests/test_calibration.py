"""Calibration (sim.results.calibration, sim.runs.calibration): the importance weights against the
beta densities they stand for, the gradient against finite differences, recovery of a known figure
within its standard error, resampling, and ``negsim calibrate`` / ``backtest --loo`` end to end."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy import special, stats

from sim.cli import main
from sim.results import calibration as fitting
from sim.results.calibration import CaseSample, Problem, RowPrior
from sim.scenario.load import load_table
from tests.helpers import SCENARIOS

LIBRARY = SCENARIOS / "backtests"


def test_quarter_cells_count_quarters_from_the_origin_and_put_misses_last() -> None:
    q = fitting.QUARTER
    days = np.array([0.0, q - 0.5, q + 0.5, 3 * q + 1, 364.0, 366.0, np.nan])
    # a 365-day window has ceil(365 / 91.31) = 4 quarters: cells 0..3, and 4 for "not by the end"
    assert fitting.quarter_cells(days, 0.0, 365.0).tolist() == [0, 0, 1, 3, 3, 4, 4]
    # an origin later than day 0 shifts every quarter; the window's last quarter takes a partial one
    assert fitting.quarter_cells(np.array([10.0, 10 + q]), 10.0, 10 + 1.5 * q).tolist() == [0, 1]


def test_families_group_the_table_rows() -> None:
    assert fitting.family("R2.decided") == "decided" and fitting.family("R4.undecided") == "undecided"
    assert fitting.family("R13.ratify_decided") == "ratification" and fitting.family("R13.decided") == "enactment"
    assert fitting.family("R12.talks") == "shares" and fitting.family("R6b") == "reviews"
    assert fitting.family("R5") == "legislature" and fitting.family("R9") == "R9"


def _sample(
    name: str, x: np.ndarray, effect: np.ndarray, cells: np.ndarray, observed: list[int], m0: float
) -> CaseSample:
    return CaseSample(
        name,
        {"R2.decided": x},
        effect,
        cells,
        np.array(observed, dtype=np.int64),
        tau=0.8,
        proposal={"R2.decided": RowPrior("R2.decided", m0, 10.0)},
    )


def test_weights_are_the_ratio_of_the_beta_and_normal_densities() -> None:
    rng = np.random.default_rng(1)
    n, kappa, m0 = 500, 10.0, 0.4
    x = rng.beta(m0 * kappa, (1 - m0) * kappa, (n, 2))
    effect = rng.normal(0, 0.8, n)
    sample = _sample("a", x, effect, np.zeros((n, 1), dtype=np.int64), [0], m0)
    problem = Problem([sample], {"R2.decided": RowPrior("R2.decided", 0.3, kappa)})
    # the first case's proposal (its figures, its case effect / 1.25): the weights are all alike but for tau
    start = problem.center()
    assert problem.means(start)["R2.decided"] == pytest.approx(m0)
    theta = np.array([0.5, math.log(0.5)])
    m = problem.means(theta)["R2.decided"]
    logw, _ = problem.log_weights(0, theta)
    expected = (
        stats.beta.logpdf(x, m * kappa, (1 - m) * kappa).sum(axis=1)
        - stats.beta.logpdf(x, m0 * kappa, (1 - m0) * kappa).sum(axis=1)
        + stats.norm.logpdf(effect, 0, 0.5)
        - stats.norm.logpdf(effect, 0, 0.8)
    )
    assert np.allclose(logw, expected, atol=1e-8)
    w = problem.weights(0, theta)
    assert w.sum() == pytest.approx(1.0) and np.allclose(np.log(w) - np.log(w).mean(), expected - expected.mean())


def test_the_objective_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(2)
    n, kappa = 400, 10.0
    samples = []
    for k in range(3):
        x = rng.beta(4, 6, (n, 1))
        cells = (rng.random((n, 1)) >= x).astype(np.int64)  # agreed in the first quarter with chance x
        samples.append(_sample(f"c{k}", x, rng.normal(0, 0.8, n), cells, [k % 2], 0.4))
    problem = Problem(samples, {"R2.decided": RowPrior("R2.decided", 0.3, kappa)})
    cases = np.arange(3)
    theta = np.array([0.3, math.log(0.6)])
    _, grad = problem.objective(theta, cases)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = 1e-5
        up, _ = problem.objective(theta + step, cases)
        down, _ = problem.objective(theta - step, cases)
        assert grad[i] == pytest.approx((up - down) / 2e-5, rel=1e-4, abs=1e-6)


def test_a_known_figure_is_recovered_within_its_standard_error() -> None:
    """Each of C cases has one item agreed in its first quarter with chance x, x ~ beta(mean m,
    concentration 10): the share agreed estimates m with standard error sqrt(m(1 - m)/C). The fit
    starts from a table that says 0.3 and must find the true 0.55 (the prior's pull over 1,000
    cases is under a thousandth; the importance sampling adds its own error, well within the bound)."""
    rng = np.random.default_rng(3)
    cases, n, kappa, true, m0 = 1000, 2000, 10.0, 0.55, 0.45
    x = rng.beta(m0 * kappa, (1 - m0) * kappa, (n, 1))
    cells = (rng.random((n, 1)) >= x).astype(np.int64)
    happened = rng.random(cases) < rng.beta(true * kappa, (1 - true) * kappa, cases)
    samples = [_sample(f"c{k}", x, np.zeros(n), cells, [0 if happened[k] else 1], m0) for k in range(cases)]
    problem = Problem(samples, {"R2.decided": RowPrior("R2.decided", 0.3, kappa)})
    theta, fit = problem.fit()
    se = math.sqrt(true * (1 - true) / cases)
    assert fit.converged
    assert abs(fit.means["R2.decided"] - happened.mean()) < 2 * se  # the fit is the share agreed
    assert abs(fit.means["R2.decided"] - true) < 4 * se
    assert special.logit(fit.means["R2.decided"]) - special.logit(0.3) == pytest.approx(theta[0])


def test_the_bootstrap_resamples_whole_cases_and_is_seeded() -> None:
    picks = fitting.resamples_of(5, 300, seed=4)
    assert picks.shape == (300, 5) and picks.min() == 0 and picks.max() == 4
    assert np.array_equal(picks, fitting.resamples_of(5, 300, seed=4))
    assert not np.array_equal(picks, fitting.resamples_of(5, 300, seed=5))


def test_systematic_resampling_keeps_each_replication_within_one_of_its_share() -> None:
    w = np.array([0.5, 0.25, 0.125, 0.125, 0.0])
    picks = fitting.resample(w, 1000, seed=1)
    counts = np.bincount(picks, minlength=w.size)
    assert np.all(np.abs(counts - 1000 * w) <= 1) and counts[-1] == 0
    assert np.array_equal(picks, fitting.resample(w, 1000, seed=1))


def _small_library(tmp_path: Path, cases: list[str]) -> Path:
    library = tmp_path / "library"
    library.mkdir()
    shutil.copy(LIBRARY / "table.yaml", library / "table.yaml")
    for case in cases:
        shutil.copytree(LIBRARY / case, library / case)
    return library


CASES = ["cuba-2015", "israel-uae-2020", "india-pakistan-2004"]


@pytest.mark.slow
def test_calibrate_writes_a_table_that_loads_and_the_same_bytes_for_any_number_of_jobs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    library = _small_library(tmp_path, CASES)
    one, two = tmp_path / "one", tmp_path / "two"
    args = ["calibrate", str(library), "-n", "600", "--resamples", "12"]
    assert main([*args, "--out", str(one), "--jobs", "1"]) == 0
    printed = capsys.readouterr().out
    assert "R2.decided" in printed and "case effect sd" in printed
    assert main([*args, "--out", str(two), "--jobs", "2"]) == 0
    assert (one / "calibration.json").read_bytes() == (two / "calibration.json").read_bytes()
    data = json.loads((one / "calibration.json").read_text())
    assert data["cases"] == sorted(CASES) and data["resamples"] == 12
    for row in data["rows"]:
        assert 0 < row["low"] <= row["high"] < 1 and 0 < row["after"] < 1
        assert set(row["pull"]) == set(CASES)
    table = load_table(library / "table.yaml").table
    assert {r["row"]: r["before"] for r in data["rows"]}["R2.decided"] == table.rows["R2"].figures["decided"]["mean"]
    fitted = load_table(one / "table.yaml")
    assert fitted.table.rows["R16"].figure["sd"] == pytest.approx(data["case_effect"]["sd"])
    by_ref = {r["row"]: r for r in data["rows"]}
    assert fitted.table.rows["R2"].figures["decided"]["mean"] == pytest.approx(by_ref["R2.decided"]["after"])
    assert "R2.decided" in (one / "report.html").read_text()
    # a scenario runs with the fitted table in place of the library's
    assert main(["validate", str(library / CASES[0] / "scenario.yaml"), "--table", str(one / "table.yaml")]) == 0


@pytest.mark.slow
def test_calibrate_without_resamples_takes_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`negsim calibrate LIBRARY --out DIR`, as the README writes it, with no --resamples: the
    default count is used (it once ended in a traceback: the CLI read it from a module it had not
    imported). The default is made small here to keep the test quick."""
    from sim.runs import calibration

    monkeypatch.setattr(calibration, "RESAMPLES", 7)
    library = _small_library(tmp_path, CASES[:2])
    assert main(["calibrate", str(library), "-n", "300", "--out", str(tmp_path / "fit")]) == 0
    assert "Traceback" not in capsys.readouterr().err
    assert json.loads((tmp_path / "fit" / "calibration.json").read_text())["resamples"] == 7


@pytest.mark.slow
def test_backtest_loo_scores_each_case_from_a_fit_without_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    library = _small_library(tmp_path, CASES)
    out = tmp_path / "bt"
    assert main(["backtest", str(library), "-n", "600", "--jobs", "1", "--no-plots", "--loo", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "leave one case out" in printed and "against the uncalibrated table" in printed
    data = json.loads((out / "backtest.json").read_text())
    loo, pooled = data["loo"], data["pooled"]
    assert set(pooled) <= set(loo) and loo["cases"] == 3
    assert set(loo["skill"]) == {"null", "status_quo", "base_rate", "uncalibrated"}
    assert set(loo["left_out"]) == set(CASES) and loo["most_influential"]["case"] in CASES
    # each case's fit leaves it out: its families differ from the fit on every case
    assert all(loo["left_out"][c]["families"] != loo["fit"]["families"] for c in CASES)
    assert loo["cases_alike"]["cases"] == 3
