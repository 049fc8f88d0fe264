"""Does scenario discovery on a plain run agree with a sobol sweep? The bundled Istanbul scenario.

Runs the scenario as it is (its 5,000 replications and seed), asks ``negsim discover`` which
judgements decide flights and banking (and banking not agreed), and sets beside it a sobol sweep
of the same eight judgements over their own distributions (``scenarios/studies/
istanbul-2025-judgements.yaml``; give its folder with ``--sweep``, or the script runs one with
``--rows`` rows). Two checks:

- the fields the two boxes of an item restrict (where it is agreed, and where it is not) are the
  judgements whose total Sobol index on it is surely (by its 95% interval) above 0.2;
- each judgement's share of each item's per-replication variance, as the run's own table estimates
  it from the draws, and as the sweep measures it (first-order variance over P(1 - P)): do their
  95% intervals overlap?

    python benchmarks/istanbul_agreement.py [--sweep DIR] [--rows 64] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from sim import api
from sim.results import discovery
from sim.runs import montecarlo
from sim.runs.executors import make_executor
from sim.runs.sweep import make_spec

ROOT = Path(__file__).resolve().parent.parent
ISTANBUL = ROOT / "scenarios" / "istanbul-2025.yaml"
STUDY = ROOT / "scenarios" / "studies" / "istanbul-2025-judgements.yaml"
LARGE = 0.2


def interval(v: float, low: float | None, high: float | None, digits: str = ".3f") -> str:
    return (
        f"{v:{digits}} ({low:{digits}} to {high:{digits}})" if low is not None and high is not None else f"{v:{digits}}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sweep", help="a finished sobol sweep folder of the study (else one is run)")
    ap.add_argument("--rows", type=int, default=64, help="rows of the sweep run when --sweep is not given")
    ap.add_argument("--jobs", type=int, default=montecarlo.default_jobs())
    args = ap.parse_args()

    res = api.run(ISTANBUL, jobs=args.jobs)
    print(f"negsim discover on a plain run ({res.records.n:,} replications, seed {res.scenario.simulation.seed})\n")
    found = {}
    for item, negated in (("flights", False), ("flights", True), ("banking", False), ("banking", True)):
        data = discovery.find(discovery.run_inputs(res, item, negated=negated))
        found[(item, negated)] = data
        print(f"{item}{' --not' if negated else ''}: {data['words']}\n")

    folder = Path(args.sweep) if args.sweep else Path(tempfile.mkdtemp()) / "sweep"
    if not args.sweep:
        spec = make_spec(ISTANBUL, [], sweep_file=str(STUDY), samples=args.rows)
        print(f"running a sobol sweep of {len(spec.points)} points into {folder} ...")
        with make_executor("local", args.jobs) as pool:
            api.sweep_to_folder(spec, str(folder), pool, plots=False)
    indices = json.loads((folder / "sobol.json").read_text())
    by_item = {it["item"]: it for it in indices["items"]}
    print(f"sobol sweep: {indices['samples']} rows x {indices['replications']:,} replications per point\n")

    ok = True
    for item in ("flights", "banking"):
        boxed = sorted(
            {r["path"] for (it, _), data in found.items() if it == item for r in data["box"]["restrictions"]}
        )
        ranked = sorted(by_item[item]["parameters"], key=lambda p: -(p["total"] or 0.0))
        sure = sorted(p["path"] for p in ranked if (p["total_low"] or 0.0) > LARGE)
        agree = boxed == sure
        ok &= agree
        totals = ", ".join(
            f"{p['path']} {interval(p['total'], p['total_low'], p['total_high'], '.2f')}" for p in ranked[:3]
        )
        print(f"{item}: the boxes (agreed, and not agreed) restrict {', '.join(boxed)}")
        print(f"  largest total indices: {totals}")
        print(
            f"  {'agrees' if agree else 'DISAGREES'}: the judgements whose total index is surely above {LARGE} "
            f"are {', '.join(sure) or 'none'}\n"
        )

    print("each judgement's share of each item's per-replication variance: the run's table against the sweep")
    print(f"{'item':17s} {'judgement':40s} {'the run (95%)':28s} {'the sweep (95%)':28s} overlap")
    summary = res.summary_data
    for row in summary["judgements"]:
        for item, cell in row["items"].items():
            sweep = next(p for p in by_item[item]["parameters"] if p["path"] == row["path"])
            value, low, high = sweep["outcome_share"]
            if cell["share"] is None or value is None:
                continue
            if max(cell["share"], value) < row["band"]:
                continue  # neither sees more than chance gives
            overlap = cell["share_low"] <= high and low <= cell["share_high"]
            ok &= overlap
            run = interval(cell["share"], cell["share_low"], cell["share_high"], ".4f")
            swept = interval(value, low, high, ".4f")
            print(f"{item:17s} {row['path']:40s} {run:28s} {swept:28s} {'yes' if overlap else 'NO'}")
    print(f"\n{'everything agrees' if ok else 'something disagrees (above)'}")


if __name__ == "__main__":
    main()
