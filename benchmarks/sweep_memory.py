"""Peak memory of ``negsim sweep`` as its points grow, in one run (issue 20, item 8).

    python benchmarks/sweep_memory.py [--points 250,2000] [-n 2000] [--base PATH]

A grid over the aviation review's chance and trust's weight of the bundled scenario, with figures:
the wall time and the peak memory of the largest process (the parent: the workers are started
apart from it). With ``--base`` (a checkout of an earlier commit, run with this Python, its
package first on ``PYTHONPATH``) the same beside it. Until issue 20 the parent kept every point's
records to gather them and read items.parquet whole to draw; now the records are gathered and
read a point at a time, and what grows with the points is each point's scenario and its rows of
points.parquet.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from plot_memory import negsim  # benchmarks/plot_memory.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "scenarios" / "istanbul-2025.yaml"


def measure(source: Path, points: int, n: int, out: Path) -> tuple[float, float]:
    """(wall seconds, peak MiB of the largest process) of a sweep of ``points`` points (a grid of
    points / 5 values by 5, and the baseline)."""
    grid = ["--set", f"constraints.aviation.lift.p=0:0.5:{points // 5}", "--set", "trust.weight=0:2:5"]
    return negsim(source, "sweep", str(BUNDLED), *grid, "-n", str(n), "--out", str(out), "--quiet")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", default="250,2000", help="grid sizes, separated by commas (multiples of 5)")
    ap.add_argument("-n", type=int, default=2000, help="replications per point")
    ap.add_argument("--base", type=Path, help="a checkout of an earlier commit to measure beside this one")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sweep-memory-"))
    sources = {"now": ROOT} | ({"base": args.base} if args.base else {})
    print(f"negsim sweep {BUNDLED.name}, {args.n:,} replications a point, 2 jobs (peak: largest process):")
    for points in (int(p) for p in args.points.split(",")):
        for who, source in sources.items():
            wall, mib = measure(source, points, args.n, tmp / f"{who}-{points}")
            shutil.rmtree(tmp / f"{who}-{points}")
            print(f"  {who:5} {points:>6,} points: {wall:6.1f} s, peak {mib:5.0f} MiB")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
