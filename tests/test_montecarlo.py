"""Replications in batches, and --precision: how many replications a target needs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.engine.plan import compile_plan
from sim.engine.simulate import simulate
from sim.results.stats import Z95, wilson
from sim.runs import montecarlo
from sim.runs.executors import InProcess
from tests.helpers import make, records

PLAN = compile_plan(make(items={"a": {"p": 0.05}, "b": {"p": 0.5, "after_rounds": 3}}))


def test_needed_is_the_normal_approximation_for_the_worst_item() -> None:
    """n = z^2 p(1 - p) / E^2 for the item with p(1 - p) largest."""
    rec = records([[1, 1]] * 30 + [[1, None]] * 70)  # items at 1.0 and 0.3
    assert montecarlo.needed(rec, 0.01) == math.ceil(Z95**2 * 0.3 * 0.7 / 0.01**2)
    assert montecarlo.needed(records([[1]] * 50), 0.05) == math.ceil(Z95**2 * (1 / 50) / 0.05**2)  # floor 1/n


def test_half_width_is_the_widest_side_of_any_wilson_interval() -> None:
    rec = records([[1, 1]] * 3 + [[None, 1]] * 97)
    low, high = wilson(3, 100)
    assert montecarlo.half_width(rec) == pytest.approx(max(high - 0.03, 0.03 - low))


def test_batches_cover_the_range_once() -> None:
    """Batches tile start..stop; sizes give every worker at least four tasks when there is work."""
    assert montecarlo.batches(10, 25, 7) == [(10, 17), (17, 24), (24, 25)]
    assert montecarlo.batch_size(100_000, 2) == montecarlo.BATCH
    assert montecarlo.batch_size(8000, 2) == 1000
    assert montecarlo.batch_size(100, 8) == montecarlo.MIN_BATCH


def test_run_gives_the_records_of_simulate_in_order() -> None:
    """Whatever the batching, run returns replications 0..n-1 in order, and the sink sees each batch in order."""
    seen: list[int] = []
    rec, reached = montecarlo.run(PLAN, 2300, InProcess(), sink=lambda r: seen.append(r.start))
    assert reached is None
    assert rec.equals(simulate(PLAN, 0, 2300))
    assert seen == sorted(seen) and seen[0] == 0


def test_precision_adds_batches_until_the_target_or_the_ceiling() -> None:
    """The target is met with the fewest batches the estimate asks for; the ceiling stops it otherwise."""
    rec, reached = montecarlo.run(PLAN, 500, InProcess(), precision=0.02)
    assert reached is not None and reached.reached
    assert montecarlo.half_width(rec) <= 0.02 < montecarlo.half_width(simulate(PLAN, 0, 500))
    p = rec.item_agreed.mean(axis=0)
    assert rec.n <= 1.05 * Z95**2 * max(p * (1 - p)) / 0.02**2 + 2 * montecarlo.MIN_BATCH
    capped, info = montecarlo.run(PLAN, 500, InProcess(), precision=0.001, ceiling=3000)
    assert info is not None and not info.reached and capped.n == 3000
    assert np.array_equal(capped.item_agreed, simulate(PLAN, 0, 3000).item_agreed)
