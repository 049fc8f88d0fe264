"""The simulations calibration reweights, and the forecasts it makes: ``negsim calibrate`` and
``negsim backtest --loo`` (the fitting itself is :mod:`sim.results.calibration`).

Each case of a library is run once at the table's figures with a wide case effect (the proposal),
keeping every replication's judgement draws and outcomes. A fitted table reweights those
replications; a case's forecast from a table fitted without it is its own replications drawn in
proportion to those weights.
"""

from __future__ import annotations

import copy
import datetime as dt
import multiprocessing as mp
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.engine.plan import compile_plan
from sim.engine.records import Records
from sim.results import calibration as fitting
from sim.results.calibration import PROPOSAL_TAU, CaseSample, Fit, Problem, RowPrior
from sim.runs import montecarlo
from sim.runs.executors import Executor, end_with_parent
from sim.runs.forecasting import CaseFiles, Library, Status
from sim.scenario.load import load_scenario
from sim.scenario.table import LoadedTable, Row, Table

CALIBRATION_REPLICATIONS = 4000
"""Replications of each case's proposal run (the sample every fit reweights)."""
LOO_REPLICATIONS = 4000
"""Replications drawn for a case's forecast from a table fitted without it."""
RESAMPLES = 200
"""Bootstrap fits behind each calibrated figure's interval."""


def priors(table: LoadedTable) -> dict[str, RowPrior]:
    """Every figure of the table that is a beta distribution (a chance, a share): what calibration fits."""
    out = {}
    for row_id, row in table.table.rows.items():
        figures = {row_id: row.figure} if row.figures is None else {f"{row_id}.{k}": v for k, v in row.figures.items()}
        for ref, fig in figures.items():
            if isinstance(fig, dict) and fig.get("dist") == "beta":
                if "mean" in fig:
                    mean, conc = float(fig["mean"]), float(fig["concentration"])
                else:
                    a, b = float(fig["a"]), float(fig["b"])
                    mean, conc = a / (a + b), a + b
                out[ref] = RowPrior(ref, mean, conc)
    return out


def proposal_table(table: LoadedTable, means: dict[str, float]) -> LoadedTable:
    """The table with the calibrated figures' means moved to ``means`` (their concentrations kept)."""
    rows = {}
    for row_id, row in table.table.rows.items():
        data = row.model_dump(exclude_none=True)
        if row.figures is None and row_id in means:
            data["figure"] = _beta(row.figure, means[row_id])
        elif row.figures is not None:
            data["figures"] = {
                k: _beta(v, means[f"{row_id}.{k}"]) if f"{row_id}.{k}" in means else v for k, v in row.figures.items()
            }
        rows[row_id] = Row.model_validate(data)
    moved = table.table.model_copy(update={"rows": rows})
    return LoadedTable(moved, f"{table.file} (moved by calibration)", table.sha256)


def _beta(figure: dict[str, Any], mean: float) -> dict[str, Any]:
    """A beta figure with another mean, in the mean-and-concentration form."""
    conc = float(figure["concentration"]) if "mean" in figure else float(figure["a"]) + float(figure["b"])
    return {"dist": "beta", "mean": float(mean), "concentration": conc}


def proposal(case: CaseFiles, n: int, table: LoadedTable, tau: float) -> Any:
    """A case's scenario read with the proposal's figures, a case effect of spread ``tau`` and ``n`` replications."""
    s = load_scenario(case.folder / "scenario.yaml", table=table)
    return s.with_values(
        simulation={**s.simulation.model_dump(), "replications": n},
        case_effect={"dist": "normal", "mean": 0.0, "sd": tau},
    )


@dataclass
class Simulated:
    """A case's proposal run and what calibration reads of it."""

    case: CaseFiles
    scenario: Any
    records: Records
    sample: CaseSample
    items: list[int]
    """The scored items' indices in the scenario."""


def simulate(
    case: CaseFiles, refs: dict[str, RowPrior], n: int, executor: Executor, table: LoadedTable, tau: float
) -> Simulated:
    """Run a case at the proposal (``table``'s figures, a case effect of spread ``tau``) and gather,
    per replication, the draws of every judgement citing a calibrated row, the case effect, and the
    quarter each scored item was agreed in."""
    s = proposal(case, n, table, tau)
    plan = compile_plan(s)
    rec, _ = montecarlo.run(plan, n, executor)
    paths = [p for p, _ in plan.judgements]
    cited = s.rows
    rows: dict[str, list[np.ndarray]] = {}
    column: dict[str, tuple[str, int]] = {}  # path -> (row, its column among the row's draws)
    for j, path in enumerate(paths):
        ref = cited.get(path)
        if ref in refs:
            column[path] = (ref, len(rows.setdefault(ref, [])))
            rows[ref].append(rec.parameters[:, j])
    obs = case.observed
    end = min(s.day(obs.as_of), s.horizon)
    names = list(s.items)
    scored = [x for x, name in enumerate(names) if name in obs.items and s.items[name].status != "agreed"]
    cells = np.stack([fitting.quarter_cells(rec.item_day[:, x], 0.0, end) for x in scored], axis=1)
    last = int(fitting.quarter_cells(np.array([np.nan]), 0.0, end)[0])
    seen = []
    for x in scored:
        when = obs.items[names[x]]
        day = np.nan if when is None else s.day(when)
        seen.append(fitting.quarter_cells(np.array([day]), 0.0, end)[0])
    reach = []
    for x in scored:
        near = {names[x], *ancestors(s, names[x])}
        touched: dict[str, list[int]] = {}
        for path, (ref, col) in column.items():
            if _reaches(s, path, near):
                touched.setdefault(ref, []).append(col)
        reach.append(touched)
    sample = CaseSample(
        case.name,
        {ref: np.stack(v, axis=1) for ref, v in rows.items()},
        rec.parameters[:, paths.index("case_effect")],
        cells,
        np.array(seen, dtype=np.int64),
        last,
        [names[x] for x in scored],
        reach,
        tau,
        {ref: pr for ref, pr in priors(table).items() if ref in refs},
    )
    return Simulated(case, s, rec, sample, scored)


def simulate_library(
    library: Library,
    table: LoadedTable,
    executor: Executor,
    n: int = CALIBRATION_REPLICATIONS,
    tau: float = PROPOSAL_TAU,
    status: Status | None = None,
) -> list[Simulated]:
    """Every case's proposal run at ``table``'s figures."""
    refs = priors(table)
    out = []
    for case in library.cases:
        if status:
            status(f"simulating {case.name} for calibration")
        out.append(simulate(case, refs, n, executor, table, tau))
    return out


STEPS = 4
"""At most this many moves of the proposal before the last fit."""
SETTLED = 0.15
"""A fit that moves no parameter further than this from its proposal is where the proposal stays."""


def converge(
    library: Library,
    table: LoadedTable,
    executor: Executor,
    n: int = CALIBRATION_REPLICATIONS,
    steps: int = STEPS,
    status: Status | None = None,
) -> tuple[dict[str, RowPrior], list[Simulated]]:
    """The cases simulated near the fit: from the table's figures (a case effect of spread
    PROPOSAL_TAU), fit within the trust region, move the proposal to the fit (a case effect a
    quarter wider than the fit's) and simulate again, until the fit settles or ``steps`` moves."""
    refs = priors(table)
    sims = simulate_library(library, table, executor, n, PROPOSAL_TAU, status)
    for step in range(steps):
        if status:
            status(f"fitting (move {step + 1} of at most {steps})")
        problem = Problem([x.sample for x in sims], refs)
        theta, fit = problem.fit()
        if not fit.edge and np.max(np.abs(theta - problem.center())) < SETTLED:
            break
        tau = min(max(1.25 * fit.tau, 0.2), 2.0)
        sims = simulate_library(library, proposal_table(table, fit.means), executor, n, tau, status)
    return refs, sims


def ancestors(s: Any, name: str) -> set[str]:
    """The items an item waits for, directly or not: what it requires and what it implements."""
    out: set[str] = set()
    stack = [name]
    while stack:
        it = s.items[stack.pop()]
        for other in [*it.requires, *((it.enact.after or []) if it.enact else [])]:
            if other not in out:
                out.add(other)
                stack.append(other)
    return out


def _reaches(s: Any, path: str, near: set[str]) -> bool:
    """Whether a judgement (by its path) reaches the items ``near``: one of their own, one of a
    constraint on them, or one shared by the whole case (the regime, the case effect)."""
    parts = path.split(".")
    if parts[0] == "items":
        return parts[1] in near
    if parts[0] == "constraints":
        return any(parts[1] in s.items[x].constraints for x in near)
    return parts[0] in ("regime", "case_effect", "rounds", "trust", "events")


@dataclass
class Calibrated:
    """A library fitted: the fit on every case, its bootstrap, and the fits leaving each case out."""

    problem: Problem
    theta: np.ndarray
    fit: Fit
    boot: np.ndarray
    loo: dict[str, np.ndarray]
    summary: dict[str, Any]


def calibrate(
    refs: dict[str, RowPrior],
    sims: list[Simulated],
    resamples: int = RESAMPLES,
    jobs: int = 1,
    status: Status | None = None,
) -> Calibrated:
    """The fit on every case, with bootstrap intervals and each case's pull (the fit without it)."""
    problem = Problem([x.sample for x in sims], refs)
    theta, fit = problem.fit()
    if status:
        status(f"bootstrapping the fit ({resamples} resamples)")
    boot = bootstrap(problem, theta, resamples, jobs)
    loo = leave_one_out(problem, theta, status)
    return Calibrated(problem, theta, fit, boot, loo, fitting.summary(problem, theta, boot, loo))


def bootstrap(problem: Problem, theta: np.ndarray, resamples: int, jobs: int = 1) -> np.ndarray:
    """The bootstrap fits, on ``jobs`` processes: the same numbers for any number of them (each
    resample's cases and the seed of its replications are drawn up front, and each fit depends only
    on them)."""
    picks = fitting.resamples_of(len(problem.samples), resamples)
    seeds = np.random.default_rng(1).integers(0, 2**63, resamples)
    if jobs <= 1 or resamples < 4:
        return fitting.bootstrap(problem, theta, picks, seeds)
    ctx = mp.get_context("forkserver" if sys.platform.startswith("linux") else "spawn")
    parts = np.array_split(np.arange(resamples), jobs)
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=ctx, initializer=end_with_parent, initargs=(os.getpid(),)
    ) as pool:
        done = list(
            pool.map(
                fitting.bootstrap,
                [problem] * len(parts),
                [theta] * len(parts),
                [picks[p] for p in parts],
                [seeds[p] for p in parts],
            )
        )
    return np.concatenate(done)


def leave_one_out(problem: Problem, theta: np.ndarray, status: Status | None = None) -> dict[str, np.ndarray]:
    """The fit without each case, by name."""
    out = {}
    every = np.arange(len(problem.samples))
    for k, sample in enumerate(problem.samples):
        if status:
            status(f"fitting without {sample.name}")
        out[sample.name], _ = problem.fit(every[every != k], start=theta)
    return out


@dataclass
class LeftOut:
    """Each case forecast from a table fitted without it, with the fits."""

    forecasts: dict[str, Records]
    thetas: dict[str, np.ndarray]
    problem: Problem
    theta: np.ndarray
    fit: Fit


def leave_one_case_out(
    library: Library,
    table: LoadedTable,
    executor: Executor,
    n: int = CALIBRATION_REPLICATIONS,
    status: Status | None = None,
) -> LeftOut:
    """For each case, its forecast from the table calibrated on the other cases: its own proposal
    replications, reweighted to that fit and drawn in proportion to the weights."""
    refs, sims = converge(library, table, executor, n, status=status)
    problem = Problem([x.sample for x in sims], refs)
    theta, fit = problem.fit()
    thetas = leave_one_out(problem, theta, status)
    forecasts = {sim.case.name: forecast(problem, k, thetas[sim.case.name], sim) for k, sim in enumerate(sims)}
    return LeftOut(forecasts, thetas, problem, theta, fit)


def forecast(problem: Problem, k: int, theta: np.ndarray, sim: Simulated, size: int = LOO_REPLICATIONS) -> Records:
    """Case k's forecast under the figures ``theta``: its proposal replications drawn in proportion
    to their weights (an unweighted sample, seeded, so that the files are the same bytes every time)."""
    picks = fitting.resample(problem.weights(k, theta), size, seed=k)
    return sim.records.pick(picks)


def fitted_table(table: LoadedTable, cal: Calibrated, library: str, when: dt.date) -> Table:
    """The table with every calibrated figure's mean replaced by the fit's (its concentration kept)
    and its 90% interval, and a row for the case effect (R16)."""
    rows = {}
    by_ref = {r["row"]: r for r in cal.summary["rows"]}
    for row_id, row in table.table.rows.items():
        data = row.model_dump(exclude_none=True)
        if row.figures is None:
            if row_id in by_ref:
                data["figure"] = _moved(row.figure, by_ref[row_id])
                data["interval"] = {"figure": [by_ref[row_id]["low"], by_ref[row_id]["high"]]}
        else:
            figures = copy.deepcopy(row.figures)
            spans = {}
            for name in figures:
                ref = f"{row_id}.{name}"
                if ref in by_ref:
                    figures[name] = _moved(figures[name], by_ref[ref])
                    spans[name] = [by_ref[ref]["low"], by_ref[ref]["high"]]
            data["figures"] = figures
            if spans:
                data["interval"] = spans
        rows[row_id] = Row.model_validate(data)
    effect = cal.summary["case_effect"]
    rows["R16"] = Row(
        kind="the case effect: a normal shift of every chance's log odds, shared by a case's items (its sd: how "
        "much cases differ beyond what their rows say); cite it as a scenario's top-level case_effect",
        figure={"dist": "normal", "mean": 0.0, "sd": effect["sd"]},
        interval={"sd": [effect["low"], effect["high"]]},
        note=f"fitted by negsim calibrate to {library} on {when.isoformat()}",
    )
    return Table(
        name=f"{table.table.name}-calibrated",
        version=table.table.version,
        protocol=table.table.protocol,
        title=f"{table.table.title or table.table.name}, calibrated to {library}",
        description=f"Calibrated on {when.isoformat()} from {table.file} (SHA-256 {table.sha256[:12]}...) and the "
        f"{len(cal.problem.samples)} cases of {library}; intervals are 90% (bootstrap over cases).",
        rows=rows,
    )


def _moved(figure: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    """A beta figure with its mean replaced (in the mean-and-concentration form)."""
    conc = row["concentration"]
    return {"dist": "beta", "mean": round(float(row["after"]), 4), "concentration": conc}
