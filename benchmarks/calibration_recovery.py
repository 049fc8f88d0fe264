"""Does calibration recover a table it did not see?

A known table (the library's own, with each family's log odds moved by a known correction and a
known case effect) plays history: for each synthetic library, every case of the library is run once
under it (its own seed per library), and that run's agreement dates replace the case's observed
items. ``negsim calibrate``'s machinery (sim.runs.calibration: converge, fit, bootstrap over cases)
then fits the library's table to them. Over the synthetic libraries the script prints how close
each fit comes, and how often each 90% interval covers the known figure (about 90% is right; much
less means the intervals are too narrow to believe).

    python benchmarks/calibration_recovery.py        # 20 libraries, as negsim calibrate fits (4,000, 200)
    python benchmarks/calibration_recovery.py --libraries 40 --replications 2000 --resamples 100

Takes about two minutes per library on two cores at negsim calibrate's settings.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from pathlib import Path

import numpy as np
from scipy import special

from sim.engine.plan import compile_plan
from sim.results import calibration as fitting
from sim.results.calibration import Problem
from sim.runs import calibration as calibrating
from sim.runs import montecarlo
from sim.runs.executors import make_executor
from sim.runs.forecasting import Library, read_library
from sim.scenario.load import load_table

KNOWN = {
    "decided": 0.8,
    "undecided": -0.3,
    "enactment": 0.3,
    "ratification": -0.3,
    "shares": 0.6,
    "legislature": 0.0,
    "reviews": 0.0,
}
"""The known table's correction of each family's log odds (about what the real library's fit finds)."""
KNOWN_TAU = 0.4
"""The known case effect's spread."""


def synthetic(lib: Library, table: object, refs: dict, seed: int, executor: object) -> Library:
    """The library with every case's observed items replaced by one run under the known table."""
    means = {ref: float(special.expit(special.logit(p.mean) + KNOWN[fitting.family(ref)])) for ref, p in refs.items()}
    known = calibrating.proposal_table(table, means)  # type: ignore[arg-type]
    cases = []
    for k, case in enumerate(lib.cases):
        s = calibrating.proposal(case, 1, known, KNOWN_TAU)
        s = s.with_values(simulation={**s.simulation.model_dump(), "replications": 1, "seed": 1_000_003 * seed + k})
        rec, _ = montecarlo.run(compile_plan(s), 1, executor)  # type: ignore[arg-type]
        end = min(s.day(case.observed.as_of), s.horizon)
        items = {}
        for x, name in enumerate(s.items):
            if name in case.observed.items:
                day = float(rec.item_day[0, x])
                items[name] = s.date(day) if math.isfinite(day) and day <= end else None
        observed = case.observed.model_copy(update={"items": items})
        cases.append(dataclasses.replace(case, observed=observed))
    return dataclasses.replace(lib, cases=cases)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--library", default="scenarios/backtests")
    ap.add_argument("--libraries", type=int, default=20)
    ap.add_argument("--replications", type=int, default=calibrating.CALIBRATION_REPLICATIONS)
    ap.add_argument("--resamples", type=int, default=calibrating.RESAMPLES)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--steps", type=int, default=calibrating.STEPS, help="at most this many moves of the proposal")
    args = ap.parse_args()

    root = Path(args.library)
    table = load_table(root / "table.yaml")
    lib = read_library(root, table)
    refs = calibrating.priors(table)
    print(
        f"known table: {table.table.name} version {table.table.version} with log-odds corrections "
        + ", ".join(f"{f} {v:+.1f}" for f, v in KNOWN.items())
        + f"; case effect sd {KNOWN_TAU}"
    )
    print(
        f"{args.libraries} synthetic libraries of the {len(lib.cases)} cases of {root}; "
        f"{args.replications:,} replications per case, {args.resamples} bootstrap resamples, "
        f"at most {args.steps} moves\n"
    )
    covered: dict[str, list[bool]] = {}
    errors: dict[str, list[float]] = {}
    widths: dict[str, list[float]] = {}
    started = time.perf_counter()
    with make_executor("local", args.jobs) as pool:
        for b in range(args.libraries):
            t0 = time.perf_counter()
            fake = synthetic(lib, table, refs, b, pool)
            used, sims = calibrating.converge(fake, table, pool, args.replications, steps=args.steps)
            problem = Problem([x.sample for x in sims], used)
            theta, fit = problem.fit()
            boot = calibrating.bootstrap(problem, theta, args.resamples, args.jobs)
            line = []
            for f, name in enumerate(problem.families):
                lo, hi = fitting.interval(boot[:, f])
                truth = KNOWN[name]
                covered.setdefault(name, []).append(lo <= truth <= hi)
                errors.setdefault(name, []).append(float(theta[f]) - truth)
                widths.setdefault(name, []).append(hi - lo)
                line.append(f"{name} {theta[f]:+.2f}{'' if lo <= truth <= hi else '*'}")
            lo, hi = fitting.interval(np.exp(boot[:, -1]))
            tau = float(np.exp(theta[-1]))
            covered.setdefault("case effect sd", []).append(lo <= KNOWN_TAU <= hi)
            errors.setdefault("case effect sd", []).append(tau - KNOWN_TAU)
            widths.setdefault("case effect sd", []).append(hi - lo)
            line.append(f"tau {tau:.2f}{'' if lo <= KNOWN_TAU <= hi else '*'}")
            worst = min(fit.ess.values())
            print(
                f"library {b + 1:2d}: {', '.join(line)}  (least ESS {worst:.0f}; {time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
    print("\n(* : the 90% interval missed the known figure)\n")
    print(f"{'figure':<16} {'known':>6} {'mean fit':>9} {'rmse':>6} {'90% width':>9} {'coverage':>9}")
    for name in covered:
        truth = KNOWN_TAU if name == "case effect sd" else KNOWN[name]
        e = np.array(errors[name])
        print(
            f"{name:<16} {truth:>+6.2f} {truth + e.mean():>+9.2f} {math.sqrt(np.mean(e**2)):>6.2f} "
            f"{np.mean(widths[name]):>9.2f} {np.mean(covered[name]):>9.0%}"
        )
    every = np.concatenate([np.array(v) for v in covered.values()])
    print(
        f"\noverall coverage of the 90% intervals: {every.mean():.1%} of {every.size} "
        f"(a binomial's 95% range for a true 90%: {0.9 - 1.96 * math.sqrt(0.09 / every.size):.1%} to "
        f"{0.9 + 1.96 * math.sqrt(0.09 / every.size):.1%}); {time.perf_counter() - started:.0f} s in all"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
