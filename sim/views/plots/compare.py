"""Figures of a comparison: curves per item overlaid by run, P by horizon per run, differences."""

from __future__ import annotations

import math
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from sim.results.compare import Comparison
from sim.views.plots.style import color, date_axis, mark_day, save, step_curve, styled, subplots, title
from sim.views.plots.timeline import label


def _points(x: float, _pos: object = None) -> str:
    """A tick of a difference of probabilities, in percentage points: +5, 0, -10."""
    v = round(x * 100, 6)
    return f"{v:+g}" if v else "0"


STYLES = ["-", "--", "-.", ":"]
"""Line styles by run, so that runs with identical curves stay visible."""


def _items(c: Comparison) -> list[str]:
    return list(dict.fromkeys(r["item"] for r in c.rows))


def _title(c: Comparison, item: str) -> str:
    """An item's title, from the first run that has the item (its id where none gives one)."""
    for r in c.runs:
        if item in r.scenario.items:
            return r.scenario.items[item].title or item
    return item


def _caption(c: Comparison, extra: str) -> str:
    runs = "; ".join(f"{r.label}: {r.n:,} replications, seed {r.seed}" for r in c.runs)
    return f"{runs}. {extra}"


@styled
def curves(c: Comparison) -> Figure:
    """Cumulative probability of agreement per item (one panel each), one colour per run, 95% bands."""
    items = _items(c)
    ncols = 1 if len(items) == 1 else 2
    nrows = math.ceil(len(items) / ncols)
    fig, axes = subplots(nrows, ncols, width=11, height=2.7 * nrows + 1.6, squeeze=False)
    starts = [r.scenario.calendar.start for r in c.runs]
    start = min(starts)
    end = max((r.scenario.calendar.start - start).days + r.scenario.horizon for r in c.runs)
    for j, item in enumerate(items):
        ax = axes[j // ncols][j % ncols]
        for k, run in enumerate(c.runs):
            col = run.column(item)
            if col is None:
                continue
            step_curve(
                ax,
                run.scenario.calendar.start,
                run.day[:, col],
                run.scenario.horizon,
                color(k),
                lw=2,
                ls=STYLES[k % len(STYLES)],
                label=run.label if j == 0 else None,
            )
        ax.set_title(label(_title(c, item), 60), fontsize=10.5, loc="left")
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        if j == 0:  # each run's horizon, once (runs on one calendar share it)
            ends = dict.fromkeys(r.scenario.date(r.scenario.horizon) for r in c.runs)
            for when in ends:
                who = [r.label for r in c.runs if r.scenario.date(r.scenario.horizon) == when]
                tag = "horizon" if len(ends) == 1 else f"horizon of {', '.join(who)}"
                mark_day(ax, start, float((when - start).days), f"{tag} {when.isoformat()}", "0.3", "--")
        date_axis(ax, start, end)
        if j % ncols == 0:
            ax.set_ylabel("P(agreed by date)")
    for j in range(len(items), nrows * ncols):
        axes[j // ncols][j % ncols].set_visible(False)
        if j >= ncols:
            axes[j // ncols - 1][j % ncols].tick_params(labelbottom=True)
    fig.legend(loc="outside right upper", title="run")
    title(
        fig,
        "When is each item agreed, run by run?",
        _caption(c, "Lines: share of replications agreed by each date; shaded: 95% pointwise bands."),
    )
    return fig


@styled
def dots(c: Comparison) -> Figure:
    """P(agreed by horizon) per item and run, with 95% Wilson intervals."""
    items = _items(c)
    k = len(c.runs)
    fig, ax = subplots(width=10, height=max(3.0, 0.28 * k * len(items) + 0.6 * len(items) + 1.6))
    gap = 0.8 / max(k, 1)
    for i, item in enumerate(items):
        base = len(items) - 1 - i
        for j, run in enumerate(c.runs):
            row = next((r for r in c.rows if r["run"] == run.label and r["item"] == item), None)
            if row is None:
                continue
            y = base + 0.4 - gap * (j + 0.5)
            p, lo, hi = row["p_agreed"], row["ci_low"], row["ci_high"]
            ax.errorbar(
                [p],
                [y],
                xerr=[[p - lo], [hi - p]],
                fmt="o",
                color=color(j),
                ms=6,
                capsize=3,
                label=run.label if i == 0 else None,
            )
            ax.annotate(f"{p:.1%}", (hi, y), xytext=(5, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set_yticks(range(len(items))[::-1], [label(_title(c, x), 34) for x in items])
    ax.set_xlim(0, 1.1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("probability agreed by the horizon")
    ax.grid(axis="y", alpha=0)
    for i in range(1, len(items)):
        ax.axhline(i - 0.5, color="0.85", lw=0.8)
    ax.legend(loc="lower right", title="run", fontsize=8.5)
    title(
        fig,
        "Chance of agreement by the horizon, run by run",
        _caption(c, "Dots: share of replications agreed; bars: 95% Wilson intervals."),
    )
    return fig


@styled
def differences(c: Comparison) -> Figure:
    """Each run's difference from the first, per item, with 95% intervals (paired where possible)."""
    items = _items(c)
    others = c.runs[1:]
    k = max(len(others), 1)
    fig, ax = subplots(width=10, height=max(3.0, 0.3 * k * len(items) + 0.6 * len(items) + 1.6))
    gap = 0.8 / k
    lo_all, hi_all = [0.0], [0.0]
    for i, item in enumerate(items):
        base = len(items) - 1 - i
        for j, run in enumerate(others):
            row = next((r for r in c.rows if r["run"] == run.label and r["item"] == item), None)
            if row is None or math.isnan(row["diff"]):
                continue
            y = base + 0.4 - gap * (j + 0.5)
            d, lo, hi = row["diff"], row["diff_low"], row["diff_high"]
            lo_all.append(lo)
            hi_all.append(hi)
            ax.errorbar(
                [d],
                [y],
                xerr=[[d - lo], [hi - d]],
                fmt="s" if row["paired"] else "D",
                color=color(j + 1),
                ms=6,
                capsize=3,
                label=f"{run.label} ({'paired' if row['paired'] else 'unpaired'})" if i == 0 else None,
            )
            ax.annotate(
                f"{d * 100:+.1f} pp", (hi, y), xytext=(5, 0), textcoords="offset points", va="center", fontsize=8
            )
    ax.axvline(0, color="0.2", lw=1)
    ax.set_yticks(range(len(items))[::-1], [label(_title(c, x), 34) for x in items])
    span = max(0.02, max(hi_all) - min(lo_all))
    ax.set_xlim(min(lo_all) - 0.05 * span, max(hi_all) + 0.18 * span)
    ax.xaxis.set_major_formatter(FuncFormatter(_points))  # a difference of chances: points, never a percent
    ax.set_xlabel(f"difference in P(agreed by horizon) from '{c.runs[0].label}' (percentage points)")
    ax.grid(axis="y", alpha=0)
    for i in range(1, len(items)):
        ax.axhline(i - 0.5, color="0.85", lw=0.8)
    if others:
        ax.legend(loc="lower right", fontsize=8.5, title="run")
    title(
        fig,
        "What each change does to each item",
        _caption(
            c,
            "Markers: difference from the first run in percentage points (pp); bars: 95% intervals, from "
            "per-replication differences where runs share seed and replications (paired), else Newcombe's interval.",
        ),
    )
    return fig


FIGURES = {"compare_curves": curves, "compare_by_horizon": dots, "compare_differences": differences}


def draw_comparison(c: Comparison, folder: Path, svg: bool | None = None) -> list[Path]:
    out: list[Path] = []
    for name, make in FIGURES.items():
        out += save(make(c), folder, name, svg)
    return out


__all__ = ["FIGURES", "curves", "differences", "dots", "draw_comparison"]
