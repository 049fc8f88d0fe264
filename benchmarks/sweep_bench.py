"""Wall time of a 50-point sweep grid with local processes and with a Dask LocalCluster.

Also prints the share of the wall time (times workers) not spent simulating: dispatch, pickling,
gathering, writing and plotting. Same grid, same seed, so both executors write the same files.

    python benchmarks/sweep_bench.py [-n 2000] [--jobs 2]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from sim.runs import montecarlo
from sim.runs.executors import make_executor
from sim.runs.sweep import make_spec
from sim.runs.sweeping import sweep

ROOT = Path(__file__).resolve().parent.parent
GRID = ["constraints.aviation.lift.p=0:0.5:10", "trust.weight=0:2:5"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=2000, help="replications per point")
    ap.add_argument("--jobs", type=int, default=montecarlo.default_jobs())
    args = ap.parse_args()
    spec = make_spec(ROOT / "scenarios" / "istanbul-2025.yaml", GRID, replications=args.n)
    total = len(spec.points) * args.n
    print(f"{len(spec.points)} points x {args.n:,} replications = {total:,}; {args.jobs} workers\n")
    tmp = Path(tempfile.mkdtemp())
    files = {}
    try:
        for kind in ("local", "dask"):
            t0 = time.perf_counter()
            with make_executor(kind, args.jobs) as ex:
                started = time.perf_counter() - t0
                out = sweep(spec, tmp / kind, ex)
            wall = time.perf_counter() - t0
            busy = out.simulate_seconds
            share = 1 - busy / (wall * args.jobs)
            print(
                f"{kind:5s}: wall {wall:6.2f} s; simulating {busy:6.2f} worker-s; not simulating {share:5.1%} "
                f"of {args.jobs} x wall"
            )
            print(
                f"       of which: executor start {started:4.2f} s, gathering {out.gather_seconds:4.2f} s, "
                f"plots {out.plot_seconds:4.2f} s, dispatch and the rest "
                f"{wall - started - out.gather_seconds - out.plot_seconds - busy / args.jobs:4.2f} s"
            )
            files[kind] = {
                str(p.relative_to(tmp / kind)): p.read_bytes()
                for p in sorted((tmp / kind).rglob("*"))
                if p.is_file() and p.name not in ("manifest.json", "report.html")
            }
        print(f"\nfiles identical across executors: {files['local'] == files['dask']}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
