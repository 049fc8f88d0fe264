"""Shared test helpers: small scenarios built in code, and closed-form comparisons."""

from __future__ import annotations

import copy
import math
import os
import signal
from pathlib import Path
from typing import Any

import numpy as np

from sim.engine.plan import compile_plan
from sim.engine.records import Records
from sim.engine.simulate import simulate
from sim.scenario.checks import check_document
from sim.scenario.documents import Document
from sim.scenario.models import Scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
BUNDLED = sorted(SCENARIOS.glob("*.yaml")) + sorted(SCENARIOS.glob("backtests*/*/scenario.yaml"))
"""Every bundled scenario: the Istanbul files and each backtest case's scenario (the current
library, ``backtests``, and the earlier versions kept beside it, ``backtests-v1``)."""


def stem(path: Path) -> str:
    """A bundled scenario's name: its file's stem, or its backtest case's folder (prefixed with the
    library of an earlier version: ``backtests-v1-cuba-2015``)."""
    if path.name != "scenario.yaml":
        return path.stem
    library = path.parent.parent.name
    return path.parent.name if library == "backtests" else f"{library}-{path.parent.name}"


Z = 4.5
"""Tolerance in standard errors for statistical checks: a false alarm once in ~150,000 checks."""

BASE: dict[str, Any] = {
    "schema": 1,
    "name": "test",
    "calendar": {"start": "2025-01-01", "horizon": 100},
    "simulation": {"replications": 1000, "seed": 12345},
    "rounds": {"first": 0, "interval": 10},
    "items": {"a": {"p": 0.5}},
}


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and k not in ("items", "constraints", "events"):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def make(**sections: Any) -> Scenario:
    """A valid scenario: BASE with whole sections replaced (calendar, rounds... merged)."""
    data = merge(BASE, sections)
    scenario, problems = check_document(Document("test.yaml", data, {}))
    assert not problems, "\n".join(map(str, problems))
    assert scenario is not None
    return scenario


def run(s: Scenario, n: int, seed: int | None = None) -> Records:
    return simulate(compile_plan(s, seed), 0, n)


def assert_close(estimate: float, exact: float, se: float, what: str = "") -> None:
    """|estimate - exact| within Z standard errors (se from the closed form, not the sample)."""
    assert se > 0 or estimate == exact
    assert abs(estimate - exact) <= Z * se + 1e-12, (
        f"{what}: estimate {estimate:.5f}, exact {exact:.5f}, {abs(estimate - exact) / se:.1f} SE apart"
    )


def assert_proportion(hits: np.ndarray | int, n: int, exact: float, what: str = "") -> None:
    """A share of replications against its exact probability, tolerance from the binomial SE."""
    k = int(np.sum(hits)) if not isinstance(hits, int) else hits
    se = math.sqrt(max(exact * (1 - exact), 1e-12) / n)
    assert_close(k / n, exact, se, what)


def assert_mean(sample: np.ndarray, exact_mean: float, exact_var: float, what: str = "") -> None:
    assert_close(float(np.mean(sample)), exact_mean, math.sqrt(exact_var / len(sample)), what)


def records(days: list[list[float | None]], constraints: int = 0, events: int = 0, **fields: Any) -> Records:
    """Records of replications whose items were agreed on the given days (None: not agreed), round 1;
    other fields (``rounds_held``, ``breakdown_day``, ...) as given, else empty."""
    arr = np.array([[np.nan if d is None else d for d in row] for row in days], dtype=float)
    n, k = arr.shape
    rec = Records.empty(n, k, constraints, events)
    rec.item_agreed = ~np.isnan(arr)
    rec.item_day = arr
    rec.item_round = np.where(rec.item_agreed, 1, -1).astype(np.int32)
    for name, value in fields.items():
        setattr(rec, name, np.asarray(value, dtype=getattr(rec, name).dtype))
    return rec


SCALE = float(os.environ.get("NEGSIM_HYPOTHESIS_SCALE", "1"))
"""Scales every Hypothesis test's examples: 1 in the suite; a mutation run sets it lower to test
thousands of mutants in reasonable time (see the README's tests section)."""


def examples(n: int) -> int:
    """``n`` Hypothesis examples, scaled by NEGSIM_HYPOTHESIS_SCALE (at least 5)."""
    return max(5, round(n * SCALE))


def interruptible() -> None:
    """In the child before it runs negsim: Ctrl-C restored, should the suite itself have been started
    with it ignored (a job put in the background by a shell without job control inherits SIG_IGN,
    and Python then installs no handler for it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
