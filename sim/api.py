"""The notebook API: the commands as functions that return objects, not files."""

from __future__ import annotations

import os
from pathlib import Path

from sim.checks import load_scenario
from sim.results import Results
from sim.scenario import Scenario


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
    from sim import montecarlo
    from sim.plan import compile_plan

    s = _scenario(scenario)
    update = {k: v for k, v in (("replications", n), ("seed", seed)) if v is not None}
    if update:
        s = s.with_values(simulation={**s.simulation.model_dump(), **update})
    rec, _ = montecarlo.run(compile_plan(s), s.simulation.replications, jobs=jobs)
    return Results(s, rec)


def load_results(path: str | os.PathLike[str]) -> Results:
    """Read a result folder written by ``negsim run``."""
    from sim.results import load

    return load(Path(path))
