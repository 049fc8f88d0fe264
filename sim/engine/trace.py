"""One replication told as a dated timeline: the SimPy model with its narration on."""

from __future__ import annotations

from sim.engine.model import replicate
from sim.engine.plan import compile_plan
from sim.engine.records import Records
from sim.engine.state import Trace
from sim.scenario.models import Scenario


def trace(s: Scenario, replication: int = 0) -> tuple[Trace, Records]:
    """Run replication ``replication`` of the scenario's seed, recording every step."""
    lines: Trace = []
    state = replicate(compile_plan(s), replication, lines)
    return lines, state.records()
