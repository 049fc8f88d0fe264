"""What users wait for: whole commands, timed beside an earlier release, in one run.

Each command runs as a fresh process (imports included), the way a user types it, for this checkout
and for an earlier release installed in its own environment (``--base-python``, for example the
``python`` of a virtual environment where commit ed28c1f is installed with ``pip install -e``). It
prints each command's wall time (best of ``--repeat``), the peak memory of its largest process, the
ratio to the earlier release, and, for this checkout, where the time goes (``NEGSIM_PHASES=1``
makes negsim print its phases on stderr).

    python benchmarks/commands.py --base-python ../base/.venv/bin/python --base-scenarios ../base/scenarios [--repeat 3]

The earlier release reads its own bundled scenario files (``--base-scenarios``) when this checkout's
use what it cannot read (judgements given as distributions came later): each release runs the bundled
scenario as its users get it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def bundled(folder: Path) -> tuple[str, list[str]]:
    """The bundled scenario and its three variants in ``folder``."""
    variants = [str(folder / f"istanbul-2025-{v}.yaml") for v in ("aviation-eased", "escalation", "relinked")]
    return str(folder / "istanbul-2025.yaml"), variants


GRID = ["--set", "constraints.aviation.lift.p=0:0.5:10", "--set", "trust.weight=0:2:5"]

_MEASURE = """
import resource, subprocess, sys, time
t0 = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wall = time.perf_counter() - t0
print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode)
print(done.stderr, file=sys.stderr)
"""


def measure(python: str, argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """(wall seconds, peak MiB of the largest process, stderr) of ``python -m sim argv``, run in
    ``cwd`` so that each python imports its own installed negsim, not a checkout beside it."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, python, "-m", "sim", *argv], capture_output=True, text=True, env=env, cwd=cwd
    )
    wall, rss, code = done.stdout.split()
    if code != "0":
        raise RuntimeError(f"{argv}: exit {code}\n{done.stderr}")
    return float(wall), int(rss) / 1024, done.stderr


def phases(stderr: str) -> dict[str, float]:
    """The ``phase NAME SECONDS`` lines negsim prints under NEGSIM_PHASES=1."""
    out: dict[str, float] = {}
    for line in stderr.splitlines():
        if line.startswith("phase "):
            _, name, seconds = line.split()
            out[name] = out.get(name, 0.0) + float(seconds)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base-python", required=True, help="the python of an environment with the earlier release")
    ap.add_argument("--base-name", default="ed28c1f")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--million", action="store_true", help="also plot a folder of 1,000,000 replications")
    ap.add_argument("--base-scenarios", type=Path, help="the earlier release's scenarios folder (default: this one's)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    if os.path.abspath(args.base_python) == os.path.abspath(sys.executable):
        raise SystemExit("--base-python is this python: give the python of the earlier release's environment")
    env = {**os.environ, "NEGSIM_PHASES": "1"}
    pythons = {"now": sys.executable, args.base_name: args.base_python}
    files = {"now": bundled(SCENARIOS), args.base_name: bundled(args.base_scenarios or SCENARIOS)}

    def out(name: str, who: str) -> str:
        return str(tmp / who / name)

    def prepare(who: str) -> None:
        """Folders the plot and compare commands read (not timed)."""
        py = pythons[who]
        scenario, variants = files[who]
        for i, path in enumerate([scenario, *variants]):  # in tmp: each python imports its own negsim
            subprocess.run(
                [py, "-m", "sim", "run", path, "--out", out(f"r{i}", who), "--quiet"], check=True, env=env, cwd=tmp
            )
        if args.million:
            subprocess.run(
                [py, "-m", "sim", "run", scenario, "-n", "1000000", "--no-plots", "--quiet", "--out", out("m", who)],
                check=True,
                env=env,
                cwd=tmp,
            )

    commands: list[tuple[str, Callable[[str], list[str]]]] = [
        ("run", lambda w: ["run", files[w][0], "--out", out("run", w), "--force"]),
        ("run --no-plots", lambda w: ["run", files[w][0], "--no-plots", "--out", out("np", w), "--force"]),
        ("validate", lambda w: ["validate", files[w][0]]),
        ("plot", lambda w: ["plot", out("r0", w)]),
        (
            "sweep (50 x 2,000)",
            lambda w: ["sweep", files[w][0], *GRID, "-n", "2000", "--out", out("sw", w), "--force"],
        ),
        (
            "compare (4 runs)",
            lambda w: ["compare", *(out(f"r{i}", w) for i in range(4)), "--out", out("c", w), "--force"],
        ),
    ]
    if args.million:
        commands.append(("plot (1,000,000)", lambda w: ["plot", out("m", w)]))
    for who in pythons:
        (tmp / who).mkdir()
        prepare(who)
    print(f"best of {args.repeat}; wall seconds and peak MiB of the largest process\n")
    header = (
        f"{'command':<22}{args.base_name:>10}{'now':>8}{'ratio':>7}{'MiB before':>12}{'MiB now':>9}   now, by phase"
    )
    print(header)
    print("-" * len(header))
    results = {}
    for name, argv in commands:
        row = {}
        for who in pythons:
            best = None
            for _ in range(args.repeat):
                if name.startswith(("sweep", "compare")):
                    shutil.rmtree(out("sw" if name.startswith("sweep") else "c", who), ignore_errors=True)
                m = measure(pythons[who], argv(who), env, tmp)
                best = m if best is None or m[0] < best[0] else best
            row[who] = best
        base, now = row[args.base_name], row["now"]
        spent = ", ".join(f"{k} {v:.2f}" for k, v in phases(now[2]).items())
        print(
            f"{name:<22}{base[0]:>10.2f}{now[0]:>8.2f}{now[0] / base[0]:>7.2f}{base[1]:>12.0f}{now[1]:>9.0f}   {spent}"
        )
        results[name] = {"base": base[:2], "now": now[:2], "phases": phases(now[2])}
    (tmp / "results.json").write_text(json.dumps(results, indent=1))
    print(f"\n(raw figures in {tmp / 'results.json'}; {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores)")
    if resource.getrlimit(resource.RLIMIT_AS)[0] != resource.RLIM_INFINITY:
        print("note: an address-space limit is set")


if __name__ == "__main__":
    main()
