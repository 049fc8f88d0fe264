"""What the explorer shows of two runs: each item's chance of agreement by each milestone and by
the horizon, for the variant and the baseline, with the paired difference and its 95% interval;
the curves; rounds and breakdown; and the judgements that move each item.

Differences are paired (``sim.results.compare.difference``) when the two runs hold the same
replications, as runs of one file with one seed do; given a history, two variants may keep
different replications, and the difference is then estimated as between independent samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.app.controls import label
from sim.app.model import Outcome
from sim.engine.history import by
from sim.engine.plan import milestones
from sim.results.compare import difference
from sim.results.stats import Z95, Curve, cumulative, paired
from sim.results.summary import judgements

CURVE_POINTS = 300
"""Days at which a curve is drawn (a step function read on an even grid)."""


@dataclass(frozen=True)
class Measure:
    """One figure for the variant and the baseline, and the difference with its 95% interval."""

    key: str  # "horizon", an ISO date, or the name of a figure of the talks
    label: str
    current: float
    base: float | None
    diff: float | None = None
    low: float | None = None
    high: float | None = None
    share: bool = True  # a probability (shown as a percentage) rather than a count


@dataclass(frozen=True)
class ItemView:
    """One item: its figures by the horizon and each milestone, and its curves."""

    item: str
    title: str
    measures: tuple[Measure, ...]
    curve: Curve
    ghost: Curve


@dataclass(frozen=True)
class JudgementView:
    """An uncertain judgement and how much each item's chance moves with it (top quarter of its
    draws minus the bottom quarter)."""

    path: str
    label: str
    distribution: str
    spreads: dict[str, float | None]


@dataclass(frozen=True)
class View:
    """Everything the page shows of a variant against its baseline."""

    items: tuple[ItemView, ...]
    talks: tuple[Measure, ...]
    judgements: tuple[JudgementView, ...]
    band: float
    """How far a judgement's spread can go by chance alone (two standard errors of a difference of quarters)."""
    paired: bool
    replications: int
    base_replications: int


def _measure(key: str, text: str, a: Any, b: Any, is_paired: bool) -> Measure:
    """A share of replications (b: the variant's, a: the baseline's) and its difference."""
    if a is None:
        return Measure(key, text, float(b.mean()), None)
    d = difference(a, b, False, is_paired)
    return Measure(key, text, float(b.mean()), float(a.mean()), d["diff"], d["diff_low"], d["diff_high"])


def _mean(key: str, text: str, a: np.ndarray, b: np.ndarray, is_paired: bool) -> Measure:
    """A mean over replications and its difference: paired, or as between independent samples."""
    if is_paired:
        d, low, high = paired(a, b)
    else:
        d = float(b.mean() - a.mean())
        se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size) if min(a.size, b.size) > 1 else math.inf
        low, high = d - Z95 * se, d + Z95 * se
    return Measure(key, text, float(b.mean()), float(a.mean()), d, low, high, share=False)


def compare(base: Outcome, current: Outcome) -> View:
    """The variant (``current``) against the baseline, item by item."""
    s, s0 = current.scenario, base.scenario
    rec, rec0 = current.records, base.records
    is_paired = rec.n == rec0.n and bool(np.array_equal(rec.replication, rec0.replication))
    names0 = list(s0.items)
    marks = [(s.date(m).isoformat(), f"by {s.date(m):%d %b %Y}", m) for m in milestones(s) if m <= s.horizon]
    items = []
    for x, name in enumerate(s.items):
        x0 = names0.index(name) if name in names0 else None
        day = rec.item_day[:, x]
        day0 = None if x0 is None else rec0.item_day[:, x0]
        measures = [
            _measure(
                key,
                text,
                None if day0 is None or m > s0.horizon else by(day0, m),
                by(day, m),
                is_paired,
            )
            for key, text, m in marks
        ]
        horizon = s.date(s.horizon)
        agreed0 = None if x0 is None else rec0.item_agreed[:, x0]
        measures.append(
            _measure("horizon", f"by the horizon, {horizon:%d %b %Y}", agreed0, rec.item_agreed[:, x], is_paired)
        )
        curve = cumulative(day, s.horizon).on_grid(CURVE_POINTS)
        ghost = cumulative(day0 if day0 is not None else np.full(rec0.n, np.nan), s0.horizon).on_grid(CURVE_POINTS)
        items.append(ItemView(name, s.items[name].title or name, tuple(measures), curve, ghost))
    talks = (
        _mean(
            "rounds_held",
            "rounds held (mean)",
            rec0.rounds_held.astype(float),
            rec.rounds_held.astype(float),
            is_paired,
        ),
        _measure("breakdown", "P(breakdown by the horizon)", rec0.breakdown, rec.breakdown, is_paired),
        _measure(
            "all_agreed", "P(every item agreed)", rec0.item_agreed.all(axis=1), rec.item_agreed.all(axis=1), is_paired
        ),
    )
    judged = tuple(
        JudgementView(
            row["path"],
            label(row["path"], s),
            row["distribution"],
            {item: entry["spread"] for item, entry in row["items"].items()},
        )
        for row in judgements(s, rec)
    )
    band = 2 * math.sqrt(2 / max(rec.n, 1))  # as the terminal's judgements table gives it (sim.views.text)
    return View(tuple(items), talks, judged, band, is_paired, rec.n, rec0.n)
