"""Forecast scoring: a run's probabilities against what really happened, and against a null model.

For each item and checkpoint the forecast is P(agreed by that date, inclusive) from the run's
replications; the outcome is whether the item had been agreed by then. Scores are means over all
items and checkpoints (lower is better): the Brier score, and the log score (the negative log of
the probability given to what happened, with probabilities kept within [FLOOR, 1 - FLOOR] so
that one confident miss costs at most ln(1/FLOOR)). The null model (:func:`null_scenario`) gives
each item its own constant chance in every scheduled round, with no constraints, trust or events;
skill = 1 - Brier / null Brier.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.engine.records import Records
from sim.errors import UserError, did_you_mean
from sim.scenario.documents import Document, load_document
from sim.scenario.models import Date, Scenario, Slug

FLOOR = 0.001
"""Probabilities are kept within [FLOOR, 1 - FLOOR] for the log score."""


class Observed(BaseModel):
    """What happened: the date each item was agreed (``null``: not agreed by ``as_of``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    as_of: Date
    checkpoints: Annotated[list[Date], Field(min_length=1)]
    items: Annotated[dict[Slug, Date | None], Field(min_length=1)]
    constraints: dict[Slug, Date | None] = {}
    breakdown: Date | None = None


def load_observed(path: str | os.PathLike[str], s: Scenario) -> Observed:
    """Read an observed file and check it against the scenario; every problem located."""
    from sim.scenario.checks import _shape_problems

    doc = load_document(path)
    if not isinstance(doc.data, dict):
        raise UserError(f"{path}:1: an observed file must be a mapping with 'as_of', 'checkpoints' and 'items'")
    try:
        obs = Observed.model_validate(doc.data)
    except ValidationError as exc:
        raise UserError(f"{path}: invalid observed file", list(_shape_problems(doc, exc, Observed))) from None
    problems = list(_observed_problems(doc, obs, s))
    if problems:
        raise UserError(f"{path}: invalid observed file", problems)
    return obs


def _observed_problems(doc: Document, obs: Observed, s: Scenario) -> Any:
    start, end = s.calendar.start, s.date(s.horizon)

    def check_date(path: tuple[Any, ...], d: dt.date | None, what: str) -> Any:
        if d is None:
            return
        if d < start:
            yield doc.problem(path, f"{d.isoformat()} is before the scenario's start ({start.isoformat()})")
        elif d > obs.as_of:
            yield doc.problem(path, f"{d.isoformat()} is after as_of ({obs.as_of.isoformat()}): {what}")

    if obs.as_of < start:
        yield doc.problem(("as_of",), f"{obs.as_of.isoformat()} is before the scenario's start ({start.isoformat()})")
    for i, c in enumerate(obs.checkpoints):
        yield from check_date(("checkpoints", i), c, "not yet observed")
        if c > end:
            yield doc.problem(("checkpoints", i), f"{c.isoformat()} is after the run's horizon ({end.isoformat()})")
    for name, d in obs.items.items():
        if name not in s.items:
            yield doc.problem(("items", name), f"unknown item '{name}'{did_you_mean(name, s.items)}")
        yield from check_date(("items", name), d, "it cannot have been observed")
    for name, d in obs.constraints.items():
        if name not in s.constraints:
            yield doc.problem(("constraints", name), f"unknown constraint '{name}'{did_you_mean(name, s.constraints)}")
        yield from check_date(("constraints", name), d, "it cannot have been observed")
    yield from check_date(("breakdown",), obs.breakdown, "it cannot have been observed")


# ---------------------------------------------------------------------- the null model


def null_scenario(s: Scenario) -> Scenario:
    """Each item agreed with its own constant chance in each scheduled round; nothing else.

    Same calendar, seed, replications and round schedule; no cancellations, capacity,
    requirements, preparation, constraints, trust or events. Items agreed before the start stay so.
    """
    from sim.runs.sweep import scenario_data

    data = scenario_data(s)
    data["name"] = f"{s.name}-null"[:64]
    data["title"] = f"Null model of: {s.title or s.name}"
    data["rounds"] = {"first": data["rounds"]["first"], "interval": data["rounds"]["interval"]}
    data["items"] = {
        name: {"title": item.title or name, "p": item.probability(), "status": item.status}
        for name, item in s.items.items()
    }
    data["constraints"] = {}
    data["events"] = {}
    data["trust"] = {"initial": 0.0, "weight": 0.0, "on_agreement": 0.0}
    return Scenario.model_validate(data)


# ---------------------------------------------------------------------- scores


@dataclass(frozen=True)
class Forecast:
    """One scored forecast: P(event by checkpoint) and whether it had happened."""

    kind: str  # item, constraint, breakdown
    name: str
    checkpoint: dt.date
    p: float
    null_p: float | None
    observed: int


def by_date(days: np.ndarray, s: Scenario, when: dt.date) -> float:
    """Share of replications in which the event happened on or before ``when``."""
    limit = float((when - s.calendar.start).days)
    return float(np.mean(np.nan_to_num(days, nan=np.inf) <= limit)) if days.size else math.nan


def forecasts(s: Scenario, rec: Records, obs: Observed, null: Records | None = None) -> list[Forecast]:
    """Every item (then constraint, then breakdown) at every checkpoint, in file order."""
    checkpoints = sorted(obs.checkpoints)

    def rows(kind: str, name: str, days: np.ndarray, happened: dt.date | None, null_days: Any = None) -> list[Forecast]:
        return [
            Forecast(
                kind,
                name,
                c,
                by_date(days, s, c),
                None if null_days is None else by_date(null_days, s, c),
                int(happened is not None and happened <= c),
            )
            for c in checkpoints
        ]

    out: list[Forecast] = []
    for x, name in enumerate(s.items):
        if name in obs.items:
            out += rows(
                "item", name, rec.item_day[:, x], obs.items[name], None if null is None else null.item_day[:, x]
            )
    for k, name in enumerate(s.constraints):
        if name in obs.constraints:
            out += rows("constraint", name, rec.constraint_day[:, k], obs.constraints[name])
    if "breakdown" in obs.model_fields_set:
        out += rows("breakdown", "breakdown", rec.breakdown_day, obs.breakdown)
    return out


def brier(p: np.ndarray, o: np.ndarray) -> float:
    return float(np.mean((p - o) ** 2))


def log_score(p: np.ndarray, o: np.ndarray, floor: float = FLOOR) -> float:
    """Mean negative log of the probability given to what happened (lower is better)."""
    q = np.clip(p, floor, 1 - floor)
    return float(np.mean(-np.log(np.where(o == 1, q, 1 - q))))


def summarize(rows: list[Forecast]) -> dict[str, Any]:
    """Scores over the items' forecasts (the headline), and separately for constraints and breakdown."""
    out: dict[str, Any] = {}
    items = [r for r in rows if r.kind == "item"]
    if items:
        p = np.array([r.p for r in items])
        o = np.array([r.observed for r in items])
        out.update(
            brier=round(brier(p, o), 6), log_score=round(log_score(p, o), 6), log_floor=FLOOR, forecasts=len(items)
        )
        if all(r.null_p is not None for r in items):
            q = np.array([r.null_p for r in items], dtype=float)
            out["null_brier"] = round(brier(q, o), 6)
            out["null_log_score"] = round(log_score(q, o), 6)
            out["skill"] = round(1 - out["brier"] / out["null_brier"], 6) if out["null_brier"] > 0 else None
            out["log_skill"] = (
                round(1 - out["log_score"] / out["null_log_score"], 6) if out["null_log_score"] > 0 else None
            )
    for kind in ("constraint", "breakdown"):
        chosen = [r for r in rows if r.kind == kind]
        if chosen:
            p = np.array([r.p for r in chosen])
            o = np.array([r.observed for r in chosen])
            out[f"{kind}_brier"] = round(brier(p, o), 6)
    return out


def per_item(rows: list[Forecast]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for r in rows:
        entry = out.setdefault(r.kind + "s" if r.kind != "breakdown" else "breakdown", {})
        entry.setdefault(r.name, []).append(
            {
                "checkpoint": r.checkpoint.isoformat(),
                "p": round(r.p, 6),
                **({"null_p": round(r.null_p, 6)} if r.null_p is not None else {}),
                "observed": r.observed,
            }
        )
    return out


def forecasts_csv(labelled: list[tuple[str, Forecast]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["run", "kind", "name", "checkpoint", "p", "null_p", "observed"])
    for label, r in labelled:
        w.writerow(
            [
                label,
                r.kind,
                r.name,
                r.checkpoint.isoformat(),
                f"{r.p:.6f}",
                "" if r.null_p is None else f"{r.null_p:.6f}",
                r.observed,
            ]
        )
    return buf.getvalue()


def table(label: str, rows: list[Forecast], scores: dict[str, Any]) -> str:
    """The printed table for one run."""
    lines = [f"{label}: forecasts P(agreed by checkpoint) against what happened", ""]
    header = ("item", "checkpoint", "forecast", "null model", "happened")
    body = [
        (
            r.name,
            r.checkpoint.isoformat(),
            f"{r.p:.3f}",
            "" if r.null_p is None else f"{r.null_p:.3f}",
            "yes" if r.observed else "no",
        )
        for r in rows
        if r.kind == "item"
    ]
    widths = [max(len(x[i]) for x in [header, *body]) for i in range(5)]
    lines.append("  ".join(h.ljust(widths[i]) for i, h in enumerate(header)))
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(widths[i]) for i, c in enumerate(row)) for row in body]
    lines.append("")
    if "brier" in scores:
        text = f"Brier score {scores['brier']:.4f}"
        if "null_brier" in scores:
            text += f" (null model {scores['null_brier']:.4f}"
            text += f"; skill {scores['skill']:+.2f})" if scores.get("skill") is not None else ")"
        text += f";  log score {scores['log_score']:.4f}"
        if "null_log_score" in scores:
            text += f" (null model {scores['null_log_score']:.4f})"
        lines.append(text + f"  [lower is better; log floor {FLOOR}]")
    for kind in ("constraint", "breakdown"):
        if f"{kind}_brier" in scores:
            lines.append(f"{kind} forecasts: Brier score {scores[f'{kind}_brier']:.4f}")
    return "\n".join(lines)


def null_records(s: Scenario, n: int) -> Records:
    """The null model's replications (same seed and count as the run)."""
    from sim.engine.plan import compile_plan
    from sim.engine.simulate import simulate

    return simulate(compile_plan(null_scenario(s)), 0, n)


def score(
    runs: list[str], observed: list[str], out: Path | None = None, *, force: bool = False, plots: bool = True
) -> tuple[dict[str, Any], str, Path]:
    """Score each run against its observed file (pairs by order; one observed file serves all)."""
    from sim.results.atomic import staged_folder, write_text
    from sim.results.folder import dumps, load

    if len(observed) not in (1, len(runs)):
        raise UserError(f"--observed: give one file, or one per run ({len(runs)}), not {len(observed)}")
    pairs = list(zip(runs, observed if len(observed) == len(runs) else observed * len(runs), strict=True))
    results: dict[str, Any] = {"runs": []}
    texts = []
    labelled: list[tuple[str, Forecast]] = []
    for run, obs_file in pairs:
        res = load(run)
        obs = load_observed(obs_file, res.scenario)
        rows = forecasts(res.scenario, res.records, obs, null_records(res.scenario, res.records.n))
        scores = summarize(rows)
        label = res.scenario.name
        labelled += [(label, r) for r in rows]
        results["runs"].append(
            {
                "run": str(run),
                "observed": str(obs_file),
                "scenario": label,
                "as_of": obs.as_of.isoformat(),
                "replications": res.records.n,
                **scores,
                **per_item(rows),
            }
        )
        texts.append(table(label, rows, scores))
    pooled = summarize([r for _, r in labelled])
    results.update(pooled)
    if len(pairs) > 1:
        texts.append("pooled over all runs: " + table("", [], pooled).strip().splitlines()[-1])
    target = out or (
        Path(runs[0]) / "score"
        if len(runs) == 1
        else Path("results") / "scores" / dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    )
    with staged_folder(target, force=force) as tmp:
        write_text(tmp / "score.json", dumps(results))
        write_text(tmp / "forecasts.csv", forecasts_csv(labelled))
        if plots:
            from sim.views.plots.score import reliability
            from sim.views.plots.style import save

            save(reliability(labelled), tmp / "plots", "reliability")
    return results, "\n\n".join(texts), target


__all__ = ["FLOOR", "Forecast", "Observed", "brier", "log_score", "null_scenario", "score"]
