"""Figures of a sweep: lines (one parameter), heat maps (two), tornado (oat), partial dependence (lhs)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from sim.results.sweepfolder import Metric, SweepResults, metric_values, paired_differences, parse_metric
from sim.scenario.paths import number_at, scenario_data, written_number
from sim.views.plots.style import color, save, styled, subplots, title, to_dates, year_dates
from sim.views.plots.timeline import label


def _param_values(res: SweepResults, path: str, idx: np.ndarray) -> np.ndarray:
    by_point = {p["point"]: p[path] for p in res.described["points"] if path in p}
    return np.array([by_point[int(i)] for i in idx], float)


def _design(res: SweepResults, idx: np.ndarray) -> np.ndarray:
    """Which of the points ``idx`` belong to the design (they set every swept path): not the
    scenario as written that a grid adds as its last point."""
    return np.array([res.is_full(int(i)) for i in idx], bool)


def _written(res: SweepResults) -> tuple[int | None, bool]:
    """The point that is the scenario as written, and whether it is a point of the design itself."""
    base = res.baseline
    return base, base is not None and res.is_full(base)


def _drawn(res: SweepResults, path: str) -> bool:
    """Whether the scenario draws the number at ``path`` from a distribution (so no point of a
    sweep that sets it is the scenario as written)."""
    return own_value(res, path) is not None and written_number(scenario_data(res.base), path) is None


def _at(values: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], point: int) -> tuple[float, float, float] | None:
    """(value, low, high) of one point among an item's metric values, None if it did not run."""
    idx, mid, lo, hi = values
    hit = np.flatnonzero(idx == point)
    return None if hit.size == 0 else (float(mid[hit[0]]), float(lo[hit[0]]), float(hi[hit[0]]))


def _as_written_text(metric: Metric, res: SweepResults, value: tuple[float, float, float] | None) -> str:
    """A heat map's note of the value of the scenario as written."""
    if value is None:
        return ""
    m, low, high = value
    if math.isnan(m):
        return "as written: after the horizon"
    if metric.is_probability:
        return f"as written: {m:.0%} ±{max(m - low, high - m):.0%}"
    return "as written: " + _date_text(res.base.calendar.start, m, fine=True)


def _axis(ax: object, metric: Metric, res: SweepResults, which: str = "y") -> None:
    axis = getattr(ax, f"{which}axis")
    if metric.is_probability:
        axis.set_major_formatter(PercentFormatter(1.0))
    else:
        year_dates(axis, minticks=3, maxticks=7)


def _y(metric: Metric, res: SweepResults, v: np.ndarray) -> np.ndarray:
    return v if metric.is_probability else to_dates(res.base.calendar.start, v)


def own_value(res: SweepResults, path: str) -> float | None:
    """Where the scenario sits on a swept path's axis: its number, or the mean of the distribution
    it draws the judgement from (None if the field is unset there)."""
    return number_at(scenario_data(res.base), path)


def _ticks(values: list[float], most: int = 10) -> tuple[list[int], list[str]]:
    """Positions and labels of at most ``most`` ticks along a heat map's axis (first and last kept)."""
    step = max(1, math.ceil(len(values) / most))
    keep = list(range(0, len(values), step))
    last = len(values) - 1
    if keep[-1] != last:
        if last - keep[-1] < step / 2 and len(keep) > 1:
            keep[-1] = last  # the last value replaces a tick too close to it
        else:
            keep.append(last)
    return keep, [f"{values[i]:.3g}" for i in keep]


def _month(start: dt.date, fine: bool = False) -> Any:
    """A tick formatter: days from ``start`` as 'Mon YYYY' ('D Mon YYYY' when ``fine``: a span of a
    few months, whose ticks would otherwise repeat one month)."""
    return lambda v, _: _date_text(start, v, fine)


def _date_text(start: dt.date, day: float, fine: bool) -> str:
    d = start + dt.timedelta(days=day)
    return f"{d.day} {d:%b %Y}" if fine else d.strftime("%b %Y")


def _caption(res: SweepResults, extra: str) -> str:
    n = res.described["replications"]
    streams = (
        "a seed per row of the sobol design" if res.described.get("seeds") else "common random numbers across points"
    )
    return (
        f"{len(res.described['points'])} points x {n:,} replications, seed {res.described['seed']}, {streams}. {extra}"
    )


@styled
def lines(res: SweepResults, metric: Metric) -> Figure:
    """One parameter: the metric per item against it, with 95% bands, and the scenario as written."""
    path = res.parameters[0]
    fig, ax = subplots(width=10, height=5.4)
    late = False
    base, on_grid = _written(res)
    own = own_value(res, path)
    data = metric_values(res, metric)
    for x, (name, values) in enumerate(data.items()):
        idx, mid, lo, hi = values
        keep = _design(res, idx)
        xs = _param_values(res, path, idx[keep])
        mid, lo, hi = mid[keep], lo[keep], hi[keep]
        order = np.argsort(xs)
        xs, mid, lo, hi = xs[order], mid[order], lo[order], hi[order]
        ax.plot(
            xs, _y(metric, res, mid), "-o", color=color(x), lw=2, ms=4, label=label(res.base.items[name].title or name)
        )
        ax.fill_between(xs, _y(metric, res, lo), _y(metric, res, hi), color=color(x), alpha=0.18, lw=0)
        after = np.isnan(mid)
        if not metric.is_probability and after.any():  # a median after the horizon: drawn above it, hollow
            late = True
            row = res.base.horizon * (1.02 + 0.03 * x)  # a row per item, so that none hides another
            ax.plot(xs[after], _y(metric, res, np.full(after.sum(), row)), "^", mfc="none", color=color(x), ms=7)
        written = None if base is None or on_grid else _at(values, base)
        if written is not None and math.isnan(written[0]) and own is not None:  # its median after the horizon
            late = True
            row = res.base.horizon * (1.02 + 0.03 * x)
            ax.plot([own], _y(metric, res, np.array([row])), "D", mfc="none", mec=color(x), mew=1.4, ms=8, zorder=5)
        elif written is not None and not math.isnan(written[0]):  # the scenario as written, off the line
            m, low, high = (float(v) for v in _y(metric, res, np.array(written)))
            if own is None:  # an unset field has no place on the axis: a level across it
                ax.axhline(m, color=color(x), lw=1.2, ls=(0, (1, 2)))
            else:
                ax.errorbar(
                    [own], [m], yerr=[[m - low], [high - m]], fmt="none", ecolor=color(x), elinewidth=1.2, capsize=4
                )
                ax.plot([own], [m], "D", color=color(x), mec="black", mew=1.2, ms=8, zorder=5)
    if late:
        at = _y(metric, res, np.array([res.base.horizon]))[0]
        ax.axhline(at, color="0.5", lw=0.8, ls="--")
        end = res.base.date(res.base.horizon).isoformat()
        ax.annotate(
            f"horizon {end}",
            (1.0, at),
            xycoords=("axes fraction", "data"),
            xytext=(-3, -3),
            textcoords="offset points",
            ha="right",
            va="top",
            fontsize=8,
            color="0.35",
        )
        ax.plot([], [], "^", mfc="none", color="0.3", ms=7, label=f"median after the horizon ({end})")
    drawn = _drawn(res, path)
    if base is not None and not on_grid:
        ax.plot(
            [],
            [],
            "D" if own is not None else "",
            ls="none" if own is not None else (0, (1, 2)),
            color="0.6",
            mec="black",
            label="the scenario as written"
            + (f" ({path} drawn)" if drawn else f" ({path} unset)" if own is None else ""),
        )
    if own is not None:
        ax.axvline(own, color="0.35", lw=1.1, ls="--")
        ax.annotate(
            "mean of the scenario's distribution" if drawn else "the scenario's value",
            (own, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -12),
            textcoords="offset points",
            fontsize=8.5,
            color="0.35",
        )
    ax.set_xlabel(path)
    ax.set_ylabel(metric.label(res.base.calendar.start))
    if metric.is_probability:
        ax.set_ylim(0, 1.02)
    _axis(ax, metric, res)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), title="item")
    if base is not None and not on_grid:
        how = (
            f"Diamonds: the scenario as written, {path} drawn from its distribution in every replication as "
            "`negsim run` draws it (the line at the dashed mean fixes it there instead: another forecast)."
            if drawn
            else "Diamonds: the scenario as written, run beside the points."
            if own is not None
            else f"Dotted levels: the scenario as written ({path} unset there)."
        )
    elif base is not None:
        how = "Dashed: the scenario's own value; the line there is the scenario as written."
    elif own is not None and drawn:
        how = (
            "Dashed: the mean of the scenario's distribution; the line there fixes the judgement at it, which is "
            "not the scenario as written (this sweep did not run that)."
        )
    else:
        how = "Dashed: the scenario's own value." if own is not None else ""
    title(
        fig,
        f"{res.base.title or res.base.name}: {metric.label(res.base.calendar.start)} against {path}",
        _caption(res, f"Bands: 95% intervals. {how}"),
    )
    return fig


@styled
def heatmaps(res: SweepResults, metric: Metric) -> Figure:
    """Two parameters: a heat map per item, each cell with its value and 95% half-width."""
    px, py = res.parameters[:2]
    data = metric_values(res, metric)
    k = len(data)
    ncols = min(3, k)
    nrows = math.ceil(k / ncols)
    fig, axes = subplots(nrows, ncols, width=4.2 * ncols + 1.2, height=3.6 * nrows + 1.2, squeeze=False)
    xs_all = sorted({p[px] for p in res.described["points"] if px in p})
    ys_all = sorted({p[py] for p in res.described["points"] if py in p})
    labelled = len(xs_all) <= 10 and len(ys_all) <= 10
    own = (own_value(res, px), own_value(res, py))
    base, on_grid = _written(res)
    for j, (name, values) in enumerate(data.items()):
        ax = axes[j // ncols][j % ncols]
        keep = _design(res, values[0])
        idx, mid, lo, hi = (v[keep] for v in values)
        finite = mid[np.isfinite(mid)]
        vmin, vmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if vmax - vmin < (0.02 if metric.is_probability else 7.0):  # an item the parameters barely move
            centre = (vmin + vmax) / 2
            half = 0.01 if metric.is_probability else 3.5
            vmin, vmax = centre - half, centre + half
        grid = np.full((len(ys_all), len(xs_all)), np.nan)
        xv, yv = _param_values(res, px, idx), _param_values(res, py, idx)
        for a, b, m, low, high in zip(xv, yv, mid, lo, hi, strict=True):
            r, c = ys_all.index(b), xs_all.index(a)
            grid[r, c] = m
            if labelled:
                if math.isnan(m):
                    text, shade = "after\nhorizon", "0.4"
                elif metric.is_probability:
                    text = f"{m:.0%}\n±{max(m - low, high - m):.0%}"
                    shade = "white" if (m - vmin) / (vmax - vmin or 1) < 0.55 else "black"
                else:
                    text = _date_text(res.base.calendar.start, m, vmax - vmin < 120)
                    shade = "white" if (m - vmin) / (vmax - vmin or 1) < 0.55 else "black"
                ax.text(c, r, text, ha="center", va="center", fontsize=7.5, color=shade)
        mesh = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis", vmin=vmin, vmax=vmax)
        at, names = _ticks(xs_all)
        ax.set_xticks(at, names, rotation=45 if len(at) > 6 else 0)
        at, names = _ticks(ys_all)
        ax.set_yticks(at, names)
        heading = label(res.base.items[name].title or name, 40)
        if on_grid:  # the scenario as written is this cell
            cell = res.values(base)  # type: ignore[arg-type]
            ax.plot(xs_all.index(cell[px]), ys_all.index(cell[py]), marker="s", ms=13, mfc="none", mec="white", mew=2.2)
        elif base is not None:  # it is not a cell: where it sits, and its own value, run beside the grid
            ox, oy = own
            if ox is not None and oy is not None and xs_all[0] <= ox <= xs_all[-1] and ys_all[0] <= oy <= ys_all[-1]:
                ax.plot(
                    np.interp(ox, xs_all, range(len(xs_all))),
                    np.interp(oy, ys_all, range(len(ys_all))),
                    marker="D",
                    ms=11,
                    mfc="none",
                    mec="white",
                    mew=2.0,
                )
            heading += "\n" + _as_written_text(metric, res, _at(values, base))
        ax.set_title(heading, fontsize=10, loc="left")
        ax.set_xlabel(px)
        ax.set_ylabel(py)
        ax.grid(False)
        bar = fig.colorbar(mesh, ax=ax, shrink=0.85)
        if not finite.size:  # every median after the horizon: a colour scale would read nothing (its room is kept)
            bar.ax.set_visible(False)
        elif metric.is_probability:
            bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0 if vmax - vmin > 0.05 else 1))
        else:
            from matplotlib.ticker import FuncFormatter

            bar.ax.yaxis.set_major_formatter(FuncFormatter(_month(res.base.calendar.start, vmax - vmin < 120)))
    for j in range(k, nrows * ncols):
        axes[j // ncols][j % ncols].set_visible(False)
    shown = (
        (
            "Each cell: the value and the half-width of its 95% interval. "
            if metric.is_probability
            else "Each cell: the median date; 'after horizon' where fewer than half agree. "
        )
        if labelled
        else "Cells are too many to label; the colour bars read them. "
    )
    if on_grid:
        mark = "White square: the scenario as written."
    elif base is not None:
        drawn = [p for p in (px, py) if _drawn(res, p)]
        mark = "Above each map: the scenario as written, " + (
            f"{' and '.join(drawn)} drawn from {'their distributions' if len(drawn) > 1 else 'its distribution'} "
            "in every replication as `negsim run` draws it (no cell is that forecast: a cell fixes the judgement); "
            "white diamond: where the means sit."
            if drawn
            else "run beside the grid (no cell is it); white diamond: where it sits."
        )
    else:
        mark = ""
    how = shown + "Each item has its own colour scale. " + mark
    title(fig, f"{res.base.title or res.base.name}: {metric.label(res.base.calendar.start)}", _caption(res, how))
    return fig


def _levers(res: SweepResults, base_point: int) -> dict[str, list[int]]:
    """For each swept path, the points that move it alone from the base point."""
    base = res.values(base_point)
    out: dict[str, list[int]] = {path: [] for path in res.parameters}
    for p in res.described["points"]:
        i = int(p["point"])
        if i == base_point:
            continue
        mine = res.values(i)
        moved = {q for q in mine if base.get(q) != mine[q]} | {q for q in base if q not in mine}
        if len(moved) == 1 and (path := moved.pop()) in mine:
            out[path].append(i)
    return out


@styled
def tornado(res: SweepResults, metric: Metric) -> Figure:
    """One at a time: how far each parameter's lowest and highest value move each item from the
    scenario as written."""
    data = metric_values(res, metric)
    written = res.baseline
    base_point = 0 if written is None else written  # (a sweep by an earlier negsim: its point 0)
    levers = _levers(res, base_point)
    diffs = paired_differences(res, metric, base_point) if metric.is_probability else {}
    k = len(data)
    ncols = min(2, k)
    nrows = math.ceil(k / ncols)
    params = res.parameters
    fig, axes = subplots(
        nrows, ncols, width=6 * ncols + 1, height=max(2.8, 0.55 * len(params) + 1.6) * nrows, squeeze=False
    )
    for j, (name, (idx, mid, lo, hi)) in enumerate(data.items()):
        ax = axes[j // ncols][j % ncols]
        mid, lo, hi = (_y(metric, res, v) for v in (mid, lo, hi))  # median days as dates
        at = {int(i): (m, a, b) for i, m, a, b in zip(idx, mid, lo, hi, strict=True)}
        if base_point not in at:
            ax.text(0.5, 0.5, "the base point failed", transform=ax.transAxes, ha="center")
            continue
        base = at[base_point][0]
        if math.isnan(base):  # no centre to draw changes from
            end = res.base.date(res.base.horizon).isoformat()
            ax.text(
                0.5,
                0.5,
                f"the scenario as written: median after the horizon ({end})",
                transform=ax.transAxes,
                ha="center",
                fontsize=9,
                color="0.35",
            )
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(label(res.base.items[name].title or name, 50), fontsize=10, loc="left")
            continue
        swings = []
        for path in params:
            pts = [res.described["points"][i] for i in levers[path]]
            lowp = min(pts, key=lambda p: p[path], default=None)
            highp = max(pts, key=lambda p: p[path], default=None)
            swings.append((path, lowp, highp))
        swings.sort(key=lambda s: -max(abs(at.get(p["point"], (base,))[0] - base) if p else 0 for p in s[1:]))
        ys = np.arange(len(swings))[::-1]
        for y, (path, lowp, highp) in zip(ys, swings, strict=True):
            sides: list[bool] = []
            for p, c, tag in ((lowp, "#1b6ca8", "lowest"), (highp, "#d1495b", "highest")):
                if p is None or p["point"] not in at:
                    continue
                m, a, b = at[p["point"]]
                ax.barh(
                    y, m - base, left=base, color=c, alpha=0.8, height=0.6, label=f"{tag} value" if y == ys[0] else None
                )
                if name in diffs and p["point"] in diffs[name]:  # the interval of the change itself, paired
                    d, dlo, dhi = diffs[name][p["point"]]
                    a, b = base + dlo, base + dhi
                    m = base + d
                if metric.is_probability:  # a probability is in [0, 1], and so is every end of its interval
                    a, b = min(max(a, 0.0), 1.0), min(max(b, 0.0), 1.0)
                ax.errorbar(
                    [m],
                    [y],
                    xerr=[[max(m - a, 0)], [max(b - m, 0)]],
                    fmt="none",
                    ecolor="0.2",
                    capsize=3,
                    elinewidth=0.9,
                )
                right = m > base or (m == base and tag == "highest")  # equal: lowest left, highest right
                below = right in sides  # both values move it the same way: one label above the bar, one below
                sides.append(right)
                ax.annotate(
                    f"{p[path]:g}",
                    (m, y),
                    xytext=(4 if right else -4, -17 if below else 9),
                    textcoords="offset points",
                    ha="left" if right else "right",
                    fontsize=8,
                )
        ax.axvline(base, color="0.2", lw=1)
        ax.set_yticks(ys, [label(s[0], 30) for s in swings], fontsize=8.5)
        ax.set_title(label(res.base.items[name].title or name, 50), fontsize=10, loc="left")
        ax.set_xlabel(metric.label(res.base.calendar.start))
        if metric.is_probability:
            ax.xaxis.set_major_formatter(PercentFormatter(1.0))
            low, high = ax.get_xlim()
            ax.set_xlim(max(low, 0.0), min(high, 1.0))  # no room for chances below 0% or above 100%
        else:
            _axis(ax, metric, res, "x")
        ax.grid(axis="y", alpha=0)
    for j in range(k, nrows * ncols):
        axes[j // ncols][j % ncols].set_visible(False)
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside upper right", ncols=2, fontsize=9)
    centre = (
        "the scenario as written (vertical line; every judgement drawn from its distribution as `negsim run` draws it)"
        if written is not None
        else "point 0 (vertical line; this sweep fixed the swept judgements at their means, which is not the "
        "scenario as written)"
    )
    title(
        fig,
        f"{res.base.title or res.base.name}: one lever at a time",
        _caption(
            res,
            f"Bars: change from {centre} at each parameter's lowest and highest "
            + (
                "value; whiskers: 95% intervals of the change, paired replication by replication (a change that "
                "cannot touch an item has none; cut at 0% and 100%)."
                if metric.is_probability
                else "value; whiskers: 95% intervals of each value's median date."
            ),
        ),
    )
    return fig


@styled
def partial_dependence(res: SweepResults, metric: Metric) -> Figure:
    """Latin hypercube (or a larger grid): the metric per item against each parameter, averaged over the others."""
    params = res.parameters
    data = metric_values(res, metric)
    ncols = min(3, len(params))
    nrows = math.ceil(len(params) / ncols)
    fig, axes = subplots(nrows, ncols, width=4.6 * ncols + 2.4, height=3.8 * nrows + 1.0, squeeze=False)
    for j, path in enumerate(params):
        ax = axes[j // ncols][j % ncols]
        for x, (name, (idx, mid, _lo, _hi)) in enumerate(data.items()):
            design = _design(res, idx)  # (a grid's added scenario as written is no point of the design)
            idx, mid = idx[design], mid[design]
            xs = _param_values(res, path, idx)
            keep = ~np.isnan(mid)
            xs, ys = xs[keep], mid[keep]
            if xs.size == 0:
                continue
            ax.scatter(xs, _y(metric, res, ys), s=8, color=color(x), alpha=0.25, lw=0)
            bins = min(8, np.unique(xs).size)
            edges = np.unique(np.quantile(xs, np.linspace(0, 1, bins + 1)))
            which = np.clip(np.searchsorted(edges, xs, side="right") - 1, 0, max(edges.size - 2, 0))
            cx: list[float] = []
            cm: list[float] = []
            cl: list[float] = []
            ch: list[float] = []
            for b in range(max(edges.size - 1, 1)):
                sel = ys[which == b]
                if sel.size == 0:
                    continue
                se = sel.std(ddof=1) / math.sqrt(sel.size) if sel.size > 1 else 0.0
                m = sel.mean()
                for col, value in zip(
                    (cx, cm, cl, ch), (xs[which == b].mean(), m, m - 1.96 * se, m + 1.96 * se), strict=True
                ):
                    col.append(value)
            ax.plot(
                cx,
                _y(metric, res, np.array(cm)),
                "-o",
                color=color(x),
                lw=2,
                ms=4,
                label=label(res.base.items[name].title or name, 28) if j == 0 else None,
            )
            ax.fill_between(
                cx, _y(metric, res, np.array(cl)), _y(metric, res, np.array(ch)), color=color(x), alpha=0.18, lw=0
            )
        ax.set_xlabel(path)
        if j % ncols == 0:
            ax.set_ylabel(metric.label(res.base.calendar.start))
        _axis(ax, metric, res)
    for j in range(len(params), nrows * ncols):
        axes[j // ncols][j % ncols].set_visible(False)
    fig.legend(loc="outside right upper", title="item")
    title(
        fig,
        f"{res.base.title or res.base.name}: partial dependence",
        _caption(
            res,
            "Dots: points; lines: mean over points in each bin of the parameter, the other "
            "parameters averaged over; bands: 95% intervals of the bin means.",
        ),
    )
    return fig


def figure_for(res: SweepResults, metric: Metric) -> tuple[str, Figure]:
    if res.design == "oat":
        return "tornado", tornado(res, metric)
    if res.design in ("lhs", "sobol") or len(res.parameters) > 2:
        return "partial_dependence", partial_dependence(res, metric)
    if len(res.parameters) == 2:
        return "heatmaps", heatmaps(res, metric)
    return "lines", lines(res, metric)


def draw_sweep(res: SweepResults, folder: Path, metric_text: str | None = None, svg: bool | None = None) -> list[Path]:
    """P(agreed by horizon), and the chosen ``--metric`` if it is another, as PNG and SVG."""
    out: list[Path] = []
    keys = ["p_agreed"] + ([metric_text] if metric_text and metric_text != "p_agreed" else [])
    for key in keys:
        metric = parse_metric(key, res.base.calendar.start)
        name, fig = figure_for(res, metric)
        out += save(fig, folder, f"sweep_{name}_{metric.key}", svg)
    return out
