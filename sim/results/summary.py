"""The summary of a run: per item P(agreed by horizon) with Wilson intervals, milestones,
day quantiles; breakdowns, rounds, joint outcomes. Plain data, written as JSON and CSV."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np

from sim.engine.plan import compile_plan, milestones
from sim.engine.records import HOW, HOW_ENACTED, HOW_OUTSIDE, HOW_ROUND, Records
from sim.engine.rules import IN_FORCE_POINTS
from sim.results import shares
from sim.results.files import csv_text
from sim.results.stats import quantile_day, wilson
from sim.scenario.models import Scenario, agrees_outside_rounds, can_pause

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
TOP_OUTCOMES = 10


def _r(x: float | None, digits: int = 6) -> float | None:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return round(float(x), digits)


def _prop(k: int, n: int) -> dict[str, Any]:
    low, high = wilson(k, n)
    return {"p": _r(k / n if n else math.nan), "ci_low": _r(low), "ci_high": _r(high), "count": int(k)}


def _day(s: Scenario, day: float | None) -> dict[str, Any] | None:
    if day is None:
        return None
    return {"day": _r(day, 3), "date": s.date(day).isoformat()}


def joint_outcomes(rec: Records, names: tuple[str, ...], top: int = TOP_OUTCOMES) -> list[dict[str, Any]]:
    """The most frequent sets of items agreed by the horizon, with Wilson intervals."""
    n = rec.n
    if n == 0:
        return []
    masks = np.zeros(n, np.int64)
    each = rec.item_agreed
    for b in range(len(names)):  # an item at a time: a replication's column of 0/1, not n x k int64s
        masks |= each[:, b].astype(np.int64) << b
    values, counts = np.unique(masks, return_counts=True)
    order = np.lexsort((values, -counts))[:top]
    out = []
    for i in order:
        mask = int(values[i])
        agreed = [name for b, name in enumerate(names) if mask >> b & 1]
        out.append({"agreed": agreed, **_prop(int(counts[i]), n)})
    return out


def in_force(rec: Records, c: int) -> list[int]:
    """How many replications have constraint c in force at the end of each record day
    (``sim.engine.rules.in_force_days``): counts, so that shares and intervals follow."""
    return bits(rec.constraint_in_force[:, c])


JUDGEMENT_QUANTILES = (0.1, 0.5, 0.9)


def judgements(s: Scenario, rec: Records) -> list[dict[str, Any]]:
    """Each uncertain judgement: its distribution (``prior``: mean and quantiles of the distribution
    as written), the mean and quantiles of the replications' draws (in a ``--given`` run, of the kept
    replications: the posterior), and what it does to each
    item: P(agreed by horizon) among the replications in each quarter of its draws (lowest first),
    the difference between the highest and the lowest quarter, and the share of the item's variance
    the draw explains with its 95% interval (:mod:`sim.results.shares`); ``band`` is the share chance
    alone could give the largest cell of the run's table."""
    out = []
    n = rec.n
    uncertain = compile_plan(s).judgements
    noise = _r(shares.band(n, len(uncertain) * len(s.items)))
    for j, (path, judged) in enumerate(uncertain):
        draws = rec.parameters[:, j]
        quarter = np.zeros(n, np.int64)
        if n:
            quarter[np.argsort(draws, kind="stable")] = np.arange(n) * 4 // n
        items = {}
        ranked = shares.bins_of(draws)
        for x, name in enumerate(s.items):
            p = [_r(float(rec.item_agreed[quarter == q, x].mean())) if (quarter == q).any() else None for q in range(4)]
            spread = None if p[0] is None or p[3] is None else _r(p[3] - p[0])
            found = shares.share(ranked, rec.item_agreed[:, x], s.simulation.seed, path, name)
            items[name] = {
                "p_by_quarter": p,
                "spread": spread,
                "share": None if found is None else _r(found[0]),
                "share_low": None if found is None else _r(found[1]),
                "share_high": None if found is None else _r(found[2]),
            }
        prior = judged.ppf(np.array(JUDGEMENT_QUANTILES))
        out.append(
            {
                "path": path,
                "distribution": judged.describe(),
                "prior": {
                    "mean": _r(judged.expected()),
                    "quantiles": {str(q): _r(float(v)) for q, v in zip(JUDGEMENT_QUANTILES, prior, strict=True)},
                },
                "mean": _r(float(draws.mean()) if n else None),
                "quantiles": {str(q): _r(float(np.quantile(draws, q))) for q in JUDGEMENT_QUANTILES} if n else {},
                "items": items,
                "band": noise,
            }
        )
    return out


def bits(record: np.ndarray) -> list[int]:
    """How many replications have a bit set in each of the 64 record days of a word per replication."""
    return [int(((record >> np.uint64(g)) & np.uint64(1)).sum()) for g in range(IN_FORCE_POINTS)]


NO_ROUND_MONTHS = (3, 6, 12)
"""The spans after the forecast's origin for P(no round held within them)."""


def months_after(s: Scenario, day: float, months: int) -> float:
    """The day ``months`` calendar months after day ``day`` (the day of the month kept, at most the 28th)."""
    d = s.date(day)
    year, month = divmod(d.month - 1 + months, 12)
    return float((dt.date(d.year + year, month + 1, min(d.day, 28)) - s.calendar.start).days) + (day - int(day))


def no_round(s: Scenario, rec: Records, origin: float) -> list[dict[str, Any]]:
    """P(no round held within 3, 6 and 12 months of the origin), for spans within the horizon."""
    out = []
    nxt = np.nan_to_num(rec.next_round_day, nan=np.inf)
    for k in NO_ROUND_MONTHS:
        limit = months_after(s, origin, k)
        if limit > s.horizon:
            break
        out.append({"months": k, "until": s.date(limit).isoformat(), **_prop(int((nxt > limit).sum()), rec.n)})
    return out


def talks(s: Scenario, rec: Records) -> dict[str, Any] | None:
    """How the talks paused and resumed (a scenario that can pause them)."""
    if not can_pause(s):
        return None
    n = rec.n
    return {
        "paused_at_horizon": _prop(int(rec.paused.sum()), n),
        "pauses_mean": _r(float(rec.pauses.mean()) if n else None, 4),
        "rounds_paused_mean": _r(float(rec.rounds_paused.mean()) if n else None, 4),
        "paused": bits(rec.paused_record),
    }


def regime(s: Scenario, rec: Records) -> list[dict[str, Any]] | None:
    """The share of replications in each state of the regime, at the start and at the horizon."""
    if s.regime is None:
        return None
    names = compile_plan(s).regime.names  # type: ignore[union-attr]
    start = np.bincount(rec.regime_start.astype(np.int64), minlength=len(names))
    end = np.bincount(rec.regime.astype(np.int64), minlength=len(names))
    return [
        {
            "state": name,
            "title": s.regime.states[name].title or name,
            **_prop(int(start[i]), rec.n),
            "at_horizon": _prop(int(end[i]), rec.n),
        }
        for i, name in enumerate(names)
    ]


def summarize(s: Scenario, rec: Records, origin: float = 0.0) -> dict[str, Any]:
    """Everything ``summary.json`` holds, computed from the records (``origin``: the day the forecast
    is made, a --given run's as_of)."""
    n = rec.n
    names = tuple(s.items)
    horizon = s.horizon
    marks = milestones(s)
    items = []
    outside = agrees_outside_rounds(s)
    for x, name in enumerate(names):
        days = rec.item_day[:, x]
        agreed = rec.item_agreed[:, x]
        k = int(agreed.sum())
        hit = days[agreed]
        entry: dict[str, Any] = {
            "item": name,
            "title": s.items[name].title or name,
            **_prop(k, n),
            "by_milestone": [{**(_day(s, m) or {}), **_prop(int((days <= m).sum()), n)} for m in marks],
            "day_quantiles": {str(q): _day(s, quantile_day(days, q)) for q in QUANTILES},
            "median": _day(s, quantile_day(days, 0.5)),
            "median_if_agreed": _day(s, float(np.median(hit)) if k else None),
            "mean_round_if_agreed": _r(float(rec.item_round[agreed, x].mean()) if k else None, 3),
        }
        if outside:
            how = rec.item_how[:, x]
            entry["how"] = {HOW[h]: _prop(int((how == h).sum()), n) for h in (HOW_ROUND, HOW_ENACTED, HOW_OUTSIDE)}
        items.append(entry)
    constraints = []
    for c, name in enumerate(s.constraints):
        days = rec.constraint_day[:, c]
        constraints.append(
            {
                "constraint": name,
                "title": s.constraints[name].title or name,
                "active_at_start": s.constraints[name].active,
                "lifted": _prop(int(rec.constraint_lifted[:, c].sum()), n),
                "active_at_horizon": _prop(int(rec.constraint_active[:, c].sum()), n),
                "median_first_lift": _day(s, quantile_day(days, 0.5)),
                "in_force": in_force(rec, c),
            }
        )
    held = rec.rounds_held
    extra = {k: v for k, v in (("talks", talks(s, rec)), ("regime", regime(s, rec))) if v is not None}
    return {
        "scenario": s.name,
        "title": s.title or s.name,
        "replications": n,
        "seed": s.simulation.seed,
        "start": s.calendar.start.isoformat(),
        "horizon": _day(s, horizon),
        "items": items,
        "constraints": constraints,
        "breakdown": {
            **_prop(int(rec.breakdown.sum()), n),
            "median_day": _day(s, quantile_day(rec.breakdown_day, 0.5)),
        },
        "rounds": {
            "held_mean": _r(float(held.mean()) if n else None, 4),
            "held_quantiles": {str(q): int(np.quantile(held, q, method="inverted_cdf")) for q in QUANTILES}
            if n
            else {},
            "cancelled_mean": _r(float(rec.rounds_cancelled.mean()) if n else None, 4),
            "suspended_mean": _r(float(rec.rounds_suspended.mean()) if n else None, 4),
            "no_round_within": no_round(s, rec, origin),
        },
        "all_agreed": _prop(int(rec.item_agreed.all(axis=1).sum()), n),
        "joint_outcomes": joint_outcomes(rec, names),
        "events": [
            {"event": name, "mean_count": _r(float(rec.event_count[:, e].mean()) if n else None, 4)}
            for e, name in enumerate(s.events)
        ],
        "judgements": judgements(s, rec),
        "trust": {
            "mean": _r(float(rec.trust.mean()) if n else None, 4),
            "quantiles": {str(q): _r(float(np.quantile(rec.trust, q)), 4) for q in QUANTILES} if n else {},
        },
        **extra,
    }


def summary_csv(summary: dict[str, Any]) -> str:
    """One row per item: P(agreed by horizon), interval, median date, P by each milestone."""
    items = summary["items"]
    marks = [m["date"] for m in items[0]["by_milestone"]] if items else []
    header = ["item", "title", "p_agreed", "ci_low", "ci_high", "median_date", "median_day", "median_date_if_agreed"]
    rows = []
    for it in items:
        med = it["median"] or {}
        cond = it["median_if_agreed"] or {}
        rows.append(
            [it["item"], it["title"], it["p"], it["ci_low"], it["ci_high"]]
            + [med.get("date", ""), med.get("day", ""), cond.get("date", "")]
            + [m["p"] for m in it["by_milestone"]]
        )
    return csv_text(header + [f"p_by_{d}" for d in marks], rows)
