"""Figures of outcomes at the horizon: P(agreed) per item, rounds and breakdowns, joint outcomes."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from sim.engine.rules import in_force_days
from sim.results.folder import RunResults
from sim.results.stats import wilson_array
from sim.scenario.judgements import mean_of
from sim.views.plots.style import color, date_axis, mark_horizon, step_curve, styled, subplots, title, to_dates
from sim.views.plots.timeline import _caption, label


@styled
def agreed_by_horizon(results: RunResults) -> Figure:
    """(b) P(agreed by horizon) per item, with 95% Wilson intervals."""
    s, summary = results.scenario, results.summary_data
    items = summary["items"]
    k = len(items)
    fig, ax = subplots(width=9, height=max(2.6, 0.65 * k + 1.6))
    ys = np.arange(k)[::-1]
    for y, (x, it) in zip(ys, enumerate(items), strict=True):
        p, lo, hi = it["p"], it["ci_low"], it["ci_high"]
        ax.errorbar([p], [y], xerr=[[p - lo], [hi - p]], fmt="o", color=color(x), ms=8, capsize=5, elinewidth=2)
        ax.annotate(
            f"{p:.1%}  ({lo:.1%} - {hi:.1%})",
            (hi, y),
            xytext=(8, 0),
            textcoords="offset points",
            va="center",
            fontsize=9.5,
        )
    ax.set_yticks(ys, [label(it["title"], 34) for it in items])
    ax.set_xlim(0, 1.18)
    ax.set_xticks(np.linspace(0, 1, 6))
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(f"probability agreed by the horizon ({summary['horizon']['date']})")
    ax.set_ylim(-0.7, k - 0.3)
    ax.grid(axis="y", alpha=0)
    title(
        fig,
        f"{s.title or s.name}: chance of agreement by the horizon",
        _caption(results, "Dots: share of replications agreed; bars: 95% Wilson intervals."),
    )
    return fig


@styled
def rounds_and_breakdowns(results: RunResults) -> Figure:
    """(d) How many rounds are held, and when the talks break down."""
    s, rec = results.scenario, results.records
    fig, (left, right) = subplots(1, 2, width=11, height=4.8)
    n = max(rec.n, 1)
    held = rec.rounds_held
    top = int(held.max()) if rec.n else 0
    ks = np.arange(0, top + 1)
    counts = np.bincount(held, minlength=top + 1) if rec.n else np.zeros(1, int)
    p = counts / n
    low, high = wilson_array(counts, n)
    left.bar(ks, p, color=color(0), alpha=0.85)
    left.errorbar(ks, p, yerr=[p - low, high - p], fmt="none", ecolor="0.25", capsize=3, elinewidth=0.9)
    left.set_xlabel("rounds held by the horizon")
    left.set_ylabel("share of replications")
    left.yaxis.set_major_formatter(PercentFormatter(1.0))
    left.set_xticks(ks if top <= 20 else ks[:: max(1, top // 10)])
    left.set_title(f"Rounds held (mean {held.mean() if rec.n else 0:.1f})", fontsize=11, loc="left")
    start, horizon = s.calendar.start, s.horizon
    can_break = any(mean_of(e.breakdown) > 0 for e in s.events.values())
    curve = step_curve(right, start, rec.breakdown_day, horizon, color(1))
    pb = rec.breakdown.mean() if rec.n else 0.0
    peak = float(curve.high.max())
    talks = results.summary_data.get("talks")
    if talks:  # the pauses: the share of replications whose talks are paused on each date
        counts = np.array(talks["paused"])
        low, high = wilson_array(counts, n)
        xs = to_dates(start, in_force_days(horizon))
        at_end = talks["paused_at_horizon"]["p"]
        right.plot(
            xs,
            counts / n,
            color=color(2),
            lw=2.0,
            drawstyle="steps-post",
            label=f"paused ({at_end:.1%} at the horizon)",
        )
        right.fill_between(xs, low, high, color=color(2), alpha=0.18, lw=0, step="post")
        right.plot([], [], color=color(1), lw=2.0, label=f"broken off for good, by date ({pb:.1%})")
        right.legend(loc="upper left", fontsize=9)
        peak = max(peak, float(high.max()))
        right.set_title("Talks paused, or broken off", fontsize=11, loc="left")
        right.set_ylabel("probability")
    else:
        right.set_title(f"Talks broken off for good (by horizon: {pb:.1%})", fontsize=11, loc="left")
        right.set_ylabel("probability of breakdown by date")
    right.set_xlabel("date")
    right.set_ylim(0, max(0.05, peak * 1.2))
    right.yaxis.set_major_formatter(PercentFormatter(1.0))
    mark_horizon(right, start, horizon)
    date_axis(right, start, horizon)
    if not can_break:
        right.text(
            0.5,
            0.5,
            "no event in this scenario can break the talks off",
            ha="center",
            va="center",
            transform=right.transAxes,
            fontsize=9.5,
            color="0.35",
        )
    title(
        fig,
        f"{s.title or s.name}: rounds held and breakdowns",
        _caption(results, "Whiskers and shading: 95% intervals (Wilson; pointwise band)."),
    )
    return fig


@styled
def joint_outcomes(results: RunResults) -> Figure:
    """(e) The most frequent sets of items agreed by the horizon."""
    s, summary = results.scenario, results.summary_data
    rows = summary["joint_outcomes"]
    k = len(rows)
    fig, ax = subplots(width=10, height=max(2.8, 0.5 * k + 1.8))
    ys = np.arange(k)[::-1]
    p = np.array([r["p"] for r in rows])
    lo = np.array([r["ci_low"] for r in rows])
    hi = np.array([r["ci_high"] for r in rows])
    ax.barh(ys, p, color=color(0), alpha=0.85, height=0.65)
    ax.errorbar(p, ys, xerr=[p - lo, hi - p], fmt="none", ecolor="0.25", capsize=3, elinewidth=0.9)
    names = list(s.items)
    labels = []
    for r in rows:
        if not r["agreed"]:
            labels.append("nothing agreed")
        elif len(r["agreed"]) == len(names):
            labels.append("everything agreed")
        else:
            labels.append(label(" + ".join(s.items[x].title or x for x in r["agreed"]), 44))
    for y, value, h in zip(ys, p, hi, strict=True):
        ax.annotate(f"{value:.1%}", (h, y), xytext=(6, 0), textcoords="offset points", va="center", fontsize=9)
    ax.set_yticks(ys, labels)
    ax.set_xlim(0, min(1.0, float(hi.max()) * 1.2 + 0.02) if k else 1.0)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("share of replications ending with exactly this set agreed")
    ax.grid(axis="y", alpha=0)
    title(
        fig,
        f"{s.title or s.name}: most frequent outcomes at the horizon",
        _caption(results, f"The {k} most frequent sets of agreed items; whiskers: 95% Wilson intervals."),
    )
    return fig
