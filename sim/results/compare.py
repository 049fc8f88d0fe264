"""Comparing runs item by item: P(agreed by horizon), differences against the first run, and
what differs between the scenario files.

Runs that share the seed and the replication count are paired: replication *i* of each used
the same random streams, so the difference is estimated from the per-replication differences,
a far tighter interval than from two independent samples. Otherwise the runs are compared as
independent samples (Newcombe's hybrid score interval, built on Wilson intervals).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import UserError
from sim.results.atomic import staged_folder, write_text
from sim.results.files import csv_text, json_text, manifest_of, stamped_folder
from sim.results.folder import load
from sim.results.stats import newcombe, paired, wilson
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

    @property
    def n(self) -> int:
        return int(self.agreed.shape[0])

    @property
    def seed(self) -> int:
        return self.scenario.simulation.seed

    def column(self, item: str) -> int | None:
        names = list(self.scenario.items)
        return names.index(item) if item in names else None


def sweep_point_spec(spec: str) -> tuple[Path, int] | None:
    """``SWEEP_DIR:POINT`` as a folder and a point number; None for anything else."""
    if Path(spec).is_dir() or ":" not in spec:
        return None
    folder, _, point = spec.rpartition(":")
    return (Path(folder), int(point)) if Path(folder).is_dir() and point.isdigit() else None


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
    return RunData(label or res.scenario.name, spec, res.scenario, rec.item_agreed, rec.item_day)


def sweep_point(folder: Path, point: int, spec: str) -> tuple[Scenario, np.ndarray, np.ndarray, str]:
    """One point of a sweep: its scenario (the base with the point's values), each replication's
    agreements and days as the sweep recorded them, and the point's values as text."""
    import pyarrow.compute as pc

    sw = load_sweep(folder)
    points = {p["point"]: p for p in sw.described["points"]}
    if point not in points:
        raise UserError(f"{spec}: the sweep has points 0 to {len(points) - 1}")
    if sw.items_table is None:
        raise UserError(f"{folder}: items.parquet is missing")
    values = {k: v for k, v in points[point].items() if k != "point"}
    data = scenario_data(sw.base)
    for path, v in values.items():
        data = set_path(data, path, v)
    s, problems = check_document(Document(spec, data, {}))
    if s is None:
        raise UserError(f"{spec}: cannot rebuild the point's scenario", problems)
    t = sw.items_table.filter(pc.equal(sw.items_table.column("point"), point))
    k = len(s.items)
    if t.num_rows == 0:
        raise UserError(f"{spec}: this point did not run (see points.csv)")
    agreed = t.column("agreed").to_numpy().reshape(-1, k)
    day = t.column("day").fill_null(float("nan")).to_numpy().astype(float).reshape(-1, k)
    text = ", ".join(f"{p}={v:g}" for p, v in values.items())
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
            if r is first:
                row.update(diff=0.0, diff_low=0.0, diff_high=0.0, paired=True)
            elif c0 is None:
                row.update(diff=math.nan, diff_low=math.nan, diff_high=math.nan, paired=is_paired)
            elif is_paired:
                d, lo, hi = paired(first.agreed[:, c0], r.agreed[:, c])
                row.update(diff=d, diff_low=lo, diff_high=hi, paired=True)
            else:
                k0 = int(first.agreed[:, c0].sum())
                lo, hi = newcombe(k0, first.n, k, r.n)
                row.update(diff=k / r.n - k0 / first.n, diff_low=lo, diff_high=hi, paired=False)
            rows.append(row)
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


@dataclass
class Comparison:
    """Runs compared: the rows of comparison.csv, and the scenario differences."""

    runs: list[RunData]
    rows: list[dict[str, Any]]

    @property
    def diffs(self) -> dict[str, list[tuple[str, str, str]]]:
        return {r.label: scenario_diff(self.runs[0].scenario, r.scenario) for r in self.runs[1:]}


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
    return Comparison(runs, comparison_rows(runs))


def write(comparison: Comparison, folder: Path, *, force: bool = False, extra: Any = None) -> Path:
    """The comparison folder: comparison.csv and scenario_diff.csv; ``extra(tmp)`` adds the
    figures and the report before the folder is renamed into place."""
    with staged_folder(folder, force=force, kind="comparison") as tmp:
        write_text(tmp / "comparison.csv", comparison_csv(comparison.rows))
        runs = [{"label": r.label, "source": r.source, "replications": r.n, "seed": r.seed} for r in comparison.runs]
        write_text(tmp / "manifest.json", json_text(manifest_of("comparison", runs=runs)))
        diffs = [[label, *change] for label, changes in comparison.diffs.items() for change in changes]
        write_text(tmp / "scenario_diff.csv", csv_text(["run", "field", "first_run", "this_run"], diffs))
        if extra is not None:
            extra(tmp)
    return folder


def default_folder(root: str = "results") -> Path:
    return stamped_folder(Path(root) / "comparisons")
