"""Checking a scenario document: every problem, located by file, line and field path.

Three passes, all reported together: the shape of every field (pydantic), the references
between sections (read from the raw data, so they are checked even when a field is malformed),
and the rules that need the whole file (dates against ``calendar.start``, run size).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from sim.errors import Problem, UserError, did_you_mean
from sim.scenario.deadlocks import deadlocks
from sim.scenario.distributions import CAP_GRID, Distribution
from sim.scenario.documents import Document, PathKey, format_path
from sim.scenario.judgements import JUDGEMENT_TAG, NUMBER_TAG, REGIME_TAG, ByRegime, Uncertain, mean_of
from sim.scenario.models import DAY_TAG, DIST_TAG, MAX_ROUNDS, Scenario, can_pause, field_names, model_at
from sim.scenario.numbers import shown
from sim.scenario.sections import Sections, sections

MAX_HORIZON = 36_525.0
"""A century of days: longer horizons are surely a mistake."""
MAX_WORK = 1e9
"""Most agreement draws (replications x items x rounds, over all sweep points) without --allow-large:
about ten million replications of the bundled scenario, twenty minutes on two cores."""

_TAGS = {
    DIST_TAG,
    DAY_TAG,
    JUDGEMENT_TAG,
    NUMBER_TAG,
    REGIME_TAG,
    "[key]",
    "function-after[_check(), function-before[_plain_number(), Distribution]]",
}


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f"'{value[:60]}'"
    if isinstance(value, dt.date):
        return value.isoformat()
    return shown(value)


def _read_as(value: Any) -> str:
    """Why a value written as a name is not text: what YAML read it as, and the way out."""
    if value is None:
        return " (an empty value, ~ or null: give a name)"
    what = (
        "a boolean"
        if isinstance(value, bool)
        else "a date"
        if isinstance(value, dt.date)
        else "a number"
        if isinstance(value, int | float)
        else None
    )
    return f" (YAML reads it as {what}: put it in quotes to mean the text)" if what else ""


def _message(err: Any, path: PathKey, root: type[BaseModel] | None = None) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "extra_forbidden":
        model = model_at(path[:-1], root or Scenario)
        hint = did_you_mean(str(path[-1]), field_names(model)) if model else ""
        return f"unknown field '{path[-1]}'{hint}"
    if kind == "missing":
        return "required field is missing"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"])).removeprefix("Value error, ")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a mapping of fields, not {_describe(value)}"
    if kind == "list_type":
        return f"must be a list, not {_describe(value)}"
    if kind == "literal_error":
        return f"must be {ctx.get('expected')}, not {_describe(value)}"
    if kind == "string_pattern_mismatch":
        return (
            f"{_describe(value)} is not a valid name: use lower-case letters, digits, '-' and '_' "
            "(at most 64, starting with a letter or digit)"
        )
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"):
        whole = kind.startswith("int")
        return f"must be a {'whole ' if whole else ''}number, not {_describe(value)}"
    if kind in ("string_type", "str_type"):
        return f"must be text, not {_describe(value)}{_read_as(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false, not {_describe(value)}"
    if kind.startswith("date_") or kind == "date_type":
        return f"must be a date (YYYY-MM-DD), not {_describe(value)}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        op = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}[kind]
        limit = next(iter(ctx.values()), "")
        return f"must be {op} {limit}, not {_describe(value)}"
    if kind == "too_short":
        return "must not be empty"
    if kind in ("finite_number",):
        return f"must be a finite number, not {_describe(value)}"
    if kind == "union_tag_invalid":
        return f"must be a number of days, a date or a distribution, not {_describe(value)}"
    msg = str(err["msg"])
    return msg[0].lower() + msg[1:] + (f", not {_describe(value)}" if value is not None else "")


def _is_tag(part: Any) -> bool:
    """A step of pydantic's error location that is not a field: a union's tag (negsim's begin with
    '@'), a validator's wrapper, a dict key's marker."""
    return part in _TAGS or (isinstance(part, str) and (part.startswith("@") or part.startswith("function-")))


def shape_problems(doc: Document, exc: ValidationError, root: type[BaseModel] | None = None) -> Iterator[Problem]:
    for err in exc.errors():
        path = tuple(p for p in err["loc"] if not _is_tag(p))
        line_path = path
        if err["type"] == "missing":
            line_path = path[:-1]
        yield Problem(doc.file, doc.line(line_path), _format(path), _message(err, path, root))


def _format(path: PathKey) -> str:
    return format_path(path)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _names(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def reference_problems(doc: Document) -> Iterator[Problem]:
    """Items, constraints and parties that are named but not defined; ``requires`` cycles."""
    data = _mapping(doc.data)
    items = _mapping(data.get("items"))
    constraints = _mapping(data.get("constraints"))
    parties = _mapping(data.get("parties"))
    events = _mapping(data.get("events"))
    # A section that is there but malformed is reported by the shape checks; references to its
    # names are not checked, so that one mistake gives one message.
    check_items = "items" not in data or isinstance(data["items"], dict)
    check_constraints = "constraints" not in data or isinstance(data["constraints"], dict)
    check_parties = "parties" not in data or isinstance(data["parties"], dict) or data["parties"] is None

    def unknown(path: PathKey, kind: str, name: Any, known: dict[str, Any]) -> Problem:
        return Problem(
            doc.file,
            doc.line(path),
            _format(path[:-1]),
            f"unknown {kind} '{name}'{did_you_mean(str(name), known)}",
        )

    for name, item in items.items():
        item = _mapping(item)
        for i, other in enumerate(_names(item.get("requires"))):
            if check_items and isinstance(other, str) and other not in items:
                yield unknown(("items", name, "requires", i), "item", other, items)
        for cname in _mapping(item.get("constraints")):
            if check_constraints and cname not in constraints:
                yield Problem(
                    doc.file,
                    doc.line(("items", name, "constraints", cname)),
                    _format(("items", name, "constraints")),
                    f"unknown constraint '{cname}'{did_you_mean(str(cname), constraints)}",
                )
        accept = item.get("accept")
        if isinstance(accept, dict) and check_parties:
            for party in accept:
                if party not in parties:
                    yield Problem(
                        doc.file,
                        doc.line(("items", name, "accept", party)),
                        _format(("items", name, "accept")),
                        f"unknown party '{party}'{did_you_mean(str(party), parties)}"
                        + ("" if parties else " (no 'parties' are defined)"),
                    )
            missing = [p for p in parties if p not in accept]
            if missing and all(p in parties for p in accept):
                yield Problem(
                    doc.file,
                    doc.line(("items", name, "accept")),
                    _format(("items", name, "accept")),
                    f"agreement needs every party: give acceptance for {', '.join(repr(m) for m in missing)}",
                )
    for name, item in items.items():
        item = _mapping(item)
        enact = _mapping(item.get("enact"))
        for i, other in enumerate(_names(enact.get("after"))):
            if check_items and isinstance(other, str) and other not in items:
                yield unknown(("items", name, "enact", "after", i), "item", other, items)
            elif other == name:
                yield Problem(
                    doc.file,
                    doc.line(("items", name, "enact", "after", i)),
                    _format(("items", name, "enact", "after")),
                    f"'{name}' cannot be enacted after its own agreement",
                )
    deciders: list[tuple[PathKey, Any]] = [(("items", n), _mapping(it).get("decides")) for n, it in items.items()]
    deciders += [(("events", n), _mapping(ev).get("decides")) for n, ev in events.items()]
    states = _mapping(_mapping(data.get("regime")).get("states"))
    deciders += [(("regime", "states", n), _mapping(st).get("decides")) for n, st in states.items()]
    for where, decides in deciders:
        for i, other in enumerate(_names(decides)):
            path = (*where, "decides", i)
            if not (check_items and isinstance(other, str)):
                continue
            if other not in items:
                yield unknown(path, "item", other, items)
            elif not isinstance(_mapping(items[other]).get("enact"), dict):
                yield Problem(
                    doc.file,
                    doc.line(path),
                    _format(path[:-1]),
                    f"'{other}' has no 'enact': give it one (its chance and lag) to be decided as part of a package",
                )
            elif where == ("items", other):
                yield Problem(doc.file, doc.line(path), _format(path[:-1]), f"'{other}' cannot decide itself")
    for cname, constraint in constraints.items():
        lift = _mapping(_mapping(constraint).get("lift"))
        for i, other in enumerate(_names(lift.get("when_agreed"))):
            if check_items and isinstance(other, str) and other not in items:
                yield unknown(("constraints", cname, "lift", "when_agreed", i), "item", other, items)
    for ename, event in events.items():
        for i, cname in enumerate(_names(_mapping(event).get("impose"))):
            if check_constraints and isinstance(cname, str) and cname not in constraints:
                yield unknown(("events", ename, "impose", i), "constraint", cname, constraints)
    yield from _cycles(doc, items)


def _cycles(doc: Document, items: dict[str, Any]) -> Iterator[Problem]:
    graph = {
        name: [o for o in _names(_mapping(item).get("requires")) if isinstance(o, str) and o in items]
        for name, item in items.items()
    }
    state: dict[str, int] = {}
    reported: set[frozenset[str]] = set()

    def visit(node: str, stack: list[str]) -> Iterator[Problem]:
        state[node] = 1
        stack.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    yield Problem(
                        doc.file,
                        doc.line(("items", node, "requires")),
                        _format(("items", node, "requires")),
                        "requires cycle: " + " -> ".join(cycle),
                    )
            elif nxt not in state:
                yield from visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for name in graph:
        if name not in state:
            yield from visit(name, [])


def _when(value: float | dt.date) -> str:
    """A day or a date as the file gives it: ``2026-01-31`` or ``400 days``."""
    return value.isoformat() if isinstance(value, dt.date) else f"{value:g} days"


def rule_problems(doc: Document, s: Scenario | Sections) -> Iterator[Problem]:
    """Rules that need the whole scenario: dates against the calendar, rounds, reviews and events
    in the horizon. ``s`` may be the :class:`Sections` of a file with other problems: each rule is
    checked where the sections it needs are valid."""
    yield from _regime_values(doc, s)
    for name, item in s.items.items():
        for party, value in (item.accept or {}).items():
            if not isinstance(value, Uncertain | ByRegime) and not math.isfinite(value):
                yield doc.problem(("items", name, "accept", party), f"must be finite, not {value}")
        if item.status == "agreed":
            for i, other in enumerate(item.requires):
                if other in s.items and s.items[other].status != "agreed":
                    yield doc.problem(
                        ("items", name, "requires", i),
                        f"'{name}' is agreed before the start but requires '{other}', which is not: "
                        f"mark '{other}' agreed too, or '{name}' open",
                    )
    if s.calendar is None:
        return
    start = s.calendar.start

    def before_start(path: PathKey, value: Any) -> Iterator[Problem]:
        if isinstance(value, dt.date) and value < start:
            yield doc.problem(path, f"{value.isoformat()} is before calendar.start ({start.isoformat()})")
        yield from far(path, value)

    def far(path: PathKey, value: Any) -> Iterator[Problem]:
        if isinstance(value, float) and value > MAX_HORIZON:
            yield doc.problem(
                path, f"{value:g} days after calendar.start is more than a century (a Unix time stamp? give a date)"
            )

    horizon = s.horizon
    written = _when(s.calendar.horizon)
    if isinstance(s.calendar.horizon, dt.date) and horizon <= 0:
        yield doc.problem(("calendar", "horizon"), f"{written} is not after calendar.start ({start.isoformat()})")
    elif horizon <= 0:
        yield doc.problem(("calendar", "horizon"), f"must be more than 0 days, not {horizon:g}")
    elif horizon > MAX_HORIZON:
        yield doc.problem(("calendar", "horizon"), f"{horizon:g} days is more than a century")
    elif (dt.date.max - start).days < horizon:
        yield doc.problem(
            ("calendar", "horizon"), f"{written} from calendar.start ({start.isoformat()}) ends after the year 9999"
        )
    for i, m in enumerate(s.calendar.milestones or []):
        yield from before_start(("calendar", "milestones", i), m)
        if s.day(m) > horizon > 0:
            yield doc.problem(("calendar", "milestones", i), f"{_when(m)} is after the horizon ({written})")
    if s.rounds is not None:
        if not isinstance(s.rounds.first, Distribution):
            yield from before_start(("rounds", "first"), s.rounds.first)
        yield from _interval(doc, s.rounds.interval, horizon)
    for cname, c in s.constraints.items():
        lift = c.lift
        if lift is None:
            continue
        if lift.on is not None:
            yield from before_start(("constraints", cname, "lift", "on"), lift.on)
        if lift.reviews is not None:  # a review calendar may have begun before the start
            yield from far(("constraints", cname, "lift", "reviews", "first"), lift.reviews.first)
        if lift.reviews is not None and horizon / lift.reviews.every > MAX_ROUNDS:
            every = lift.reviews.every
            yield doc.problem(
                ("constraints", cname, "lift", "reviews", "every"),
                f"a review every {every:g} days gives about {horizon / every:,.0f} reviews in the horizon; "
                f"at most {MAX_ROUNDS:,}",
            )
    for ename, e in s.events.items():
        for i, d in enumerate(e.dates or []):
            yield from before_start(("events", ename, "dates", i), d)
        rate, where = e.rate, ""
        if isinstance(rate, ByRegime):  # judged in its highest state
            by = rate.regime
            state = max(by, key=lambda n: _top(by[n]))
            rate, where = by[state], f"in state '{state}' "
        what = (
            f"{where}its 99.9% quantile gives"
            if isinstance(rate, Uncertain)
            else f"{where}{'it ' if where else ''}gives"
        )
        if isinstance(rate, Uncertain):  # judged by its 99.9% quantile: the draws a run will meet
            # (computed only when a cheap bound above it is too high: scipy.special takes a tenth of a second)
            high = rate.bound(0.999) * horizon / 365 > MAX_ROUNDS
            rate = float(rate.ppf(np.array([0.999]))[0]) if high else None
        if rate is not None and rate * horizon / 365 > MAX_ROUNDS:
            yield doc.problem(
                ("events", ename, "rate"),
                f"{what} about {rate * horizon / 365:,.0f} events in the horizon; at most {MAX_ROUNDS:,}",
            )
    if s.regime is not None and horizon > 0:  # moves between states, like pauses: at most MAX_ROUNDS
        moves = {name: sum(_top(r) for r in (state.to or {}).values()) for name, state in s.regime.states.items()}
        name = max(moves, key=lambda n: moves[n])
        top = sum(moves.values())  # each state's moves, as many as its own rate allows: at most their sum
        if top * horizon / 365 > MAX_ROUNDS:
            yield doc.problem(
                ("regime", "states", name, "to"),
                f"the rates of moving between states give up to about {top * horizon / 365:,.0f} moves in the "
                f"horizon; at most {MAX_ROUNDS:,}",
            )
    rates = (s.rounds.stall, s.rounds.resume) if s.rounds is not None else ()
    if horizon > 0 and any(r is not None for r in rates):
        top = sum(_top(r) for r in rates if r is not None)
        if top * horizon / 365 > MAX_ROUNDS:
            yield doc.problem(
                ("rounds", "stall" if s.rounds is not None and s.rounds.stall is not None else "resume"),
                f"the stall and resume rates give up to about {top * horizon / 365:,.0f} pauses in the horizon; "
                f"at most {MAX_ROUNDS:,}",
            )


def _top(value: float | Uncertain | ByRegime) -> float:
    """A value at or above a rate's 99.9% quantile (in every state of the regime)."""
    if isinstance(value, ByRegime):
        return max(_top(v) for v in value.regime.values())
    return value.bound(0.999) if isinstance(value, Uncertain) else float(value)


def _interval(doc: Document, interval: Distribution, horizon: float) -> Iterator[Problem]:
    """The days between rounds must leave at most MAX_ROUNDS rounds in the horizon: judged by the
    mean, and where that cannot settle it, by what the draws do (the mean of the draws capped at the
    horizon, which a gamma of tiny shape, with a mean of a day and nearly every draw under a second,
    makes tiny: its rounds would be countless)."""
    path = ("rounds", "interval")
    mean = interval.expected()
    if mean <= 0:
        yield doc.problem(path, f"must be more than 0 days on average, not {mean:g}")
        return
    if horizon <= 0:
        return
    if horizon / mean > MAX_ROUNDS:
        yield doc.problem(
            path,
            f"a mean of {mean:g} days gives about {horizon / mean:,.0f} rounds in the horizon; at most {MAX_ROUNDS:,}",
        )
        return
    floor = 0.5 * min(interval.median_floor(), horizon)  # P(X >= median) >= 1/2: no scipy where this settles it
    if floor > 0 and horizon / floor <= MAX_ROUNDS:
        return
    capped = interval.capped_mean(horizon)
    if capped > 0 and horizon / capped <= MAX_ROUNDS:
        return
    with np.errstate(all="ignore"):
        below = CAP_GRID[:-1][interval.ppf(CAP_GRID[:-1]) < 1 / 1440]  # under a minute
    share = float(below.max(initial=0.0))
    said = (
        f"{math.floor(share * 10_000) / 100:g}% of its draws are under a minute"
        if share >= 0.5
        else f"half its draws are under {float(interval.ppf(np.array([0.5]))[0]):.2g} days"
    )
    pace = f"a round about every {capped:.2g} days, some {horizon / capped:,.0f}" if capped > 0 else "countless rounds"
    yield doc.problem(
        path,
        f"{interval.describe()} has a mean of {mean:g} day{'' if mean == 1 else 's'}, but {said}: "
        f"{pace} in the horizon ({horizon:g} days); "
        f"at most {MAX_ROUNDS:,}",
    )


def _found(node: Any, path: PathKey) -> Iterator[tuple[PathKey, ByRegime]]:
    """Every judgement that depends on the regime in a validated model, with its path."""
    if isinstance(node, ByRegime):
        yield path, node
    elif isinstance(node, BaseModel) and not isinstance(node, Uncertain | Distribution):
        for name, field in type(node).model_fields.items():
            yield from _found(getattr(node, name), (*path, field.alias or name))
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _found(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _found(value, (*path, i))


def _regime_values(doc: Document, s: Scenario | Sections) -> Iterator[Problem]:
    """A judgement given per state of the regime names exactly the regime's states, and the regime's
    own figures do not depend on it."""
    if isinstance(s, Sections) and s.regime is None and s.regime_given:
        return  # a regime that is there but wrong: its own problems are said, values per state wait for it
    states = set(s.regime.states) if s.regime is not None else set()
    switching = s.regime is not None and any(st.to for st in s.regime.states.values())
    if s.regime is not None:
        for name, st in s.regime.states.items():
            for target in st.to or {}:
                if target not in states or target == name:
                    hint = did_you_mean(target, states - {name})
                    what = "itself" if target == name else f"an unknown state '{target}'{hint}"
                    yield doc.problem(("regime", "states", name, "to", target), f"a state cannot move to {what}")
    found = (
        _found(s, ())
        if isinstance(s, Scenario)
        else (
            x
            for name in ("rounds", "items", "constraints", "events", "regime", "trust", "case_effect")
            for x in _found(getattr(s, name), (name,))
        )
    )
    for path, value in found:
        if s.regime is None:
            yield doc.problem(path, "is given per state of the regime, but the scenario has no 'regime'")
        elif path[0] == "regime":
            yield doc.problem(path, "the regime's own figures cannot depend on the regime")
        elif switching and ((path[0] == "events" and path[-1] == "rate") or path[-2:] == ("lift", "rate")):
            yield doc.problem(
                path,
                "cannot depend on a regime whose states move ('to'): the times it sets are drawn before the run",
            )
        elif set(value.regime) != states:
            missing = sorted(states - set(value.regime))
            extra = sorted(set(value.regime) - states)
            said = [f"missing {', '.join(repr(m) for m in missing)}"] if missing else []
            said += (
                [f"unknown state {', '.join(repr(x) for x in extra)}{did_you_mean(extra[0], states)}"] if extra else []
            )
            yield doc.problem((*path, "regime"), f"give a value for each state of the regime: {'; '.join(said)}")


def scenario_warnings(doc: Document, s: Scenario) -> list[Problem]:
    """What a valid scenario says that can never happen: worth a word on stderr, not a refusal
    (a sweep may well reach such a point on purpose)."""
    out: list[Problem] = []
    horizon = s.horizon

    def later(path: PathKey, value: Any, what: str) -> None:
        if isinstance(value, float | dt.date) and s.day(value) > horizon:
            out.append(
                doc.problem(path, f"warning: {_when(value)} is after the horizon ({_when(s.calendar.horizon)}): {what}")
            )

    if not isinstance(s.rounds.first, Distribution):
        later(("rounds", "first"), s.rounds.first, "no round is held, nothing can be agreed")
    for ename, e in s.events.items():
        for i, d in enumerate(e.dates or []):
            later(("events", ename, "dates", i), d, "this occurrence never happens")
    for cname, c in s.constraints.items():
        if c.lift is not None and c.lift.on is not None:
            later(("constraints", cname, "lift", "on"), c.lift.on, "the constraint is never lifted on it")
    out += deadlocks(doc, s)
    out += _undecided(doc, s)
    stall = s.rounds.stall
    zero = isinstance(stall, int | float) and stall == 0
    pausing = any(e.pause is not None for e in s.events.values())
    if zero and not pausing:
        out.append(doc.problem(("rounds", "stall"), "warning: a stall of 0: the talks never pause"))
    if s.rounds.resume is not None and (not can_pause(s) or (zero and not pausing)):
        out.append(
            doc.problem(("rounds", "resume"), "warning: the talks never pause (no 'stall' above 0, no event 'pause')")
        )
    agreed = {name for name, it in s.items.items() if it.status == "agreed"}
    for name in agreed:
        for field in ("hazard", "enact"):
            if getattr(s.items[name], field) is not None:
                said = "warning: never acts: the item is agreed before the start"
                out.append(doc.problem(("items", name, field), said))
    for owner, decides in _deciders(s):
        for i, x in enumerate(decides):
            if x in agreed:
                said = f"warning: {x} is agreed before the start: deciding it does nothing"
                out.append(doc.problem((*owner, "decides", i), said))
    return out


def _deciders(s: Scenario) -> list[tuple[tuple[str, ...], list[str]]]:
    """Every ``decides`` of a validated scenario (items, events, regime states), with its owner's path."""
    owners: list[tuple[tuple[str, ...], Any]] = [(("items", n), o) for n, o in s.items.items()]
    owners += [(("events", n), o) for n, o in s.events.items()]
    if s.regime is not None:
        owners += [(("regime", "states", n), o) for n, o in s.regime.states.items()]
    return [(path, o.decides) for path, o in owners if o.decides]


def _undecided(doc: Document, s: Scenario) -> list[Problem]:
    """Items with ``enact`` that nothing can decide: no ``after`` items and in no package."""
    named = {x for _, decides in _deciders(s) for x in decides}
    return [
        doc.problem(
            ("items", name, "enact"),
            "warning: can never happen: nothing decides it (give 'after' items, or name it in an item's, "
            "event's or regime state's 'decides')",
        )
        for name, it in s.items.items()
        if it.enact is not None and not it.enact.after and name not in named
    ]


CHAIN_DRAWS = 4000
"""Draws of the Monte Carlo that estimates a requires chain's median time (a fixed seed: the same
warning every time)."""


def scenario_advice(doc: Document, s: Scenario) -> list[Problem]:
    """What ``negsim validate`` adds to the warnings: what a valid scenario makes unlikely rather
    than impossible (a chain of ``requires`` too slow for the horizon)."""
    return _slow_chains(doc, s)


def _slow_chains(doc: Document, s: Scenario) -> list[Problem]:
    """Items at the end of a ``requires`` chain whose median time, implied by the rounds alone (the
    mean interval, cancellations, preparation and each item's chance per round, or its enactment or
    hazard where it has one; trust, constraints and events aside), is past the horizon: one warning
    for the first link of each chain that passes it."""
    horizon = s.horizon
    if horizon <= 0 or not any(it.requires for it in s.items.values()):
        return []
    rng = np.random.default_rng(0)
    states = list(s.regime.states) if s.regime is not None else []
    state = np.zeros(CHAIN_DRAWS, np.int64)
    if s.regime is not None:  # each draw in one state of the regime, by the shares' means
        shares = [None if st.share is None else mean_of(st.share) for st in s.regime.states.values()]
        rest = 1.0 - sum(x for x in shares if x is not None)
        weights = np.array([rest if x is None else x for x in shares])
        state = rng.choice(len(states), CHAIN_DRAWS, p=weights / weights.sum())

    def mean(v: Any) -> np.ndarray:
        """A judgement's mean in each draw's state of the regime."""
        if isinstance(v, ByRegime):
            return np.array([mean_of(v.regime[n]) for n in states])[state]
        return np.full(CHAIN_DRAWS, mean_of(v))

    cancel = mean(s.rounds.cancel)
    step = s.rounds.interval.expected() / np.maximum(1.0 - cancel, 1e-9)
    first = s.rounds.first.expected() if isinstance(s.rounds.first, Distribution) else s.day(s.rounds.first)
    done: dict[str, np.ndarray] = {}
    dated: dict[str, float] = {}  # items an event on a fixed date decides: the first such date
    for e in s.events.values():
        for x in e.decides or []:
            for d in e.dates or []:
                dated[x] = min(dated.get(x, np.inf), s.day(d))
    leaders: dict[str, np.ndarray] = {}  # items the leaders' decision of a draw's state decides at the start
    for k, st in enumerate(s.regime.states.values() if s.regime is not None else []):
        for x in st.decides or []:
            leaders[x] = leaders.get(x, np.zeros(CHAIN_DRAWS, bool)) | (state == k)

    def chance(it: Any) -> np.ndarray:
        if it.p is not None:
            return mean(it.p)
        return np.prod([mean(a) for a in (it.accept or {}).values()], axis=0)

    def time(name: str, seen: tuple[str, ...] = ()) -> np.ndarray:
        if name in done:
            return done[name]
        it = s.items[name]
        if it.status == "agreed":
            done[name] = np.zeros(CHAIN_DRAWS)
            return done[name]
        before = [time(r, (*seen, name)) for r in it.requires if r not in seen]
        ready = np.maximum.reduce([np.full(CHAIN_DRAWS, first), *before])
        p = np.clip(chance(it), 0.0, 1.0)
        waits = rng.geometric(np.where(p > 0, p, 1.0)).astype(float)
        rounds = it.after_rounds + np.where(p > 0, waits, np.inf)
        out = ready + rounds * step
        if it.hazard is not None:
            rate = mean(it.hazard)
            with np.errstate(divide="ignore"):
                out = np.minimum(
                    out, ready + np.where(rate > 0, rng.exponential(1.0, CHAIN_DRAWS) * 365.0 / rate, np.inf)
                )
        if it.enact is not None and (it.enact.after or name in dated or name in leaders):
            after = [time(a, (*seen, name)) for a in it.enact.after or [] if a not in seen]
            decided = np.maximum.reduce(after) if after else np.full(CHAIN_DRAWS, dated.get(name, np.inf))
            if name in leaders:
                decided = np.where(leaders[name], 0.0, decided)
            lag = it.enact.lag.ppf(rng.random(CHAIN_DRAWS))
            enacted = np.maximum(decided + lag, ready)  # an enactment waits for what the item requires
            out = np.where(rng.random(CHAIN_DRAWS) < mean(it.enact.p), np.minimum(out, enacted), out)
        done[name] = out
        return out

    out = []
    for name, it in s.items.items():
        median = float(np.median(time(name)))
        if not it.requires or median <= horizon:
            continue
        if any(s.items[r].requires and float(np.median(time(r))) > horizon for r in it.requires):
            continue  # an earlier chain already passes the horizon: warned there
        chain = [name]
        while s.items[chain[-1]].requires:
            chain.append(max(s.items[chain[-1]].requires, key=lambda r: float(np.median(time(r)))))
        shown = f"{median:,.0f} days" if np.isfinite(median) else "for ever"
        out.append(
            doc.problem(
                ("items", name, "requires"),
                f"warning: the chain {' -> '.join(reversed(chain))} takes about {shown} at its median "
                f"(from the rounds' pace and each item's chance; constraints and trust aside), past the horizon "
                f"({horizon:,.0f} days)",
            )
        )
    return out


def _merge_misspelt(problems: list[Problem]) -> list[Problem]:
    """'unknown field round (did you mean rounds?)' already says that 'rounds' is missing."""
    meant = set()
    for p in problems:
        if p.message.startswith("unknown field") and "(did you mean '" in p.message:
            parent = p.path.rpartition(".")[0]
            name = p.message.split("(did you mean '")[1].rstrip("')?")
            meant.add(f"{parent}.{name}" if parent else name)
    return [p for p in problems if not (p.message == "required field is missing" and p.path in meant)]


def check_document(doc: Document) -> tuple[Scenario | None, list[Problem]]:
    """Validate a parsed document: the scenario (if valid) and every problem found."""
    problems: list[Problem] = []
    scenario: Scenario | None = None
    if not isinstance(doc.data, dict):
        kind = _describe(doc.data)
        return None, [Problem(doc.file, doc.line(()), "", f"a scenario must be a mapping of sections, not {kind}")]
    try:
        scenario = Scenario.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(shape_problems(doc, exc))
    problems = _merge_misspelt(problems)
    problems.extend(reference_problems(doc))
    problems.extend(rule_problems(doc, sections(doc.data, scenario)))  # all at once, whatever else is wrong
    problems = sorted(set(problems), key=lambda p: (p.line, p.path, p.message))
    return (scenario if not problems else None), problems


def check_run_size(s: Scenario, replications: int, points: int = 1, allow_large: bool = False) -> None:
    """Refuse runs far larger than intended (a typo in -n, a daily interval over a century)."""
    rounds = s.horizon / max(s.rounds.interval.expected(), 1e-9) + 1
    work = points * replications * max(len(s.items), 1) * rounds
    if work > MAX_WORK and not allow_large:
        what = f"{points:,} points x " if points > 1 else ""
        raise UserError(
            f"{s.name}: {what}{replications:,} replications x {len(s.items)} items x about {rounds:,.0f} rounds "
            f"is {work:.2g} agreement draws, more than the limit of {MAX_WORK:.0g}; pass --allow-large to run it anyway"
        )
