"""negsim: Monte Carlo simulation of rounds of diplomatic negotiation.

``import sim`` is cheap: the names below are imported on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Results",
    "Scenario",
    "UserError",
    "load_results",
    "load_scenario",
    "run",
]

_LAZY = {
    "Results": "sim.api",
    "Scenario": "sim.scenario.models",
    "UserError": "sim.errors",
    "load_results": "sim.api",
    "load_scenario": "sim.scenario.load",
    "run": "sim.api",
}

if TYPE_CHECKING:
    from sim.api import Results, load_results, run
    from sim.errors import UserError
    from sim.scenario.load import load_scenario
    from sim.scenario.models import Scenario


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sim' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
