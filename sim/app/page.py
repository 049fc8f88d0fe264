"""The explorer page (Panel and Bokeh): controls on the left, the forecast against the baseline
on the right, re-run with the same seed whenever a number changes.

Each change is validated first; a bad value shows the validator's message beside its control
and runs nothing. A valid one dims the figures and says "working" at once, runs in a worker
thread (so the page stays live), and shows its numbers only if no later change has arrived
meanwhile: a number on the page is either current or visibly marked as not. The page's state
(changed numbers, the pinned baseline, the history switch) is kept in its URL.
"""

from __future__ import annotations

import asyncio
import math
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from html import escape
from typing import Any

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, DatetimeTicker, DatetimeTickFormatter, Range1d
from bokeh.models.annotations import BoxAnnotation, Span, Title
from bokeh.plotting import figure

from sim.app.controls import label, spread
from sim.app.differences import View, compare
from sim.app.form import Form, WidgetForm, layout, shown
from sim.app.model import Explorer, Outcome, Variant
from sim.app.tables import headline_table, items_table, judgements_table, talks_table
from sim.errors import UserError
from sim.results.stats import Curve
from sim.scenario.paths import scenario_data

COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#8C6D31", "#000000")
"""The Okabe-Ito palette: told apart with the common colour-vision deficiencies."""
GHOST = "#7a7a7a"
BASE_PREFIX = "base."
"""URL keys of the pinned baseline's numbers (a path never starts with it)."""
STALE = {"opacity": "0.35", "transition": "opacity 0.1s"}


def _dates(s: Any, days: np.ndarray) -> np.ndarray:
    start = np.datetime64(s.calendar.start.isoformat(), "ms")
    return start + np.round(np.asarray(days) * 86_400_000).astype("timedelta64[ms]")


def _curve_data(s: Any, curve: Curve) -> dict[str, Any]:
    return {"x": _dates(s, curve.days), "p": curve.p, "low": curve.low, "high": curve.high}


class Page:
    """One browser session's (or notebook cell's) view of an :class:`Explorer`."""

    def __init__(self, explorer: Explorer, args: dict[str, list[str]] | None = None, notebook: bool = False) -> None:
        self.x = explorer
        self.notebook = notebook
        self.generation = 0
        self.shown = 0
        self._quiet = False
        self._ignored: list[str] = []
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="negsim-explore")
        self.controls = {c.path: c for g in explorer.groups for c in g.controls}
        self.base: dict[str, float] = {}
        groups = layout(explorer.groups)
        self.form = (
            WidgetForm(groups, self._file_texts())
            if notebook
            else Form(groups=groups, values=self._file_texts(), width=390)
        )
        self.form.param.watch(self._on_change, "values")
        self.status = pn.pane.HTML(
            self._status_html("running", "Working: running the scenario…"), sizing_mode="stretch_width"
        )
        self.general = pn.pane.HTML("", sizing_mode="stretch_width")
        self.baseline_note = pn.pane.HTML("", sizing_mode="stretch_width")
        as_of = self.x.as_of
        self.given = pn.widgets.Checkbox(
            label=f"Forecast given what happened to {as_of:%d %b %Y} ({self.x.observed})" if as_of else "given",
            value=False,
            visible=as_of is not None,
            css_classes=["negsim-given"],
        )
        self.given.param.watch(self._on_change, "value")
        self.kept = pn.pane.HTML("", sizing_mode="stretch_width")
        self.pin = pn.widgets.Button(label="Pin these values as the baseline", css_classes=["negsim-pin"])
        self.unpin = pn.widgets.Button(label="Compare with the file's values", css_classes=["negsim-unpin"])
        self.reset = pn.widgets.Button(label="Back to the file's values", css_classes=["negsim-reset"])
        self.save_as = pn.widgets.TextInput(
            label="Save these values as a scenario file",
            value=str(self.x.default_name()),
            css_classes=["negsim-save-as"],
            width=420,
        )
        self.save = pn.widgets.Button(label="Save variant", color="primary", css_classes=["negsim-save"])
        self.saved = pn.pane.HTML("", sizing_mode="stretch_width")
        self.pin.on_click(self._on_pin)
        self.unpin.on_click(self._on_unpin)
        self.reset.on_click(self._on_reset)
        self.save.on_click(self._on_save)
        self.figures, self.sources = self._figures()
        self.headline_html = pn.pane.HTML("", sizing_mode="stretch_width")
        self.items_html = pn.pane.HTML("", sizing_mode="stretch_width")
        self.talks_html = pn.pane.HTML("", sizing_mode="stretch_width")
        self.judgements_html = pn.pane.HTML("", sizing_mode="stretch_width")
        self.results = pn.Column(
            self.headline_html,
            pn.pane.HTML("<h3>Agreement by date: these values (solid, 95% band) and the baseline (dashed)</h3>"),
            self.figures,
            pn.pane.HTML("<h3>By each milestone, against the baseline</h3>"),
            self.items_html,
            pn.pane.HTML("<h3>Rounds and breakdown</h3>"),
            self.talks_html,
            pn.pane.HTML("<h3>Which judgements move each item</h3>"),
            self.judgements_html,
            sizing_mode="stretch_width",
            styles=STALE,
        )
        s = self.x.original
        header = pn.pane.HTML(
            f"<h2 style='margin:4px 0'>{escape(s.title or s.name)}</h2>"
            f"<div style='color:#555'>{escape(str(self.x.file))}: {s.simulation.replications:,} replications, "
            f"seed {s.simulation.seed}. Every change runs the scenario again with the same seed, so each "
            "difference from the baseline is paired, replication by replication.</div>",
            sizing_mode="stretch_width",
        )
        actions = pn.Column(
            self.status,
            self.general,
            self.baseline_note,
            pn.Row(self.pin, self.unpin, self.reset),
            self.given,
            self.kept,
            pn.Row(self.save_as, self.save, align="end"),
            self.saved,
            sizing_mode="stretch_width",
        )
        self.view = pn.Row(
            pn.Column(pn.pane.HTML("<h3>The scenario's numbers</h3>"), self.form, width=410),
            pn.Column(header, actions, self.results, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )
        self._restore(args or {})

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> Any:
        """Shown inline in Jupyter, as the page."""
        return self.view._repr_mimebundle_(include, exclude)

    def servable(self) -> Any:
        """For ``panel serve`` of a script."""
        return self.view.servable()

    def close(self) -> None:
        """The session is over: let its worker thread go."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _figures(self) -> tuple[Any, dict[str, tuple[ColumnDataSource, ColumnDataSource]]]:
        """A small figure per item: these values' curve with its band, the baseline's as a ghost."""
        s = self.x.original
        figs, sources = [], {}
        empty = {"x": _dates(s, np.array([0.0])), "p": [0.0], "low": [0.0], "high": [0.0]}
        for k, (name, item) in enumerate(s.items.items()):
            colour = COLOURS[k % len(COLOURS)]
            title = item.title or name
            fig = figure(
                height=230,
                width=330,
                x_axis_type="datetime",
                y_range=Range1d(start=0, end=1),
                title=Title(text=title if len(title) <= 44 else title[:41] + "...", text_font_size="10pt"),
                tools="",
                toolbar_location=None,
            )
            fig.xaxis.formatter = DatetimeTickFormatter(days="%d %b %Y", months="%b %Y", years="%Y")
            fig.xaxis.ticker = DatetimeTicker(desired_num_ticks=4)
            fig.yaxis.axis_label = "P(agreed by date)"
            cur, ghost = ColumnDataSource(dict(empty)), ColumnDataSource(dict(empty))
            fig.varea_step(x="x", y1="low", y2="high", source=cur, fill_color=colour, fill_alpha=0.2, step_mode="after")
            fig.step(x="x", y="p", source=ghost, color=GHOST, line_dash="dashed", line_width=2, mode="after")
            fig.step(x="x", y="p", source=cur, color=colour, line_width=2, mode="after")
            if self.x.known is not None:
                as_of = _dates(s, np.array([self.x.known.as_of]))[0]
                start = _dates(s, np.array([0.0]))[0]
                fig.add_layout(BoxAnnotation(left=start, right=as_of, fill_color="#999999", fill_alpha=0.2))
                fig.add_layout(Span(location=as_of, dimension="height", line_color="#555555", line_dash="dotted"))
            figs.append(fig)
            sources[name] = (cur, ghost)
        self.figure_panes = [pn.pane.Bokeh(f) for f in figs]
        grid = pn.FlexBox(*self.figure_panes, sizing_mode="stretch_width")
        return grid, sources

    # ------------------------------------------------------------------ state

    def _file_texts(self) -> dict[str, str]:
        return {path: shown(c.value, c.integer) for path, c in self.controls.items()}

    def numbers(self) -> tuple[dict[str, float | None], dict[str, list[str]]]:
        """Each input as a number (None where blank), and the inputs that are not numbers."""
        out: dict[str, float | None] = {}
        bad: dict[str, list[str]] = {}
        for path, c in self.controls.items():
            text = str(self.form.values.get(path, "")).strip()
            if not text:
                out[path] = None
                if not c.fixes:
                    bad[path] = ["a number is needed here"]
                continue
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                bad[path] = [f"'{text[:30]}' is not a number"]
            out[path] = value
        return out, bad

    def _set_texts(self, texts: dict[str, str]) -> None:
        """Set the inputs without running anything (the caller refreshes once)."""
        self._quiet = True
        try:
            self.form.values = texts
        finally:
            self._quiet = False

    def _restore(self, args: dict[str, list[str]]) -> None:
        """The state an address holds: changed numbers, the pinned baseline's, the history switch."""
        texts = self._file_texts()
        ignored = []
        for key, given in args.items():
            text = given[-1]
            if key == "given":
                self._quiet = True
                self.given.value = self.x.known is not None and text == "1"
                self._quiet = False
                continue
            path = key.removeprefix(BASE_PREFIX)
            if path not in self.controls:
                ignored.append(key)
            elif key.startswith(BASE_PREFIX):
                try:
                    self.base[path] = float(text)
                except ValueError:
                    ignored.append(key)
            else:
                texts[path] = text  # checked as if typed
        self._set_texts(texts)
        self._ignored = ignored
        self._problems({})

    def query(self, current: Variant | None) -> str:
        """The page's state as a query string (numbers as typed while they are not valid)."""
        if current is not None:
            pairs = [(p, f"{v:.12g}") for p, v in current.overrides.items()]
        else:
            file = self._file_texts()
            pairs = [(p, t) for p, t in self.form.values.items() if t != file.get(p)]
        pairs += [(BASE_PREFIX + p, f"{v:.12g}") for p, v in self.x.clean(self.base).items()]
        if self.given.value:
            pairs.append(("given", "1"))
        return "?" + urllib.parse.urlencode(pairs) if pairs else ""

    # ------------------------------------------------------------------ events

    def _on_change(self, *_: Any) -> None:
        if not self._quiet:
            self._rerun()

    def _rerun(self) -> None:
        """Refresh: on the server in a worker thread (the page stays live and says it is working);
        in a notebook at once, in the kernel (the cell says it is working first)."""
        if self.notebook:
            self.refresh_now()
        else:
            pn.state.execute(self.refresh)

    def _current(self) -> tuple[Variant | None, dict[str, list[str]]]:
        numbers, bad = self.numbers()
        if bad:
            return None, bad
        current = self.x.variant(numbers)
        return current, current.problems

    def _on_pin(self, *_: Any) -> None:
        current = self._current()[0]
        if current is None or current.scenario is None:
            self.saved.object = "<div style='color:#b3261e'>Fix the values marked in red before pinning them.</div>"
            return
        self.base = dict(current.overrides)
        self._rerun()

    def _on_unpin(self, *_: Any) -> None:
        self.base = {}
        self._rerun()

    def _on_reset(self, *_: Any) -> None:
        self._set_texts(self._file_texts())
        self._rerun()

    def _on_save(self, *_: Any) -> None:
        current = self._current()[0]
        try:
            if current is None:
                raise UserError("the values are not valid; nothing was saved")
            path = self.x.save(current, (self.save_as.value or "").strip())
        except (UserError, OSError) as exc:
            self.saved.object = (
                f"<div class='negsim-saved' data-saved='' style='color:#b3261e'>{escape(str(exc))}</div>"
            )
            return
        command = f"negsim run {path}" + (f" --given {self.x.observed}" if self.given.value else "")
        self.saved.object = (
            f"<div class='negsim-saved' data-saved='{escape(str(path.resolve()))}'>Saved {escape(str(path))}: "
            f"<code>{escape(command)}</code> gives these numbers.</div>"
        )
        self.save_as.value = str(self.x.default_name())

    # ------------------------------------------------------------------ running

    def _check(self) -> tuple[int, Variant | None, Variant]:
        """A new generation: validate, show the problems and spreads, keep the address."""
        self.generation += 1
        current, problems = self._current()
        base = self.x.variant(self.base)
        self._problems(problems, current.notes if current is not None else ())
        self._spreads(current)
        self._baseline_note()
        if not self.notebook and pn.state.location is not None:
            pn.state.location.search = self.query(current)
        if current is None or current.scenario is None:
            self.results.styles = STALE
            self._status(
                "invalid",
                "Not run: a value is not valid (see the message beside it). The figures below are for the last "
                "valid values.",
            )
            return self.generation, None, base
        return self.generation, current, base

    async def refresh(self) -> None:
        """Validate the values; if they are valid, run them and the baseline (in a worker thread) and
        show both, unless a later change has come meanwhile."""
        g, current, base = self._check()
        if current is None:
            return
        self.results.styles = STALE
        self._status("running", "Working: running the scenario…")
        loop = asyncio.get_running_loop()
        try:
            done = await loop.run_in_executor(self._pool, self._compute, g, base, current, bool(self.given.value))
        except Exception as exc:  # a fault of ours: said on the page, and raised to the server's log
            self._status("error", f"The run failed: {type(exc).__name__}: {exc}")
            raise
        if done is None or g != self.generation:
            return  # a later change is running: its numbers will be shown
        doc = pn.state.curdoc
        if doc is not None and doc.session_context is not None:
            doc.add_next_tick_callback(partial(self._show, g, *done))  # Bokeh models change under the lock
        else:
            self._show(g, *done)

    def _compute(self, g: int, base: Variant, current: Variant, given: bool) -> tuple[View, Outcome, Outcome] | None:
        if g != self.generation:
            return None  # already superseded: do not spend the cores on it
        b = self.x.run(base, given)
        c = self.x.run(current, given)
        return compare(b, c), b, c

    def refresh_now(self) -> None:
        """Validate, run and show at once, in this thread (the first page, and a notebook)."""
        g, current, base = self._check()
        if current is None:
            return
        self.results.styles = STALE
        self._status("running", "Working: running the scenario…")
        done = self._compute(g, base, current, bool(self.given.value))
        if done is not None:
            self._show(g, *done)

    # ------------------------------------------------------------------ showing

    def _status_html(self, state: str, text: str) -> str:
        colour = {"current": "#1a7f37", "running": "#9a6700", "invalid": "#b3261e", "error": "#b3261e"}[state]
        return (
            f"<div id='negsim-status' data-status='{state}' data-generation='{self.generation}' "
            f"data-shown='{self.shown}' data-runs='{self.x.runs}' "
            f"style='padding:6px 10px;border-left:4px solid {colour};background:#fafafa;font-weight:600'>"
            f"{escape(text)}</div>"
        )

    def _status(self, state: str, text: str) -> None:
        self.status.object = self._status_html(state, text)

    def _problems(self, problems: dict[str, list[str]], notes: tuple[str, ...] = ()) -> None:
        """Each message beside the control its path names (one about a whole distribution beside
        the parameters that were changed); the rest above the figures, with what the values say
        that can never happen (the validator's warnings)."""
        placed: dict[str, list[str]] = {}
        rest = []
        file = self._file_texts()
        changed = {p for p, text in self.form.values.items() if str(text).strip() != file.get(p)}
        for path, messages in problems.items():
            under = [p for p in self.controls if p == path or p.startswith(path + ".")]
            near = [p for p in under if p in changed] or ([path] if path in self.controls else under)
            near = near or [p for p in self.controls if path.startswith(p + ".")]
            if not near:
                rest += [f"{path}: {m}" if path else m for m in messages]
            for p in near:
                placed.setdefault(p, []).extend(messages if p == path else [f"{path}: {m}" for m in messages])
        self.form.problems = {p: "; ".join(m) for p, m in placed.items()}
        lines = [f"<div class='negsim-problem' style='color:#b3261e'>{escape(r)}</div>" for r in rest]
        lines += [f"<div style='color:#555'>Note: {escape(n)}</div>" for n in notes]
        if self._ignored:
            lines.append(f"<div style='color:#555'>Ignored in the address: {escape(', '.join(self._ignored))}</div>")
        self.general.object = "".join(lines)

    def _spreads(self, current: Variant | None) -> None:
        """Each distribution's mean and spread at the current values."""
        data = scenario_data(current.scenario) if current is not None and current.scenario is not None else None
        out = {}
        for g in self.x.groups:
            for path in g.distributions:
                title = label(path, self.x.original, self.x.data)
                text = "(not valid)" if data is None else spread(data, path) or "fixed at a number"
                out[path] = f"{title}: {text}"
        self.form.spreads = out

    def _baseline_note(self) -> None:
        base = self.x.clean(self.base)
        if not base:
            text = "Baseline: the file's values."
        else:
            shown_ = "; ".join(f"{self.controls[p].label} = {v:g}" for p, v in base.items())
            text = f"Baseline: pinned values ({shown_})."
        self.baseline_note.object = f"<div style='color:#555' id='negsim-baseline'>{escape(text)}</div>"

    def _show(self, g: int, view: View, base: Outcome, current: Outcome) -> None:
        if g != self.generation:
            return  # superseded while waiting for the lock
        self.shown = g
        for it in view.items:
            cur, ghost = self.sources[it.item]
            cur.data = _curve_data(current.scenario, it.curve)
            ghost.data = _curve_data(base.scenario, it.ghost)
        if self.notebook:
            pn.io.push_notebook(*self.figure_panes)  # Bokeh models changed in place reach the cell so
        titles = {name: item.title or name for name, item in current.scenario.items.items()}
        self.headline_html.object = headline_table(view, g)
        self.items_html.object = items_table(view, g)
        self.talks_html.object = talks_table(view, g)
        self.judgements_html.object = judgements_table(view, titles, g)
        self.kept.object = self._kept(base, current)
        problem = current.problem or base.problem
        self.results.styles = STALE if problem else {"opacity": "1"}
        if problem:
            self._status("invalid", f"No forecast given the history: {problem}")
            return
        self._status(
            "current",
            f"Up to date: {current.records.n:,} replications, seed {current.scenario.simulation.seed} "
            f"({current.seconds:.2f} s).",
        )

    def _kept(self, base: Outcome, current: Outcome) -> str:
        if current.given is None:
            return ""
        parts = []
        for what, o in (("these values", current), ("the baseline", base)):
            if o.given is not None:
                kept = min(o.given.kept, o.given.wanted)
                parts.append(f"{what}: {kept:,} kept of {o.given.tried:,} tried ({o.given.acceptance:.1%} agree)")
        return (
            f"<div style='color:#555' id='negsim-kept'>Given the history to {self.x.as_of:%d %b %Y}, the "
            f"replications that agree with it: {'; '.join(parts)}.</div>"
        )
