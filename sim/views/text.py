"""Text for the terminal: a replication's timeline, and tables."""

from __future__ import annotations

import math

from sim.engine.records import Records
from sim.engine.state import Trace
from sim.scenario.models import Scenario


def format_trace(s: Scenario, replication: int, lines: Trace, rec: Records) -> str:
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
        f"{n} ({s.date(rec.item_day[0, i]).isoformat()}, round {rec.item_round[0, i]})"
        if rec.item_round[0, i] > 0
        else f"{n} (before start)"
        for i, n in enumerate(names)
        if rec.item_agreed[0, i]
    ]
    missing = [n for i, n in enumerate(names) if not rec.item_agreed[0, i]]
    end = [
        "agreed: " + (", ".join(done) or "nothing"),
        "not agreed: " + (", ".join(missing) or "nothing"),
        f"rounds held {rec.rounds_held[0]}, cancelled {rec.rounds_cancelled[0]}, "
        f"not held while suspended {rec.rounds_suspended[0]}",
        f"trust {rec.trust[0]:+.2f}",
    ]
    if rec.breakdown[0]:
        end.append(f"talks broken off on {s.date(rec.breakdown_day[0]).isoformat()}")
    still = [n for c, n in enumerate(s.constraints) if rec.constraint_active[0, c]]
    if still:
        end.append("still active: " + ", ".join(still))
    body.append(_line(s, horizon, "horizon", end[0]))
    body += [" " * 32 + e for e in end[1:]]
    return "\n".join(head + body)


def _line(s: Scenario, day: float, kind: str, text: str) -> str:
    d = s.date(day).isoformat() if math.isfinite(day) else "?"
    return f"{d}  day {day:6.1f}  {kind:<10}  {text}"
