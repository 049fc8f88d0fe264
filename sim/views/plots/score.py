"""The reliability diagram of scored forecasts: does an event forecast at 30% happen 30% of the time?"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from sim.results.score import Forecast
from sim.results.stats import wilson
from sim.views.plots.style import color, styled, subplots, title

EDGES = np.linspace(0.0, 1.0, 6)
"""Five bins of forecast probability: few forecasts make fine bins meaningless."""


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


@styled
def reliability(labelled: list[tuple[str, Forecast]]) -> Figure:
    """Forecast probability against observed frequency, pooled over every item and checkpoint scored."""
    rows = [r for _, r in labelled if r.kind == "item"]
    fig, ax = subplots(width=7.5, height=6.2)
    ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", label="perfectly calibrated")
    o = np.array([r.observed for r in rows], dtype=float)
    series = [("scenario", np.array([r.p for r in rows]), color(0), "o")]
    if rows and all(r.null_p is not None for r in rows):
        series.append(("null model", np.array([r.null_p for r in rows], dtype=float), "0.45", "s"))
    for name, p, col, marker in series:
        pts = _binned(p, o)
        if not pts:
            continue
        x, y, lo, hi, n = (np.array(v) for v in zip(*pts, strict=True))
        ax.errorbar(x, y, yerr=[y - lo, hi - y], fmt=marker, color=col, ms=7, capsize=3, label=name)
        for xi, yi, ni in zip(x, y, n, strict=True):
            ax.annotate(f"{ni}", (xi, yi), xytext=(6, -10), textcoords="offset points", fontsize=8, color=col)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("forecast P(agreed by checkpoint), mean in each fifth")
    ax.set_ylabel("share that had happened")
    ax.legend(loc="upper left")
    runs = sorted({label for label, _ in labelled})
    title(
        fig,
        "Reliability of the forecasts",
        f"{len(rows)} forecasts (items x checkpoints) from {', '.join(runs)}, pooled; whiskers: 95% Wilson "
        "intervals; numbers: forecasts in each bin.",
    )
    return fig
