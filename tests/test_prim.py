"""PRIM: planted boxes found, peeling and pasting as the method says, chance told from structure."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sim.results import prim

PLANTED_LOW = np.array([0.3, -np.inf, 0.2, 0.4, -np.inf, -np.inf, -np.inf, -np.inf])
PLANTED_HIGH = np.array([np.inf, 0.7, 0.8, np.inf, np.inf, np.inf, np.inf, np.inf])


def planted(n: int, inside: float, outside: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points in 8 dimensions; the outcome's chance is ``inside`` in a box bounded in four
    of them (x0 >= 0.3, x1 <= 0.7, 0.2 <= x2 <= 0.8, x3 >= 0.4) and ``outside`` elsewhere."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, PLANTED_LOW.size))
    held = np.all((x >= PLANTED_LOW) & (x <= PLANTED_HIGH), axis=1)
    return x, (rng.random(n) < np.where(held, inside, outside)).astype(float)


@pytest.mark.parametrize(("inside", "outside"), [(1.0, 0.0), (0.8, 0.2)])
def test_a_box_planted_in_four_dimensions_is_recovered_within_0_05(inside: float, outside: float) -> None:
    """Each planted bound is found within 0.05; the four free dimensions stay unrestricted."""
    x, y = planted(5000, inside, outside, seed=3)
    _, _, box = prim.discover(x, y)
    assert box.restricted() == [0, 1, 2, 3]
    for j in range(x.shape[1]):
        for found, truth in ((box.low[j], PLANTED_LOW[j]), (box.high[j], PLANTED_HIGH[j])):
            if np.isinf(truth):
                assert found == truth, (j, found)
            else:
                assert abs(found - truth) <= 0.05, (j, found, truth)


def test_peeling_removes_a_slice_at_a_time_and_raises_the_density() -> None:
    """Each peel takes about alpha of the box's points, from one end of one input, and the mean rises."""
    x, y = planted(4000, 0.9, 0.1, seed=1)
    boxes = prim.peel(x, y, alpha=0.05, min_mass=0.05)
    assert boxes[0].count == 4000 and boxes[0].coverage == 1.0 and not boxes[0].restricted()
    for a, b in itertools.pairwise(boxes):
        assert 0 < a.count - b.count <= np.ceil(0.05 * a.count)
        assert b.density > a.density
        assert np.sum(a.low != b.low) + np.sum(a.high != b.high) == 1
    assert boxes[-1].mass >= 0.05
    assert boxes[0].density == pytest.approx(y.mean())


def test_pasting_moves_a_bound_back_out_over_points_that_belong() -> None:
    """A box peeled too far (x0 >= 0.5 where the outcome is 1 for x0 >= 0.3) is pasted back to 0.3."""
    rng = np.random.default_rng(2)
    x = rng.random((3000, 2))
    y = (x[:, 0] >= 0.3).astype(float)
    tight = prim.box_of(x, y, np.array([0.5, -np.inf]), np.array([np.inf, np.inf]))
    pasted = prim.paste(x, y, tight)
    assert pasted.low[0] == pytest.approx(0.3, abs=0.01) and np.isinf(pasted.low[1])
    assert pasted.separation > tight.separation


def test_pruning_gives_back_a_slice_cut_off_by_chance() -> None:
    """A bound on an input the outcome does not depend on is dropped; the real bound stays."""
    rng = np.random.default_rng(4)
    x = rng.random((4000, 2))
    y = (rng.random(4000) < np.where(x[:, 0] > 0.5, 0.7, 0.2)).astype(float)
    cut = prim.box_of(x, y, np.array([0.5, 0.03]), np.array([np.inf, np.inf]))
    pruned = prim.prune(x, y, cut)
    assert pruned.low[0] == 0.5 and np.isinf(pruned.low[1])


def test_choose_takes_the_box_that_separates_best() -> None:
    """Of the trajectory, the box with the largest z of inside against outside, not the densest."""
    x, y = planted(5000, 0.8, 0.2, seed=5)
    boxes = prim.peel(x, y)
    chosen = prim.choose(boxes)
    assert boxes[chosen].separation == max(b.separation for b in boxes)
    assert boxes[chosen].density < max(b.density for b in boxes)  # peeling on goes on raising it, by chance


def test_the_separation_is_the_two_sample_z_of_inside_against_outside() -> None:
    """z = (mean inside - mean outside) / sqrt(var (1/m + 1/(n - m)))."""
    y = np.array([1, 1, 1, 0, 0, 1, 0, 0, 0, 0], float)
    z = prim.separation(held=3.0, count=4, total=4.0, n=10, variance=float(y.var()))
    assert z == pytest.approx((0.75 - 1 / 6) / np.sqrt(0.24 * (1 / 4 + 1 / 6)))
    assert prim.separation(4.0, 10, 4.0, 10, 0.24) == 0.0


def test_pure_noise_is_seldom_taken_for_a_box() -> None:
    """With an outcome that depends on nothing, the chosen box rarely separates better than boxes
    found on shuffled outcomes (about one time in 21 would be the chance of the best of 21 alike)."""
    flagged = 0
    runs = 30
    for seed in range(runs):
        rng = np.random.default_rng(100 + seed)
        x = rng.random((1000, 4))
        y = (rng.random(1000) < 0.3).astype(float)
        _, _, box = prim.discover(x, y)
        stable = prim.stability(x, y, seed, resamples=0, shuffles=20)
        flagged += bool(box.restricted()) and box.separation > stable.chance
    assert flagged <= 7  # P(X >= 8) < 0.5% for X ~ Binomial(30, 0.1), twice the rate expected


def test_stability_is_the_same_every_time_and_finds_the_planted_fields() -> None:
    """Seeded resampling: the same shares on every call; the planted fields restricted in (nearly) all."""
    x, y = planted(2000, 0.9, 0.1, seed=6)
    a = prim.stability(x, y, seed=11, resamples=12, shuffles=3)
    b = prim.stability(x, y, seed=11, resamples=12, shuffles=3)
    assert np.array_equal(a.restricted, b.restricted) and a.chance == b.chance
    assert (a.restricted[:4] >= 0.9).all() and (a.restricted[4:] <= 0.25).all()
    assert a.low[0][0] <= 0.3 + 0.05 and a.low[0][2] >= 0.3 - 0.05
