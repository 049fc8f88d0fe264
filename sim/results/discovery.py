"""Scenario discovery (``negsim discover``): which judgements decide an item, as a box of their values.

The points are a run's replications, each with its draw of every uncertain judgement
(``parameters.parquet``) and its outcome (the item agreed by the horizon or by a date, or not), or a
sweep's points (Latin hypercube, Sobol or grid), each with its swept values and its chance of the
outcome. PRIM (:mod:`sim.results.prim`) finds the box; this module says it in words, with the
scenario's own titles, and keeps it as ``discover.json``, ``boxes.csv`` and ``trajectory.csv``. The
terminal, the report and the notebook all read the words from here, so they say the same thing.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.engine.plan import judgement_paths
from sim.engine.streams import stream_key
from sim.errors import UserError, did_you_mean
from sim.results import prim
from sim.results.atomic import write_text
from sim.results.files import csv_text, json_text, read_json
from sim.results.folder import RunResults
from sim.results.stats import Z95, wilson
from sim.results.sweepfolder import SweepResults, metric_values, parse_metric
from sim.scenario.models import Scenario
from sim.scenario.titles import field_title, item_title

FILES = ("discover.json", "boxes.csv", "trajectory.csv")


@dataclass(frozen=True)
class Inputs:
    """The points PRIM works on: ``x`` (points x judgements), ``y`` (each point's outcome, 0/1 for
    replications, a chance for sweep points), and what they are."""

    scenario: Scenario
    source: str
    kind: str
    """``run`` or ``sweep``."""
    paths: list[str]
    x: np.ndarray
    y: np.ndarray
    item: str
    by: str
    """The date the outcome is counted by (the horizon's unless asked)."""
    negated: bool
    seed: int


def outcome_day(s: Scenario, by: str | None) -> tuple[float, str]:
    """The day and date of ``--by DATE`` (the horizon without it); a date outside the run is refused."""
    if by is None:
        return s.horizon, s.date(s.horizon).isoformat()
    try:
        date = dt.date.fromisoformat(by.strip())
    except ValueError:
        raise UserError(f"--by {by}: give a date, YYYY-MM-DD") from None
    day = float((date - s.calendar.start).days)
    end = s.date(s.horizon).isoformat()
    if day < 0 or day > s.horizon:
        raise UserError(
            f"--by {by}: outside the run ({s.calendar.start.isoformat()} to {end}); give a date up to the horizon"
        )
    return day, date.isoformat()


def _item(s: Scenario, item: str) -> None:
    if item not in s.items:
        raise UserError(f"--item {item}: no such item{did_you_mean(item, list(s.items))}; items: {', '.join(s.items)}")


def run_inputs(res: RunResults, item: str, by: str | None = None, negated: bool = False) -> Inputs:
    """A run's replications: each one's judgement draws and whether it saw the item agreed by the date."""
    s = res.scenario
    _item(s, item)
    paths = judgement_paths(s)
    where = str(res.folder) if res.folder is not None else s.name
    if not paths:
        raise UserError(
            f"{where}: the scenario has no uncertain judgement (no parameters.parquet), so nothing varies "
            "between replications but chance; write judgements as distributions, or discover on a sweep"
        )
    day, date = outcome_day(s, by)
    rec = res.records
    days = rec.item_day[:, list(s.items).index(item)]
    hit = np.nan_to_num(days, nan=np.inf) <= day
    y = (~hit if negated else hit).astype(float)
    return Inputs(s, where, "run", paths, np.asarray(rec.parameters, float), y, item, date, negated, s.simulation.seed)


def sweep_inputs(sw: SweepResults, item: str, by: str | None = None, negated: bool = False) -> Inputs:
    """A sweep's points that ran and set every swept path: their values and their chance of the outcome."""
    s = sw.base
    _item(s, item)
    if sw.design == "oat":
        raise UserError(
            f"{sw.folder}: a one-at-a-time sweep moves one value at a time, so it has no boxes to find; "
            "discover on a Latin hypercube (--design lhs) or sobol sweep, or on a run with uncertain judgements"
        )
    _, date = outcome_day(s, by)
    metric = parse_metric(None if by is None else f"p_by:{date}", s.calendar.start)
    idx, p, _, _ = metric_values(sw, metric)[item]
    full = np.array([sw.is_full(int(i)) for i in idx], bool)  # not a grid's added baseline, which sets nothing
    idx, p = idx[full], p[full]
    by_point = {int(pt["point"]): pt for pt in sw.described["points"]}
    x = np.array([[float(by_point[int(i)][path]) for path in sw.parameters] for i in idx]).reshape(idx.size, -1)
    y = 1 - p if negated else p
    return Inputs(s, str(sw.folder), "sweep", list(sw.parameters), x, y, item, date, negated, int(sw.described["seed"]))


def _r(v: float, digits: int = 6) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), digits)


def _bound(v: float) -> float | None:
    return None if not math.isfinite(v) else round(float(v), 6)


def _interval(inp: Inputs, box: prim.Box) -> tuple[float, float]:
    """95% interval of the box's density: Wilson's for replications, a normal one for points' chances."""
    if box.count == 0:
        return (math.nan, math.nan)
    if inp.kind == "run":
        return wilson(round(box.density * box.count), box.count)
    inside = inp.y[box.contains(inp.x)]
    se = float(inside.std(ddof=1)) / math.sqrt(inside.size) if inside.size > 1 else math.nan
    return (box.density - Z95 * se, box.density + Z95 * se)


def find(
    inp: Inputs,
    *,
    box: int | None = None,
    resamples: int = prim.RESAMPLES,
    shuffles: int = prim.SHUFFLES,
    alpha: float = prim.ALPHA,
    min_mass: float = prim.MIN_MASS,
) -> dict[str, Any]:
    """PRIM on the inputs, said in words: everything ``discover.json`` holds."""
    if inp.y.size == 0 or inp.y.sum() <= 0:
        what = "never" if not inp.negated else "always"
        raise UserError(f"{inp.source}: {inp.item} is {what} agreed by {inp.by} there: no outcome to find a box for")
    boxes = prim.peel(inp.x, inp.y, alpha, min_mass)
    if box is not None and not 0 <= box < len(boxes):
        raise UserError(f"--box {box}: the peeling trajectory has boxes 0 to {len(boxes) - 1}")
    chosen = prim.choose(boxes) if box is None else box
    found = prim.prune(inp.x, inp.y, prim.paste(inp.x, inp.y, boxes[chosen]))
    seed = (inp.seed ^ stream_key(f"discover/{inp.item}")) % 2**63
    stable = prim.stability(inp.x, inp.y, seed, resamples, shuffles, alpha=alpha, min_mass=min_mass)
    s = inp.scenario
    low, high = _interval(inp, found)
    restrictions = []
    for j in found.restricted():
        less = prim.without(inp.x, inp.y, found, j)
        restrictions.append(
            {
                "path": inp.paths[j],
                "title": field_title(s, inp.paths[j]),
                "low": _bound(found.low[j]),
                "high": _bound(found.high[j]),
                "density_without": _r(less.density),
                "coverage_without": _r(less.coverage),
                "resampled": _r(float(stable.restricted[j]), 4),
                "low_range": [_r(v) for v in stable.low[j]],
                "high_range": [_r(v) for v in stable.high[j]],
            }
        )
    data: dict[str, Any] = {
        "format": 1,
        "source": {
            "folder": inp.source,
            "kind": inp.kind,
            "scenario": s.name,
            "title": s.title or s.name,
            "seed": inp.seed,
        },
        "unit": "replications" if inp.kind == "run" else "points",
        "count": int(inp.y.size),
        "item": inp.item,
        "item_title": item_title(s, inp.item),
        "by": inp.by,
        "negated": inp.negated,
        "base": _r(float(inp.y.mean())),
        "fields": [
            {
                "path": p,
                "title": field_title(s, p),
                "min": _r(float(inp.x[:, j].min())),
                "max": _r(float(inp.x[:, j].max())),
            }
            for j, p in enumerate(inp.paths)
        ],
        "trajectory": [
            {
                "box": i,
                "count": b.count,
                "mass": _r(b.mass),
                "coverage": _r(b.coverage),
                "density": _r(b.density),
                "separation": _r(b.separation, 4),
                "bounds": {inp.paths[j]: [_bound(b.low[j]), _bound(b.high[j])] for j in b.restricted()},
            }
            for i, b in enumerate(boxes)
        ],
        "peeled_to": chosen,
        "chosen_by": "separation" if box is None else "asked",
        "box": {
            "count": found.count,
            "mass": _r(found.mass),
            "coverage": _r(found.coverage),
            "density": _r(found.density),
            "density_low": _r(low),
            "density_high": _r(high),
            "separation": _r(found.separation, 4),
            "restrictions": restrictions,
        },
        "chance": {"shuffles": stable.shuffles, "separation": _r(stable.chance, 4)},
        "resamples": stable.resamples,
        "beyond_chance": bool(found.restricted()) and found.separation > stable.chance,
        "settings": {"alpha": alpha, "paste_alpha": prim.PASTE_ALPHA, "min_mass": min_mass, "seed": seed},
    }
    data["words"] = words(data)
    return data


def number(v: float | None) -> str:
    return "" if v is None else f"{v:.3g}"


def bound_text(r: dict[str, Any]) -> str:
    """``≥ 0.21``, ``≤ 0.9`` or ``0.21 to 0.9``."""
    if r["low"] is not None and r["high"] is not None:
        return f"{number(r['low'])} to {number(r['high'])}"
    return f"≥ {number(r['low'])}" if r["low"] is not None else f"≤ {number(r['high'])}"


def outcome_text(data: dict[str, Any]) -> str:
    """What the outcome is: ``see flights agreed by 2026-04-10`` (or ``do not see``)."""
    return f"{'do not see' if data['negated'] else 'see'} {data['item']} agreed by {data['by']}"


def words(data: dict[str, Any]) -> str:
    """The box in one sentence: its bounds with the fields' titles, its share of the points, and how
    often the outcome happens there against everywhere; then whether it is beyond chance."""
    b = data["box"]
    unit = data["unit"]
    rs = b["restrictions"]
    if not rs:
        return (
            f"No box of the judgements separates whether the {unit} {outcome_text(data)} "
            f"({data['base']:.1%} of all {unit} do): what decides it is chance, or judgements that are not drawn."
        )
    where = " and ".join(f"{r['title']} {bound_text(r)}" for r in rs)
    share = f"{b['mass']:.0%} of the {unit} ({b['count']:,} of {data['count']:,})"
    if unit == "replications":
        inside = f"{b['density']:.0%} of them ({b['density_low']:.0%} to {b['density_high']:.0%}) {outcome_text(data)}"
        against = f"against {data['base']:.1%} of all; the box holds {b['coverage']:.0%} of those that do"
    else:
        inside = (
            f"there the chance that they {outcome_text(data)} is {b['density']:.0%} on average "
            f"({b['density_low']:.0%} to {b['density_high']:.0%})"
        )
        against = f"against {data['base']:.1%} over all points"
    text = f"{where}: {share}; {inside}, {against}."
    if not data["beyond_chance"]:
        text += (
            f" This box may be chance: on shuffled outcomes PRIM finds boxes that separate as well "
            f"(z {data['chance']['separation']:.1f} against this box's {b['separation']:.1f})."
        )
    return text


def restriction_rows(data: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """One row per bound of the box: path, bound, title, share of resamples restricting it, and the
    density without it (what the bound adds)."""
    out = []
    for r in data["box"]["restrictions"]:
        out.append(
            (
                r["path"],
                bound_text(r),
                r["title"],
                f"{r['resampled']:.0%}",
                f"{r['density_without']:.1%}",
            )
        )
    return out


RESTRICTION_HEADER = ("field", "bound", "what it is", "in resamples", "density without it")


def box_bounds(data: dict[str, Any], box: int | None = None) -> dict[str, tuple[float, float]]:
    """The bounds of the chosen box (or of box ``box`` of the peeling trajectory), per field path,
    ``-inf``/``inf`` where a side is open; fields the box does not restrict are left out. For a
    figure or a page that shades the box over the judgements' values."""
    if box is None:
        rs = data["box"]["restrictions"]
        pairs = {r["path"]: (r["low"], r["high"]) for r in rs}
    else:
        trajectory = data["trajectory"]
        if not 0 <= box < len(trajectory):
            raise UserError(f"box {box}: the peeling trajectory has boxes 0 to {len(trajectory) - 1}")
        pairs = {p: (lo, hi) for p, (lo, hi) in trajectory[box]["bounds"].items()}
    return {
        p: (-math.inf if lo is None else float(lo), math.inf if hi is None else float(hi))
        for p, (lo, hi) in pairs.items()
    }


def default_folder(source: Path, item: str, by: str | None, negated: bool) -> Path:
    """``SOURCE/discover-ITEM[-by-DATE][-not]``."""
    return source / f"discover-{item}{f'-by-{by}' if by else ''}{'-not' if negated else ''}"


def write_files(data: dict[str, Any], folder: Path) -> None:
    """``discover.json`` (everything), ``boxes.csv`` (the chosen box's bounds) and ``trajectory.csv``."""
    write_text(folder / "discover.json", json_text(data))
    write_text(
        folder / "boxes.csv",
        csv_text(
            ["path", "title", "low", "high", "resampled", "density_without", "coverage_without"],
            (
                [
                    r["path"],
                    r["title"],
                    r["low"],
                    r["high"],
                    r["resampled"],
                    r["density_without"],
                    r["coverage_without"],
                ]
                for r in data["box"]["restrictions"]
            ),
        ),
    )
    write_text(
        folder / "trajectory.csv",
        csv_text(
            ["box", "count", "mass", "coverage", "density", "separation", "restricted"],
            (
                [t["box"], t["count"], t["mass"], t["coverage"], t["density"], t["separation"], " ".join(t["bounds"])]
                for t in data["trajectory"]
            ),
        ),
    )


def read(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """A discovery folder's ``discover.json``, checked for the fields the views read."""
    path = Path(folder) / "discover.json"
    if not path.is_file():
        raise UserError(f"{folder}: not a discovery folder (discover.json is missing)")
    data = read_json(path)
    need = {"box", "trajectory", "item", "by", "negated", "unit", "count", "base", "words", "chance"}
    if not isinstance(data, dict) or not need <= set(data) or not isinstance(data["box"], dict):
        raise UserError(f"{path}: not what negsim discover writes")
    return data
