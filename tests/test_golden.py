"""Tier 2: seeded golden runs. A change here means the random streams or the rules changed.

Regenerate (only for a deliberate change, in a commit of its own) with
``NEGSIM_REGENERATE_GOLDEN=1 python -m pytest tests/test_golden.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from sim.engine.plan import compile_plan
from sim.engine.records import HOW_BEFORE, HOW_ROUND, Records
from sim.engine.simulate import simulate
from sim.engine.trace import trace
from sim.scenario.load import load_scenario
from sim.views.text import format_trace
from tests.helpers import BUNDLED, stem

GOLDEN = Path(__file__).parent / "golden"
N = 500


LATER = (
    "item_how",
    "regime",
    "rounds_paused",
    "pauses",
    "paused",
    "paused_record",
    "paused_at_census",
    "pauses_by_census",
    "constraint_active_at_census",
    "constraint_imposed_by_census",
    "next_round_day",
    "regime_start",
    "regime_at_census",
    "regime_switches",
)
"""Fields added to the records with enactments, hazards outside rounds, pauses and the regime. A
scenario that uses none of those leaves them exactly as its other fields imply (checked below), and
its digest is the one it had before they existed."""


def implied(rec: Records) -> bool:
    """The later fields of a scenario without the later rules: agreements are in rounds (or before
    the start), and nothing pauses."""
    how = np.where(rec.item_round == 0, HOW_BEFORE, np.where(rec.item_round > 0, HOW_ROUND, 0))
    quiet = [name for name in LATER if name not in ("item_how", "next_round_day")]
    return np.array_equal(rec.item_how, how) and all(not getattr(rec, name).any() for name in quiet)


def digest(rec: Records, later: bool) -> str:
    h = hashlib.sha256()
    for f in fields(rec):
        if f.name in LATER and not later:
            continue
        value = getattr(rec, f.name)
        h.update(f.name.encode())
        h.update(np.ascontiguousarray(value).tobytes() if isinstance(value, np.ndarray) else str(value).encode())
    return h.hexdigest()


def observe(path: Path) -> dict[str, object]:
    s = load_scenario(path)
    plan = compile_plan(s)
    rec = simulate(plan, 0, N)
    later = plan.dynamic or plan.regime is not None
    assert later or implied(rec)
    lines, state = trace(s, 1)
    return {
        "replications": N,
        "agreed": dict(zip(s.items, rec.item_agreed.sum(axis=0).tolist(), strict=True)),
        "rounds_held": int(rec.rounds_held.sum()),
        "breakdowns": int(rec.breakdown.sum()),
        "lifted": dict(zip(s.constraints, rec.constraint_lifted.sum(axis=0).tolist(), strict=True)),
        "events": dict(zip(s.events, rec.event_count.sum(axis=0).tolist(), strict=True)),
        "records_sha256": digest(rec, later),
        "trace_1": format_trace(s, 1, lines, state).splitlines(),
    }


@pytest.mark.parametrize("path", BUNDLED, ids=stem)
def test_golden_run(path: Path) -> None:
    golden = GOLDEN / f"{stem(path)}.json"
    seen = observe(path)
    if os.environ.get("NEGSIM_REGENERATE_GOLDEN"):
        golden.write_text(json.dumps(seen, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    expected = json.loads(golden.read_text(encoding="utf-8"))
    for key in ("agreed", "rounds_held", "breakdowns", "lifted", "events", "trace_1", "records_sha256"):
        assert seen[key] == expected[key], key
