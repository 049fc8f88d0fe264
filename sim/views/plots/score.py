"""Figures of scored forecasts: a reliability diagram, and each case's forecasts against what happened."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from sim.results.score import Case
from sim.results.skill import monthly_cells
from sim.results.stats import cumulative, wilson
from sim.views.plots.style import color, date_axis, panel_grid, styled, subplots, title, to_dates
from sim.views.plots.timeline import label

EDGES = np.linspace(0.0, 1.0, 6)
"""Five bins of forecast probability: few forecasts make fine bins meaningless."""
SHOWN = {
    "scenario": ("scenario", color(0), "o"),
    "null": ("null model", "0.45", "s"),
    "base_rate": ("base rate", color(3), "^"),
}


def _binned(p: np.ndarray, o: np.ndarray) -> list[tuple[float, float, float, float, int]]:
    out = []
    which = np.clip(np.searchsorted(EDGES, p, side="right") - 1, 0, len(EDGES) - 2)
    for b in range(len(EDGES) - 1):
        sel = which == b
        n = int(sel.sum())
        if n == 0:
            continue
        k = int(o[sel].sum())
        low, high = wilson(k, n)
        out.append((float(p[sel].mean()), k / n, low, high, n))
    return out


def cells(cases: list[Case], who: str) -> tuple[np.ndarray, np.ndarray]:
    """P(agreed by the end of each month of the window) and the outcome, over every item of every case."""
    ps, os = [np.zeros(0)], [np.zeros(0)]
    for case in cases:
        for it in case.items:
            if who in case.forecasters and it.item in case.forecasters[who]:
                p, o = monthly_cells(case.forecasters[who][it.item], it.agreed, case.edges)
                ps.append(p)
                os.append(o)
    return np.concatenate(ps), np.concatenate(os)


@styled
def reliability(cases: list[Case]) -> Figure:
    """Forecast P(agreed by the end of a month) against how often it had happened, pooled over every
    month of every scored window, for the scenario and the simulated baselines."""
    fig, ax = subplots(width=7.5, height=6.4)
    ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", label="perfectly calibrated")
    total = 0
    for who, (name, col, marker) in SHOWN.items():
        p, o = cells(cases, who)
        pts = _binned(p, o)
        if not pts:
            continue
        total = max(total, p.size)
        x, y, lo, hi, n = (np.array(v) for v in zip(*pts, strict=True))
        ax.errorbar(x, y, yerr=[y - lo, hi - y], fmt=marker, color=col, ms=7, capsize=3, label=name, alpha=0.9)
        for xi, yi, ni in zip(x, y, n, strict=True):
            ax.annotate(f"{ni}", (xi, yi), xytext=(6, -10), textcoords="offset points", fontsize=8, color=col)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("forecast P(agreed by the end of the month), mean in each fifth")
    ax.set_ylabel("share agreed by then")
    ax.legend(loc="upper left")
    names = sorted({case.label for case in cases})
    shown = ", ".join(names) if len(names) <= 4 else f"{len(names)} cases"
    title(
        fig,
        "Reliability of the forecasts",
        f"{total} item-months from {shown}, pooled. Whiskers: 95% Wilson intervals, which treat the months of one "
        "item as independent (they are not: read them as a lower bound on the uncertainty). Numbers: cells per bin.",
    )
    return fig


@styled
def timelines(case: Case) -> Figure:
    """Each item's forecast P(agreed by date) over the scored window, beside the null model and the
    base rate, with the day it was agreed marked."""
    s = case.scenario
    items = case.items
    fig, axes = panel_grid(len(items), 1 if len(items) <= 1 else 2, width=10, row_height=2.6, sharex=True)
    start = s.calendar.start
    for j, it in enumerate(items):
        ax = axes.flat[j]
        for who, (name, col, _) in SHOWN.items():
            days = case.forecasters.get(who, {}).get(it.item)
            if days is None:
                continue
            curve = cumulative(days, case.end)
            xs = to_dates(start, curve.days)
            style = {"scenario": "-", "null": "--", "base_rate": ":"}[who]
            ax.step(xs, curve.p, where="post", color=col, lw=2.0 if who == "scenario" else 1.4, ls=style, label=name)
            if who == "scenario":
                ax.fill_between(xs, curve.low, curve.high, step="post", color=col, alpha=0.15, lw=0)
        if it.agreed is not None:
            ax.axvline(to_dates(start, it.agreed), color="black", lw=1.6)
            ax.text(to_dates(start, it.agreed), 0.03, f" agreed {s.date(it.agreed).isoformat()}", fontsize=8.5)
        else:
            ax.text(0.02, 0.92, f"not agreed by {s.date(case.end).isoformat()}", transform=ax.transAxes, fontsize=8.5)
        sc = it.scores.get("scenario", {})
        name = s.items[it.item].title or it.item if it.item in s.items else it.item
        brier = sc.get("window_brier", float("nan"))
        # wrapped whole: a long name with the score after it ran into the next panel's title
        ax.set_title(label(f"{name}  (window Brier {brier:.3f})", 46), fontsize=10, loc="left")
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        date_axis(ax, start, case.end)
        if case.origin > 0:
            ax.set_xlim(*to_dates(start, [case.origin - 5, case.end + 5]))
        if j == 0:
            ax.legend(loc="center left", fontsize=8.5)
    if not items:
        axes[0][0].set_visible(True)
        axes[0][0].text(0.5, 0.5, "No item was open to forecast in this window.", ha="center", va="center")
        axes[0][0].set_axis_off()
    for row in axes:
        row[0].set_ylabel("P(agreed by date)")
    title(
        fig,
        f"{s.title or s.name}: the forecast against what happened",
        f"{s.date(case.origin).isoformat()} to {s.date(case.end).isoformat()}. Lines: forecast P(agreed by each date) "
        "(shaded: 95% band); dashed: null model; dotted: base rate; black: the day it was agreed.",
    )
    return fig


@styled
def origins(block: dict[str, Any], titles: dict[str, str] | None = None) -> Figure:
    """How each item's forecast P(agreed by the horizon) moved as the history came in: one point per
    origin (the forecast made that day, given what had happened by then), with its 95% interval, and
    the day the item was agreed. ``titles``: the items' titles (their ids where not given)."""
    start = dt.date.fromisoformat(block["start"])
    rows = block["rows"]
    items = list(block["agreed"])
    fig, axes = panel_grid(len(items), 1 if len(items) <= 1 else 2, width=10, row_height=2.6, sharex=True)
    shown = [r for r in rows if "p_by_horizon" in r]
    days = np.array([r["day"] for r in shown], dtype=float)
    last = max([r["day"] for r in rows] + [block["as_of_day"]])
    for j, name in enumerate(items):
        ax = axes.flat[j]
        p = np.array([r["p_by_horizon"][name]["p"] for r in shown])
        low = np.array([r["p_by_horizon"][name]["low"] for r in shown])
        high = np.array([r["p_by_horizon"][name]["high"] for r in shown])
        xs = to_dates(start, days)
        ax.plot(xs, p, "-o", color=color(0), lw=1.8, ms=5, label="forecast made on that date")
        ax.errorbar(xs, p, yerr=[p - low, high - p], fmt="none", ecolor=color(0), elinewidth=1.2, capsize=3)
        for r in rows:
            if r["status"] == "too unlikely":
                ax.axvline(to_dates(start, r["day"]), color="0.6", ls=":", lw=1)
        agreed = block["agreed"][name]
        if agreed is not None:
            when = (dt.date.fromisoformat(agreed) - start).days
            ax.axvline(to_dates(start, when), color="black", lw=1.6)
            ax.text(to_dates(start, when), 0.03, f" agreed {agreed}", fontsize=8.5)
        else:
            ax.text(0.02, 0.92, f"not agreed by {block['as_of']}", transform=ax.transAxes, fontsize=8.5)
        ax.set_title(label((titles or {}).get(name, name), 60), fontsize=10, loc="left")
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        date_axis(ax, start, last)
        if j == 0:
            ax.legend(loc="center left", fontsize=8.5)
    for row in axes:
        row[0].set_ylabel(f"P(agreed by {block['horizon']})")
    skipped = [r["origin"] for r in rows if r["status"] == "too unlikely"]
    note = ""
    if skipped:
        note = f" Dotted: origins whose history the scenario almost never produces ({', '.join(skipped)})."
    title(
        fig,
        f"{block['title']}: how the forecast moved as the history came in",
        f"Each point is the forecast made on that date, given what had happened by then (replications kept "
        f"by --given), of agreement by the horizon ({block['horizon']}); whiskers: 95% Wilson intervals; black: "
        f"the day it was agreed.{note}",
    )
    return fig
