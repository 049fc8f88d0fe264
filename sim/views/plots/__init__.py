"""matplotlib figures of a run; imported only where plots are drawn."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable
from pathlib import Path

from matplotlib import font_manager
from matplotlib.figure import Figure

from sim.engine.plan import judgement_paths
from sim.results.folder import RunResults
from sim.runs.executors import end_with_parent
from sim.views.glyphs import figure_texts
from sim.views.plots.judgements import judgements
from sim.views.plots.outcomes import agreed_by_horizon, joint_outcomes, rounds_and_breakdowns
from sim.views.plots.style import save, say_missing_glyphs
from sim.views.plots.timeline import agreement_curves, agreement_dates, constraints_lifted

FIGURES: dict[str, Callable[[RunResults], Figure]] = {
    "agreement_curves": agreement_curves,
    "agreed_by_horizon": agreed_by_horizon,
    "agreement_dates": agreement_dates,
    "rounds_breakdowns": rounds_and_breakdowns,
    "joint_outcomes": joint_outcomes,
    "constraints_lifted": constraints_lifted,
    "judgements": judgements,
}
"""File stem -> figure function, in the order of the issue: (a) to (f), then the judgements."""

WHEN: dict[str, Callable[[RunResults], bool]] = {"judgements": lambda r: bool(judgement_paths(r.scenario))}
"""Figures drawn only for some runs (the judgements, when the scenario has uncertain ones)."""

COST = {
    "agreement_dates": 0.41,
    "agreement_curves": 0.18,
    "rounds_breakdowns": 0.2,
    "joint_outcomes": 0.17,
    "constraints_lifted": 0.14,
    "agreed_by_horizon": 0.13,
    "judgements": 0.2,
}
"""Seconds each figure takes to render and save for the bundled scenario: drawn longest first, so
two processes finish together."""


_DRAWING: tuple[RunResults, Path, bool | None] | None = None
"""What a forked drawing process draws from (inherited, never pickled)."""


def _draw(name: str) -> list[Path]:
    assert _DRAWING is not None
    results, folder, svg = _DRAWING
    return save(FIGURES[name](results), folder, name, svg)


def draw_all(results: RunResults, folder: Path, svg: bool | None = None, jobs: int = 1) -> list[Path]:
    """Draw every figure of a run into ``folder`` (PNG; SVG too when asked), on ``jobs`` processes.

    Processes are forked where the system allows, so each inherits the results instead of receiving
    a copy; the files are the same bytes however many draw them.
    """
    global _DRAWING
    say_missing_glyphs(figure_texts(results.scenario))
    names = [name for name in FIGURES if WHEN.get(name, lambda r: True)(results)]
    names.sort(key=lambda name: COST.get(name, 0.0), reverse=True)  # the longest first
    _DRAWING = (results, folder, svg)
    try:
        if jobs > 1 and "fork" in mp.get_all_start_methods():
            font_manager.findfont(font_manager.FontProperties())  # load the fonts once, for every child
            pool_of = mp.get_context("fork").Pool
            with pool_of(min(jobs, len(names)), initializer=end_with_parent, initargs=(os.getpid(),)) as pool:
                drawn = pool.map(_draw, names, chunksize=1)
        else:
            drawn = [_draw(name) for name in names]
    finally:
        _DRAWING = None
    return [path for paths in drawn for path in paths]


__all__ = [
    "FIGURES",
    "agreed_by_horizon",
    "agreement_curves",
    "agreement_dates",
    "constraints_lifted",
    "draw_all",
    "joint_outcomes",
    "judgements",
    "rounds_and_breakdowns",
]
