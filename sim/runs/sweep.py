"""Parameter sweeps: which numbers vary, over which values, in which design.

A parameter is a dotted path to a number of the scenario as run (``items.flights.p``,
``rounds.interval.mode``, ``items.staffing.accept.us``). Values are a list (``0.1,0.2,0.4``) or a
range (``0.1:0.5:5``: five points, both ends included). Designs: ``grid`` (every combination),
``lhs`` (a Latin hypercube of ``samples`` points over each parameter's range, scipy.stats.qmc),
``oat`` (one at a time around the scenario as written) and ``sobol`` (Saltelli's design of
``samples`` rows for Sobol' indices, :mod:`sim.results.sobol`). For ``lhs`` and ``sobol`` an
uncertain judgement may be swept over its own distribution (``PATH=prior``) instead of a range.
Every point is built and validated before anything runs.

A point sets only the paths it lists; every other number stays as the scenario writes it, and a
judgement written as a distribution stays drawn from it, replication by replication, exactly as
``negsim run`` draws it. So the sweep's baseline (the tornado's centre, the heat map's mark, the
reference beside a line) is the forecast the user ran: ``oat`` begins with the scenario as written
(point 0, which sets nothing) and moves one path at a time from it, and a ``grid`` none of whose
points is the scenario as written (a swept judgement is a distribution, or its own value is off
the grid) ends with it as one more point. Fixing a judgement at its mean is not the same forecast:
the chance of agreement is not linear in the judgement.
"""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, WithJsonSchema

from sim.engine.plan import compile_plan
from sim.errors import UserError, did_you_mean
from sim.results import sobol
from sim.results.sweepfolder import parse_metric, sweep_horizon
from sim.scenario.checks import check_document
from sim.scenario.documents import MAX_FILE_BYTES, Document
from sim.scenario.judgements import JUDGEMENT_TAG, NUMBER_TAG, Uncertain
from sim.scenario.load import TableSource, load_model, load_scenario
from sim.scenario.models import MAX_REPLICATIONS, MAX_SEED, Scenario
from sim.scenario.numbers import Number, Whole
from sim.scenario.paths import is_integer_path, numeric_paths, scenario_data, set_paths, settable, written_number

Design = Literal["grid", "lhs", "oat", "sobol"]
PRIOR = "prior"
"""The values of a judgement swept over its own distribution (``--set items.flights.p=prior``)."""
PRIOR_RANGE = (0.001, 0.999)
"""The quantiles that stand for a prior's range where one is shown (sweep.yaml, figures)."""
MAX_POINTS = 100_000


@dataclass(frozen=True)
class Parameter:
    """One swept number: its path and the values it takes (for lhs, the range's ends)."""

    path: str
    values: tuple[float, ...]
    prior: bool = False
    """Drawn from the judgement's own distribution (``PATH=prior``; ``values``: its 0.1% and 99.9% quantiles)."""


@dataclass(frozen=True)
class Point:
    """One point of a sweep: its index, the values it sets (a swept path it leaves out keeps the
    scenario's own value, as written), and the scenario it makes: validated when the sweep is
    expanded, and made again each time it is asked for (1.4 ms), so that a sweep of any number of
    points does not hold a scenario for each (34 KB)."""

    index: int
    values: dict[str, float]
    base: dict[str, Any] = field(repr=False, compare=False)
    """The base scenario's data, shared by every point."""
    seed: int | None = None
    """The point's own seed (the sobol design), or None for the sweep's."""

    @property
    def scenario(self) -> Scenario:
        values = self.values if self.seed is None else {**self.values, "simulation.seed": self.seed}
        s, _ = check_document(Document(f"point {self.index}", set_paths(self.base, values), {}))
        assert s is not None  # validated when the point was made
        return s


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"{what}: '{text}' is not a number") from None
    if not math.isfinite(value):
        raise UserError(f"{what}: '{text}' is not a finite number")
    return value


def parse_values(text: str, what: str = "--set") -> tuple[float, ...]:
    """``0.1,0.2,0.4`` or ``0.1:0.5:5`` (five points from 0.1 to 0.5, both ends included)."""
    text = text.strip()
    if not text:
        raise UserError(f"{what}: no values given")
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise UserError(f"{what}: a range is FROM:TO:POINTS, such as 0.1:0.5:5, not '{text}'")
        low, high = _number(parts[0], what), _number(parts[1], what)
        try:
            count = int(parts[2])
        except ValueError:
            raise UserError(f"{what}: the number of points in '{text}' must be a whole number") from None
        if count < 2:
            raise UserError(f"{what}: a range needs at least 2 points, not {count}")
        if count > MAX_POINTS:
            raise UserError(f"{what}: at most {MAX_POINTS:,} points")
        # Rounded to 12 significant digits so that 0.1:0.5:3 gives 0.3, not 0.30000000000000004.
        return tuple(float(f"{low + (high - low) * i / (count - 1):.12g}") for i in range(count))
    return tuple(_number(v, what) for v in text.split(","))


def parse_set(text: str) -> Parameter:
    """``PATH=VALUES`` from the command line."""
    if "=" not in text:
        raise UserError(f"--set: expected PATH=VALUES, such as items.flights.p=0.1,0.2,0.4, not '{text}'")
    path, values = text.split("=", 1)
    path = path.strip()
    if values.strip() == PRIOR:
        return Parameter(path, (), prior=True)
    return Parameter(path, parse_values(values, f"--set {path}"))


# ---------------------------------------------------------------------- paths in a scenario


def check_paths(s: Scenario, parameters: list[Parameter], where: dict[str, str] | None = None) -> None:
    """Every path must address a number of the scenario; else exit 2 with the nearest valid paths.

    ``where`` tells, for each path, where it was given (``--set x`` or ``study.yaml:4: parameters.x``).
    """
    data = scenario_data(s)
    valid = [v for v in numeric_paths(data) if not v.startswith("simulation.")]
    bad = []
    for p in parameters:
        given = (where or {}).get(p.path, f"--set {p.path}")
        if p.path.startswith("simulation."):
            bad.append(
                f"{given}: cannot be swept: every point of a sweep runs the same replications with the same seed "
                "(that is what pairs the points); give -n or --seed (or replications: / seed: in a study file)"
            )
            continue
        if not settable(data, p.path):
            near = difflib.get_close_matches(p.path, valid, n=3, cutoff=0.5)
            hint = f"; nearest valid paths: {', '.join(near)}" if near else did_you_mean(p.path, valid)
            bad.append(f"{given}: not a number in the scenario{hint}")
    if bad:
        raise UserError("\n".join(bad))


# ---------------------------------------------------------------------- designs


def design_points(
    parameters: list[Parameter],
    design: Design,
    base: dict[str, float],
    samples: int | None,
    seed: int,
    priors: dict[str, Uncertain] | None = None,
) -> list[dict[str, float]]:
    """The values each point sets, in a fixed order. ``base`` holds the plain numbers the scenario
    writes at swept paths (none for a distribution or an unset field). ``oat`` begins with the
    scenario as written (a point that sets nothing) and then sets one path at a time, leaving out a
    value equal to the plain number already there (that point would be the first one again). For
    ``lhs`` and ``sobol``, the unit cube is scaled to each parameter's range, or taken through a
    judgement's inverse CDF where it is swept over its own distribution (``priors``)."""
    paths = [p.path for p in parameters]
    if design == "grid":
        count = math.prod(len(p.values) for p in parameters)
        if count > MAX_POINTS:
            raise UserError(f"the grid has {count:,} points; at most {MAX_POINTS:,}")
        return [dict(zip(paths, combo, strict=True)) for combo in itertools.product(*(p.values for p in parameters))]
    if design == "oat":
        points: list[dict[str, float]] = [{}]
        for p in parameters:
            for v in p.values:
                if v != base.get(p.path):
                    points.append({p.path: v})
        return points
    if samples is None:
        raise UserError(
            f"--design {design} needs --samples K"
            + (" (the base sample size: the sweep runs K x (parameters + 3) points)" if design == "sobol" else "")
        )
    if design == "sobol":
        count = samples * len(sobol.blocks(paths))
        if count > MAX_POINTS:
            raise UserError(
                f"--samples {samples}: the sobol design would have {count:,} points; at most {MAX_POINTS:,}"
            )
        unit = sobol.unit_design(len(parameters), samples, seed)
    else:
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(parameters), seed=seed % 2**32).random(samples)
    columns = []
    for j, p in enumerate(parameters):
        if priors and p.path in priors:
            column = priors[p.path].ppf(np.clip(unit[:, j], 1e-12, 1 - 1e-12))
        else:
            low, high = min(p.values), max(p.values)
            column = low + unit[:, j] * (high - low) if high > low else np.full(unit.shape[0], low)
        columns.append(column)
    out = []
    for row in zip(*columns, strict=True):
        point = {}
        for p, v in zip(parameters, row, strict=True):
            value = float(v)
            if is_integer_path(p.path, base):
                value = float(round(value))
            point[p.path] = value
        out.append(point)
    return out


def written_values(s: Scenario, parameters: list[Parameter]) -> dict[str, float]:
    """The plain number the scenario writes at each swept path, where it writes one (a judgement
    drawn from a distribution, and an unset field, have none: no number reproduces them)."""
    data = scenario_data(s)
    out: dict[str, float] = {}
    for p in parameters:
        value = written_number(data, p.path)
        if value is not None:
            out[p.path] = value
    return out


def is_as_written(values: dict[str, float], written: dict[str, float]) -> bool:
    """Whether a point's values make the scenario as written: each one it sets is already there."""
    return all(path in written and written[path] == v for path, v in values.items())


def build_points(
    s: Scenario,
    parameters: list[Parameter],
    design: Design,
    samples: int | None,
    where: dict[str, str] | None = None,
    priors: dict[str, Uncertain] | None = None,
    seeds: list[int] | None = None,
) -> list[Point]:
    """Every point's scenario, validated; all problems of all points reported at once. ``seeds``
    gives each point a seed of its own (the sobol design); otherwise every point has the sweep's."""
    check_paths(s, parameters, where)
    base = written_values(s, parameters)
    raw = design_points(parameters, design, base, samples, s.simulation.seed, priors)
    if design == "grid" and not any(is_as_written(values, base) for values in raw):
        raw.append({})  # the baseline, run as `negsim run` runs it
    data = scenario_data(s)
    points: list[Point] = []
    problems: list[str] = []
    for i, values in enumerate(raw):
        extra = {"simulation.seed": seeds[i]} if seeds is not None else {}
        d = set_paths(data, {**values, **extra})
        label = ", ".join(f"{k}={_fmt(v)}" for k, v in values.items()) or "the scenario as written"
        scenario, found = check_document(Document(f"point {i} ({label})", d, {}))
        if found or scenario is None:
            for p in found:
                origin = (where or {}).get(p.path, "")
                at = origin.split(": parameters.")[0] + ": " if ": parameters." in origin else ""
                problems.append(f"{at}point {i} ({label}): {p.path}: {p.message}")
            continue
        points.append(Point(i, values, data, None if seeds is None else seeds[i]))
    if problems:
        raise UserError("\n".join(problems))
    return points


def _fmt(v: float) -> str:
    return f"{v:g}"


# ---------------------------------------------------------------------- sweep files


def _values_field(value: Any) -> Any:
    try:
        return _values(value)
    except UserError as exc:
        raise ValueError(str(exc).removeprefix("values: ")) from None


VALUES_FORMS = (
    "a number, a list of numbers, a range FROM:TO:POINTS, {from: X, to: Y, points: N}, or prior (a judgement's "
    "own distribution, for lhs and sobol)"
)


def _values(value: Any) -> Any:
    """A study file's values: numbers stay numbers; text is only a range (``0:2:3``), never a
    number written as text (``"0.5"``), which YAML would have read as a number had it been one."""
    if isinstance(value, str):
        if value.strip() == PRIOR:
            return value.strip()
        if ":" not in value:
            raise ValueError(f"must be {VALUES_FORMS}, not the text '{value[:40]}'")
        return list(parse_values(value, "values"))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [value]
    if isinstance(value, dict):
        extra = set(value) - {"from", "to", "points"}
        if extra or not {"from", "to", "points"} <= set(value):
            raise ValueError("a range is {from: X, to: Y, points: N}")
        ends = (value["from"], value["to"])
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in ends):
            raise ValueError("a range's from and to must be numbers")
        if isinstance(value["points"], bool) or not isinstance(value["points"], int):
            raise ValueError("a range's points must be a whole number")
        return list(parse_values(f"{ends[0]}:{ends[1]}:{value['points']}", "values"))
    if not isinstance(value, list):  # a list's entries are checked one by one, each located
        raise ValueError(f"must be {VALUES_FORMS}")
    return value


_NUMBER = r"\s*[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\s*"
RANGE_PATTERN = rf"^{_NUMBER}:{_NUMBER}:\s*\+?0*(?:[2-9]|[1-9][0-9]{{1,4}}|100000)\s*$"
"""FROM:TO:POINTS as :func:`parse_values` reads it: two numbers and 2 to 100,000 points."""

VALUES_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "number", "description": "One value."},
        {"type": "array", "items": {"type": "number"}, "minItems": 1, "description": "A list of values."},
        {
            "type": "string",
            "pattern": RANGE_PATTERN,
            "description": "A range FROM:TO:POINTS, such as 0.1:0.5:5 (five points, both ends included).",
        },
        {
            "const": PRIOR,
            "description": "The judgement's own distribution, as the scenario writes it (designs lhs and sobol).",
        },
        {
            "type": "object",
            "description": "A range: POINTS values from FROM to TO, both ends included.",
            "required": ["from", "to", "points"],
            "properties": {
                "from": {"type": "number", "description": "The first value."},
                "to": {"type": "number", "description": "The last value."},
                "points": {
                    "type": "integer",
                    "minimum": 2,
                    "maximum": MAX_POINTS,
                    "description": "How many values, both ends included.",
                },
            },
            "additionalProperties": False,
        },
    ],
    "description": f"The values of a parameter: {VALUES_FORMS}.",
}
"""The forms :func:`_values` reads, for editors (``negsim schema study``)."""


def _values_kind(value: Any) -> str:
    return JUDGEMENT_TAG if value == PRIOR else NUMBER_TAG  # tags that located messages leave out


Values = Annotated[
    Annotated[Annotated[list[Number], Field(min_length=1)], Tag(NUMBER_TAG)]
    | Annotated[Literal["prior"], Tag(JUDGEMENT_TAG)],
    Discriminator(_values_kind),
    BeforeValidator(_values_field),
    WithJsonSchema(VALUES_SCHEMA),
]


class SweepFile(BaseModel):
    """``--sweep study.yaml``: a longer study than fits on the command line."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, use_attribute_docstrings=True)

    design: Design = "grid"
    """Which points: grid (every combination), lhs (a Latin hypercube of ``samples`` points), oat (the
    scenario as written, then one parameter at a time from it) or sobol (Saltelli's design of ``samples``
    rows, for Sobol indices: ``samples`` x (parameters + 3) points)."""
    samples: Annotated[Whole, Field(ge=1, le=MAX_POINTS)] | None = None
    """The number of points of a Latin hypercube, or of rows of a sobol design (designs lhs and sobol only)."""
    replications: Annotated[Whole, Field(ge=1, le=MAX_REPLICATIONS)] | None = None
    """Replications at each point (default: the scenario's)."""
    seed: Annotated[Whole, Field(ge=0, le=MAX_SEED)] | None = None
    """The seed of every point (default: the scenario's): the same at every point, which pairs them (a
    sobol design derives a seed per row from it)."""
    metric: Annotated[str, Field(json_schema_extra={"pattern": "^(?:p_agreed|median_day|p_by:.+)$"})] | None = None
    """A metric the sweep's figures show as well as p_agreed (the chance of agreement by the horizon):
    median_day, or p_by:YYYY-MM-DD (or p_by:DAYS)."""
    parameters: Annotated[
        dict[str, Values],
        Field(min_length=1, json_schema_extra={"propertyNames": {"not": {"pattern": "^simulation[.]"}}}),
    ]
    """Each swept number, by its path in the scenario (``items.flights.p``; ``negsim sweep SCENARIO
    --list-paths`` lists them), and its values; simulation.* cannot be swept."""


def load_sweep_file(path: str | os.PathLike[str], max_bytes: int = MAX_FILE_BYTES) -> tuple[SweepFile, Document]:
    """A study file, checked on its own: its fields, and a metric negsim can draw."""
    study, doc = load_model(path, SweepFile, "sweep file", "'parameters'", max_bytes=max_bytes)
    if study.metric is not None:
        parse_metric(study.metric, dt.date(2000, 1, 1), where=metric_field(path, doc))
    return study, doc


def metric_field(path: str | os.PathLike[str], doc: Document) -> str:
    """Where a study file's metric is, as messages name it: ``FILE:LINE: metric:``."""
    return f"{path}:{doc.line(('metric',))}: metric:"


@dataclass(frozen=True)
class SweepSpec:
    """A sweep, expanded: the base scenario, the parameters, the design and every point."""

    scenario_file: str
    base: Scenario
    parameters: tuple[Parameter, ...]
    design: Design
    samples: int | None
    points: tuple[Point, ...]
    metric: str | None = None
    priors: dict[str, str] | None = None
    """The judgements swept over their own distributions (path: the distribution as written)."""
    seeds: tuple[int, ...] | None = None
    """Each point's seed, where points have seeds of their own (the sobol design)."""

    def describe(self) -> dict[str, Any]:
        """What ``sweep.yaml`` holds: enough to see, and to check on ``--resume``, what was run."""
        out: dict[str, Any] = {
            "scenario": self.base.name,
            "scenario_file": self.scenario_file,
            "design": self.design,
            "samples": self.samples,
            "replications": self.base.simulation.replications,
            "seed": self.base.simulation.seed,
            "parameters": {p.path: list(p.values) for p in self.parameters},
        }
        if self.priors:
            out["priors"] = dict(self.priors)
        if self.design == "sobol":
            out["sobol"] = {
                "samples": self.samples,
                "blocks": sobol.blocks([p.path for p in self.parameters]),
                "streams": "row j of A and of every AB share a seed; B and R rows have their own (seeds, per point)",
            }
        out["points"] = [{"point": pt.index, **pt.values} for pt in self.points]
        if self.seeds is not None:
            out["seeds"] = list(self.seeds)
        return out


def make_spec(
    scenario_file: str | os.PathLike[str],
    sets: list[str],
    *,
    sweep_file: str | None = None,
    design: Design | None = None,
    samples: int | None = None,
    replications: int | None = None,
    seed: int | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    table: TableSource = None,
) -> SweepSpec:
    """Read the scenario and the sweep (``--set`` and/or ``--sweep``), build and check every point."""
    s = load_scenario(scenario_file, max_bytes=max_bytes, table=table)
    params: dict[str, Parameter] = {}
    where: dict[str, str] = {}
    study = None
    if sweep_file:
        study, doc = load_sweep_file(sweep_file, max_bytes)
        for path, values in study.parameters.items():
            params[path] = (
                Parameter(path, (), prior=True) if isinstance(values, str) else Parameter(path, tuple(values))
            )
            where[path] = f"{sweep_file}:{doc.line(('parameters', path))}: parameters.{path}"
    given: set[str] = set()
    for text in sets:
        p = parse_set(text)
        if p.path in given:
            raise UserError(f"--set {p.path}: given twice; give all its values at once (--set {p.path}=A,B,C)")
        given.add(p.path)
        params[p.path] = p
        where[p.path] = f"--set {p.path}"
    if not params:
        raise UserError("nothing to sweep: give --set PATH=VALUES or --sweep FILE")
    chosen_design: Design = design or (study.design if study else "grid")
    chosen_samples = samples or (study.samples if study else None)
    if chosen_samples is not None and chosen_design not in ("lhs", "sobol"):
        raise UserError(
            f"--samples is the size of a Latin hypercube or a sobol design; it needs --design lhs or sobol "
            f"(not {chosen_design})"
        )
    update = {
        "replications": replications or (study.replications if study else None),
        "seed": seed if seed is not None else (study.seed if study else None),
    }
    update = {k: v for k, v in update.items() if v is not None}
    if update:
        s = s.with_values(simulation={**s.simulation.model_dump(), **update})
    parameters, priors = with_priors(s, list(params.values()), chosen_design, where)
    seeds = None
    if chosen_design == "sobol" and chosen_samples is not None:
        seeds = sobol.point_seeds(s.simulation.seed, [p.path for p in parameters], chosen_samples)
    points = build_points(s, parameters, chosen_design, chosen_samples, where, priors, seeds)
    if study is not None and study.metric is not None and sweep_file:  # a date within the run, before any runs
        parse_metric(
            study.metric, s.calendar.start, sweep_horizon(s, [p.values for p in points]), metric_field(sweep_file, doc)
        )
    return SweepSpec(
        scenario_file=str(Path(scenario_file)),
        base=s,
        parameters=tuple(parameters),
        design=chosen_design,
        samples=chosen_samples,
        points=tuple(points),
        metric=study.metric if study else None,
        priors={path: judged.describe() for path, judged in priors.items()} or None,
        seeds=None if seeds is None else tuple(seeds),
    )


def with_priors(
    s: Scenario, parameters: list[Parameter], design: Design, where: dict[str, str]
) -> tuple[list[Parameter], dict[str, Uncertain]]:
    """The parameters with each ``prior`` one given its distribution's range (0.1% to 99.9%), and
    those distributions; ``prior`` is refused for a number that is not an uncertain judgement, and
    outside the lhs and sobol designs (a grid or OAT needs values)."""
    judged = dict(compile_plan(s).judgements)
    out: list[Parameter] = []
    priors: dict[str, Uncertain] = {}
    for p in parameters:
        if not p.prior:
            out.append(p)
            continue
        given = where.get(p.path, f"--set {p.path}")
        if design not in ("lhs", "sobol"):
            raise UserError(f"{given}: prior draws from the judgement's distribution: use --design lhs or sobol")
        if p.path not in judged:
            raise UserError(
                f"{given}: prior sweeps a judgement over its own distribution, but {p.path} is not written as "
                f"a distribution in the scenario; give a range instead (FROM:TO:2)"
                + (f"; the scenario's judgements: {', '.join(judged)}" if judged else "")
            )
        dist = judged[p.path]
        ends = dist.ppf(np.array(PRIOR_RANGE))
        out.append(Parameter(p.path, (round(float(ends[0]), 9), round(float(ends[1]), 9)), prior=True))
        priors[p.path] = dist
    return out, priors
