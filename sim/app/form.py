"""The explorer's controls as one browser component: every number of the scenario, in groups
that open and close, each with the validator's message beside it and each distribution's mean
and spread under its parameters.

One component rather than a Panel widget per number: a page of eighty widgets and their message
panes is some five hundred Bokeh models, which took seconds to build and send before the first
value could appear; this is one. The browser sends the text of an input when it changes (Enter
or leaving the field); Python parses and validates it.

In a notebook, Panel 1.9 delivers a custom component's changes to the kernel one change late (each
waits for the next), so there the same controls are Panel's own text inputs (:class:`WidgetForm`),
with the same ``values``, ``problems`` and ``spreads``.
"""

from __future__ import annotations

from html import escape
from typing import Any

import panel as pn
import param
from panel.custom import JSComponent

from sim.app.controls import Group

CSS = """
:host {display: block; font-family: inherit; font-size: 13px; max-height: calc(100vh - 70px); overflow-y: auto}
details {border: 1px solid #ddd; border-radius: 4px; margin: 0 0 6px 0; background: #fff}
summary {cursor: pointer; padding: 6px 8px; font-weight: 600; background: #f6f6f6}
.negsim-field {padding: 4px 10px}
.negsim-field label {display: block; color: #333; margin-bottom: 2px}
.negsim-field input {width: 9em; padding: 2px 4px; font-size: 13px; border: 1px solid #bbb; border-radius: 3px}
.negsim-field input.negsim-bad {border-color: #b3261e; background: #fdecea}
.negsim-field .negsim-original {color: #777; margin-left: 6px}
.negsim-problem {color: #b3261e; font-size: 12px}
.negsim-problem:empty {display: none}
.negsim-spread {color: #555; font-size: 12px; padding: 2px 10px 6px 10px}
"""

ESM = """
export function render({ model }) {
  const root = document.createElement("div");
  const inputs = {}, problems = {}, spreads = {};
  for (const g of model.groups) {
    const box = document.createElement("details");
    box.open = g.open;
    box.dataset.group = g.key;
    const head = document.createElement("summary");
    head.textContent = g.title;
    box.appendChild(head);
    for (const c of g.controls) {
      const field = document.createElement("div");
      field.className = "negsim-field";
      const label = document.createElement("label");
      label.textContent = c.label;
      label.htmlFor = "negsim-" + c.path;
      const input = document.createElement("input");
      input.type = "text";
      input.inputMode = "decimal";
      input.id = "negsim-" + c.path;
      input.dataset.path = c.path;
      input.placeholder = c.placeholder;
      input.addEventListener("change", () => {
        model.values = {...model.values, [c.path]: input.value.trim()};
      });
      const original = document.createElement("span");
      original.className = "negsim-original";
      original.textContent = c.original;
      const problem = document.createElement("div");
      problem.className = "negsim-problem";
      problem.dataset.path = c.path;
      field.append(label, input, original, problem);
      box.appendChild(field);
      inputs[c.path] = input;
      problems[c.path] = problem;
    }
    for (const path of g.distributions) {
      const line = document.createElement("div");
      line.className = "negsim-spread";
      line.dataset.path = path;
      const after = g.controls.filter(c => c.path === path || c.path.startsWith(path + ".")).pop();
      const field = after ? inputs[after.path].parentElement : null;
      if (field) field.after(line); else box.appendChild(line);
      spreads[path] = line;
    }
    root.appendChild(box);
  }
  const showValues = () => {
    for (const [path, input] of Object.entries(inputs)) {
      const text = model.values[path] ?? "";
      if (input.value !== text) input.value = text;
    }
  };
  const showProblems = () => {
    for (const [path, line] of Object.entries(problems)) {
      const text = model.problems[path] ?? "";
      line.textContent = text;
      inputs[path].classList.toggle("negsim-bad", text !== "");
    }
  };
  const showSpreads = () => {
    for (const [path, line] of Object.entries(spreads)) line.textContent = model.spreads[path] ?? "";
  };
  model.on("values", showValues);
  model.on("problems", showProblems);
  model.on("spreads", showSpreads);
  showValues();
  showProblems();
  showSpreads();
  return root;
}
"""


def shown(value: float | None, integer: bool = False) -> str:
    """A number as an input shows it."""
    if value is None:
        return ""
    return str(round(value)) if integer else f"{value:.12g}"


def layout(groups: list[Group]) -> list[dict[str, Any]]:
    """The groups as the component draws them (items and constraints open, the rest closed)."""
    return [
        {
            "key": g.key,
            "title": g.title,
            "open": g.key.split(".")[0] in ("items", "constraints"),
            "controls": [
                {
                    "path": c.path,
                    "label": c.label,
                    "placeholder": "drawn" if c.fixes else "a number",
                    "original": "" if c.fixes else f"(file: {shown(c.value, c.integer)})",
                }
                for c in g.controls
            ],
            "distributions": list(g.distributions),
        }
        for g in groups
    ]


class Form(JSComponent):  # type: ignore[misc]
    """Every control of the scenario; ``values`` holds the text of each input, by path."""

    groups = param.List(default=[], doc="The groups and their controls (see layout()).")
    values = param.Dict(default={}, doc="The text of each input, by path ('' where blank).")
    problems = param.Dict(default={}, doc="The validator's message beside each control, by path.")
    spreads = param.Dict(default={}, doc="Each distribution's mean and spread, by path.")

    _esm = ESM
    _stylesheets = [CSS]  # noqa: RUF012 (Panel's own class attribute)


class WidgetForm(pn.viewable.Viewer):  # type: ignore[misc]
    """The same controls as :class:`Form`, as Panel text inputs (for notebooks)."""

    values = param.Dict(default={}, doc="The text of each input, by path ('' where blank).")
    problems = param.Dict(default={}, doc="The validator's message beside each control, by path.")
    spreads = param.Dict(default={}, doc="Each distribution's mean and spread, by path.")

    def __init__(self, groups: list[dict[str, Any]], values: dict[str, str], width: int = 390) -> None:
        super().__init__(values=values)
        self._inputs: dict[str, Any] = {}
        self._problems: dict[str, Any] = {}
        self._spreads: dict[str, Any] = {}
        cards = []
        for g in groups:
            body: list[Any] = []
            for c in g["controls"]:
                box = pn.widgets.TextInput(
                    label=f"{c['label']} {c['original']}".strip(),
                    value=values.get(c["path"], ""),
                    placeholder=c["placeholder"],
                    css_classes=["negsim-input"],
                    width=width - 40,
                )
                box.param.watch(lambda event, path=c["path"]: self._typed(path, event.new), "value")
                self._inputs[c["path"]] = box
                self._problems[c["path"]] = pn.pane.HTML("", styles={"color": "#b3261e", "font-size": "12px"})
                body += [box, self._problems[c["path"]]]
            for path in g["distributions"]:
                self._spreads[path] = pn.pane.HTML("", styles={"color": "#555", "font-size": "12px"})
                body.append(self._spreads[path])
            cards.append(pn.Card(*body, title=g["title"], collapsed=not g["open"], width=width))
        self._layout = pn.Column(*cards, width=width)
        self.param.watch(self._show_values, "values")
        self.param.watch(self._show_problems, "problems")
        self.param.watch(self._show_spreads, "spreads")

    def _typed(self, path: str, text: str) -> None:
        if self.values.get(path) != text:
            self.values = {**self.values, path: text}

    def _show_values(self, *_: Any) -> None:
        for path, box in self._inputs.items():
            text = self.values.get(path, "")
            if box.value != text:
                box.value = text

    def _show_problems(self, *_: Any) -> None:
        for path, pane in self._problems.items():
            pane.object = escape(self.problems.get(path, ""))

    def _show_spreads(self, *_: Any) -> None:
        for path, pane in self._spreads.items():
            pane.object = escape(self.spreads.get(path, ""))

    def __panel__(self) -> Any:
        return self._layout
