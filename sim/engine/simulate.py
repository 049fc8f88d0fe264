"""Run replications of a plan with either clock: ``simulate(plan, start, stop)``."""

from __future__ import annotations

from sim.engine.batch import simulate_batch
from sim.engine.model import simulate_simpy
from sim.engine.plan import Plan
from sim.engine.records import Records

ENGINES = ("batch", "simpy")


def simulate(plan: Plan, start: int, stop: int, engine: str = "batch") -> Records:
    """Run replications ``start..stop-1`` and return their records.

    ``engine`` is ``"batch"`` (the default: :mod:`sim.engine.batch`, the whole batch at once with
    numpy) or ``"simpy"`` (the reference model, :mod:`sim.engine.model`, one replication at a
    time); both give the same records, byte for byte.
    """
    if engine == "batch":
        return simulate_batch(plan, start, stop)
    if engine == "simpy":
        return simulate_simpy(plan, start, stop)
    raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
