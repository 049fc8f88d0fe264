"""Forecast scoring: a run's forecast against what happened, beside baselines, with intervals.

The headline scores do not depend on checkpoints (:mod:`sim.results.skill`): each item's whole
distribution of agreement dates is scored over every day from the forecast's origin to the
observed file's ``as_of`` (the window Brier score, and the censored monthly log score), beside
the null model (:func:`sim.scenario.null.null_scenario`), the status quo (nothing further agreed),
a base rate from a reference class (when the observed file states one) and forecasts on record
(on the cells they cover), with 95% bootstrap intervals. The rounds held by ``as_of`` are scored
when the observed file lists them. The secondary view is the old one: P(agreed by each
checkpoint, inclusive) against whether it had happened, by the Brier and log scores.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.engine.records import Records
from sim.errors import UserError, did_you_mean
from sim.results.atomic import staged_folder, write_text
from sim.results.files import csv_text, json_text, manifest_of, stamped_folder
from sim.results.observed import Observed, lifted
from sim.results.skill import (
    FLOOR,
    METRICS,
    PERFECT,
    RESAMPLES,
    ItemScore,
    intervals,
    month_edges,
    rounds_score,
    score_item,
    skill,
)
from sim.results.stats import wilson
from sim.scenario.models import Scenario

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
            out += rows("constraint", name, rec.constraint_day[:, k], lifted(obs, name))
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


def default_checkpoints(s: Scenario, until: dt.date) -> list[dt.date]:
    """The ends of the calendar quarters from the start to ``until`` (and ``until`` itself): the
    secondary, checkpoint view of an observed file that names no checkpoints."""
    out = []
    y, q = s.calendar.start.year, (s.calendar.start.month - 1) // 3
    while True:
        q += 1
        y, q = (y + 1, 0) if q == 4 else (y, q)
        end = dt.date(y, 3 * q + 1, 1) - dt.timedelta(days=1) if q else dt.date(y - 1, 12, 31)
        if end > until:
            break
        if end > s.calendar.start:
            out.append(end)
    if not out or out[-1] != until:
        out.append(until)
    return out


@dataclass
class Case:
    """One forecast scored against what happened: a run (or a backtest case) and its observed file."""

    label: str
    run: str
    observed_file: str
    scenario: Scenario
    observed: Observed
    origin: float  # the day the forecast was made: 0, or a --given run's as_of
    end: float  # the last day scored: as_of (or the horizon, if earlier)
    forecasters: dict[str, dict[str, np.ndarray]]  # forecaster -> item -> agreement days
    items: list[ItemScore]
    rows: list[Forecast]  # the checkpoint view
    checkpoint_scores: dict[str, Any]
    rounds: dict[str, Any] | None
    on_record: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    """What the scores leave out, said wherever they are shown."""
    breakdown: dict[str, Any] = field(default_factory=dict)
    """Whether the talks broke off by as_of, the forecast's P(broken off by then), and its Brier score."""

    @property
    def edges(self) -> np.ndarray:
        return month_edges(self.scenario.calendar.start, self.origin, self.end)


BASELINES = ("null", "status_quo", "base_rate", "uncalibrated")
"""The baselines beside every forecast (base_rate only where the observed file states one;
uncalibrated only beside a forecast from a calibrated table, ``backtest --loo``)."""


def score_case(
    label: str,
    s: Scenario,
    rec: Records,
    obs: Observed,
    baselines: dict[str, Records],
    rounds: np.ndarray | None = None,
    *,
    run: str = "",
    observed_file: str = "",
    origin: float = 0.0,
    notes: list[str] | None = None,
) -> Case:
    """Score one forecast (the replications ``rec`` of ``s``, made on day ``origin``) against
    ``obs`` over the window from ``origin`` to ``as_of``, beside every baseline (``baselines``:
    the null model's and the base rate's records, made for the same history by
    :mod:`sim.runs.forecasting`; ``rounds``: each replication's rounds held by ``as_of``)."""
    end = min(s.day(obs.as_of), s.horizon)
    if end <= origin:
        raise UserError(f"{observed_file or label}: as_of is not after the forecast's origin: nothing to score")
    sims = baselines
    null = sims["null"]
    forecasters: dict[str, dict[str, np.ndarray]] = {"scenario": {}, **{k: {} for k in sims}, "status_quo": {}}
    edges = month_edges(s.calendar.start, origin, end)
    items = []
    for x, name in enumerate(s.items):
        if name not in obs.items or s.items[name].status == "agreed":
            continue
        when = obs.items[name]
        agreed = None if when is None or s.day(when) > end else s.day(when)
        if agreed is not None and agreed <= origin:
            continue  # known when the forecast was made: nothing to forecast
        days = {"scenario": rec.item_day[:, x]}
        for k, r in sims.items():  # baselines, given (item by item) that the item was open at the origin
            d = r.item_day[:, x]
            days[k] = d[~(d <= origin)] if origin > 0 else d
        days["status_quo"] = np.full(1, np.nan)  # nothing further is agreed
        for k, d in days.items():
            forecasters[k][name] = d
        items.append(score_item(label, name, days, agreed, origin, end, edges))
    checkpoints = sorted(obs.checkpoints) or default_checkpoints(s, s.date(end))
    rows = forecasts(s, rec, obs.model_copy(update={"checkpoints": checkpoints}), null)
    held = None
    notes = list(notes or [])
    if obs.rounds is not None:
        if rounds is not None:
            observed = sum(1 for d in obs.rounds.held if s.day(d) <= end)
            held = {"scenario": rounds_score(rounds, observed), "null": rounds_score(null.held_by_census, observed)}
        else:
            notes.append("rounds held not scored: this negsim does not reproduce the run's records")
    unscored = [name for name in s.items if name not in obs.items and s.items[name].status != "agreed"]
    if unscored:
        notes.append(f"not scored (the observed file does not list them): {', '.join(unscored)}")
    on_record = []
    for f in obs.forecasts:
        by = s.day(f.by)
        if f.item not in s.items:
            continue
        if by > end:
            notes.append(f"a forecast on record by {f.by.isoformat()} ({f.source}) resolves after as_of: not scored")
            continue
        if s.day(f.made) < origin:
            continue  # made before this forecast's origin: scored against the forecast made then
        x = list(s.items).index(f.item)
        when = obs.items.get(f.item)
        happened = int(when is not None and s.day(when) <= by)
        on_record.append(
            {
                "source": f.source,
                "made": f.made.isoformat(),
                "item": f.item,
                "by": f.by.isoformat(),
                "observed": happened,
                "record": f.p,
                "scenario": by_date(rec.item_day[:, x], s, f.by),
                "null": by_date(null.item_day[:, x], s, f.by),
            }
        )
    broke = obs.breakdown is not None and s.day(obs.breakdown) <= end
    p_break = by_date(rec.breakdown_day, s, s.date(end))
    breakdown = {
        "observed": obs.breakdown.isoformat() if broke else None,  # type: ignore[union-attr]
        "p_by_as_of": round(p_break, 6),
        "brier": round((p_break - float(broke)) ** 2, 6),
        "null_brier": float(broke),  # the null model never breaks the talks off
    }
    return Case(
        label,
        run,
        observed_file,
        s,
        obs,
        origin,
        end,
        forecasters,
        items,
        rows,
        summarize(rows),
        held,
        on_record,
        notes,
        breakdown,
    )


def on_record_scores(cases: list[Case]) -> dict[str, Any] | None:
    """Brier scores on the cells that forecasts on record cover: theirs, the scenario's, the null's."""
    cells = [c for case in cases for c in case.on_record]
    if not cells:
        return None
    o = np.array([c["observed"] for c in cells], dtype=float)
    return {
        "cells": len(cells),
        **{f"{k}_brier": round(brier(np.array([c[k] for c in cells]), o), 6) for k in ("record", "scenario", "null")},
    }


@dataclass
class Scored:
    """Runs scored against what happened: each case, and the pooled figures."""

    cases: list[Case]
    data: dict[str, Any]
    """Everything ``score.json`` holds."""

    @property
    def labelled(self) -> list[tuple[str, Forecast]]:
        return [(case.label, r) for case in self.cases for r in case.rows]


def _figures(block: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """``score`` and ``skill`` sections: forecaster -> metric -> value, low, high, spans_zero."""
    return {
        section: {who: {m: v.as_dict() for m, v in per.items()} for who, per in part.items()}
        for section, part in block.items()
    }


def case_data(case: Case) -> dict[str, Any]:
    """A case's entry in score.json."""
    s = case.scenario
    baselines = [b for b in BASELINES if all(b in it.scores for it in case.items)]
    entry: dict[str, Any] = {
        "run": case.run,
        "observed": case.observed_file,
        "scenario": s.name,
        "as_of": case.observed.as_of.isoformat(),
        "window": {
            "from": s.date(case.origin).isoformat(),
            "to": s.date(case.end).isoformat(),
            "days": case.end - case.origin,
        },
        "items": [
            {
                "item": it.item,
                "agreed": None if it.agreed is None else s.date(it.agreed).isoformat(),
                **{who: {m: round(v, 6) for m, v in sc.items()} for who, sc in it.scores.items()},
            }
            for it in case.items
        ],
    }
    if case.items:
        entry.update(_figures(intervals([case.items], "scenario", baselines)))
    if case.rounds is not None:
        entry["rounds"] = {k: {m: round(v, 6) for m, v in r.items()} for k, r in case.rounds.items()}
    if case.breakdown:
        entry["breakdown"] = case.breakdown
    if case.notes:
        entry["notes"] = case.notes
    if case.on_record:
        entry["on_record"] = [
            {k: round(v, 6) if isinstance(v, float) else v for k, v in c.items()} for c in case.on_record
        ]
    entry["checkpoints"] = {**case.checkpoint_scores, **per_item(case.rows)}
    return entry


def pooled_data(cases: list[Case]) -> dict[str, Any]:
    """Pooled over cases (items weigh alike; intervals resample cases, then items)."""
    scored = [case.items for case in cases if case.items]
    baselines = [b for b in BASELINES if all(b in it.scores for items in scored for it in items)]
    out: dict[str, Any] = {"cases": len(scored), "items": sum(len(c) for c in scored)}
    if scored:
        out.update(_figures(intervals(scored, "scenario", baselines)))
    record = on_record_scores(cases)
    if record:
        out["on_record"] = record
    rounds = [case.rounds for case in cases if case.rounds is not None]
    if rounds:
        out["rounds"] = {
            k: {"rps": round(float(np.mean([r[k]["rps"] for r in rounds])), 6)} for k in ("scenario", "null")
        }
    out["checkpoints"] = summarize([r for case in cases for r in case.rows])
    return out


def cases_alike(cases: list[Case]) -> dict[str, Any]:
    """Pooled with cases weighing alike (each case's mean score, then the mean over cases;
    intervals resample cases)."""
    scored = [case for case in cases if case.items]
    baselines = [b for b in BASELINES if all(b in it.scores for c in scored for it in c.items)]
    means = []
    for case in scored:
        who = ["scenario", *baselines]
        means.append(
            [
                ItemScore(
                    case.label,
                    "(mean)",
                    None,
                    {w: {m: float(np.mean([it.scores[w][m] for it in case.items])) for m in METRICS} for w in who},
                )
            ]
        )
    out: dict[str, Any] = {"cases": len(scored)}
    if scored:
        out.update(_figures(intervals(means, "scenario", baselines)))
    return out


def most_influential(cases: list[Case], baseline: str = "null", metric: str = "window_brier") -> dict[str, Any] | None:
    """The case whose removal moves the pooled skill (items alike) against ``baseline`` the most."""
    scored = [case for case in cases if case.items]
    if len(scored) < 2:
        return None
    every = [it for case in scored for it in case.items]
    whole = skill(every, "scenario", baseline, metric)
    moves = []
    for case in scored:
        rest = [it for other in scored if other is not case for it in other.items]
        moves.append((skill(rest, "scenario", baseline, metric) - whole, case.label))
    move, label = max(moves, key=lambda m: abs(m[0]) if not math.isnan(m[0]) else -1.0)
    return {
        "case": label,
        "baseline": baseline,
        "metric": metric,
        "skill": round(whole, 4),
        "skill_without": round(whole + move, 4),
        "change": round(move, 4),
    }


METHOD = {
    "window_brier": "Brier score of P(agreed by day t) averaged over every day of the window (the CRPS of "
    "the agreement day censored to the window, divided by its length); 0 is perfect, lower is better",
    "log_score": f"minus the log of the probability given to the month of agreement or to 'not agreed by "
    f"as_of' (floor {FLOOR}); lower is better",
    "skill": f"1 - score / baseline score over the same items; undefined when the baseline's mean score is "
    f"below {PERFECT} (practically perfect)",
    "intervals": f"95% percentile bootstrap, {RESAMPLES} resamples of items (pooled: of cases, then items); "
    "a skill's interval is that of the paired difference (baseline score - score) over the baseline's mean "
    "score, so it spans zero exactly when the difference does",
    "baselines": "null: each item its own constant chance per scheduled round, nothing else; status_quo: "
    "nothing further is agreed; base_rate: one constant chance per round for every item, from a reference "
    "class row stated in the observed file",
    "rounds": "ranked probability score of the number of rounds held by as_of (0 is perfect)",
}


# ---------------------------------------------------------------------- forecasts over time (--origins)

ORIGIN_SPECS = ("monthly", "quarterly")


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def origin_dates(spec: str, s: Scenario, obs: Observed) -> list[dt.date]:
    """The dates forecasts are made on for ``score --origins``: the scenario's start and every month
    or quarter end before ``as_of`` (and the horizon), or the dates listed (``2015-03-31,2015-06-30``)."""
    start, end = s.calendar.start, min(obs.as_of, s.date(s.horizon))
    if spec in ORIGIN_SPECS:
        step = 1 if spec == "monthly" else 3
        dates, month = [start], start.month
        year = start.year
        while True:
            if month % step == 0:
                d = _month_end(year, month)
                if d >= end:
                    break
                if d > start:
                    dates.append(d)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return dates
    dates = []
    for word in spec.split(","):
        try:
            d = dt.date.fromisoformat(word.strip())
        except ValueError:
            raise UserError(
                f"--origins: {word.strip()!r} is not a date (YYYY-MM-DD){did_you_mean(word.strip(), ORIGIN_SPECS)}; "
                "give dates separated by commas, 'monthly' or 'quarterly'"
            ) from None
        if not start <= d < end:
            raise UserError(
                f"--origins: {d.isoformat()} is outside the scored window: a forecast is made from the scenario's "
                f"start ({start.isoformat()}) up to the day before as_of or the horizon ({end.isoformat()})"
            )
        dates.append(d)
    return sorted(set(dates))


def origin_entry(
    when: dt.date,
    s: Scenario,
    rec: Records | None,
    tried: int,
    agreeing: int,
    case: Case | None,
    scored: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One origin's row in score.json: replications tried and kept, each item's P(agreed by the
    horizon) with a 95% Wilson interval, and the window scores from ``scored``, the case's entry
    (:func:`case_data`) (``rec`` None: the history was too unlikely to keep enough replications)."""
    entry: dict[str, Any] = {
        "origin": when.isoformat(),
        "day": s.day(when),
        "tried": tried,
        "kept": 0 if rec is None else rec.n,
        "acceptance": round(agreeing / tried, 6) if tried else None,
        "status": ("too unlikely" if tried else "nothing open")
        if rec is None
        else ("scored" if case is not None and case.items else "nothing open"),
    }
    if rec is not None:
        items = {}
        for x, name in enumerate(s.items):
            k = int(rec.item_agreed[:, x].sum())
            low, high = wilson(k, rec.n)
            items[name] = {"p": round(k / rec.n, 6), "low": round(low, 6), "high": round(high, 6)}
        entry["p_by_horizon"] = items
    if case is not None and case.items and scored is not None:
        shown = ("scenario", "null", "status_quo")
        entry["window_brier"] = {who: scored["score"][who]["window_brier"]["value"] for who in shown}
        entry["skill_null"] = scored["skill"]["null"]["window_brier"]
        entry["items_scored"] = len(case.items)
    return entry


def timeline_names(cases: list[Case]) -> list[str]:
    """Each case's timeline figure: ``timeline-<scenario>``, numbered when a scenario comes again
    (two points of one sweep, or the origins of one run)."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for case in cases:
        base = f"timeline-{case.scenario.name}"
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return names


def shared_histories(cases: list[Case]) -> list[list[str]]:
    """Forecasts scored against the same history (equal observed files): each group of two or more,
    by label. Two forecasts of one history are not two cases."""
    groups: dict[str, list[str]] = {}
    for case in cases:
        key = case.observed.model_dump_json()
        groups.setdefault(key, []).append(case.label)
    return [labels for labels in groups.values() if len(labels) > 1]


def scored_data(cases: list[Case], pooled: bool = True) -> dict[str, Any]:
    """Everything score.json holds; ``pooled`` False for cases that are one history (``--origins``).
    Forecasts that share a history are compared side by side, never pooled as if independent."""
    data: dict[str, Any] = {"method": METHOD, "runs": [case_data(c) for c in cases]}
    for entry, stem in zip(data["runs"], timeline_names(cases), strict=True):
        entry["timeline"] = stem
    shared = shared_histories(cases)
    if pooled and shared:
        data["not_pooled"] = (
            "these forecasts share a history (the same observed file): "
            + "; ".join(", ".join(g) for g in shared)
            + ". Each is scored on its own above; pooling them would count one history as several cases"
        )
    elif pooled:
        data["pooled"] = pooled_data(cases)
    return data


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
