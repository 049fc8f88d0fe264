"""Everything that simulates in order to score a forecast, on the one executor.

:mod:`sim.results.score` only scores records it is given; this module makes them: the baselines
beside every forecast (the null model and the base rate, conditioned on the same history as a
``--given`` forecast or an origin), the rounds a run held by ``as_of`` (re-simulated: a run folder
does not keep the count), a sweep point simulated again, the forecasts made on each origin of
``score --origins``, and the runs of a backtest library (with the folder's cache of unchanged runs).
:mod:`sim.api` composes these with the files and figures.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.engine.history import History
from sim.engine.plan import compile_plan
from sim.engine.records import Records
from sim.errors import UserError, plural
from sim.results import score as scoring
from sim.results.compare import sweep_point, sweep_point_spec
from sim.results.files import read_manifest, sha256_file, versions
from sim.results.folder import RunResults, load
from sim.results.observed import Observed, as_at, history, load_observed
from sim.runs import montecarlo
from sim.runs.executors import Executor
from sim.scenario.checks import check_run_size
from sim.scenario.load import TableSource, load_scenario
from sim.scenario.models import Scenario, can_pause
from sim.scenario.null import base_rate_scenario, null_scenario

NULL_REPLICATIONS = 50_000
"""At most this many replications for each simulated baseline (the forecast's own count if smaller)."""
BASELINE_CEILING = 200_000
"""Most replications tried to condition a baseline on a history (``--given``, ``--origins``)."""
ORIGIN_REPLICATIONS = 2000
"""Replications kept per origin by default (``score --origins``), or the run's own count if fewer."""

Status = Callable[[str], None]


# ---------------------------------------------------------------------- baselines


@dataclass
class Baselines:
    """The simulated baselines of a forecast, and what their conditioning could not hold."""

    records: dict[str, Records]
    notes: list[str] = field(default_factory=list)


def baseline_history(known: History) -> History:
    """The part of a history a baseline can be conditioned on: which items were agreed, and the
    rounds held (baselines have no constraints, pauses, cancellations or breakdowns)."""
    return History(as_of=known.as_of, items=known.items, held=known.held)


def baselines(s: Scenario, obs: Observed, n: int, executor: Executor, known: History | None = None) -> Baselines:
    """The null model and (when the observed file states one) the base rate, ``n`` replications
    each (at most NULL_REPLICATIONS), with the rounds counted by ``as_of``. Given a history (a
    ``--given`` forecast, an origin), each is conditioned on it as far as it can hold it: the items
    agreed and the rounds held; where it almost never holds that many rounds, on the items alone,
    and a note says so."""
    end = min(s.day(obs.as_of), s.horizon)
    count = min(n, NULL_REPLICATIONS)
    made = {"null": null_scenario(s)}
    if obs.base_rate is not None:
        made["base_rate"] = base_rate_scenario(s, obs.base_rate.per_round)
    out = Baselines({})
    for name, scenario in made.items():
        if known is None or known.empty:
            out.records[name], _ = montecarlo.run(compile_plan(scenario, census=end), count, executor)
            continue
        cond = baseline_history(known)
        plan = compile_plan(scenario, census=cond.as_of)
        rec, given, _ = montecarlo.run_given(plan, count, cond, executor, ceiling=BASELINE_CEILING)
        if given.kept < montecarlo.MIN_KEPT and cond.held is not None:
            out.notes.append(
                f"the {name.replace('_', ' ')} almost never holds {plural(cond.held, 'round')} by "
                f"{s.date(cond.as_of).isoformat()}: conditioned on the items alone"
            )
            cond = History(as_of=cond.as_of, items=cond.items)
            rec, given, _ = montecarlo.run_given(plan, count, cond, executor, ceiling=BASELINE_CEILING)
        if obs.rounds is not None and rec.n:  # the rounds score counts by as_of, not by the origin
            again = rounds_held(scenario, rec, end, executor)
            if again is not None:
                rec.held_by_census = again
        out.records[name] = rec
    return out


def rounds_held(s: Scenario, rec: Records, day: float, executor: Executor) -> np.ndarray | None:
    """The rounds each replication of ``rec`` held by ``day``, simulated again from the scenario and
    seed (replications are reproducible; a folder does not keep the count). None when the
    simulation does not reproduce the records' agreements (another version made them)."""
    ids = rec.replication
    if ids.size == 0:
        return np.zeros(0, np.int32)
    plan = compile_plan(s, census=day)
    out = np.zeros(ids.size, np.int32)
    order = np.argsort(ids, kind="stable")
    step = 100_000
    top = int(ids.max()) + 1
    for a in range(0, top, step):  # in slices, so that a million replications never sit in memory at once
        b = min(a + step, top)
        want = (ids[order] >= a) & (ids[order] < b)
        if not want.any():
            continue
        again = montecarlo.replications(executor, plan, a, b)
        rows = order[want]
        picked = again.select(np.isin(again.replication, ids[rows]))
        if not np.array_equal(picked.item_day, rec.item_day[rows], equal_nan=True):
            return None
        out[rows] = picked.held_by_census
    return out


# ---------------------------------------------------------------------- scoring runs


def require_manifest(folder: str) -> None:
    """A run folder to score must have its manifest: it says whether, and from when, the run was
    conditioned on a history (``--given``); without it a conditioned run was scored from the start."""
    made = Path(folder) / "manifest.json"
    if Path(folder).is_dir() and not made.is_file():
        raise UserError(
            f"{made}: missing: without it negsim cannot tell whether the run was conditioned on a history "
            "(--given) and from which date, so it would score the wrong window; run it again"
        )


def forecast_of(spec: str, executor: Executor) -> tuple[str, Scenario, Records, Any]:
    """A forecast to score: a run folder, or ``SWEEP_DIR:POINT``. A sweep keeps only each point's
    agreements, so the point is simulated again from its scenario and the sweep's seed (replication
    *i* is the same wherever it runs) and checked against what the sweep recorded."""
    pointed = sweep_point_spec(spec)
    if pointed is None:
        require_manifest(spec)
        res = load(spec)
        return res.scenario.name, res.scenario, res.records, res.manifest
    s, agreed, day, _ = sweep_point(*pointed, spec)
    rec, _ = montecarlo.run(compile_plan(s), int(agreed.shape[0]), executor)
    if not (np.array_equal(rec.item_agreed, agreed) and np.array_equal(rec.item_day, day, equal_nan=True)):
        raise UserError(f"{spec}: this negsim does not reproduce the sweep's records (made by another version?)")
    return f"{s.name}:{pointed[1]}", s, rec, {}


def score_forecast(
    label: str,
    s: Scenario,
    rec: Records,
    obs: Observed,
    executor: Executor,
    *,
    run: str = "",
    observed_file: str = "",
    known: History | None = None,
    rounds: np.ndarray | None = None,
) -> scoring.Case:
    """One forecast scored beside its baselines (simulated here, conditioned on ``known``)."""
    end = min(s.day(obs.as_of), s.horizon)
    made = baselines(s, obs, rec.n, executor, known)
    if rounds is None and obs.rounds is not None:
        rounds = rounds_held(s, rec, end, executor)
    origin = 0.0 if known is None else known.as_of
    return scoring.score_case(
        label,
        s,
        rec,
        obs,
        made.records,
        rounds,
        run=run,
        observed_file=observed_file,
        origin=origin,
        notes=made.notes,
    )


def score_runs(runs: list[str], observed: list[str], executor: Executor) -> scoring.Scored:
    """Score each run against its observed file (pairs by order; one observed file serves all)."""
    if len(observed) not in (1, len(runs)):
        raise UserError(f"--observed: give one file, or one per run ({len(runs)}), not {len(observed)}")
    pairs = list(zip(runs, observed if len(observed) == len(runs) else observed * len(runs), strict=True))
    loaded = []
    for run, obs_file in pairs:  # everything read and checked before anything is simulated
        label, s, rec, manifest = forecast_of(run, executor)
        loaded.append((run, obs_file, label, s, rec, manifest, load_observed(obs_file, s)))
    cases = []
    for run, obs_file, label, s, rec, manifest, obs in loaded:
        given = manifest.get("given") if isinstance(manifest, dict) else None
        known = None
        if isinstance(given, dict) and "as_of_day" in given:
            then = as_at(obs, s.date(float(given["as_of_day"])))
            known = history(then, s)
        cases.append(
            score_forecast(label, s, rec, obs, executor, run=str(run), observed_file=str(obs_file), known=known)
        )
    return scoring.Scored(cases, scoring.scored_data(cases))


# ---------------------------------------------------------------------- forecasts over time (--origins)


def origins(
    run: str,
    observed: str,
    spec: str,
    executor: Executor,
    *,
    replications: int | None = None,
    ceiling: int | None = None,
    status: Status | None = None,
) -> scoring.Scored:
    """Forecasts made on a series of dates, each given the history up to that date (as ``run
    --given`` makes them, from the run's scenario and seed), scored against what followed beside
    baselines given the same history. The start, where nothing is known yet, is the run itself:
    the score ``negsim score`` gives it."""
    require_manifest(run)
    res = load(run)
    if isinstance(res.manifest, dict) and res.manifest.get("given"):
        raise UserError(
            f"{run}: a --given run; --origins makes its own conditioned forecasts: give the unconditioned run"
        )
    s = res.scenario
    obs = load_observed(observed, s)
    dates = scoring.origin_dates(spec, s, obs)
    if not dates:
        raise UserError(f"--origins {spec}: no date between the start and as_of")
    n = replications or min(s.simulation.replications, ORIGIN_REPLICATIONS)
    least = montecarlo.MIN_KEPT
    for option, asked in (("-n", replications), ("--max-replications", ceiling)):
        if asked is not None and asked < least:  # every origin would be left out, blamed on the history
            raise UserError(
                f"{option} {asked:,}: each origin's forecast keeps at least {least} replications that agree with "
                f"the history up to it; give {option} {least} or more"
            )
    ceiling = ceiling or montecarlo.MAX_PRECISION_REPLICATIONS
    check_run_size(s, max(n, ceiling) * len(dates))
    cases: list[scoring.Case] = []
    made: list[tuple[dt.date, Any, int, int, scoring.Case | None]] = []  # (origin, records, tried, agreeing, case)
    never: dict[dt.date, str] = {}  # origins whose history no replication can have, and why
    for when in dates:
        if status:
            status(f"forecasting as of {when.isoformat()}")
        then = as_at(obs, when)
        if all(then.items.get(name) is not None for name in s.items if name in obs.items):
            made.append((when, None, 0, 0, None))  # every scored item already agreed
            continue
        known = history(then, s)
        label = f"{s.name} from {when.isoformat()}"
        if when == s.calendar.start and known.as_of == 0 and known.empty:
            rec = res.records  # the start: the run itself, scored as `negsim score` scores it
            case = score_forecast(label, s, rec, obs, executor, run=str(run), observed_file=str(observed))
            made.append((when, rec, rec.n, rec.n, case))
        elif known.saw_pause and not can_pause(s):  # else a million tried before saying so
            never[when] = f"the talks had paused by then, and {s.name} never pauses them"
            made.append((when, None, 0, 0, None))
            continue
        else:
            rec, given, _ = montecarlo.run_given(
                compile_plan(s, census=known.as_of), n, known, executor, ceiling=ceiling
            )
            if given.kept < montecarlo.MIN_KEPT:
                made.append((when, None, given.tried, given.kept, None))
                continue
            case = score_forecast(label, s, rec, obs, executor, run=str(run), observed_file=str(observed), known=known)
            made.append((when, rec, given.tried, given.kept, case))
        if case.items:
            cases.append(case)
    if not cases:
        raise UserError(f"{observed}: no origin left an item open to forecast with enough replications kept")
    data = scoring.scored_data(cases, pooled=False)  # one history: pooling the origins would count it again and again
    entries = {id(case): entry for case, entry in zip(cases, data["runs"], strict=True)}
    rows = [
        scoring.origin_entry(when, s, rec, tried, agreeing, case, None if case is None else entries.get(id(case)))
        for when, rec, tried, agreeing, case in made
    ]
    for row, (when, *_) in zip(rows, made, strict=True):
        if when in never:
            row.update(status="too unlikely", why=never[when])
    data["origins"] = {
        "run": str(run),
        "observed": str(observed),
        "title": s.title or s.name,
        "start": s.calendar.start.isoformat(),
        "horizon": s.date(s.horizon).isoformat(),
        "as_of": obs.as_of.isoformat(),
        "as_of_day": s.day(obs.as_of),
        "replications": n,
        "start_replications": res.records.n,
        "ceiling": ceiling,
        "agreed": {name: None if (day := obs.items.get(name)) is None else day.isoformat() for name in s.items},
        "rows": rows,
    }
    return scoring.Scored(cases, data)


# ---------------------------------------------------------------------- backtest libraries


@dataclass(frozen=True)
class CaseFiles:
    """One case of a backtest library, read and checked."""

    name: str
    folder: Path
    scenario: Scenario
    observed: Observed


@dataclass(frozen=True)
class Library:
    """A backtest library, every case read and checked before anything is run."""

    root: Path
    cases: list[CaseFiles]
    skipped: list[str]
    """Folders that look like cases but lack a file (a misspelt name), each with what is missing."""


def read_library(root: Path, table: TableSource = None, replications: int | None = None) -> Library:
    """Every case of a backtest library (a folder with scenario.yaml and observed.yaml), each
    scenario and observed file checked before anything runs; folders holding only one of the two
    files (or a misspelt one) are listed as skipped, not dropped silently."""
    if not root.is_dir():
        raise UserError(f"{root}: no such folder")
    cases, skipped = [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        has = {n: (folder / n).is_file() for n in ("scenario.yaml", "observed.yaml")}
        if all(has.values()):
            s = load_scenario(folder / "scenario.yaml", table=table)
            if replications is not None:
                s = s.with_values(simulation={**s.simulation.model_dump(), "replications": replications})
            cases.append(CaseFiles(folder.name, folder, s, load_observed(folder / "observed.yaml", s)))
        elif any(has.values()) or any(folder.glob("*.yaml")):
            missing = [n for n, ok in has.items() if not ok]
            skipped.append(f"{folder.name}: no {' or '.join(missing)}")
    if not cases:
        raise UserError(f"{root}: no backtest case in it (a case is a folder with scenario.yaml and observed.yaml)")
    return Library(root, cases, skipped)


def reusable(folder: Path, case: CaseFiles) -> bool:
    """Whether a cached run was made from this very scenario file, table, count and seed, by this negsim."""
    if not (folder / "items.parquet").is_file():
        return False
    try:
        made = read_manifest(folder)
    except UserError:
        return False
    s = case.scenario
    return (
        isinstance(made, dict)
        and made.get("scenario_sha256") == sha256_file(case.folder / "scenario.yaml")
        and made.get("replications") == s.simulation.replications
        and made.get("seed") == s.simulation.seed
        and (made.get("table") or {}).get("sha256") == (s.table or {}).get("sha256")
        and (made.get("versions") or {}).get("negsim") == versions().get("negsim")
        and made.get("complete", True) is not False
    )


RunCase = Callable[[CaseFiles, Path], None]
"""Runs a case's scenario into a run folder (the command layer's ``negsim run``)."""


def library_runs(
    library: Library,
    runs: Path,
    cache: Path | None,
    run_case: RunCase,
    status: Status | None = None,
) -> tuple[list[RunResults], list[str], list[str]]:
    """Each case's run, in ``runs/<case>``: taken from ``cache/<case>`` when it was made from the
    same files by this negsim, else made afresh by ``run_case``. Returns the runs, and the cases
    made and reused."""
    out, made, reused = [], [], []
    for case in library.cases:
        target = runs / case.name
        old = None if cache is None else cache / case.name
        if old is not None and reusable(old, case):
            shutil.copytree(old, target)
            reused.append(case.name)
        else:
            if status:
                status(f"running {case.name}")
            run_case(case, target)
            made.append(case.name)
        out.append(load(target))
    return out, made, reused


def score_library(
    library: Library,
    runs: list[RunResults],
    executor: Executor,
    status: Status | None = None,
    left_out: dict[str, Records] | None = None,
) -> tuple[scoring.Scored, list[scoring.Case]]:
    """Every case's run scored against its observed file beside the baselines, and pooled; with
    ``left_out`` (each case's forecast from a table calibrated without it), those too, beside the
    same baselines and the run itself (the uncalibrated table)."""
    cases, loo = [], []
    for case, res in zip(library.cases, runs, strict=True):
        if status:
            status(f"scoring {case.name}")
        s, obs = res.scenario, case.observed
        end = min(s.day(obs.as_of), s.horizon)
        made = baselines(s, obs, res.records.n, executor)
        rounds = rounds_held(s, res.records, end, executor) if obs.rounds is not None else None
        run, observed_file = str(res.folder or ""), str(case.folder / "observed.yaml")
        cases.append(
            scoring.score_case(
                case.name, s, res.records, obs, made.records, rounds, run=run, observed_file=observed_file
            )
        )
        if left_out is not None:
            unrounded = obs.model_copy(update={"rounds": None})  # a resampled forecast keeps no rounds count
            others = {**made.records, "uncalibrated": res.records}
            loo.append(
                scoring.score_case(
                    case.name, s, left_out[case.name], unrounded, others, None, run=run, observed_file=observed_file
                )
            )
    return scoring.Scored(cases, scoring.scored_data(cases)), loo
