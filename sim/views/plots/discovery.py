"""Figures of scenario discovery and variance shares: PRIM's box (``negsim discover``) and a sobol
sweep's first and total indices."""

from __future__ import annotations

import math
import textwrap
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import PercentFormatter

from sim.results import discovery
from sim.views.plots.style import color, panel_grid, styled, subplots, title

SCATTER = 4000
"""At most this many points in the scatter panel (a fixed, evenly spaced subset: the same figure every time)."""


def _wrap(text: str, width: int = 38) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


@styled
def discovery_figure(data: dict[str, Any], x: np.ndarray | None = None, y: np.ndarray | None = None) -> Figure:
    """The peeling trajectory (coverage against density), the chosen box's bounds over each field's
    range with their spread over resamples, and the points in the box's two strongest fields."""
    fig, axes = subplots(1, 3, width=15.5, height=5.6, gridspec_kw={"width_ratios": [1.0, 1.25, 1.0]})
    box = data["box"]
    unit = data["unit"]
    _trajectory(axes[0], data)
    _bounds(axes[1], data)
    _scatter(axes[2], data, x, y)
    outcome = discovery.outcome_text(data)
    right = (
        f"the {unit} in the box's two strongest fields, the box drawn over them"
        if len(box["restrictions"]) > 1
        else "the values of the field the box restricts, among those that do and among all, and the bound"
    )
    name = data["source"].get("title") or data["source"]["scenario"]
    title(
        fig,
        f"{name}: which judgements decide whether the {unit} {outcome}",
        f"PRIM over {data['count']:,} {unit}. Left: each box of the peeling trajectory (colour: fields it restricts); "
        f"ring: the box chosen (the one that separates best, z {box['separation']:.1f}; chance alone gives up to "
        f"{data['chance']['separation']:.1f}), star: it pasted and pruned. Middle: the box's bounds on each field's "
        f"range (bar), whiskers: 5% to 95% of the bound over {data['resamples']} bootstrap resamples. Right: {right}.",
    )
    return fig


def _trajectory(ax: Any, data: dict[str, Any]) -> None:
    t = data["trajectory"]
    cov = np.array([b["coverage"] for b in t], float)
    den = np.array([b["density"] for b in t], float)
    fields = np.array([len(b["bounds"]) for b in t])
    most = max(int(fields.max()), 1)
    ax.plot(cov, den, color="0.75", lw=1, zorder=1)
    shades = matplotlib.colormaps["viridis"]
    for k in range(most + 1):
        sel = fields == k
        if sel.any():
            ax.scatter(
                cov[sel],
                den[sel],
                s=22,
                color=shades(0.9 * k / most),
                zorder=2,
                label=f"{k} field{'s' if k != 1 else ''}",
            )
    chosen = t[data["peeled_to"]]
    ax.scatter([chosen["coverage"]], [chosen["density"]], s=160, facecolors="none", edgecolors="0.1", lw=1.6, zorder=3)
    b = data["box"]
    ax.scatter([b["coverage"]], [b["density"]], s=170, marker="*", color="0.1", zorder=4, label="chosen box")
    ax.axhline(data["base"], color="0.45", ls="--", lw=1)
    ax.annotate(
        f"all {data['unit']}: {data['base']:.1%}",
        (0.02, data["base"]),
        xycoords=("axes fraction", "data"),
        xytext=(0, 4),
        textcoords="offset points",
        fontsize=8.5,
        color="0.35",
    )
    ax.set_xlim(max(0.0, float(cov.min()) - 0.05), 1.02)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0 if den.max() - den.min() > 0.05 else 1))
    ax.set_xlabel("coverage: share of those that do, inside the box")
    ax.set_ylabel(f"density: share inside that {discovery.outcome_text(data)}")
    ax.set_title("peeling trajectory", fontsize=10.5, loc="left")
    ax.legend(loc="upper right", fontsize=8, ncols=2)


def _bounds(ax: Any, data: dict[str, Any]) -> None:
    rs = data["box"]["restrictions"]
    fields = {f["path"]: f for f in data["fields"]}
    if not rs:
        ax.text(0.5, 0.5, "the box restricts no field:\nno judgement separates the outcome", ha="center", va="center")
        ax.set_axis_off()
        return
    ys = np.arange(len(rs))[::-1]
    for y, r in zip(ys, rs, strict=True):
        f = fields[r["path"]]
        lo, hi = f["min"], f["max"]
        span = (hi - lo) or 1.0

        def at(v: float | None, end: float, lo: float = lo, span: float = span) -> float:
            return end if v is None else (v - lo) / span

        a, b = at(r["low"], 0.0), at(r["high"], 1.0)
        ax.barh(y, 1.0, left=0.0, height=0.5, color="0.88", zorder=1)
        ax.barh(y, b - a, left=a, height=0.5, color=color(0), alpha=0.85, zorder=2)
        for key, side in (("low_range", "low"), ("high_range", "high")):
            q = r[key]
            if r[side] is not None and q and q[0] is not None and q[2] is not None:
                mid = at(q[1], 0.0)
                ax.errorbar(
                    [mid],
                    [y],
                    xerr=[[mid - at(q[0], 0.0)], [at(q[2], 0.0) - mid]],
                    fmt="none",
                    ecolor="0.15",
                    capsize=3,
                    lw=1,
                    zorder=3,
                )
        ax.text(a, y + 0.3, discovery.bound_text(r), fontsize=8.5, va="bottom", ha="left")
        ax.text(1.0, y - 0.32, f"{hi:.3g}", fontsize=7.5, va="top", ha="right", color="0.4")
        ax.text(0.0, y - 0.32, f"{lo:.3g}", fontsize=7.5, va="top", ha="left", color="0.4")
    ax.set_yticks(ys, [f"{_wrap(r['title'])}\n({r['path']}; {r['resampled']:.0%})" for r in rs], fontsize=8)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.8, len(rs) - 0.2)
    ax.set_xlabel("each field's range over the points (its lowest to its highest value)")
    ax.set_title("the box (in brackets: share of resamples restricting it)", fontsize=10.5, loc="left")
    ax.grid(axis="y", alpha=0)


def _scatter(ax: Any, data: dict[str, Any], x: np.ndarray | None, y: np.ndarray | None) -> None:
    rs = data["box"]["restrictions"]
    paths = [f["path"] for f in data["fields"]]
    if x is None or y is None or not rs:
        ax.set_axis_off()
        return
    strongest = sorted(rs, key=lambda r: r["density_without"] if r["density_without"] is not None else 1.0)[:2]
    step = max(1, math.ceil(y.size / SCATTER))
    xs, ys_ = x[::step], y[::step]
    if len(strongest) == 1:
        r = strongest[0]
        j = paths.index(r["path"])
        edges = np.linspace(float(x[:, j].min()), float(x[:, j].max()), 31)
        done = y > 0.5 if data["unit"] == "replications" else np.ones_like(y, bool)
        weights = None if data["unit"] == "replications" else y
        ax.hist(
            x[done, j],
            bins=edges,
            density=True,
            color=color(1),
            alpha=0.6,
            weights=weights,
            label=discovery.outcome_text(data),
        )
        ax.hist(x[:, j], bins=edges, density=True, histtype="step", color="0.2", lw=1.4, label=f"all {data['unit']}")
        for v in (r["low"], r["high"]):
            if v is not None:
                ax.axvline(v, color="0.1", ls="--", lw=1.2)
        ax.set_xlabel(_wrap(r["title"], 50))
        ax.set_ylabel("density of the values")
        ax.set_yticks([])
        ax.legend(loc="upper right", fontsize=8.5)
        ax.set_title("the field the box restricts", fontsize=10.5, loc="left")
        return
    a, b = (paths.index(r["path"]) for r in strongest)
    if data["unit"] == "replications":
        done = ys_ > 0.5
        yes, no = f"{data['item']} agreed by {data['by']}", f"{data['item']} not agreed"
        ax.scatter(xs[~done, a], xs[~done, b], s=5, color="0.75", lw=0, label=yes if data["negated"] else no)
        ax.scatter(xs[done, a], xs[done, b], s=8, color=color(1), lw=0, label=no if data["negated"] else yes)
        ax.legend(loc="upper right", fontsize=8.5, markerscale=2)
    else:
        dots = ax.scatter(xs[:, a], xs[:, b], s=14, c=ys_, cmap="viridis", lw=0)
        bar = ax.figure.colorbar(dots, ax=ax, shrink=0.85)
        bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    lo = [
        strongest[k]["low"] if strongest[k]["low"] is not None else float(x[:, j].min()) for k, j in enumerate((a, b))
    ]
    hi = [
        strongest[k]["high"] if strongest[k]["high"] is not None else float(x[:, j].max()) for k, j in enumerate((a, b))
    ]
    ax.add_patch(Rectangle((lo[0], lo[1]), hi[0] - lo[0], hi[1] - lo[1], fill=False, ec="0.1", lw=1.8, ls="--"))
    ax.set_xlabel(_wrap(strongest[0]["title"], 50))
    ax.set_ylabel(_wrap(strongest[1]["title"], 40))
    ax.set_title("the box's two strongest fields", fontsize=10.5, loc="left")


@styled
def sobol_figure(data: dict[str, Any], scenario_title: str) -> Figure:
    """One panel per item: each judgement's first-order index (dark) and total index (light) with
    95% intervals, in the share of the variance the judgements make."""
    items = data["items"]
    k = max(len(items), 1)
    n_par = max((len(it["parameters"]) for it in items), default=1)
    fig, axes = panel_grid(k, min(2, k), width=15, row_height=0.42 * n_par + 1.9)
    for j, it in enumerate(items):
        ax = axes.flat[j]
        params = sorted(it["parameters"], key=lambda p: p["total"] if p["total"] is not None else -1.0)
        ys = np.arange(len(params))
        share = it.get("judgement_share") or {}
        beyond = share.get("low") is not None and share["low"] > 0
        for y, p in zip(ys, params, strict=True):
            for key, shade, h, dy in (("total", 0.35, 0.76, 0.22), ("first", 0.95, 0.36, -0.02)):
                v = p[key]
                if v is None:
                    continue
                ax.barh(y, v, height=h, color=color(0), alpha=shade, label=_legend(key) if y == ys[-1] else None)
                lo, hi = p[f"{key}_low"], p[f"{key}_high"]
                if lo is not None and hi is not None and hi > lo:
                    ax.errorbar(
                        [v],
                        [y + dy],
                        xerr=[[max(v - lo, 0)], [max(hi - v, 0)]],
                        fmt="none",
                        ecolor="0.15" if key == "first" else "0.45",
                        capsize=2.5,
                        lw=0.9,
                    )
        if not beyond:
            zero = all(p["total"] == 0 and p["first"] == 0 for p in params)
            ax.text(
                0.5,
                0.5,
                "every index exactly 0: no judgement swept can reach this item"
                if zero
                else "the judgements move it no more than the Monte Carlo noise",
                transform=ax.transAxes,
                ha="center",
                va="center",
                fontsize=9,
                color="0.3",
            )
        ax.set_yticks(ys, [p["path"] for p in params], fontsize=8)
        ax.axvline(0, color="0.3", lw=0.8)
        highs = [p[key] for p in params for key in ("first_high", "total_high") if p[key] is not None]
        lows = [p[key] for p in params for key in ("first_low", "total_low") if p[key] is not None]
        ax.set_xlim(min([-0.05, *[v - 0.02 for v in lows]]), max([1.05, *[v + 0.02 for v in highs]]))
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        heading = it["item"]
        if beyond:
            heading += (
                f": judgements make {share['two_seed']:.0%} ({share['low']:.0%} to {share['high']:.0%}) of its variance"
            )
        else:
            heading += ": no variance beyond the Monte Carlo noise"
        ax.set_title(_wrap(heading, 52), fontsize=9.5, loc="left")
        ax.set_xlabel("share of the variance the judgements make")
        ax.grid(axis="y", alpha=0)
        if j == 0:
            ax.legend(loc="lower right", fontsize=8)
    title(
        fig,
        f"{scenario_title}: which judgements make each item's {data['label']} vary (Sobol indices)",
        f"{data['samples']} rows of a Saltelli design, {data['replications']:,} replications per point; Monte Carlo "
        "noise subtracted. Dark: first-order index (the judgement alone); light: total index (with its "
        f"interactions); whiskers: 95% bootstrap intervals over {data['resamples']} resamples of the rows (black: "
        "first order, grey: total).",
    )
    return fig


def _legend(key: str) -> str:
    return "total (with interactions)" if key == "total" else "first order (alone)"
