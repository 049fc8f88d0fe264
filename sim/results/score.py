"""Forecast scoring: a run's probabilities against what really happened, and against a null model.

For each item and checkpoint the forecast is P(agreed by that date, inclusive) from the run's
replications; the outcome is whether the item had been agreed by then. Scores are means over all
items and checkpoints (lower is better): the Brier score, and the log score (the negative log of
the probability given to what happened, with probabilities kept within [FLOOR, 1 - FLOOR] so
that one confident miss costs at most ln(1/FLOOR)). The null model (:func:`sim.scenario.null.null_scenario`) gives
each item its own constant chance in every scheduled round, with no constraints, trust or events;
skill = 1 - Brier / null Brier.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.engine.plan import compile_plan
from sim.engine.records import Records
from sim.engine.simulate import simulate
from sim.errors import UserError
from sim.results.atomic import staged_folder, write_text
from sim.results.files import csv_text, json_text, manifest_of, stamped_folder
from sim.results.folder import load
from sim.results.observed import Observed, load_observed
from sim.scenario.models import Scenario
from sim.scenario.null import null_scenario

FLOOR = 0.001
"""Probabilities are kept within [FLOOR, 1 - FLOOR] for the log score."""


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


def _opt(p: float | None) -> str:
    return "" if p is None else f"{p:.6f}"


def forecasts_csv(labelled: list[tuple[str, Forecast]]) -> str:
    header = ["run", "kind", "name", "checkpoint", "p", "null_p", "observed"]
    return csv_text(
        header,
        (
            [label, r.kind, r.name, r.checkpoint.isoformat(), f"{r.p:.6f}", _opt(r.null_p), r.observed]
            for label, r in labelled
        ),
    )


def null_records(s: Scenario, n: int) -> Records:
    """The null model's replications (same seed and count as the run)."""
    return simulate(compile_plan(null_scenario(s)), 0, n)


@dataclass
class Scored:
    """Runs scored against what happened: per run its label, forecasts and scores; pooled scores."""

    runs: list[tuple[str, list[Forecast], dict[str, Any]]]
    data: dict[str, Any]
    """Everything ``score.json`` holds."""

    @property
    def labelled(self) -> list[tuple[str, Forecast]]:
        return [(label, r) for label, rows, _ in self.runs for r in rows]


def score(runs: list[str], observed: list[str]) -> Scored:
    """Score each run against its observed file (pairs by order; one observed file serves all)."""
    if len(observed) not in (1, len(runs)):
        raise UserError(f"--observed: give one file, or one per run ({len(runs)}), not {len(observed)}")
    pairs = list(zip(runs, observed if len(observed) == len(runs) else observed * len(runs), strict=True))
    data: dict[str, Any] = {"runs": []}
    scored = []
    for run, obs_file in pairs:
        res = load(run)
        obs = load_observed(obs_file, res.scenario)
        rows = forecasts(res.scenario, res.records, obs, null_records(res.scenario, res.records.n))
        scores = summarize(rows)
        label = res.scenario.name
        scored.append((label, rows, scores))
        data["runs"].append(
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
    data.update(summarize([r for _, rows, _ in scored for r in rows]))
    return Scored(scored, data)


def default_folder(runs: list[str]) -> Path:
    """Beside the run (``RUN/score``) for one run; ``results/scores/<time stamp>`` for several."""
    return Path(runs[0]) / "score" if len(runs) == 1 else stamped_folder(Path("results") / "scores")


def write(scored: Scored, target: Path, *, force: bool = False, extra: Callable[[Path], None] | None = None) -> Path:
    """The score folder: score.json and forecasts.csv; ``extra(tmp)`` adds the figures."""
    with staged_folder(target, force=force, kind="score") as tmp:
        write_text(tmp / "score.json", json_text(scored.data))
        runs = [{"run": r["run"], "observed": r["observed"]} for r in scored.data["runs"]]
        write_text(tmp / "manifest.json", json_text(manifest_of("score", runs=runs)))
        write_text(tmp / "forecasts.csv", forecasts_csv(scored.labelled))
        if extra is not None:
            extra(tmp)
    return target
