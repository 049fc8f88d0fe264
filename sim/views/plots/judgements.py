"""The uncertain judgements of a run: each one's distribution as written beside its draws (in a
``--given`` run, the posterior given the history)."""

from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.figure import Figure

from sim.engine.plan import compile_plan
from sim.results import shares
from sim.results.folder import RunResults
from sim.views.plots.style import color, given_caption, given_of, panel_grid, styled, title

GRID = 20_000
"""Evenly spaced quantiles that draw a distribution as written (its density, by histogram)."""


@styled
def judgements(results: RunResults) -> Figure:
    """One panel per uncertain judgement: the prior's density (line) and the replications' draws (bars)."""
    s, rec = results.scenario, results.records
    judged = compile_plan(s).judgements
    given = given_of(results)
    fig, axes = panel_grid(len(judged), min(3, max(len(judged), 1)), width=10, row_height=3.1)
    drives = {row["path"]: row for row in results.summary_data.get("judgements", [])}
    for j, (path, dist) in enumerate(judged):
        ax = axes.flat[j]
        prior = dist.ppf((np.arange(GRID) + 0.5) / GRID)
        draws = rec.parameters[:, j]
        low, high = float(min(prior.min(), draws.min() if draws.size else prior.min())), float(prior.max())
        if draws.size:
            high = max(high, float(draws.max()))
        edges = np.linspace(low, high if high > low else low + 1.0, 31)
        ax.hist(
            draws,
            bins=edges,
            density=True,
            color=color(j),
            alpha=0.55,
            label="given the history" if given else "drawn",
        )
        density, _ = np.histogram(prior, bins=edges, density=True)
        ax.step(edges, np.append(density, density[-1]), where="post", color="0.15", lw=1.6, label="prior, as written")
        ax.set_xlabel("value drawn per replication")
        ax.set_yticks([])
        ax.set_ylim(0, ax.get_ylim()[1] * 1.25)  # room for the legend
        heading = path
        row = drives.get(path)
        if row is not None and row["items"]:
            heading += "\n" + "\n".join(textwrap.wrap(shares.headline(row), 33))
        ax.set_title(heading, fontsize=10, loc="left")
        if j == 0:
            ax.legend(loc="upper right", fontsize=8.5)
    if not judged:
        axes[0][0].set_visible(True)
        axes[0][0].text(0.5, 0.5, "This scenario has no uncertain judgement.", ha="center", va="center")
        axes[0][0].set_axis_off()
    axes[0][0].set_ylabel("density")
    name = s.title or s.name
    title(
        fig,
        f"{name}: the uncertain judgements" + (f", before and after the history to {given['as_of']}" if given else ""),
        f"{rec.n:,} replications, seed {s.simulation.seed}. Line: each judgement's distribution as written; bars: "
        "the replications' draws. 'moves X by d (s of its variance)': P(X agreed by horizon) in the top quarter of "
        "the draws minus the bottom quarter, for the item whose variance the draw explains most, named only when "
        f"that share is beyond what chance alone gives ({_band(drives)}); otherwise the judgement's own item, "
        "within chance." + given_caption(given, shaded=False),
    )
    return fig


def _band(drives: dict[str, dict[str, object]]) -> str:
    noise = next((row.get("band") for row in drives.values()), None)
    return f"{noise:.2%} of the variance" if isinstance(noise, float) else "no band: too few replications"
