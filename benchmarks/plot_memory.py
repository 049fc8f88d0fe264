"""Peak memory of ``negsim plot`` on a folder of a million replications, in one run (issue 20, item 8).

    python benchmarks/plot_memory.py [-n 1000000] [--base PATH] [--repeat 1]

Runs the bundled scenario once with ``--no-plots`` (not measured), then draws its figures again
with ``negsim plot``: the wall time and the peak memory of the largest process (the parent, or one
of the two that draw). With ``--base`` (a checkout of an earlier commit, run with this Python, its
package first on ``PYTHONPATH``) the same folder is drawn by it too, and the figures of both are
compared byte for byte. The target is under 300 MB.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "scenarios" / "istanbul-2025.yaml"

_MEASURE = """
import resource, subprocess, sys, time
t0 = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - t0
print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode, done.stderr.replace(chr(10), ' '))
"""


def negsim(source: Path, *argv: str) -> tuple[float, float]:
    """(wall seconds, peak MiB of the largest process) of ``negsim argv`` from the checkout ``source``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(source)}
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, sys.executable, "-m", "sim", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),
    )
    wall, rss, code, said = [*done.stdout.split(maxsplit=3), ""][:4]
    if code != "0":
        raise SystemExit(f"{source}: negsim {' '.join(argv)}: exit {code}: {said or done.stderr}")
    return float(wall), int(rss) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=1_000_000, help="replications in the folder drawn")
    ap.add_argument("--base", type=Path, help="a checkout of an earlier commit to measure beside this one")
    ap.add_argument("--repeat", type=int, default=1, help="draws per checkout (the figures: best wall, worst peak)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="plot-memory-"))
    folder = tmp / "run"
    negsim(ROOT, "run", str(BUNDLED), "-n", str(args.n), "--no-plots", "--quiet", "--out", str(folder))
    sources = {"now": ROOT} | ({"base": args.base} if args.base else {})
    print(f"negsim plot of {args.n:,} replications of {BUNDLED.name} (peak: largest process; target under 300 MB):")
    drawn = {}
    for who, source in sources.items():
        mine = tmp / who
        shutil.copytree(folder, mine)
        runs = []
        for _ in range(args.repeat):
            shutil.rmtree(mine / "plots", ignore_errors=True)
            runs.append(negsim(source, "plot", str(mine)))
        wall, mib = min(w for w, _ in runs), max(m for _, m in runs)
        print(f"  {who:5}: {wall:5.1f} s, peak {mib:5.0f} MiB = {mib * 1.048576:5.0f} MB")
        drawn[who] = mine
    if args.base:
        names = sorted(p.name for p in (drawn["now"] / "plots").iterdir())
        same = all(filecmp.cmp(drawn["now"] / "plots" / n, drawn["base"] / "plots" / n, shallow=False) for n in names)
        same = same and filecmp.cmp(drawn["now"] / "report.html", drawn["base"] / "report.html", shallow=False)
        print(f"  figures and report.html byte-identical between the two: {'yes' if same else 'NO'}")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
