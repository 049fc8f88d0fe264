"""Figures over calendar time: agreement curves, agreement dates, constraints lifted."""

from __future__ import annotations

import datetime as dt
import textwrap

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from sim.engine.plan import milestones
from sim.engine.rules import in_force_days
from sim.results.folder import RunResults
from sim.results.stats import cumulative, wilson_array
from sim.views.plots.style import (
    color,
    date_axis,
    given_caption,
    given_of,
    mark_as_of,
    mark_day,
    mark_horizon,
    step_curve,
    styled,
    subplots,
    title,
    to_dates,
)


def label(text: str, width: int = 32) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _caption(results: RunResults, what: str) -> str:
    s = results.scenario
    return f"{results.records.n:,} replications, seed {s.simulation.seed}. {what}{given_caption(given_of(results))}"


def _forecast(results: RunResults, what: str) -> str:
    """A figure's title, saying "given the history" for a ``--given`` run."""
    s, given = results.scenario, given_of(results)
    name = s.title or s.name
    if not given:
        return f"{name}: {what}"
    ask = "?" if what.endswith("?") else ""  # the question mark closes the whole question
    return f"{name}: {what.removesuffix('?')}, given the history to {given['as_of']}{ask}"


@styled
def agreement_curves(results: RunResults) -> Figure:
    """(a) Cumulative probability that each item is agreed by each date, with 95% bands."""
    s, rec = results.scenario, results.records
    fig, ax = subplots(width=10, height=5.4)
    start, horizon = s.calendar.start, s.horizon
    for x, name in enumerate(s.items):
        final = rec.item_agreed[:, x].mean() if rec.n else 0.0
        step_curve(
            ax,
            start,
            rec.item_day[:, x],
            horizon,
            color(x),
            label=f"{label(s.items[name].title or name)} ({final:.0%})",
        )
    for m in milestones(s):
        if m < horizon:  # (a milestone on the horizon is the horizon's line)
            mark_day(ax, start, m, f"milestone {s.date(m).isoformat()}")
    mark_horizon(ax, start, horizon)
    mark_as_of(ax, start, given_of(results))
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel("probability agreed by date")
    ax.set_xlabel("date")
    date_axis(ax, start, horizon)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), title="item (P by horizon)")
    title(
        fig,
        _forecast(results, "when is each item agreed?"),
        _caption(
            results,
            "Lines: share of replications agreed by each date; shaded: 95% pointwise band; dotted: milestones; "
            "dashed: the horizon.",
        ),
    )
    return fig


def _bins(start: dt.date, horizon: float) -> tuple[np.ndarray, str]:
    """Edges in days at the first of each month (or quarter, or year, for long horizons)."""
    step = 1 if horizon <= 2 * 366 else 3 if horizon <= 6 * 366 else 12
    edges = [0.0]
    y, m = start.year, start.month
    while True:
        m += step
        y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
        d = float((dt.date(y, m, 1) - start).days)
        if d >= horizon:
            break
        edges.append(d)
    edges.append(horizon + 1e-9)
    return np.array(edges), {1: "month", 3: "quarter", 12: "year"}[step]


@styled
def agreement_dates(results: RunResults) -> Figure:
    """(c) When agreement happens: the share of replications agreeing in each month, per item."""
    s, rec = results.scenario, results.records
    names = list(s.items)
    k = len(names)
    ncols = 1 if k == 1 else 2
    nrows = (k + ncols - 1) // ncols
    fig, axes = subplots(nrows, ncols, width=10, height=max(3.2, 2.4 * nrows + 1.0), sharex=True, squeeze=False)
    start, horizon = s.calendar.start, s.horizon
    edges, unit = _bins(start, horizon)
    n = max(rec.n, 1)
    top = 0.0
    for x, name in enumerate(names):
        ax = axes[x // ncols][x % ncols]
        days = rec.item_day[:, x]
        counts, _ = np.histogram(days[~np.isnan(days)], bins=edges)
        p = counts / n
        low, high = wilson_array(counts, n)
        left = to_dates(start, edges[:-1])
        width = np.diff(to_dates(start, edges)) * 0.9
        ax.bar(left, p, width=width, align="edge", color=color(x), alpha=0.85)
        centers = left + width / 2
        ax.errorbar(centers, p, yerr=[p - low, high - p], fmt="none", ecolor="0.25", elinewidth=0.9, capsize=2)
        never = 1.0 - rec.item_agreed[:, x].mean() if rec.n else 1.0
        note = f"not agreed by horizon: {never:.0%}"
        if s.items[name].status == "agreed":
            note = "agreed before the start"
        ax.text(
            0.99,
            0.95,
            note,
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=9,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8},
        )
        ax.set_title(label(s.items[name].title or name, 60), fontsize=10.5, loc="left")
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        top = max(top, float(high.max()) if high.size else 0.0)
        mark_as_of(ax, start, given_of(results), text=x == 0)
        date_axis(ax, start, horizon)
    for x in range(k, nrows * ncols):
        axes[x // ncols][x % ncols].set_visible(False)
        if x >= ncols:  # the panel above an empty slot carries the dates
            axes[x // ncols - 1][x % ncols].tick_params(labelbottom=True)
    for row in axes:
        for ax in row:
            ax.set_ylim(0, max(top * 1.15, 0.05))
        row[0].set_ylabel(f"share agreeing\nin the {unit}")
    title(
        fig,
        _forecast(results, "when agreement comes"),
        _caption(
            results,
            f"Bars: share of all replications agreeing in each {unit}, up to the horizon "
            f"({s.date(horizon).isoformat()}); whiskers: 95% Wilson intervals.",
        ),
    )
    return fig


@styled
def constraints_lifted(results: RunResults) -> Figure:
    """(f) The probability that each constraint is in force on each date: it falls as reviews and
    hazards lift it, and rises again when events impose it."""
    s, sm = results.scenario, results.summary_data
    fig, ax = subplots(width=10, height=5.0)
    start, horizon = s.calendar.start, s.horizon
    if not s.constraints:
        ax.text(0.5, 0.5, "This scenario has no constraints.", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    days = in_force_days(horizon)
    n = max(sm["replications"], 1)
    imposed = {name for e in s.events.values() for name in e.impose}
    sampled = False
    for c, (name, entry) in enumerate(zip(s.constraints, sm["constraints"], strict=True)):
        con = s.constraints[name]
        tag = "" if con.active else " (inactive at start; imposed by events)"
        style = {"color": color(c), "lw": 2.2, "label": label((con.title or name) + tag, 40)}
        if name not in imposed:  # in force until its first lift, exactly: a change on a date is a step there
            curve = cumulative(results.records.constraint_day[:, c] if con.active else np.full(0, np.nan), horizon)
            curve = curve.on_grid()
            on = 1.0 if con.active else 0.0
            xs = to_dates(start, curve.days)
            ax.step(xs, on * (1 - curve.p), where="post", **style)
            ax.fill_between(
                xs, on * (1 - curve.high), on * (1 - curve.low), step="post", color=color(c), alpha=0.18, lw=0
            )
        else:  # imposed again by events: read on the record's days, between which it is not known
            sampled = True
            counts = np.array(entry["in_force"])
            low, high = wilson_array(counts, n)
            xs = to_dates(start, days)
            ax.plot(xs, counts / n, **style)
            ax.fill_between(xs, low, high, color=color(c), alpha=0.18, lw=0)
        if con.lift is not None and con.lift.reviews is not None:
            first, every = s.day(con.lift.reviews.first), con.lift.reviews.every
            j = 0
            while first + j * every <= horizon:
                if first + j * every >= 0:
                    ax.axvline(to_dates(start, first + j * every), color=color(c), lw=0.8, ls=":", alpha=0.8)
                j += 1
    if s.constraints:
        mark_horizon(ax, start, horizon)
        mark_as_of(ax, start, given_of(results))
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_ylabel("probability in force")
        ax.set_xlabel("date")
        date_axis(ax, start, horizon)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), title="constraint")
    title(
        fig,
        _forecast(results, "constraints in force over time"),
        _caption(
            results,
            "Lines: share of replications in which the constraint is in force on each date"
            + (
                " (one that events impose again is read on 64 evenly spaced days, with 95% Wilson bands; the "
                "others are exact, in force until their first lift)"
                if sampled
                else ", exact: in force until the first lift"
            )
            + "; shaded: 95% band; dotted: review dates; dashed: the horizon.",
        ),
    )
    return fig
