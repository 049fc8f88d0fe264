"""Comparing runs item by item: P(agreed by horizon), differences against the first run, and
what differs between the scenario files.

Runs that share the seed and the replication count are paired: replication *i* of each used
the same random streams, so the difference is estimated from the per-replication differences,
a far tighter interval than from two independent samples. Otherwise the runs are compared as
independent samples (Newcombe's hybrid score interval, built on Wilson intervals).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.engine.plan import milestones
from sim.errors import UserError
from sim.results.atomic import staged_folder, write_text
from sim.results.files import csv_text, json_text, manifest_of, stamped_folder
from sim.results.folder import load
from sim.results.stats import newcombe, paired, quantile_day, wilson
from sim.results.sweepfolder import load_sweep
from sim.scenario.checks import check_document
from sim.scenario.documents import Document
from sim.scenario.models import Scenario
from sim.scenario.paths import flatten, scenario_data, set_path

IGNORED_FIELDS = ("description", "sources")
"""Scenario fields left out of the field-by-field diff (prose, not model)."""


@dataclass
class RunData:
    """What a comparison needs of one run (a run folder or one point of a sweep)."""

    label: str
    source: str
    scenario: Scenario
    agreed: np.ndarray  # (n, items) bool
    day: np.ndarray  # (n, items) float, NaN when not agreed
    breakdown: np.ndarray | None = None  # (n,) bool; None for a sweep point (a sweep does not keep it)

    @property
    def n(self) -> int:
        return int(self.agreed.shape[0])

    @property
    def seed(self) -> int:
        return self.scenario.simulation.seed

    def column(self, item: str) -> int | None:
        names = list(self.scenario.items)
        return names.index(item) if item in names else None


POINT = re.compile(r"[0-9]{1,9}")
"""A sweep point's number: ASCII digits only (``str.isdigit`` takes superscripts and other scripts' digits)."""


def sweep_point_spec(spec: str) -> tuple[Path, int] | None:
    """``SWEEP_DIR:POINT`` as a folder and a point number; None for anything else. A sweep folder
    followed by anything but a point number is refused, saying how to name a point."""
    if Path(spec).is_dir() or ":" not in spec:
        return None
    folder, _, point = spec.rpartition(":")
    if not Path(folder).is_dir():
        return None
    if POINT.fullmatch(point):
        return Path(folder), int(point)
    if (Path(folder) / "sweep.yaml").is_file():
        shown = point.encode("unicode_escape").decode("ascii")
        raise UserError(f"{folder}: '{shown}' is not a point of the sweep; name one by its number, such as {folder}:0")
    return None


def load_run(spec: str, label: str | None = None) -> RunData:
    """A run folder, or ``SWEEP_DIR:POINT`` for one point of a sweep."""
    path = Path(spec)
    pointed = sweep_point_spec(spec)
    if pointed is not None:
        s, agreed, day, text = sweep_point(*pointed, spec)
        return RunData(label or f"{pointed[0].name}:{pointed[1]} ({text})", spec, s, agreed, day)
    if (path / "sweep.yaml").is_file():
        raise UserError(f"{spec}: a sweep folder; choose a point, such as {spec}:0")
    res = load(path)
    rec = res.records
    return RunData(label or res.scenario.name, spec, res.scenario, rec.item_agreed, rec.item_day, rec.breakdown)


def sweep_point(folder: Path, point: int, spec: str) -> tuple[Scenario, np.ndarray, np.ndarray, str]:
    """One point of a sweep: its scenario (the base with the point's values), each replication's
    agreements and days as the sweep recorded them, and the point's values as text."""
    import pyarrow.compute as pc

    sw = load_sweep(folder)
    points = {p["point"]: p for p in sw.described["points"]}
    if point not in points:
        raise UserError(f"{spec}: the sweep has points 0 to {len(points) - 1}")
    if sw.items_file is None:
        raise UserError(f"{folder}: items.parquet is missing")
    values = {k: v for k, v in points[point].items() if k != "point"}
    data = scenario_data(sw.base)
    for path, v in values.items():
        data = set_path(data, path, v)
    seeds = sw.described.get("seeds")
    if seeds is not None:  # a sobol design: each point has a seed of its own
        data = set_path(data, "simulation.seed", seeds[point])
    s, problems = check_document(Document(spec, data, {}))
    if s is None:
        raise UserError(f"{spec}: cannot rebuild the point's scenario", problems)
    items = sw.items_table  # read once
    t = items.filter(pc.equal(items.column("point"), point))
    k = len(s.items)
    if t.num_rows == 0:
        raise UserError(f"{spec}: this point did not run (see points.csv)")
    agreed = t.column("agreed").to_numpy().reshape(-1, k)
    day = t.column("day").fill_null(float("nan")).to_numpy().astype(float).reshape(-1, k)
    text = ", ".join(f"{p}={v:g}" for p, v in values.items()) or "the scenario as written"
    return s, agreed, day, text


# ---------------------------------------------------------------------- differences


def comparison_rows(runs: list[RunData]) -> list[dict[str, Any]]:
    """One row per run and item: P(agreed by horizon), interval, difference against the first run."""
    first = runs[0]
    items: list[str] = []
    for r in runs:
        items += [x for x in r.scenario.items if x not in items]
    rows = []
    for r in runs:
        is_paired = r is first or (r.seed == first.seed and r.n == first.n)
        for item in items:
            c = r.column(item)
            if c is None:
                continue
            k = int(r.agreed[:, c].sum())
            low, high = wilson(k, r.n)
            row: dict[str, Any] = {"run": r.label, "item": item, "p_agreed": k / r.n, "ci_low": low, "ci_high": high}
            c0 = first.column(item)
            row.update(difference(None if c0 is None else first.agreed[:, c0], r.agreed[:, c], r is first, is_paired))
            rows.append(row)
    return rows


def difference(a: np.ndarray | None, b: np.ndarray, same: bool, is_paired: bool) -> dict[str, Any]:
    """The difference of the share of ``b`` from that of ``a`` (the first run's), with its 95% interval:
    from the per-replication differences when paired, Newcombe's hybrid score interval when not."""
    if same:
        return {"diff": 0.0, "diff_low": 0.0, "diff_high": 0.0, "paired": True}
    if a is None:
        return {"diff": math.nan, "diff_low": math.nan, "diff_high": math.nan, "paired": is_paired}
    if is_paired:
        d, lo, hi = paired(a, b)
        return {"diff": d, "diff_low": lo, "diff_high": hi, "paired": True}
    k0, k = int(a.sum()), int(b.sum())
    lo, hi = newcombe(k0, a.size, k, b.size)
    return {"diff": k / b.size - k0 / a.size, "diff_low": lo, "diff_high": hi, "paired": False}


def outcome_rows(runs: list[RunData]) -> list[dict[str, Any]]:
    """Beyond P(agreed by horizon): each item's P(agreed by each of the first run's milestones, by
    date) and its median date (unconditional: None when under half agree by the horizon), and
    P(breakdown), per run, with differences against the first run (median dates: in days, no
    interval). Runs on other calendars are aligned by date; a milestone outside a run's calendar is
    left out for that run."""
    first = runs[0]
    marks = [first.scenario.date(m) for m in milestones(first.scenario)]
    items = list(dict.fromkeys(x for r in runs for x in r.scenario.items))
    rows: list[dict[str, Any]] = []

    def by(r: RunData, c: int, when: dt.date) -> np.ndarray | None:
        day = (when - r.scenario.calendar.start).days
        return None if not 0 <= day <= r.scenario.horizon else np.nan_to_num(r.day[:, c], nan=np.inf) <= day

    def median(r: RunData, c: int) -> dt.date | None:
        q = quantile_day(r.day[:, c], 0.5)
        return None if q is None else r.scenario.date(q)

    for r in runs:
        is_paired = r is first or (r.seed == first.seed and r.n == first.n)
        for item in items:
            c, c0 = r.column(item), first.column(item)
            if c is None:
                continue
            for when in marks:
                hits = by(r, c, when)
                if hits is None:
                    continue
                base = None if c0 is None else by(first, c0, when)
                rows.append(
                    {"run": r.label, "item": item, "measure": f"P(agreed by {when.isoformat()})", "value": hits.mean()}
                    | difference(base, hits, r is first, is_paired)
                )
            mine, theirs = median(r, c), None if c0 is None else median(first, c0)
            gap = (mine - theirs).days if mine is not None and theirs is not None else math.nan
            rows.append(
                {
                    "run": r.label,
                    "item": item,
                    "measure": "median date",
                    "value": "after the horizon" if mine is None else mine.isoformat(),
                    "diff": gap,
                    "diff_low": math.nan,
                    "diff_high": math.nan,
                    "paired": is_paired,
                }
            )
        if r.breakdown is not None:
            rows.append(
                {"run": r.label, "item": "", "measure": "P(breakdown)", "value": float(r.breakdown.mean())}
                | difference(first.breakdown, r.breakdown, r is first, is_paired)
            )
    return rows


def unpaired_interval(first: RunData, other: RunData, item: str) -> tuple[float, float]:
    """The interval the difference would have without pairing (for the report's comparison)."""
    c0, c = first.column(item), other.column(item)
    assert c0 is not None and c is not None
    return newcombe(int(first.agreed[:, c0].sum()), first.n, int(other.agreed[:, c].sum()), other.n)


# ---------------------------------------------------------------------- scenario diff


def _show(value: Any) -> str:
    if value is None:
        return "(absent)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def scenario_diff(a: Scenario, b: Scenario) -> list[tuple[str, str, str]]:
    """Field by field: (path, value in a, value in b) for every field that differs."""
    fa, fb = flatten(scenario_data(a), skip=IGNORED_FIELDS), flatten(scenario_data(b), skip=IGNORED_FIELDS)
    out = []
    for path in list(fa) + [p for p in fb if p not in fa]:
        va, vb = fa.get(path), fb.get(path)
        if va != vb:
            out.append((path, _show(va), _show(vb)))
    return out


# ---------------------------------------------------------------------- output


COLUMNS = ["run", "item", "p_agreed", "ci_low", "ci_high", "diff", "diff_low", "diff_high", "paired"]


def comparison_csv(rows: list[dict[str, Any]]) -> str:
    def cell(v: Any) -> Any:
        return f"{v:.6f}" if isinstance(v, float) and not math.isnan(v) else v

    return csv_text(COLUMNS, ([cell(row[c]) for c in COLUMNS] for row in rows))


OUTCOME_COLUMNS = ["run", "item", "measure", "value", "diff", "diff_low", "diff_high", "paired"]


def outcomes_csv(rows: list[dict[str, Any]]) -> str:
    """outcomes.csv: a blank where a figure does not exist (no interval for median dates)."""

    def cell(v: Any) -> Any:
        if isinstance(v, float):
            return "" if math.isnan(v) else f"{v:.6f}"
        return v

    return csv_text(OUTCOME_COLUMNS, ([cell(row[c]) for c in OUTCOME_COLUMNS] for row in rows))


@dataclass
class Comparison:
    """Runs compared: the rows of comparison.csv, and the scenario differences."""

    runs: list[RunData]
    rows: list[dict[str, Any]]
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    """Milestones, median dates and P(breakdown) (outcomes.csv)."""

    @property
    def diffs(self) -> dict[str, list[tuple[str, str, str]]]:
        return {r.label: scenario_diff(self.runs[0].scenario, r.scenario) for r in self.runs[1:]}

    @property
    def notes(self) -> list[str]:
        """What a reader of the differences must know first (:func:`comparison_notes`)."""
        return comparison_notes(self.runs)


def comparison_notes(runs: list[RunData]) -> list[str]:
    """What the differences do not say by themselves: that the runs are of different scenarios,
    which items a run has that the first lacks (no difference can be shown) or lacks, and that
    the calendars differ (each P(agreed by horizon) is by its own run's horizon)."""
    first = runs[0]
    notes = []
    if len({r.scenario.name for r in runs}) > 1:
        who = ", ".join(f"'{r.label}' is {r.scenario.name}" for r in runs)
        notes.append(
            f"the runs are of different scenarios ({who}): each difference is between scenarios, whose fields "
            "differ as listed with the comparison"
        )
    for r in runs[1:]:
        extra = [x for x in r.scenario.items if x not in first.scenario.items]
        if extra:
            notes.append(
                f"'{r.label}' has items the first run ('{first.label}') lacks, so no difference is shown for them: "
                + ", ".join(extra)
            )
        missing = [x for x in first.scenario.items if x not in r.scenario.items]
        if missing:
            notes.append(f"'{r.label}' lacks items of the first run ('{first.label}'): " + ", ".join(missing))
    if len({(r.scenario.calendar.start, r.scenario.horizon) for r in runs}) > 1:
        spans = "; ".join(
            f"'{r.label}' {r.scenario.calendar.start.isoformat()} to {r.scenario.date(r.scenario.horizon).isoformat()}"
            for r in runs
        )
        notes.append(
            f"the runs' calendars differ ({spans}): each P(agreed by horizon) is by its own run's horizon; "
            "milestones are compared by date"
        )
    return notes


def compare(specs: list[str], labels: list[str] | None = None) -> Comparison:
    if len(specs) < 2:
        raise UserError("compare needs at least two result folders")
    if labels is not None and len(labels) != len(specs):
        raise UserError(f"--labels: {len(labels)} labels for {len(specs)} runs")
    runs = [load_run(s, labels[i] if labels else None) for i, s in enumerate(specs)]
    counts: dict[str, int] = {}
    for r in runs:
        counts[r.label] = counts.get(r.label, 0) + 1
    for i, r in enumerate(runs):  # labels must tell runs apart: add the folder when they do not
        if counts[r.label] > 1:
            r.label = f"{r.label} [{Path(r.source).name or i}]"
    if len({r.label for r in runs}) < len(runs):
        for i, r in enumerate(runs):
            r.label = f"{i + 1}: {r.label}"
    return Comparison(runs, comparison_rows(runs), outcome_rows(runs))


def write(comparison: Comparison, folder: Path, *, force: bool = False, extra: Any = None) -> Path:
    """The comparison folder: comparison.csv and scenario_diff.csv; ``extra(tmp)`` adds the
    figures and the report before the folder is renamed into place."""
    with staged_folder(folder, force=force, kind="comparison") as tmp:
        write_text(tmp / "comparison.csv", comparison_csv(comparison.rows))
        write_text(tmp / "outcomes.csv", outcomes_csv(comparison.outcomes))
        runs = [{"label": r.label, "source": r.source, "replications": r.n, "seed": r.seed} for r in comparison.runs]
        write_text(tmp / "manifest.json", json_text(manifest_of("comparison", runs=runs, notes=comparison.notes)))
        diffs = [[label, *change] for label, changes in comparison.diffs.items() for change in changes]
        write_text(tmp / "scenario_diff.csv", csv_text(["run", "field", "first_run", "this_run"], diffs))
        if extra is not None:
            extra(tmp)
    return folder


def default_folder(root: str = "results") -> Path:
    return stamped_folder(Path(root) / "comparisons")
