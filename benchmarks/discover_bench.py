"""What ``negsim discover`` and a sobol sweep cost, on the bundled Istanbul scenario.

``discover`` on a run of 5,000 replications (8 uncertain judgements): peeling alone, then the whole
command's work (peel, paste, prune, 50 bootstrap resamples, 20 shuffles of the outcome), for flights
and banking. A sobol sweep over the 8 judgements' own distributions: points, replications and wall
time of a small design, the share of the workers' time spent simulating, the time the indices
take, and what a design of ``--rows`` rows of ``--target-n`` replications would take at that rate.

    python benchmarks/discover_bench.py [-n 5000] [--rows 16] [--sweep-n 500] [--jobs 2]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from sim import api
from sim.results import discovery, prim, sobol, sweepfolder
from sim.runs import montecarlo
from sim.runs.executors import make_executor
from sim.runs.sweep import make_spec
from sim.runs.sweeping import sweep

ROOT = Path(__file__).resolve().parent.parent
ISTANBUL = ROOT / "scenarios" / "istanbul-2025.yaml"
STUDY = ROOT / "scenarios" / "studies" / "istanbul-2025-judgements.yaml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=5000, help="replications of the run discover works on")
    ap.add_argument("--rows", type=int, default=16, help="rows of the sobol design timed")
    ap.add_argument("--sweep-n", type=int, default=500, help="replications per point of the timed sweep")
    ap.add_argument("--target-rows", type=int, default=256)
    ap.add_argument("--target-n", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=montecarlo.default_jobs())
    args = ap.parse_args()

    res = api.run(ISTANBUL, args.n, jobs=args.jobs)
    print(f"discover on a run of {args.n:,} replications, {len(res.records.parameters[0])} judgements")
    for item in ("flights", "banking"):
        inputs = discovery.run_inputs(res, item)
        t0 = time.perf_counter()
        boxes = prim.peel(inputs.x, inputs.y)
        t1 = time.perf_counter()
        data = discovery.find(inputs)
        t2 = time.perf_counter()
        print(
            f"  {item:8s}: peeling {t1 - t0:5.2f} s ({len(boxes)} boxes); the whole discovery "
            f"(paste, prune, {data['resamples']} resamples, {data['chance']['shuffles']} shuffles) {t2 - t1:5.2f} s"
        )

    spec = make_spec(ISTANBUL, [], sweep_file=str(STUDY), samples=args.rows, replications=args.sweep_n)
    points = len(spec.points)
    total = points * args.sweep_n
    print(f"\nsobol sweep: {args.rows} rows x 11 blocks = {points} points x {args.sweep_n:,} replications = {total:,}")
    tmp = Path(tempfile.mkdtemp())
    try:
        t0 = time.perf_counter()
        with make_executor("local", args.jobs) as ex:
            out = sweep(spec, tmp / "sweep", ex)
        wall = time.perf_counter() - t0
        t1 = time.perf_counter()
        sw = sweepfolder.load_sweep(tmp / "sweep")
        t2 = time.perf_counter()
        sobol.indices(sw, sweepfolder.parse_metric(None, sw.base.calendar.start))
        t3 = time.perf_counter()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    busy = out.simulate_seconds / max(wall * out.workers, 1e-9)
    print(
        f"  wall {wall:.1f} s on {out.workers} workers: {points / wall:.1f} points/s, {total / wall:,.0f} "
        f"replications/s; simulating {busy:.0%} of the workers' time"
    )
    print(f"  reading the sweep back {t2 - t1:.2f} s; the indices (1,000 bootstrap resamples) {t3 - t2:.2f} s")
    per_point = (wall - out.simulate_seconds / out.workers) / points
    per_rep = out.simulate_seconds / out.workers / total
    target_points = args.target_rows * 11
    estimate = target_points * per_point + target_points * args.target_n * per_rep
    print(
        f"  at this rate, {args.target_rows} rows x {args.target_n:,} replications ({target_points:,} points) "
        f"would take about {estimate / 60:.0f} min"
    )


if __name__ == "__main__":
    main()
