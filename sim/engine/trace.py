"""One replication told as a dated timeline."""

from __future__ import annotations

import math

from sim.engine.model import Draws, SimPyReplication, Trace, replicate
from sim.engine.plan import compile_plan
from sim.scenario.models import Scenario


def trace(s: Scenario, replication: int = 0) -> tuple[Trace, SimPyReplication]:
    """Run replication ``replication`` of the scenario's seed, recording every step."""
    plan = compile_plan(s)
    lines: Trace = []
    state = replicate(plan, Draws(plan, replication, replication + 1).replication(replication), lines)
    return lines, state


def format_trace(s: Scenario, replication: int, lines: Trace, state: SimPyReplication) -> str:
    """The timeline as text: one line per step, dated, then the outcome at the horizon."""
    horizon = s.horizon
    head = [
        f"{s.title or s.name}",
        f"replication {replication}, seed {s.simulation.seed}; "
        f"from {s.calendar.start.isoformat()} to {s.date(horizon).isoformat()} ({horizon:g} days)",
        "",
    ]
    active = [name for name, c in s.constraints.items() if c.active]
    agreed0 = [name for name, it in s.items.items() if it.status == "agreed"]
    start_bits = [f"trust {s.trust.initial:+.2f}"]
    if active:
        start_bits.append("active constraints: " + ", ".join(active))
    if agreed0:
        start_bits.append("already agreed: " + ", ".join(agreed0))
    body = [_line(s, 0.0, "start", "; ".join(start_bits))]
    body += [_line(s, day, kind, text) for day, kind, _, text in lines]
    names = list(s.items)
    done = [
        f"{n} ({s.date(state.day[i]).isoformat()}, round {state.round[i]})"
        if state.round[i] > 0
        else f"{n} (before start)"
        for i, n in enumerate(names)
        if state.agreed[i]
    ]
    missing = [n for i, n in enumerate(names) if not state.agreed[i]]
    end = [
        "agreed: " + (", ".join(done) or "nothing"),
        "not agreed: " + (", ".join(missing) or "nothing"),
        f"rounds held {state.held}, cancelled {state.cancelled}, not held while suspended {state.suspended}",
        f"trust {state.trust:+.2f}",
    ]
    if state.broken:
        end.append(f"talks broken off on {s.date(state.breakdown_day).isoformat()}")
    still = [n for c, n in enumerate(s.constraints) if state.active[c]]
    if still:
        end.append("still active: " + ", ".join(still))
    body.append(_line(s, horizon, "horizon", end[0]))
    body += [" " * 32 + e for e in end[1:]]
    return "\n".join(head + body)


def _line(s: Scenario, day: float, kind: str, text: str) -> str:
    d = s.date(day).isoformat() if math.isfinite(day) else "?"
    return f"{d}  day {day:6.1f}  {kind:<10}  {text}"
