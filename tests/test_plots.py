"""Figures say what they show: dated axes with the year, labelled milestones and horizon, steps
where a chance changes at once, differences of chances in percentage points, titles not ids."""

from __future__ import annotations

import io
import re
from typing import Any

import matplotlib.dates as mdates
import numpy as np
from matplotlib.figure import Figure

from sim.api import Results
from sim.engine.plan import compile_plan
from sim.engine.simulate import simulate
from sim.results.compare import Comparison, RunData, comparison_rows
from sim.views.plots import FIGURES
from sim.views.plots.compare import FIGURES as COMPARE_FIGURES
from sim.views.plots.style import to_dates
from tests.helpers import make

YEAR = re.compile(r"\b(19|20)\d\d\b")

LIFTED = make(
    title="A ban lifted on a date",
    calendar={"start": "2025-03-01", "horizon": 200, "milestones": ["2025-05-10", "2025-07-01"]},
    items={
        "flights": {"title": "Direct flights resumed", "p": 0.3, "constraints": {"ban": "block"}},
        "visas": {"title": "Visas for diplomats", "p": 0.2},
    },
    constraints={"ban": {"title": "Flight ban", "active": True, "lift": {"on": 50}}},
)


def drawn(fig: Figure) -> Figure:
    """The figure rendered, so that tick labels are what a reader sees."""
    fig.savefig(io.BytesIO(), format="png")
    return fig


def shown_ticks(axis: Any) -> list[str]:
    """The labels of the ticks an axis draws (inside its view)."""
    lo, hi = sorted(axis.get_view_interval())
    return [t.get_text() for t, x in zip(axis.get_ticklabels(), axis.get_ticklocs(), strict=True) if lo <= x <= hi]


def test_every_date_axis_shows_the_year() -> None:
    """On every dated axis of a run's figures the first tick drawn carries its year (a year that
    starts in March, or stays within one calendar year, showed months alone)."""
    res = Results(LIFTED, simulate(compile_plan(LIFTED), 0, 400))
    dated = 0
    for name, make_figure in FIGURES.items():
        fig = drawn(make_figure(res))
        for ax in fig.axes:
            for axis in (ax.xaxis, ax.yaxis):
                if not isinstance(axis.get_major_locator(), mdates.DateLocator) or not ax.get_visible():
                    continue
                labels = [t for t in shown_ticks(axis) if t]
                if not labels:  # (a shared axis whose labels another panel carries)
                    continue
                dated += 1
                assert YEAR.search(labels[0]), f"{name}: first date tick {labels[0]!r} has no year ({labels})"
    assert dated >= 3


def test_milestones_and_the_horizon_are_labelled() -> None:
    """The agreement curves name each milestone line and the horizon by date; the constraint figure the horizon."""
    res = Results(LIFTED, simulate(compile_plan(LIFTED), 0, 400))
    texts = [t.get_text() for ax in FIGURES["agreement_curves"](res).axes for t in ax.texts]
    assert any("2025-05-10" in t for t in texts) and any("2025-07-01" in t for t in texts)
    horizon = LIFTED.date(LIFTED.horizon).isoformat()
    assert any("horizon" in t and horizon in t for t in texts)
    texts = [t.get_text() for ax in FIGURES["constraints_lifted"](res).axes for t in ax.texts]
    assert any("horizon" in t and horizon in t for t in texts)


def test_a_constraint_lifted_on_a_date_drops_there_as_a_step() -> None:
    """P(in force) of a ban lifted on day 50 in every replication is 100% up to day 50 and 0 from it:
    a vertical step at that date, not a ramp between the days it was read on."""
    res = Results(LIFTED, simulate(compile_plan(LIFTED), 0, 400))
    ax = FIGURES["constraints_lifted"](res).axes[0]
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == "Flight ban"]
    assert line.get_drawstyle() == "steps-post"
    xs, ys = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
    at = float(to_dates(LIFTED.calendar.start, 50.0))
    assert set(ys[xs < at]) == {1.0} and set(ys[xs >= at]) == {0.0} and at in xs


def _comparison() -> Comparison:
    one = make(items={"a": {"title": "Banking for the missions", "p": 0.3}})
    two = make(items={"a": {"title": "Banking for the missions", "p": 0.5}})
    runs = []
    for label, s in (("base", one), ("eased", two)):
        rec = simulate(compile_plan(s), 0, 2000)
        runs.append(RunData(label, label, s, rec.item_agreed, rec.item_day))
    return Comparison(runs, comparison_rows(runs))


def test_differences_of_chances_are_percentage_points() -> None:
    """The differences figure reads in percentage points (its ticks and labels carry no '%'),
    and names items by their titles."""
    fig = drawn(COMPARE_FIGURES["compare_differences"](_comparison()))
    ax = fig.axes[0]
    ticks = shown_ticks(ax.xaxis)
    assert ticks and not any("%" in t for t in ticks)
    notes = [t.get_text() for t in ax.texts]
    assert notes and all(t.endswith(" pp") and "%" not in t for t in notes)
    assert "percentage points" in ax.get_xlabel()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Banking for the missions"]


def test_figures_name_items_by_title() -> None:
    """The joint outcomes, like every figure of a run, name the items by their titles."""
    res = Results(LIFTED, simulate(compile_plan(LIFTED), 0, 400))
    ax = FIGURES["joint_outcomes"](res).axes[0]
    shown = " ".join(t.get_text() for t in ax.get_yticklabels())
    assert "Visas for diplomats" in shown and "visas" not in shown.replace("Visas", "")
