"""negsim: Monte Carlo simulation of rounds of diplomatic negotiation.

``import sim`` is cheap: the names below are imported on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "BacktestOutcome",
    "CalibrationOutcome",
    "ComparisonResults",
    "DiscoverOutcome",
    "Discovery",
    "Results",
    "RunOutcome",
    "Scenario",
    "SweepResults",
    "UserError",
    "backtest",
    "box_bounds",
    "calibrate",
    "compare",
    "discover",
    "explore",
    "load_results",
    "load_scenario",
    "redraw",
    "run",
    "run_to_folder",
    "score",
    "sweep_to_folder",
]

_LAZY = {
    **dict.fromkeys([n for n in __all__ if n not in ("Scenario", "UserError", "load_scenario")], "sim.api"),
    "Scenario": "sim.scenario.models",
    "UserError": "sim.errors",
    "load_scenario": "sim.scenario.load",
}
"""Where each public name lives (``sim.api`` exports the rest; tests/test_layers.py holds the lists together)."""

if TYPE_CHECKING:
    from sim.api import (
        BacktestOutcome,
        CalibrationOutcome,
        ComparisonResults,
        DiscoverOutcome,
        Discovery,
        Results,
        RunOutcome,
        SweepResults,
        backtest,
        box_bounds,
        calibrate,
        compare,
        discover,
        explore,
        load_results,
        redraw,
        run,
        run_to_folder,
        score,
        sweep_to_folder,
    )
    from sim.errors import UserError
    from sim.scenario.load import load_scenario
    from sim.scenario.models import Scenario


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sim' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
