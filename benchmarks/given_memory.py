"""Peak memory of ``negsim run --given`` as the replications it tries grow, in one run (issue 20, item 8).

    python benchmarks/given_memory.py [--keep 2000,8000,32000] [--base PATH]

The Cuba case of the backtest library, given its history as of mid-2015 (about 3.7% of replications
agree with it), on one job, keeping each number of ``--keep``: the wall time, the replications
tried and the peak memory of the largest process. With ``--base`` (a checkout of an earlier commit,
run with this Python, its package first on ``PYTHONPATH``) the same beside it. Until issue 20 a
batch tried was gathered whole before the agreeing replications were kept, so memory grew with the
replications tried; now each task's replications are filtered as they come.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "scenarios" / "backtests" / "cuba-2015"

_MEASURE = """
import resource, subprocess, sys, time
t0 = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - t0
kept = [line for line in done.stdout.splitlines() if "kept" in line]
print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode, kept[0] if kept else done.stderr)
"""


def measure(source: Path, keep: int, out: Path) -> tuple[float, float, str]:
    """(wall seconds, peak MiB of the largest process, the line saying how many were tried)."""
    argv = [sys.executable, "-m", "sim", "run", str(CASE / "scenario.yaml"), "--given"]
    argv += [str(CASE / "observed-mid-2015.yaml"), "-n", str(keep), "--no-plots", "--jobs", "1"]
    argv += ["--out", str(out), "--force"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(source)}
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *argv], capture_output=True, text=True, env=env, cwd=out.parent
    )
    wall, rss, code, said = done.stdout.split(maxsplit=3)
    if code != "0":
        raise SystemExit(f"{source}: exit {code}: {said}")
    return float(wall), int(rss) / 1024, said.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", default="2000,8000,32000", help="replications to keep, separated by commas")
    ap.add_argument("--base", type=Path, help="a checkout of an earlier commit to measure beside this one")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="given-memory-"))
    sources = {"now": ROOT} | ({"base": args.base} if args.base else {})
    print(f"negsim run {CASE.name} --given observed-mid-2015.yaml --jobs 1 --no-plots (peak: largest process):")
    for keep in (int(k) for k in args.keep.split(",")):
        for who, source in sources.items():
            wall, mib, said = measure(source, keep, tmp / f"{who}-{keep}")
            print(f"  {who:5} -n {keep:>7,}: {wall:6.1f} s, peak {mib:5.0f} MiB   ({said})")


if __name__ == "__main__":
    main()
