"""matplotlib figures of a run; imported only where plots are drawn."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from matplotlib.figure import Figure

from sim.results.folder import RunResults
from sim.views.plots.outcomes import agreed_by_horizon, joint_outcomes, rounds_and_breakdowns
from sim.views.plots.style import save
from sim.views.plots.timeline import agreement_curves, agreement_dates, constraints_lifted

FIGURES: dict[str, Callable[[RunResults], Figure]] = {
    "agreement_curves": agreement_curves,
    "agreed_by_horizon": agreed_by_horizon,
    "agreement_dates": agreement_dates,
    "rounds_breakdowns": rounds_and_breakdowns,
    "joint_outcomes": joint_outcomes,
    "constraints_lifted": constraints_lifted,
}
"""File stem -> figure function, in the order of the issue: (a) to (f)."""


def draw_all(results: RunResults, folder: Path) -> list[Path]:
    """Draw every figure of a run as PNG and SVG into ``folder``."""
    out: list[Path] = []
    for name, make in FIGURES.items():
        out += save(make(results), folder, name)
    return out


__all__ = [
    "FIGURES",
    "agreed_by_horizon",
    "agreement_curves",
    "agreement_dates",
    "constraints_lifted",
    "draw_all",
    "joint_outcomes",
    "rounds_and_breakdowns",
]
