"""The explorer's controls: every number ``negsim sweep --list-paths`` lists, grouped and titled.

A control is one dotted path of the scenario as run (the space sweeps, diffs and observed files
address), shown under its item, constraint, event or section with a title in words rather than
its path. A judgement given as a distribution gets a control for each of its parameters, and one
that fixes it at a plain number instead (blank: drawn per replication, as written); the page shows
its mean and spread beside them. Plain data only: the page (``sim.app.page``) draws the widgets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.engine.plan import compile_plan
from sim.scenario.distributions import Distribution
from sim.scenario.judgements import Uncertain
from sim.scenario.models import Scenario
from sim.scenario.paths import is_integer_path, number_at, numeric_paths, scenario_data

PARAMETER_NAMES = {
    "value": "value",
    "mean": "mean",
    "sd": "spread (sd)",
    "concentration": "firmness (concentration)",
    "a": "a",
    "b": "b",
    "shape": "shape",
    "scale": "scale",
    "low": "lowest",
    "mode": "most likely",
    "high": "highest",
    "mu": "mu (of the log)",
    "sigma": "sigma (of the log)",
}
"""A distribution's parameters, in words."""

Labels = dict[tuple[str, ...], str]
"""Titles of paths within a group; ``*`` stands for any one name (a party, a constraint, a state)."""

ITEM: Labels = {
    ("p",): "Chance of agreement per round",
    ("accept", "*"): "Acceptance by {party}",
    ("after_rounds",): "Rounds of preparation before agreement",
    ("priority",): "Priority on the agenda (lower goes first)",
    ("trust_gain",): "Trust gained when agreed",
    ("constraints", "*"): "Chance multiplied while '{constraint}' is in force",
    ("hazard",): "Agreements outside the rounds, per year",
    ("enact", "p"): "Chance of enactment once decided",
    ("enact", "lag"): "Days from the decision to enactment",
}
CONSTRAINT: Labels = {
    ("lift", "p"): "Chance of lifting at each review",
    ("lift", "reviews", "every"): "Days between reviews",
    ("lift", "reviews", "first"): "Day of the first review",
    ("lift", "rate"): "Lifts per year while in force",
}
EVENT: Labels = {
    ("rate",): "Occurrences per year",
    ("trust",): "Change in trust",
    ("breakdown",): "Chance that it ends the talks for good",
    ("pause",): "Chance that it pauses the talks until they resume",
    ("suspend",): "Days the talks are suspended",
}
ROUNDS: Labels = {
    ("first",): "Day of the first round",
    ("interval",): "Days between scheduled rounds",
    ("cancel",): "Chance that a scheduled round is cancelled",
    ("capacity",): "Items worked on in a round",
    ("stall",): "Pauses of the talks per year",
    ("resume",): "Resumptions per year while paused",
}
TRUST: Labels = {
    ("initial",): "Trust at the start",
    ("weight",): "Weight of trust (log odds per unit)",
    ("on_agreement",): "Trust gained per agreement",
    ("min",): "Lowest trust",
    ("max",): "Highest trust",
}
REGIME: Labels = {
    ("share",): "Share at the start",
    ("odds",): "Odds of every chance multiplied by",
    ("hazard",): "Agreements outside the rounds multiplied by",
    ("stall",): "Pauses multiplied by",
    ("to", "*"): "Moves to '{state}', per year",
}
OTHER: Labels = {
    ("calendar", "horizon"): "Horizon (days)",
    ("case_effect",): "Shift of every chance's log odds",
}
SECTIONS = ("items", "constraints", "events", "rounds", "trust", "regime")
"""The order of the groups; numbers elsewhere (the calendar, the case effect) come last."""


@dataclass(frozen=True)
class Control:
    """One number of the scenario: its path, its title in words and its value as written.

    ``fixes`` marks the path of a judgement given as a distribution: a number set there replaces
    the distribution (its value is None while the distribution stands)."""

    path: str
    label: str
    value: float | None
    integer: bool = False
    fixes: bool = False


@dataclass(frozen=True)
class Group:
    """The controls of one item, constraint, event or section, and its distributions."""

    key: str
    title: str
    controls: tuple[Control, ...]
    distributions: tuple[str, ...] = ()


def listed_paths(s: Scenario) -> list[str]:
    """What ``negsim sweep FILE --list-paths`` lists: every number a sweep can set (the
    simulation's seed and size aside) and every judgement given as a distribution, each judgement
    just before its parameters."""
    data = scenario_data(s)
    paths = [p for p in numeric_paths(data) if not p.startswith("simulation.") and p != "schema"]
    for judged, _ in compile_plan(s).judgements:
        at = next((i for i, p in enumerate(paths) if p.startswith(judged + ".")), len(paths))
        paths.insert(at, judged)
    return paths


def node_at(data: dict[str, Any], path: str) -> Any:
    """The value at a dotted path, or None."""
    node: Any = data
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def is_distribution(node: Any) -> bool:
    return isinstance(node, dict) and "dist" in node


class _Namer:
    """Titles of a scenario's parties, constraints and regime states, for the labels."""

    def __init__(self, s: Scenario) -> None:
        self.s = s

    def party(self, key: str) -> str:
        party = self.s.parties.get(key)
        return party.name if party is not None and party.name else key

    def constraint(self, key: str) -> str:
        c = self.s.constraints.get(key)
        return c.title if c is not None and c.title else key

    def state(self, key: str) -> str:
        regime = self.s.regime
        st = regime.states.get(key) if regime is not None else None
        return st.title if st is not None and st.title else key


def _match(table: Labels, rel: tuple[str, ...]) -> tuple[str, list[str]] | None:
    for pattern, text in table.items():
        if len(pattern) == len(rel) and all(p in ("*", r) for p, r in zip(pattern, rel, strict=True)):
            return text, [r for p, r in zip(pattern, rel, strict=True) if p == "*"]
    return None


def _plain(rel: tuple[str, ...]) -> str:
    text = " ".join(rel).replace("_", " ")
    return text[:1].upper() + text[1:]


def group_of(path: str, s: Scenario) -> tuple[str, str, tuple[str, ...], Labels]:
    """The group a path belongs to: its key, its title, the path within it, and its label table."""
    parts = tuple(path.split("."))
    head = parts[0]
    if head in ("items", "constraints", "events") and len(parts) > 2:
        key = parts[1]
        entry = getattr(s, head).get(key)
        title = entry.title if entry is not None and entry.title else key
        kind = {"items": "Item", "constraints": "Constraint", "events": "Event"}[head]
        table = {"items": ITEM, "constraints": CONSTRAINT, "events": EVENT}[head]
        return f"{head}.{key}", f"{kind}: {title}", parts[2:], table
    if head == "regime" and len(parts) > 3 and parts[1] == "states":
        key = parts[2]
        regime_title = s.regime.title if s.regime is not None and s.regime.title else "the regime"
        return f"regime.states.{key}", f"Regime ({regime_title}): {_Namer(s).state(key)}", parts[3:], REGIME
    if head in ("rounds", "trust"):
        return head, head.capitalize(), parts[1:], ROUNDS if head == "rounds" else TRUST
    return "other", "Other numbers", parts, OTHER


def label(path: str, s: Scenario, data: dict[str, Any] | None = None) -> str:
    """A path's title in words: ``constraints.aviation.lift.p.mean`` is "Chance of lifting at each
    review: mean" (under the group "Constraint: Aviation sanctions")."""
    data = scenario_data(s) if data is None else data
    _, _, rel, table = group_of(path, s)
    namer = _Namer(s)
    names = {"party": namer.party, "constraint": namer.constraint, "state": namer.state}
    prefix = path.split(".")[: len(path.split(".")) - len(rel)]
    suffix = ""
    while rel:
        found = _match(table, rel)
        if found is not None:
            text, stars = found
            return text.format(**{k: fn(stars[0]) for k, fn in names.items() if stars}) + suffix
        if rel[-1] in PARAMETER_NAMES and is_distribution(node_at(data, ".".join([*prefix, *rel[:-1]]))):
            suffix = f": {PARAMETER_NAMES[rel[-1]]}{suffix}"  # a parameter of a distribution
            rel = rel[:-1]
        elif len(rel) >= 2 and rel[-2] == "regime":
            suffix = f" ({namer.state(rel[-1])}){suffix}"  # a value per state of the regime
            rel = rel[:-2]
        else:
            break
    return _plain(rel or tuple(path.split("."))) + suffix


def groups(s: Scenario) -> list[Group]:
    """Every listed path as a control, in groups: each item, constraint and event (in file order),
    then rounds, trust, the regime's states and anything else."""
    data = scenario_data(s)
    judged = {path for path, _ in compile_plan(s).judgements}
    base = {p: v for p in listed_paths(s) if (v := number_at(data, p)) is not None}
    found: dict[str, tuple[str, list[Control], list[str]]] = {}
    for path in listed_paths(s):
        key, title, _, _ = group_of(path, s)
        controls, dists = found.setdefault(key, (title, [], []))[1:]
        text = label(path, s, data)
        if path in judged:  # a distribution: a number set here replaces it
            dists.append(path)
            controls.append(Control(path, f"{text}: fixed at (blank: drawn)", None, fixes=True))
        else:
            controls.append(Control(path, text, float(node_at(data, path)), integer=is_integer_path(path, base)))
    for path in _duration_paths(data):  # durations drawn at each use: shown with their mean and spread too
        key, title, _, _ = group_of(path, s)
        if key in found and path not in found[key][2]:
            found[key][2].append(path)

    def order(key: str) -> tuple[int, int]:
        head = key.split(".")[0]
        rank = SECTIONS.index(head) if head in SECTIONS else len(SECTIONS)
        return rank, list(found).index(key)

    return [Group(k, found[k][0], tuple(found[k][1]), tuple(found[k][2])) for k in sorted(found, key=order)]


def _duration_paths(data: Any, prefix: str = "") -> list[str]:
    out = []
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if is_distribution(value):
                out.append(path)
            elif isinstance(value, dict):
                out.extend(_duration_paths(value, path))
    return out


def spread(data: dict[str, Any], path: str) -> str:
    """A distribution's mean and the range of 80% of its draws, in words ('' if it is not one, or
    not a valid one at these values)."""
    node = node_at(data, path)
    if not is_distribution(node):
        return ""
    try:
        dist: Uncertain | Distribution = Uncertain.model_validate(node)
    except ValueError:
        try:
            dist = Distribution.model_validate(node)
        except ValueError:
            return ""
    low, high = (float(v) for v in dist.ppf(np.array([0.1, 0.9])))
    mean = dist.expected()
    if not all(math.isfinite(v) for v in (low, high, mean)):
        return f"{node['dist']}: mean {mean:.3g}"
    return f"{node['dist']}: mean {mean:.3g}; 80% of draws between {low:.3g} and {high:.3g}"
