"""The notebook API: the commands as functions that return objects, not files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sim.results.folder import Results
from sim.scenario.checks import load_scenario
from sim.scenario.models import Scenario


def _scenario(scenario: Scenario | str | os.PathLike[str]) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def run(
    scenario: Scenario | str | os.PathLike[str],
    n: int | None = None,
    *,
    seed: int | None = None,
    jobs: int = 1,
) -> Results:
    """Run a scenario (a file or a :class:`Scenario`) and return its :class:`Results`."""
    from sim.engine.plan import compile_plan
    from sim.runs import montecarlo

    s = _scenario(scenario)
    update = {k: v for k, v in (("replications", n), ("seed", seed)) if v is not None}
    if update:
        s = s.with_values(simulation={**s.simulation.model_dump(), **update})
    rec, _ = montecarlo.run(compile_plan(s), s.simulation.replications, jobs=jobs)
    return Results(s, rec)


def load_results(path: str | os.PathLike[str]) -> Any:
    """Read a run, sweep or comparison folder: an object with pandas tables, plot functions
    returning matplotlib Figures, and an HTML view for Jupyter.

    - a run (``negsim run``): :class:`sim.results.folder.Results` (``summary``, ``items``, ``constraints``,
      ``replications``, ``plot(name)``);
    - a sweep (``negsim sweep``): :class:`sim.runs.sweeping.SweepResults` (``summary``, ``points``, ``items``,
      ``plot(metric)``);
    - a comparison (``negsim compare``): :class:`ComparisonResults` (``table``, ``scenario_diff``, ``plot(name)``).
    """
    folder = Path(path)
    if (folder / "sweep.yaml").is_file():
        from sim.runs.sweeping import load_sweep

        return load_sweep(folder)
    if (folder / "comparison.csv").is_file():
        return ComparisonResults(folder)
    from sim.results.folder import load

    return load(folder)


class ComparisonResults:
    """A comparison folder read back: its tables, its figures, an HTML view."""

    def __init__(self, folder: Path) -> None:
        import pandas as pd

        self.folder = folder
        self.table = pd.read_csv(folder / "comparison.csv")
        diff = folder / "scenario_diff.csv"
        self.scenario_diff = pd.read_csv(diff) if diff.exists() else pd.DataFrame()

    @property
    def summary(self) -> Any:
        """P(agreed by horizon): one row per item, one column per run."""
        return self.table.pivot(index="item", columns="run", values="p_agreed")

    def plot(self, name: str = "compare_differences") -> Any:
        """A figure of the comparison, drawn again from the runs it names."""
        raise_if_missing = self.folder / "plots" / f"{name}.png"
        import matplotlib.image as mpimg

        from sim.views.plots.style import subplots

        if not raise_if_missing.exists():
            from sim.errors import UserError

            raise UserError(f"{self.folder}: no figure '{name}'")
        fig, ax = subplots(width=10, height=6)
        ax.imshow(mpimg.imread(raise_if_missing))
        ax.set_axis_off()
        return fig

    def _repr_html_(self) -> str:
        return str(self.table.to_html(index=False)) + str(self.scenario_diff.to_html(index=False))
