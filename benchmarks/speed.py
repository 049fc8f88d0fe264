"""Speed and memory of negsim, measured as ratios in one run (issue 6; see RESULTS.md).

    python benchmarks/speed.py [--quick]

Prints: replications per second of the batch engine (and, as the "before", of the SimPy model)
on the bundled scenario and on benchmarks/synthetic.yaml; the plain-Python yardstick
(benchmarks/yardstick.py) on the same synthetic scenario, in process and as whole processes
against ``negsim run --no-plots``; scaling from one job to two; the peak memory of a run of
1,000,000 replications; and the time of ``negsim --help`` and of ``import sim``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "scenarios" / "istanbul-2025.yaml"
SYNTHETIC = ROOT / "benchmarks" / "synthetic.yaml"
_SCRIPT = Path(sys.executable).with_name("negsim")
NEGSIM = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "sim"]
"""The installed console script, as a user runs it."""


def whole(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak resident memory (KiB, largest process of the job) of a command."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, usage.ru_maxrss


def best_of(cmd: list[str], times: int = 5) -> float:
    return min(whole(cmd)[0] for _ in range(times))


def _spin(n: int) -> int:
    s = 0
    for i in range(n):
        s += i * i % 7
    return s


def _simulate_span(span: tuple[int, int]) -> float:
    from sim.engine.plan import compile_plan
    from sim.engine.simulate import simulate
    from sim.scenario.load import load_scenario

    plan = compile_plan(load_scenario(BUNDLED))
    t0 = time.perf_counter()
    for a in range(span[0], span[1], 4000):
        simulate(plan, a, min(a + 4000, span[1]))
    return time.perf_counter() - t0


def _halves(n: int) -> float:
    """Speed-up of the batch engine in two processes each given half the work once (no dispatch)."""
    import multiprocessing as mp

    out = []
    with mp.get_context("forkserver").Pool(2) as pool:
        pool.map(_simulate_span, [(0, 4000), (0, 4000)])
        for _ in range(3):
            one = _simulate_span((0, n))
            t0 = time.perf_counter()
            pool.map(_simulate_span, [(0, n // 2), (n // 2, n)])
            out.append(one / (time.perf_counter() - t0))
    return statistics.median(out)


def _machine_scaling() -> float:
    """How much faster two processes run a trivial CPU-bound loop than one (median of 3)."""
    import multiprocessing as mp

    n = 6_000_000
    out = []
    with mp.get_context("forkserver").Pool(2) as pool:
        pool.map(_spin, [10, 10])
        for _ in range(3):
            t0 = time.perf_counter()
            _spin(n)
            one = time.perf_counter() - t0
            t0 = time.perf_counter()
            pool.map(_spin, [n // 2, n // 2])
            out.append(one / (time.perf_counter() - t0))
    return statistics.median(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller runs (a smoke test of this script)")
    args = ap.parse_args()
    scale = 10 if args.quick else 1

    from sim.engine.plan import compile_plan
    from sim.engine.simulate import simulate
    from sim.runs import montecarlo
    from sim.scenario.load import load_scenario

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.platform()}\n"
    )

    print("1. Simulation only, one core, in process (replications/s)")
    rates: dict[str, float] = {}
    for label, path, n in (("bundled", BUNDLED, 400_000), ("synthetic", SYNTHETIC, 200_000)):
        plan = compile_plan(load_scenario(path))
        n //= scale
        with montecarlo.Runner(plan, 1) as runner:
            runner.run(0, 4000)
            t0 = time.perf_counter()
            runner.run(0, n)
            rates[label] = n / (time.perf_counter() - t0)
        m = 3000 // scale
        t0 = time.perf_counter()
        simulate(plan, 0, m, engine="simpy")
        simpy_rate = m / (time.perf_counter() - t0)
        print(
            f"   {label:9s}: batch engine {rates[label]:9,.0f}   SimPy model {simpy_rate:8,.0f}   "
            f"ratio {rates[label] / simpy_rate:5.1f}x"
        )

    n = 200_000 // scale
    yard = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "yardstick.py"), "-n", str(n)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    yard_rate = float(yard.split(":")[-1].split("replications/s")[0].replace(",", ""))
    print(
        f"   yardstick (plain Python, synthetic): {yard_rate:,.0f}; batch engine / yardstick "
        f"{rates['synthetic'] / yard_rate:.2f}x"
    )

    print(f"\n2. Whole processes, one core, synthetic scenario, {n:,} replications (wall seconds)")
    with tempfile.TemporaryDirectory() as tmp:
        t_yard, _ = whole([sys.executable, str(ROOT / "benchmarks" / "yardstick.py"), "-n", str(n)])
        t_neg, _ = whole(
            [
                *NEGSIM,
                "run",
                str(SYNTHETIC),
                "-n",
                str(n),
                "--jobs",
                "1",
                "--no-plots",
                "--quiet",
                "--out",
                f"{tmp}/syn",
            ]
        )
        t_plots, _ = whole(
            [*NEGSIM, "run", str(SYNTHETIC), "-n", str(n), "--jobs", "1", "--quiet", "--out", f"{tmp}/syn-plots"]
        )
    print(
        f"   yardstick {t_yard:6.2f}   negsim run --no-plots {t_neg:6.2f}   yardstick / negsim "
        f"{t_yard / t_neg:.2f}x   (negsim with plots and report: {t_plots:.2f})"
    )

    print("\n3. Scaling, bundled scenario (replications/s; medians of 5 alternating trials)")
    plan = compile_plan(load_scenario(BUNDLED))
    n = 400_000 // scale
    warm: dict[int, list[float]] = {1: [], 2: []}
    with montecarlo.Runner(plan, 1) as one, montecarlo.Runner(plan, 2) as two:
        two.run(0, 16000)  # start the workers
        for _ in range(5):
            for jobs, runner in ((1, one), (2, two)):
                t0 = time.perf_counter()
                runner.run(0, n)
                warm[jobs].append(n / (time.perf_counter() - t0))
    w1, w2 = statistics.median(warm[1]), statistics.median(warm[2])
    pairs = sorted(b / a for a, b in zip(warm[1], warm[2], strict=True))
    print(
        f"   simulation, workers started: 1 job {w1:9,.0f}   2 jobs {w2:9,.0f}   speed-up {w2 / w1:.2f}x "
        f"(trial by trial: {', '.join(f'{r:.2f}' for r in pairs)})"
    )
    halves = _halves(n)
    print(f"   the engine in 2 processes, each simulating half with no dispatch: {halves:.2f}x one")
    ceiling = _machine_scaling()
    print(f"   this machine's own ceiling: a pure-Python loop in 2 processes runs {ceiling:.2f}x one process")
    with tempfile.TemporaryDirectory() as tmp:
        cold = {
            jobs: whole(
                [
                    *NEGSIM,
                    "run",
                    str(BUNDLED),
                    "-n",
                    str(n),
                    "--jobs",
                    str(jobs),
                    "--no-plots",
                    "--quiet",
                    "--out",
                    f"{tmp}/j{jobs}",
                ]
            )[0]
            for jobs in (1, 2)
        }
    print(
        f"   whole process (negsim run --no-plots, {n:,}): 1 job {cold[1]:.2f} s   2 jobs {cold[2]:.2f} s   "
        f"speed-up {cold[1] / cold[2]:.2f}x"
    )

    print("\n4. Peak memory, 1,000,000 replications of the bundled scenario, 2 jobs")
    n = 1_000_000 // scale
    with tempfile.TemporaryDirectory() as tmp:
        for extra in (["--no-plots"], []):
            wall, rss = whole(
                [
                    *NEGSIM,
                    "run",
                    str(BUNDLED),
                    "-n",
                    str(n),
                    "--jobs",
                    "2",
                    "--quiet",
                    "--out",
                    f"{tmp}/m{len(extra)}",
                    *extra,
                ]
            )
            label = "without plots" if extra else "with plots and report"
            print(f"   {label:22s}: peak {rss / 1024:6.0f} MiB (largest process), wall {wall:.1f} s")

    print("\n5. Start-up (best of 5, seconds)")
    print(
        f"   negsim --help {best_of([*NEGSIM, '--help']):.3f}   python -c 'import sim' "
        f"{best_of([sys.executable, '-c', 'import sim']):.3f}   python -c pass "
        f"{best_of([sys.executable, '-c', 'pass']):.3f}"
    )
    print(f"   median of 5, negsim --help: {statistics.median(whole([*NEGSIM, '--help'])[0] for _ in range(5)):.3f}")


if __name__ == "__main__":
    main()
