"""What a user waits for in ``negsim run``, beside the release at commit ed28c1f, in one run (issue 20, item 8).

    python benchmarks/run_wait.py [--base /tmp/ed28c1f] [--repeat 5] [-n 5000]

The release's checkout (``--base``; made with ``git worktree add`` when it is not there) runs with
this Python, its package first on ``PYTHONPATH``. Both releases run the same plain-number scenario
file, ed28c1f's bundled ``istanbul-2025.yaml`` (the one both can read), with its 5,000
replications, as fresh processes, interleaved so that the shared machine's drift falls on both
alike. For this checkout it times ``run`` (the figures drawn by a detached process after it
returns: the command's wall time, then how long after the start the figures are complete) and
``run --wait`` (drawn before returning, as ed28c1f did), prints the best and the median of each and
the ratios to ed28c1f (the issue's target: ``run`` at most 0.3), where this checkout's time goes
(``NEGSIM_PHASES=1``), and whether the detached figures are byte for byte those of ``--wait``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from commands import phases  # benchmarks/commands.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
BASE = "ed28c1f"
sys.path.insert(0, str(ROOT))

from sim.results import background  # noqa: E402 - this checkout's, whatever is installed


def checkout(where: Path) -> Path:
    """The release's source at ``where`` (a git worktree of commit ed28c1f, added if missing)."""
    if not (where / "sim" / "__init__.py").is_file():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), BASE], check=True)
    return where


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    """Wall seconds of ``python -m sim ARGV`` until it returns, and its stderr."""
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "sim", *argv], env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{argv}: exit {done.returncode}\n{done.stderr.decode()}")
    return wall, done.stderr.decode()


def pngs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / "plots").glob("*.png"))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, default=Path(tempfile.gettempdir()) / BASE, help="checkout of ed28c1f")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("-n", type=int, default=None, help="replications (default: the file's, 5,000)")
    args = ap.parse_args()
    base = checkout(args.base)
    scenario = str(base / "scenarios" / "istanbul-2025.yaml")
    plain = {k: v for k, v in os.environ.items() if k not in ("NEGSIM_WAIT", "PYTHONPATH")}
    envs = {BASE: plain | {"PYTHONPATH": str(base)}, "now": plain | {"PYTHONPATH": str(ROOT), "NEGSIM_PHASES": "1"}}
    n = ["-n", str(args.n)] if args.n else []
    tmp = Path(tempfile.mkdtemp(prefix="run-wait-"))
    times: dict[str, list[float]] = {BASE: [], "run --wait": [], "run": [], "run, figures complete": []}
    said: dict[str, dict[str, float]] = {}
    for i in range(args.repeat + 1):  # the first round warms the disk cache and is not counted
        wall, _ = timed(["run", scenario, *n, "--out", str(tmp / "base"), "--force", "--quiet"], envs[BASE], tmp)
        base_wall = wall
        wall, err = timed(["run", scenario, *n, "--out", str(tmp / "wait"), "--force", "--wait"], envs["now"], tmp)
        wait_wall, said["run --wait"] = wall, phases(err)
        t0 = time.perf_counter()
        wall, err = timed(["run", scenario, *n, "--out", str(tmp / "detached"), "--force"], envs["now"], tmp)
        state = background.wait(tmp / "detached", timeout=300)  # not timed against: the next run must not race it
        complete = time.perf_counter() - t0
        if state != background.COMPLETE:
            raise SystemExit(
                f"the detached figures ended {state}: {json.loads((tmp / 'detached/manifest.json').read_text())}"
            )
        said["run"] = phases(err)
        if i:
            times[BASE].append(base_wall)
            times["run --wait"].append(wait_wall)
            times["run"].append(wall)
            times["run, figures complete"].append(complete)
    same = pngs(tmp / "wait") == pngs(tmp / "detached") and len(pngs(tmp / "wait")) > 0
    reference = min(times[BASE])
    print(f"negsim run of {scenario} ({args.n or 'its'} replications), best and median of {args.repeat}, seconds:")
    print(f"{'':24} {'best':>6} {'median':>7} {'best / ' + BASE:>15}")
    for name, values in times.items():
        print(f"{name:24} {min(values):6.2f} {statistics.median(values):7.2f} {min(values) / reference:15.2f}")
    print(f"ratio run / {BASE} (medians): {statistics.median(times['run']) / statistics.median(times[BASE]):.2f}")
    for name, seen in said.items():
        print(f"phases of this checkout's {name} (last round): " + ", ".join(f"{k} {v:.2f}" for k, v in seen.items()))
    print(f"detached figures byte-identical to --wait's: {same}")


if __name__ == "__main__":
    main()
