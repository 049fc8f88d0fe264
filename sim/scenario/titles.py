"""A field path in words: ``constraints.aviation.lift.p`` as "Aviation sanctions: chance of lifting at a review".

Boxes and variance shares name the judgements they find; an analyst reads the scenario's own titles
(items, constraints, events, regime states) beside what the field means, and the path beside them
for the file. Every name comes from the scenario; a path this module does not know is shown as itself.
"""

from __future__ import annotations

from sim.scenario.models import Scenario

ITEM_FIELDS = {
    "p": "chance of agreement per round",
    "hazard": "agreements outside rounds per year",
    "trust_gain": "trust gained when agreed",
    "after_rounds": "preparation rounds",
    "priority": "priority",
}
CONSTRAINT_FIELDS = {
    "p": "chance of lifting at a review",
    "rate": "lifts per year",
    "every": "days between reviews",
}
EVENT_FIELDS = {
    "rate": "occurrences per year",
    "trust": "change of trust",
    "breakdown": "chance it ends the talks",
    "pause": "chance it pauses the talks",
}
STATE_FIELDS = {
    "share": "share at the start",
    "odds": "multiplier of the odds",
    "hazard": "multiplier of hazards outside rounds",
    "stall": "multiplier of the stall hazard",
}
TOP_FIELDS = {
    "trust.weight": "weight of trust (log odds per unit)",
    "trust.initial": "trust at the start",
    "trust.on_agreement": "trust gained per agreement",
    "trust.min": "lowest trust",
    "trust.max": "highest trust",
    "rounds.cancel": "chance a round is called off",
    "rounds.capacity": "items per round",
    "rounds.stall": "pauses of the talks per year",
    "rounds.resume": "resumptions per year while paused",
}


def _state(s: Scenario, name: str) -> str:
    if s.regime is None or name not in s.regime.states:
        return name
    return s.regime.states[name].title or name


def field_title(s: Scenario, path: str) -> str:
    """What the number at ``path`` of ``s`` is, in words, with the scenario's own titles."""
    parts = path.split(".")
    when = ""
    if len(parts) > 2 and parts[-2] == "regime":  # a judgement given per state of the regime
        when = f", when {_state(s, parts[-1]).lower()}" if s.regime is not None else ""
        parts = parts[:-2]
    text = _title(s, parts)
    return (text or path) + when


def _title(s: Scenario, parts: list[str]) -> str | None:
    joined = ".".join(parts)
    if joined in TOP_FIELDS:
        return TOP_FIELDS[joined]
    head = parts[0]
    if head == "rounds" and len(parts) == 3 and parts[1] in ("interval", "first"):
        return f"days {'between rounds' if parts[1] == 'interval' else 'to the first round'} ({parts[2]})"
    if head == "items" and len(parts) >= 3 and parts[1] in s.items:
        name = s.items[parts[1]].title or parts[1]
        rest = parts[2:]
        if rest[0] == "accept" and len(rest) == 2:
            who = s.parties.get(rest[1])
            party = who.name if who is not None and who.name else rest[1]
            return f"{name}: chance {party} accepts"
        if rest[0] == "constraints" and len(rest) == 2:
            c = s.constraints.get(rest[1])
            return f"{name}: multiplier while {(c.title if c and c.title else rest[1])} holds"
        if rest[0] == "enact" and len(rest) >= 2:
            return (
                f"{name}: chance of enactment once decided" if rest[1] == "p" else f"{name}: enactment lag ({rest[-1]})"
            )
        if len(rest) == 1 and rest[0] in ITEM_FIELDS:
            return f"{name}: {ITEM_FIELDS[rest[0]]}"
        return None
    if head == "constraints" and len(parts) >= 3 and parts[1] in s.constraints:
        name = s.constraints[parts[1]].title or parts[1]
        return f"{name}: {CONSTRAINT_FIELDS[parts[-1]]}" if parts[-1] in CONSTRAINT_FIELDS else None
    if head == "events" and len(parts) >= 3 and parts[1] in s.events:
        name = s.events[parts[1]].title or parts[1]
        if len(parts) == 3 and parts[2] in EVENT_FIELDS:
            return f"{name}: {EVENT_FIELDS[parts[2]]}"
        return f"{name}: days suspended ({parts[-1]})" if parts[2] == "suspend" else None
    if head == "regime" and len(parts) >= 4 and parts[1] == "states" and s.regime is not None:
        state = _state(s, parts[2])
        if len(parts) == 4 and parts[3] in STATE_FIELDS:
            return f"{state}: {STATE_FIELDS[parts[3]]}"
        if len(parts) == 5 and parts[3] == "to":
            return f"{state}: moves to '{_state(s, parts[4]).lower()}' per year"
        return None
    if head == "case_effect":
        return f"case effect ({parts[-1]})" if len(parts) > 1 else "case effect"
    return None


def item_title(s: Scenario, item: str) -> str:
    """An item's title, or its name when it has none."""
    return s.items[item].title or item if item in s.items else item
