"""Dotted paths into a scenario as run (``items.flights.p``, ``rounds.interval.mode``).

Sweeps set numbers by path, comparisons list differences by path, observed files and uncertain
parameters name fields by path. The space paths address is the scenario as plain data, exactly as
``scenario.yaml`` holds it.
"""

from __future__ import annotations

import copy
import typing
from typing import Any

from sim.scenario.documents import to_plain
from sim.scenario.judgements import PARAMETERS, Uncertain
from sim.scenario.models import Scenario, field_names, model_at


def scenario_data(s: Scenario) -> dict[str, Any]:
    """The scenario as plain data (what ``scenario.yaml`` holds), the space that paths address."""
    return to_plain(s.model_dump(by_alias=True, exclude_none=True))  # type: ignore[no-any-return]


def numeric_paths(data: Any, prefix: str = "") -> list[str]:
    """Every dotted path to a number in ``data``."""
    out = []
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, bool):
                continue
            if isinstance(value, int | float):
                out.append(path)
            elif isinstance(value, dict):
                out.extend(numeric_paths(value, path))
    return out


def settable(data: dict[str, Any], path: str) -> bool:
    """A number there now, a judgement given as a distribution (a number set there replaces it), or
    an unset field of a model that exists (``rounds.capacity``)."""
    parts = path.split(".")
    node: Any = data
    for part in parts[:-1]:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    if not isinstance(node, dict):
        return False
    leaf = parts[-1]
    if leaf in node:
        value = node[leaf]
        if isinstance(value, dict) and "dist" in value:  # a judgement drawn per replication: a number replaces it
            return True
        return isinstance(value, int | float) and not isinstance(value, bool)
    model = model_at(tuple(parts[:-1]))
    return model is not None and leaf in field_names(model)


def set_path(data: dict[str, Any], path: str, value: float) -> dict[str, Any]:
    """A copy of ``data`` with the number at ``path`` replaced."""
    return set_paths(data, {path: value})


def set_paths(data: dict[str, Any], values: dict[str, float]) -> dict[str, Any]:
    """A copy of ``data`` with the number at each path replaced (one copy for them all)."""
    out = copy.deepcopy(data)
    for path, value in values.items():
        node = out
        parts = path.split(".")
        for part in parts[:-1]:
            node = node[part]
        old = node.get(parts[-1])
        node[parts[-1]] = int(value) if isinstance(old, int) and float(value).is_integer() else value
    return out


def is_integer_path(path: str, base: dict[str, float]) -> bool:
    """Whether a path holds a whole number (``rounds.capacity``, ``items.x.after_rounds``)."""
    if isinstance(base.get(path), int) and not isinstance(base.get(path), bool):
        return True
    parts = path.split(".")
    model = model_at(tuple(parts[:-1]))
    if model is None:
        return False
    field = next((f for n, f in model.model_fields.items() if (f.alias or n) == parts[-1]), None)
    if field is None:
        return False

    def kinds(tp: Any) -> set[Any]:
        args = typing.get_args(tp)
        return set().union(*(kinds(a) for a in args)) if args else {tp}

    found = kinds(field.annotation)
    return int in found and float not in found


def number_at(data: dict[str, Any], path: str) -> float | None:
    """The number at ``path`` in ``data`` (a judgement's mean where it is a distribution), or None."""
    node: Any = data
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict) and node.get("dist") in PARAMETERS:
        try:
            return Uncertain.model_validate(node).expected()
        except ValueError:
            return None
    return node if isinstance(node, int | float) and not isinstance(node, bool) else None


def written_number(data: dict[str, Any], path: str) -> float | None:
    """The plain number the scenario writes at ``path``; None where it writes a distribution (drawn
    per replication, which no single number reproduces) or nothing (an unset field)."""
    node: Any = data
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, int | float) and not isinstance(node, bool) else None


def flatten(data: Any, prefix: str = "", skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every leaf of ``data`` by dotted path (top-level keys in ``skip`` left out)."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            path = f"{prefix}.{k}" if prefix else str(k)
            if not prefix and k in skip:
                continue
            if isinstance(v, dict) and v:
                out.update(flatten(v, path))
            else:
                out[path] = v
    return out
