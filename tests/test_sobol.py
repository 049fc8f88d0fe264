"""Sobol sweeps: closed-form indices recovered, noise kept apart, streams that do not bias them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

import sim
from sim.api import sweep_to_folder
from sim.cli import main
from sim.errors import UserError
from sim.results import sobol
from sim.runs.executors import InProcess
from sim.runs.sweep import make_spec
from sim.scenario.load import load_scenario

PRODUCT = """schema: 1
name: product
calendar: {start: 2025-01-01, horizon: 10}
simulation: {replications: 300, seed: 7}
parties: {ru: {}, us: {}}
rounds: {first: 0, interval: 1000}
items:
  deal: {accept: {ru: 0.5, us: 0.75}}
  coin: {p: 0.5}
"""
"""One round on day 0: P(deal) = accept.ru x accept.us exactly; coin is a fair coin nothing swept can reach."""

# accept.ru ~ U(0, 1) and accept.us ~ U(0.5, 1): f = x1 x2, with E x1 = 1/2, E x2 = 3/4,
# Var x1 = 1/12, Var x2 = 1/48; V1 = Var(x1) E[x2]^2, V2 = E[x1]^2 Var(x2), V12 = Var(x1) Var(x2).
V1, V2, V12 = (1 / 12) * (3 / 4) ** 2, (1 / 2) ** 2 * (1 / 48), (1 / 12) * (1 / 48)
V = V1 + V2 + V12
EXACT = {"first": (V1 / V, V2 / V), "total": ((V1 + V12) / V, (V2 + V12) / V)}
MEAN = 1 / 2 * 3 / 4
SHARE = V / (MEAN * (1 - MEAN))
"""The share of P(deal agreed)'s per-replication variance the judgements make: Var(f) / P(1 - P)."""


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("sobol")
    scenario = folder / "product.yaml"
    scenario.write_text(PRODUCT)
    spec = make_spec(
        scenario, ["items.deal.accept.ru=0:1:2", "items.deal.accept.us=0.5:1:2"], design="sobol", samples=128
    )
    sweep_to_folder(spec, str(folder / "sweep"), InProcess(), plots=False)
    return json.loads((folder / "sweep" / "sobol.json").read_text())


def test_known_indices_of_a_product_of_two_judgements_are_recovered_within_their_intervals(
    product: dict[str, object],
) -> None:
    """First and total indices, the judgements' share of the variance and each one's share of the
    per-replication variance, each inside its 95% interval."""
    deal = next(it for it in product["items"] if it["item"] == "deal")  # type: ignore[index]
    for i, p in enumerate(deal["parameters"]):
        for key in ("first", "total"):
            low, high = p[f"{key}_low"], p[f"{key}_high"]
            assert low <= EXACT[key][i] <= high, (p["path"], key, low, EXACT[key][i], high)
            assert high - low < 0.5  # narrow enough to tell the two judgements apart
    share = deal["judgement_share"]
    assert share["low"] <= SHARE <= share["high"]
    for i, exact in enumerate((V1, V2)):  # each one's first-order share of the per-replication variance
        _, low, high = deal["parameters"][i]["outcome_share"]
        assert low <= exact / (MEAN * (1 - MEAN)) <= high
    assert deal["parameters"][0]["total_low"] > deal["parameters"][1]["total_high"]


def test_a_judgement_that_cannot_reach_an_item_has_indices_of_exactly_zero(product: dict[str, object]) -> None:
    """The coin shares its random streams between A and AB (common random numbers): nothing to estimate."""
    coin = next(it for it in product["items"] if it["item"] == "coin")  # type: ignore[index]
    for p in coin["parameters"]:
        assert (p["first"], p["first_low"], p["first_high"]) == (0.0, 0.0, 0.0)
        assert (p["total"], p["total_low"], p["total_high"]) == (0.0, 0.0, 0.0)


def test_a_pure_noise_item_gets_intervals_covering_zero(product: dict[str, object]) -> None:
    """The coin's chance varies between points by Monte Carlo noise alone: the variance the
    judgements make, and their share, are intervals around zero; the noise is reported (<= 0.25/n)."""
    coin = next(it for it in product["items"] if it["item"] == "coin")  # type: ignore[index]
    var, share = coin["variance"], coin["judgement_share"]
    assert var["judgements_low"] <= 0 <= var["judgements_high"]
    assert share["low"] <= 0 <= share["high"]
    assert var["noise"] == pytest.approx(0.25 / 300, rel=0.02) and var["noise_bound"] == pytest.approx(0.25 / 300)
    assert "no variance beyond the Monte Carlo noise" in sobol.item_words(coin, "P")


def test_the_estimators_are_scipy_s_when_there_is_no_noise() -> None:
    """With no Monte Carlo noise, first and total indices equal scipy.stats.sobol_indices on the same outputs."""
    from scipy.stats import sobol_indices

    unit = sobol.unit_design(3, 64, seed=1).reshape(6, 64, 3)
    f = np.sin(np.pi * unit[..., 0]) + 7 * np.sin(np.pi * unit[..., 1]) ** 2 + 0.1 * unit[..., 2] ** 4 * unit[..., 0]
    fa, fb, fab = f[0], f[1], f[2:5]
    zero = np.zeros(64)
    mine = sobol.estimate(fa, fb, fab, f[5], zero, zero, (fa - fab) ** 2)
    theirs = sobol_indices(func={"f_A": fa[None], "f_B": fb[None], "f_AB": fab[:, None, :]}, n=64)
    assert np.allclose(mine["first"], np.ravel(theirs.first_order))
    assert np.allclose(mine["total"], np.ravel(theirs.total_order))


def _outcomes(unit: np.ndarray, g, n: int, shared_b: bool, independent_ab: bool, seed: int) -> dict[int, np.ndarray]:
    """Per-replication outcomes of a design's points (uniforms below g(x)): row j's A and AB points
    share uniforms unless ``independent_ab``; B shares them too when ``shared_b``."""
    blocks = unit.shape[0]
    samples = unit.shape[1]
    rng = np.random.default_rng(seed)
    row, own = rng.random((samples, n)), rng.random((blocks, samples, n))
    hits = {}
    for b in range(blocks):
        uses_row = (b == 0) or (b == 1 and shared_b) or (1 < b < blocks - 1 and not independent_ab)
        u = row if uses_row else own[b]
        y = u < g(unit[b])[:, None]
        for j in range(samples):
            hits[b * samples + j] = y[j][:, None]
    return hits


def _g(x: np.ndarray) -> np.ndarray:
    return x[..., 0] * (0.5 + 0.5 * x[..., 1])  # the product above, on the unit square


def test_the_noise_of_each_point_is_subtracted() -> None:
    """Ten replications a point, A and AB on independent streams: the noise would add itself to the
    total index of x2 and to the variance; subtracted, each lands within its interval of the truth."""
    unit = sobol.unit_design(2, 1024, seed=3).reshape(5, 1024, 2)
    hits = _outcomes(unit, _g, 10, shared_b=False, independent_ab=True, seed=4)
    _, (found,) = sobol.from_hits(hits, 1024, 2, seed=5, resamples=400)
    for key in ("first", "total"):
        for i in range(2):
            assert found[f"{key}_low"][i] <= EXACT[key][i] <= found[f"{key}_high"][i], (key, i)
    assert found["judgements_low"] <= V <= found["judgements_high"]
    assert found["noise"] > 0.2 * found["observed"]  # not a small correction: a fifth of what the points vary
    # left in, the noise of A - AB would count as x2's effect: raw total = (1/2 mean((fA - fAB)^2)) / Var
    raw = (found["total"][1] * found["judgements"] + found["noise"]) / found["observed"]
    assert raw > found["total_high"][1]


def test_streams_shared_with_b_inflate_first_order_indices() -> None:
    """B on row j's streams too (as A and AB): its noise follows AB_i's, and the first-order index of
    x1 comes out far above the truth; on streams of its own (the design's), it does not."""
    unit = sobol.unit_design(2, 4096, seed=1).reshape(5, 4096, 2)
    ours = sobol.from_hits(_outcomes(unit, _g, 10, False, False, 0), 4096, 2, seed=2, resamples=200)[1][0]
    shared = sobol.from_hits(_outcomes(unit, _g, 10, True, False, 0), 4096, 2, seed=2, resamples=200)[1][0]
    truth = EXACT["first"][0]
    assert ours["first_low"][0] <= truth <= ours["first_high"][0]
    assert shared["first_low"][0] > truth


def test_the_squared_difference_of_two_points_is_counted_without_its_noise() -> None:
    """[(k+ - k-)² - (k+ + k-)] / (n (n - 1)) equals (mean d)² - var(d)/n, and its mean over many
    pairs of points with the same chance is zero (unbiased); one differing replication gives exactly 0."""
    rng = np.random.default_rng(8)
    a, b = rng.random((50, 2)) < 0.4, rng.random((50, 2)) < 0.4
    d = a.astype(float) - b
    assert np.allclose(sobol.squared_differences(a, b), d.mean(axis=0) ** 2 - d.var(axis=0, ddof=1) / 50)
    one = np.zeros((50, 1), bool)
    other = one.copy()
    other[3] = True
    assert sobol.squared_differences(one, other)[0] == 0.0
    many = [sobol.squared_differences(rng.random((20, 1)) < 0.3, rng.random((20, 1)) < 0.3)[0] for _ in range(4000)]
    assert abs(np.mean(many)) < 4.5 * np.std(many) / np.sqrt(len(many))


def test_seeds_pair_a_with_ab_and_give_b_and_r_their_own() -> None:
    seeds = sobol.point_seeds(20250410, ["x", "y"], 4)
    a, b, ab1, ab2, r = (seeds[4 * k : 4 * k + 4] for k in range(5))
    assert a == ab1 == ab2
    assert len({*a, *b, *r}) == 12


def test_a_sobol_sweep_writes_its_files_and_keeps_points_comparable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """sobol.csv has the contract's columns; sweep.yaml keeps each point's seed, so compare and score
    rebuild a point exactly; A and AB points on the same row are paired."""
    scenario = tmp_path / "product.yaml"
    scenario.write_text(PRODUCT.replace("replications: 300", "replications: 50"))
    out = tmp_path / "sw"
    args = ["sweep", str(scenario), "--set", "items.deal.accept.ru=0:1:2", "--set", "items.deal.accept.us=prior"]
    assert main([*args, "--design", "sobol", "--samples", "4", "--out", str(out), "--jobs", "1"]) == 2
    assert "not written as a distribution" in capsys.readouterr().err
    args[-1] = "items.deal.accept.us=0.5:1:2"
    assert main([*args, "--design", "sobol", "--samples", "4", "--out", str(out), "--jobs", "1"]) == 0
    printed = capsys.readouterr().out
    assert "Sobol first and total indices" in printed and "deal" in printed
    header = (out / "sobol.csv").read_text().splitlines()[0]
    assert header == "item,parameter,first,first_low,first_high,total,total_low,total_high"
    assert (out / "plots" / "sobol_indices.png").is_file()
    assert "Variance shares of P(agreed by horizon)" in (out / "report.html").read_text()
    described = yaml.safe_load((out / "sweep.yaml").read_text())
    assert len(described["seeds"]) == 20 and described["sobol"]["blocks"] == [
        "A",
        "B",
        "AB:items.deal.accept.ru",
        "AB:items.deal.accept.us",
        "R",
    ]
    assert main(["compare", f"{out}:0", f"{out}:8", "--out", str(tmp_path / "c"), "--no-plots"]) == 0
    assert "paired" in capsys.readouterr().out  # A_0 and AB_ru,0 share their streams
    sw = sim.load_results(out)
    assert list(sw.sobol.columns) == sobol.COLUMNS


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--design", "sobol"], "--design sobol needs --samples K"),
        (["--design", "grid", "--samples", "4"], "it needs --design lhs or sobol"),
    ],
)
def test_bad_sobol_sweeps_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    scenario = tmp_path / "product.yaml"
    scenario.write_text(PRODUCT)
    assert (
        main(["sweep", str(scenario), "--set", "items.deal.accept.ru=0:1:2", *extra, "--out", str(tmp_path / "o")]) == 2
    )
    assert message in capsys.readouterr().err


def test_prior_sweeps_a_judgement_over_its_own_distribution(tmp_path: Path) -> None:
    """PATH=prior takes the unit sample through the judgement's inverse CDF (lhs and sobol only)."""
    scenario = tmp_path / "j.yaml"
    scenario.write_text(PRODUCT.replace("coin: {p: 0.5}", "coin: {p: {dist: beta, a: 2, b: 5}}"))
    spec = make_spec(scenario, ["items.coin.p=prior"], design="lhs", samples=400)
    values = np.array([pt.values["items.coin.p"] for pt in spec.points])
    judged = dict(sim.api.compile_plan(load_scenario(scenario)).judgements)["items.coin.p"]
    assert values.mean() == pytest.approx(2 / 7, abs=0.01)  # a Latin hypercube through the ppf: the mean, nearly exact
    assert spec.describe()["priors"] == {"items.coin.p": judged.describe()}
    with pytest.raises(UserError, match="use --design lhs or sobol"):
        make_spec(scenario, ["items.coin.p=prior"], design="grid")


@pytest.mark.slow
def test_a_sobol_sweep_gives_the_same_files_on_one_process_or_two(tmp_path: Path) -> None:
    """Each point's own seed, and the bootstrap's, make sobol.csv and sobol.json the same bytes whatever the jobs."""
    scenario = tmp_path / "product.yaml"
    scenario.write_text(PRODUCT.replace("replications: 300", "replications: 60"))
    args = ["sweep", str(scenario), "--set", "items.deal.accept.ru=0:1:2", "--set", "items.deal.accept.us=0.5:1:2"]
    for jobs in ("1", "2"):
        assert main([*args, "--design", "sobol", "--samples", "8", "--out", str(tmp_path / jobs), "--jobs", jobs]) == 0
    for name in ("sobol.csv", "sobol.json", "points.parquet", "items.parquet", "sweep.yaml"):
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes(), name
