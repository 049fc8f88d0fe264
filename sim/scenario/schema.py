"""JSON Schemas of the files negsim reads, for editors: what ``negsim schema`` prints.

The schemas are the pydantic models' own, with what pydantic cannot see written in: a plain number
where a distribution may stand (``interval: 14``), each kind of distribution with exactly its
parameters, judgements whose draws must stay within the field's range (a probability drawn from a
beta, never from a normal), one value per state of the regime (``{regime: {decided: 0.4, ...}}``),
a row of a reference-class table wherever a number may stand (``{row: R2}``), dates that exist, and
every bound as a JSON Schema keyword (``minimum``, ``exclusiveMinimum``...) so that an editor flags
``p: 1.5`` as it is typed. Each field's description is its docstring in the models.

What no JSON Schema can say is left to ``negsim validate``: names that refer to other sections
(``requires``, ``constraints``, ``impose``, ``when_agreed``, parties, regime states), ``requires``
cycles, comparisons between fields (``high`` above ``low``, ``trust.min`` below ``max``, dates after
``calendar.start``, the number of rounds in the horizon), which rows a table holds, and
non-finite numbers (``.nan`` and ``.inf`` exist in YAML, not in JSON).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from sim.scenario import distributions, judgements
from sim.scenario.checks import MAX_HORIZON
from sim.scenario.distributions import MAX_DAYS, Distribution
from sim.scenario.judgements import JUDGEMENT_TAG, NUMBER_TAG, REGIME_TAG, Uncertain
from sim.scenario.models import (
    DAY_TAG,
    DIST_TAG,
    SLUG_PATTERN,
    Calendar,
    Date,
    DayOrDate,
    Effect,
    Event,
    Item,
    Lift,
    Rounds,
    Scenario,
)
from sim.scenario.table import FIGURE_PATTERN, ROW_PATTERN

DIALECT = "https://json-schema.org/draft/2020-12/schema"

_MARK = "x-negsim-def"
"""Stands, while pydantic builds the schema, for a reference to one of the definitions below (pydantic
refuses ``$ref`` to definitions it did not make)."""

DATE_PATTERN = (
    r"^(?!0000)(?:[0-9]{4}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)"
    r"|(?:0[13578]|1[02])-31)|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
    r"-02-29)$"
)
"""A date that exists, YYYY-MM-DD (29 February in leap years only): editors that do not check
``format: date`` still flag 2025-02-30."""

CITATION_PATTERN = ROW_PATTERN.removesuffix("$") + r"(?:\." + FIGURE_PATTERN.removeprefix("^").removesuffix("$") + ")?$"
"""``R2``, or ``R8.cancel`` for one of a row's named figures."""

PARAMETER_TEXT = {
    "dist": "The kind of distribution.",
    "value": "The value (a distribution that always draws it).",
    "low": "The lowest value.",
    "mode": "The most likely value (between low and high).",
    "high": "The highest value (at least low).",
    "mean": "The mean.",
    "sd": "The standard deviation (more than 0).",
    "mu": "The mean of the logarithm.",
    "sigma": "The standard deviation of the logarithm (more than 0).",
    "shape": "The shape (more than 0).",
    "scale": "The scale (more than 0).",
    "a": "The first shape parameter (more than 0): the mean is a / (a + b).",
    "b": "The second shape parameter (more than 0).",
    "concentration": "a + b (more than 0): the larger, the surer the judgement.",
}
"""What each parameter of a distribution is, for editors."""

POSITIVE: dict[str, float] = {"exclusiveMinimum": 0}
DURATION_BOUNDS: dict[str, dict[str, dict[str, float]]] = {
    "fixed": {"value": {"minimum": 0, "maximum": MAX_DAYS}},
    "uniform": {k: {"minimum": 0, "maximum": MAX_DAYS} for k in ("low", "high")},
    "triangular": {k: {"minimum": 0, "maximum": MAX_DAYS} for k in ("low", "mode", "high")},
    "normal": {"mean": {"minimum": 0, "maximum": MAX_DAYS}, "sd": {**POSITIVE, "maximum": MAX_DAYS}},
    "lognormal": {"sigma": POSITIVE},
    "exponential": {"mean": {**POSITIVE, "maximum": MAX_DAYS}},
    "gamma": {"shape": POSITIVE, "scale": {**POSITIVE, "maximum": MAX_DAYS}},
}
"""The bounds :class:`~sim.scenario.distributions.Distribution` puts on each kind's parameters (days)."""

JUDGEMENT_BOUNDS: dict[str, dict[str, dict[str, float]]] = {
    "normal": {"sd": POSITIVE},
    "lognormal": {"sigma": POSITIVE},
    "exponential": {"mean": POSITIVE},
    "gamma": {"shape": POSITIVE, "scale": POSITIVE},
    "beta": {"a": POSITIVE, "b": POSITIVE, "mean": {**POSITIVE, "exclusiveMaximum": 1}, "concentration": POSITIVE},
}
"""The bounds :class:`~sim.scenario.judgements.Uncertain` puts on parameters whatever the field."""

_SUPPORT_EXAMPLES: dict[str, dict[str, float]] = {
    "normal": {"mean": 0, "sd": 1},
    "lognormal": {"mu": 0, "sigma": 1},
    "exponential": {"mean": 1},
    "gamma": {"shape": 1, "scale": 1},
    "beta": {"a": 1, "b": 1},
}
"""One example of each kind whose draws' range does not depend on its parameters, to ask it that range."""

_RANGE_NAMES = {
    (0.0, 1.0, False): "Probability",
    (0.0, math.inf, False): "NonNegative",
    (0.0, math.inf, True): "Positive",
    (-math.inf, math.inf, False): "Number",
}


def _ref(name: str) -> dict[str, Any]:
    return {_MARK: name}


def _has(field: str) -> dict[str, Any]:
    """A field given, and not null."""
    return {"required": [field], "properties": {field: {"not": {"type": "null"}}}}


def _name(low: float, high: float, open_low: bool) -> str:
    """The name of the definition of a judgement of this range (``Probability``)."""
    name = _RANGE_NAMES.get((low, high, open_low)) or f"Judgement {_words(low, high, open_low)}".title()
    return "".join(c for c in name if c.isalnum())


def _words(low: float, high: float, open_low: bool) -> str:
    """A range in words: "within [0, 1]", "0 or more", "more than 0", "any number"."""
    if math.isinf(low) and math.isinf(high):
        return "any number"
    if math.isinf(high):
        return f"more than {low:g}" if open_low else f"{low:g} or more"
    return f"within [{low:g}, {high:g}]"


def _bounds(low: float, high: float, open_low: bool) -> dict[str, float]:
    out: dict[str, float] = {}
    if math.isfinite(low):
        out["exclusiveMinimum" if open_low else "minimum"] = low
    if math.isfinite(high):
        out["maximum"] = high
    return out


def _kinds(
    kinds: Mapping[str, tuple[tuple[str, ...], ...]],
    bounds: dict[str, dict[str, dict[str, float]]],
    description: str,
) -> dict[str, Any]:
    """A distribution object: ``dist`` names the kind, which takes exactly its parameters (one set of
    them, where a kind has two), each within its bounds."""
    names = [p for forms in kinds.values() for form in forms for p in form]
    properties: dict[str, Any] = {"dist": {"enum": list(kinds), "description": PARAMETER_TEXT["dist"]}}
    properties |= {p: {"type": "number", "description": PARAMETER_TEXT[p]} for p in dict.fromkeys(names)}
    cases = []
    for kind, forms in kinds.items():
        shapes = [{"required": list(form), "propertyNames": {"enum": ["dist", *form]}} for form in forms]
        then: dict[str, Any] = shapes[0] if len(shapes) == 1 else {"oneOf": shapes}
        if bounds.get(kind):
            then = {**then, "properties": copy.deepcopy(bounds[kind])}
        cases.append({"if": {"required": ["dist"], "properties": {"dist": {"const": kind}}}, "then": then})
    return {
        "type": "object",
        "description": description,
        "required": ["dist"],
        "properties": properties,
        "additionalProperties": False,
        "allOf": cases,
    }


def _within(low: float, high: float, open_low: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The kinds of judgement whose draws can all lie within the range, and their parameters' bounds."""
    kinds: dict[str, Any] = {}
    bounds: dict[str, dict[str, dict[str, float]]] = {}
    for kind, forms in judgements.PARAMETERS.items():
        if kind in _SUPPORT_EXAMPLES:
            lo, hi = Uncertain.model_validate({"dist": kind, **_SUPPORT_EXAMPLES[kind]}).support()
            if lo < low or hi > high or (open_low and lo <= low):
                continue
            bounds[kind] = JUDGEMENT_BOUNDS.get(kind, {})
        else:  # fixed, uniform, triangular: their draws lie between their parameters
            bounds[kind] = {p: _bounds(low, high, open_low) for form in forms for p in form}
        kinds[kind] = forms
    return kinds, bounds


def _distribution_of_days() -> dict[str, Any]:
    kinds = {kind: (params,) for kind, params in distributions.PARAMETERS.items()}
    return _kinds(kinds, DURATION_BOUNDS, "A distribution of days, drawn at each use.")


def _days() -> dict[str, Any]:
    return {"type": "number", "minimum": 0, "maximum": MAX_HORIZON, "description": "Days from calendar.start."}


_DEFINITIONS = {
    "Date": lambda: {
        "type": "string",
        "format": "date",
        "pattern": DATE_PATTERN,
        "description": "A date, YYYY-MM-DD.",
    },
    "DayOrDate": lambda: {
        "anyOf": [_days(), _ref("Date")],
        "description": f"Days from calendar.start (at most {MAX_HORIZON:,.0f}, a century), or a date (YYYY-MM-DD).",
    },
    "DistributionOfDays": _distribution_of_days,
    "Row": lambda: {
        "type": "object",
        "description": "A figure cited from a reference-class table (its row, such as R2, or R8.cancel for a "
        "row's named figure): the table given by --table, the top-level 'table', or the backtest library's.",
        "required": ["row"],
        "properties": {"row": {"type": "string", "pattern": CITATION_PATTERN, "description": "The row cited."}},
        "additionalProperties": False,
    },
}


class EditorSchema(GenerateJsonSchema):
    """pydantic's JSON Schema of negsim's models, with what their validators accept and refuse written in."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.extra: dict[str, dict[str, Any]] = {}
        """The definitions made here (judgements of each range), by name."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False  # the description says what a field is; "P" or "Cancel" as a title says nothing

    def function_before_schema(self, schema: core_schema.BeforeValidatorFunctionSchema) -> JsonSchemaValue:
        func = schema["function"]["function"]
        if func is _validator(DayOrDate):
            return _ref("DayOrDate")
        if func is _validator(Date):
            return _ref("Date")
        if func is _validator(Effect):
            return {
                "anyOf": [{"const": "block"}, {"type": "number", "minimum": 0}, self._judged(0.0, math.inf, False)],
                "description": "'block' (no agreement while the constraint is active), or a multiplier of the "
                "item's chance per round (0 or more, or a distribution drawn once per replication).",
            }
        return super().function_before_schema(schema)

    def tagged_union_schema(self, schema: core_schema.TaggedUnionSchema) -> JsonSchemaValue:
        choices = schema["choices"]
        if {JUDGEMENT_TAG, NUMBER_TAG} <= set(choices):
            number = _keywords(self.generate_inner(choices[NUMBER_TAG]))
            return self._judgement(number, by_regime=REGIME_TAG in choices)
        if set(choices) == {DIST_TAG, DAY_TAG}:
            return {"anyOf": [self.generate_inner(choices[DAY_TAG]), _ref("DistributionOfDays")]}
        out = super().tagged_union_schema(schema)
        if callable(schema["discriminator"]):  # the choices may overlap: any one may match
            out["anyOf"] = out.pop("oneOf")
        return out

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        cls = schema["cls"]
        if cls is Distribution:
            return {
                "anyOf": [
                    {"type": "number", "minimum": 0, "maximum": MAX_DAYS, "description": "A fixed number of days."},
                    _ref("DistributionOfDays"),
                ],
                "description": "A number of days, or a distribution of days drawn at each use.",
            }
        out = super().model_schema(schema)
        _refine(cls, out)
        return out

    def dict_schema(self, schema: core_schema.DictSchema) -> JsonSchemaValue:
        out = super().dict_schema(schema)
        if "patternProperties" in out:  # a key that is not a valid name is an error, not a free-form key
            out.setdefault("additionalProperties", False)
        return out

    def _judgement(self, number: dict[str, Any], by_regime: bool) -> dict[str, Any]:
        """A judgement of the number's range: the number, a distribution drawn once per replication whose
        draws all lie in that range, or (``by_regime``) one of those per state of the regime."""
        low, high, open_low = _range(number)
        name = _name(low, high, open_low)
        words = _words(low, high, open_low)
        choices = [number, self._judged(low, high, open_low)]
        if by_regime:
            choices.append(_ref(f"{name}ByRegime"))
            self.extra[f"{name}ByRegime"] = {
                "type": "object",
                "description": "One value per state of the scenario's regime.",
                "required": ["regime"],
                "properties": {
                    "regime": {
                        "type": "object",
                        "description": f"Each state of the regime, and the value ({words}) in it.",
                        "minProperties": 1,
                        "propertyNames": {"pattern": SLUG_PATTERN},
                        "additionalProperties": {"anyOf": choices[:2]},
                    }
                },
                "additionalProperties": False,
            }
        self.extra[name] = {
            "anyOf": choices,
            "description": f"A number ({words}); or a distribution drawn once per replication, all of whose draws "
            f"are {words}" + ("; or one of those per state of the regime." if by_regime else "."),
        }
        return _ref(name)

    def _judged(self, low: float, high: float, open_low: bool) -> dict[str, Any]:
        """A reference to the distribution objects whose draws all lie within the range."""
        name = _name(low, high, open_low) + "Distribution"
        kinds, bounds = _within(low, high, open_low)
        self.extra[name] = _kinds(
            kinds,
            bounds,
            f"A distribution drawn once per replication, all of whose draws are {_words(low, high, open_low)}.",
        )
        return _ref(name)


def _validator(alias: Any) -> Any:
    """The function of the BeforeValidator of an ``Annotated`` type (what its core schema calls)."""
    return next(m.func for m in alias.__metadata__ if hasattr(m, "func"))


def _range(number: dict[str, Any]) -> tuple[float, float, bool]:
    """The range a number schema allows: (low, high, whether low itself is excluded)."""
    if "exclusiveMinimum" in number:
        low, open_low = float(number["exclusiveMinimum"]), True
    else:
        low, open_low = float(number.get("minimum", -math.inf)), False
    return low, float(number.get("maximum", math.inf)), open_low


_KEYWORDS = {"ge": "minimum", "gt": "exclusiveMinimum", "le": "maximum", "lt": "exclusiveMaximum"}


def _keywords(node: dict[str, Any]) -> dict[str, Any]:
    """A number schema with pydantic's names of bounds (``ge``, which it writes where a validator runs
    before the bound) as JSON Schema keywords (``minimum``), which editors understand."""
    if node.get("type") not in ("number", "integer"):
        return node
    return {_KEYWORDS.get(k, k): v for k, v in node.items()}


def _refine(cls: type[BaseModel], out: dict[str, Any]) -> None:
    """What a model's validators check between its fields, where JSON Schema can say it."""
    props = out.get("properties", {})
    if cls is Item:
        out["oneOf"] = [_has("p"), _has("accept")]  # p or accept, not both
        props["accept"]["minProperties"] = 1
    elif cls is Lift:
        out["allOf"] = [{"if": _has("reviews"), "then": _has("p")}, {"if": _has("p"), "then": _has("reviews")}]
        agreed = {"required": ["when_agreed"], "properties": {"when_agreed": {"type": "array", "minItems": 1}}}
        out["anyOf"] = [_has("reviews"), _has("rate"), _has("on"), agreed]
    elif cls is Event:
        out["anyOf"] = [_has("rate"), _has("dates")]
    elif cls is Calendar:
        _also(props["horizon"], {"exclusiveMinimum": 0})  # a number of days: more than 0
    elif cls is Rounds:  # more than 0 days on average
        more = [
            {
                "if": {"required": ["dist"], "properties": {"dist": {"enum": kinds}}},
                "then": {"properties": {key: {"exclusiveMinimum": 0}}},
            }
            for kinds, key in ((["fixed"], "value"), (["uniform", "triangular"], "high"))
        ]
        _also(props["interval"], {"exclusiveMinimum": 0, "allOf": more})
    elif cls is Scenario:
        props["table"] = {
            "type": "string",
            "description": "The reference-class table that this file's {row: R} citations come from: a path, "
            "relative to this file (--table on the command line takes precedence).",
        }


def _also(field: dict[str, Any], more: dict[str, Any]) -> None:
    """Add checks to a field that refers to a definition, in place, beside the reference rather than as
    its siblings (which draft-07 validators, as in most editors, ignore)."""
    ref = {k: field.pop(k) for k in ("$ref", _MARK) if k in field}
    field["allOf"] = [ref, more]


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every mapping in a schema, outermost first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes(value)


def _resolve(schema: dict[str, Any], extra: dict[str, dict[str, Any]]) -> None:
    """Turn the stand-ins of definitions into ``$ref`` and add the definitions used, in place."""
    defs = schema.setdefault("$defs", {})
    pending = [schema]
    while pending:
        for node in list(_nodes(pending.pop())):
            name = node.pop(_MARK, None)
            if name is None:
                continue
            node["$ref"] = f"#/$defs/{name}"
            if name not in defs:
                defs[name] = extra[name] if name in extra else _DEFINITIONS[name]()
                pending.append(defs[name])
    schema["$defs"] = dict(sorted(defs.items()))


ROW = {"$ref": "#/$defs/Row"}


def _cite_rows(node: Any, chosen: bool = False) -> None:
    """Allow ``{row: R}`` wherever a number may stand, in place (a table's figure replaces it before
    the file is checked). ``chosen``: the node is one choice of an ``anyOf``, which gets the row."""
    if isinstance(node, list):
        for value in node:
            _cite_rows(value)
        return
    if not isinstance(node, dict):
        return
    if _is_number(node) and not chosen:
        annotations = {k: node.pop(k) for k in ("description", "default") if k in node}
        number = dict(node)
        node.clear()
        node.update({"anyOf": [number, dict(ROW)], **annotations})
    for key, value in node.items():
        if key in ("anyOf", "oneOf") and isinstance(value, list):
            if any(_is_number(o) for o in value) and ROW not in value:
                value.append(dict(ROW))
            for option in value:
                _cite_rows(option, chosen=True)
        else:
            _cite_rows(value)


def _is_number(node: Any) -> bool:
    return isinstance(node, dict) and node.get("type") in ("number", "integer") and "const" not in node


def json_schema(model: type[BaseModel], title: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the files a model reads, for editors; a scenario's also takes
    ``{row: R}`` citations and a top-level ``table``."""
    generator = EditorSchema(by_alias=True)
    core: CoreSchema = model.__pydantic_core_schema__
    schema = generator.generate(core, mode="validation")
    _resolve(schema, generator.extra)
    for node in _nodes(schema):
        fixed = _keywords(node)
        if fixed is not node:
            node.clear()
            node.update(fixed)
    if model is Scenario:
        _cite_rows(schema)
        schema["$defs"]["Row"] = _DEFINITIONS["Row"]()
    for node in _nodes(schema):
        if isinstance(node.get("description"), str):  # docstrings to plain text: one line, `code` in Markdown's way
            node["description"] = " ".join(node["description"].split()).replace("``", "`")
    if not schema["$defs"]:
        del schema["$defs"]
    return {"$schema": DIALECT, **schema, "title": title}
