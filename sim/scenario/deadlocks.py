"""Constraints that can never lift: each waits (``lift.when_agreed``) for items that wait, through
blocks and ``requires``, for constraints that can never lift, itself among them or not.

Which items can ever be agreed and which constraints can ever lift is the least fixed point of two
rules: an item can be agreed if it is agreed before the start, or if every constraint that blocks it
can lift and every item it requires can be agreed; a constraint can lift if it never binds (not
active and imposed by no event), if it has another way to lift within the horizon (reviews with a
chance, a rate, a date), or if every item it waits for can be agreed. Whatever the fixed point
leaves out can never happen, however long the chain (a constraint waiting on its own item, two
waiting on each other's, or one waiting behind such a pair). A multiplier of 0 blocks as ``block``
does, and a distribution fixed at 0 as a plain 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.errors import Problem
from sim.scenario.documents import Document, PathKey, format_path
from sim.scenario.judgements import always_zero
from sim.scenario.models import Scenario


@dataclass(frozen=True)
class _Graph:
    """What each item and constraint waits for."""

    blocks: dict[str, list[str]]
    """Each item's binding constraints that block it (``block``, or a multiplier always 0)."""
    requires: dict[str, list[str]]
    waits: dict[str, list[str]]
    """Each binding constraint's ``when_agreed`` items, for those that can lift no other way."""
    free: set[str]
    """Constraints that can lift whatever is agreed (or never bind)."""
    agreed: set[str]
    """Items agreed before the start."""


def _graph(s: Scenario) -> _Graph:
    imposed = {c for e in s.events.values() for c in e.impose}
    horizon = s.horizon
    free: set[str] = set()
    waits: dict[str, list[str]] = {}
    for name, c in s.constraints.items():
        lift = c.lift
        if not (c.active or name in imposed) or (
            lift is not None
            and (
                (lift.reviews is not None and lift.p is not None and not always_zero(lift.p))
                or lift.rate is not None
                or (lift.on is not None and s.day(lift.on) <= horizon)
            )
        ):
            free.add(name)
        else:
            waits[name] = list(lift.when_agreed or []) if lift is not None else []
    blocks = {
        x: [c for c, v in it.constraints.items() if (v == "block" or always_zero(v)) and c not in free]
        for x, it in s.items.items()
    }
    requires = {x: list(it.requires) for x, it in s.items.items()}
    agreed = {x for x, it in s.items.items() if it.status == "agreed"}
    return _Graph(blocks, requires, waits, free, agreed)


def _possible(g: _Graph) -> tuple[set[str], set[str]]:
    """The items that can be agreed and the constraints that can lift (the least fixed point)."""
    items = set(g.agreed)
    lifts = set(g.free)
    changed = True
    while changed:
        changed = False
        for c, needed in g.waits.items():
            if c not in lifts and needed and all(x in items for x in needed):
                lifts.add(c)
                changed = True
        for x in g.blocks:
            if x not in items and all(c in lifts for c in g.blocks[x]) and all(r in items for r in g.requires[x]):
                items.add(x)
                changed = True
    return items, lifts


def deadlocks(doc: Document, s: Scenario) -> list[Problem]:
    """A warning at ``lift.when_agreed`` of every constraint that, once active, can never lift,
    naming the fields of the chain that holds it."""
    g = _graph(s)
    items, lifts = _possible(g)
    out = []
    for c, needed in g.waits.items():
        if c in lifts or not needed:
            continue
        steps = _chain(g, items, lifts, c)
        out.append(
            doc.problem(
                ("constraints", c, "lift", "when_agreed"),
                f"warning: can never happen: {', '.join(steps)}; once active it stays, and those items are "
                "never agreed",
            )
        )
    return out


def _chain(g: _Graph, items: set[str], lifts: set[str], start: str) -> list[str]:
    """Why ``start`` never lifts, step by step with the field of each: back to ``start`` itself
    where a chain leads there (the shortest), else to what holds the rest."""

    def field(path: PathKey) -> str:
        return format_path(path)

    def nexts(node: tuple[str, str]) -> list[tuple[tuple[str, str], str]]:
        """The stuck nodes a node waits for, each with the step that says so."""
        kind, name = node
        if kind == "constraint":
            return [
                (("item", x), f"'{name}' waits for '{x}' ({field(('constraints', name, 'lift', 'when_agreed'))})")
                for x in g.waits.get(name, [])
                if x not in items
            ]
        out = [
            (("constraint", c), f"'{name}' is blocked by '{c}' ({field(('items', name, 'constraints', c))})")
            for c in g.blocks[name]
            if c not in lifts
        ]
        out += [
            (("item", r), f"'{name}' requires '{r}' ({field(('items', name, 'requires'))})")
            for r in g.requires[name]
            if r not in items
        ]
        return out

    origin = ("constraint", start)
    paths: dict[tuple[str, str], list[str]] = {origin: []}
    queue = [origin]
    while queue:  # breadth first: the shortest chain back to the start
        node = queue.pop(0)
        for nxt, step in nexts(node):
            if nxt == origin:
                return [*paths[node], step.replace(f"'{start}' (", f"'{start}' itself (", 1)]
            if nxt not in paths:
                paths[nxt] = [*paths[node], step]
                queue.append(nxt)
    # no chain back: follow the first stuck link until what holds it
    steps: list[str] = []
    node, seen = origin, {origin}
    while True:
        options = nexts(node)
        if not options:
            kind, name = node
            steps.append(f"'{name}' never lifts within the horizon" if kind == "constraint" else f"'{name}' is stuck")
            return steps
        node, step = options[0]
        steps.append(step)
        if node in seen:
            return steps
        seen.add(node)
