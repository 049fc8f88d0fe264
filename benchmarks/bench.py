"""Speed of negsim on the bundled scenario, measured as ratios in one run.

Prints replications per second with one job and with all cores, and the cost of each SimPy
event in negsim against a bare SimPy loop that processes the same number of events.

    python benchmarks/bench.py [-n 20000] [--scenario scenarios/istanbul-2025.yaml]
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import simpy

from sim.engine.model import _Environment
from sim.engine.plan import compile_plan
from sim.runs import montecarlo
from sim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def count_events(plan: montecarlo.Plan, n: int) -> int:
    """SimPy events processed by ``n`` replications (counted in a separate, untimed pass)."""
    counter = [0]
    original = _Environment.step

    def counting_step(self: simpy.Environment) -> None:
        counter[0] += 1
        original(self)

    _Environment.step = counting_step  # type: ignore[method-assign]
    try:
        from sim.engine.simulate import simulate

        simulate(plan, 0, n, engine="simpy")
    finally:
        _Environment.step = original  # type: ignore[method-assign]
    return counter[0]


def bare_simpy(events: int, per_env: int) -> float:
    """Seconds for a bare SimPy loop: one process per environment, ``per_env`` timeouts each."""
    envs = max(1, events // per_env)
    t0 = time.perf_counter()
    for _ in range(envs):
        env = simpy.Environment()

        def proc(env: simpy.Environment) -> object:
            for _ in range(per_env - 2):
                yield env.timeout(1.0)

        env.process(proc(env))
        env.run()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=20_000)
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "istanbul-2025.yaml"))
    args = ap.parse_args()
    s = load_scenario(args.scenario)
    plan = compile_plan(s)
    cores = montecarlo.default_jobs()
    print(f"machine: {platform.processor() or platform.machine()}, {cores} cores, Python {platform.python_version()}")
    print(f"scenario: {args.scenario}, {args.n:,} replications\n")

    rates = {}
    for jobs in sorted({1, cores}):
        montecarlo.run(plan, min(args.n, 1000), jobs=jobs)  # warm up (and start the worker pool once)
        t0 = time.perf_counter()
        montecarlo.run(plan, args.n, jobs=jobs)
        wall = time.perf_counter() - t0
        rates[jobs] = args.n / wall
        print(f"jobs={jobs}: {wall:6.2f} s  {rates[jobs]:9,.0f} replications/s")
    if cores > 1:
        print(f"speed-up with {cores} jobs: {rates[cores] / rates[1]:.2f}x (includes starting the worker processes)")

    from sim.engine.simulate import simulate

    n_simpy = min(args.n, 5000)
    events = count_events(plan, n_simpy)
    per_rep = events / n_simpy
    t0 = time.perf_counter()
    simulate(plan, 0, n_simpy, engine="simpy")
    t_simpy = time.perf_counter() - t0
    t_bare = bare_simpy(events, max(3, round(per_rep)))
    t_batch = n_simpy / rates[1]
    print(
        f"\nSimPy model (the reference engine, used by trace): {n_simpy:,} replications, {events:,} events "
        f"({per_rep:.1f} per replication)"
    )
    print(f"negsim SimPy model: {t_simpy / events * 1e6:6.2f} us per event (all work: draws, rules, records)")
    print(f"bare SimPy loop:    {t_bare / events * 1e6:6.2f} us per event (timeouts only, same number of events)")
    print(f"ratio SimPy model / bare SimPy: {t_simpy / t_bare:.2f}")
    print(
        f"batch engine (the default): {t_batch / events * 1e6:6.2f} us per SimPy-model event; "
        f"{t_simpy / t_batch:.1f}x the SimPy model's speed, same records"
    )


if __name__ == "__main__":
    main()
