"""The explorer's controls as one browser component: every number of the scenario, in groups
that open and close, each with the validator's message beside it and each distribution's mean
and spread under its parameters.

One component rather than a Panel widget per number: a page of eighty widgets and their message
panes is some five hundred Bokeh models, which took seconds to build and send before the first
value could appear; this is one. The browser sends the text of an input when it changes (Enter
or leaving the field); Python parses and validates it.
"""

from __future__ import annotations

from typing import Any

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
