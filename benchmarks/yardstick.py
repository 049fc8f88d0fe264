"""The yardstick: a plain-Python Monte Carlo of benchmarks/synthetic.yaml, as an analyst would write it.

Straightforward code with the standard library's ``random``: no negsim, no numpy, no SimPy. It
implements the same rules (DESIGN.md, Semantics) for this one scenario and prints P(agreed by
horizon) per item, so its numbers can be checked against negsim's.

    python benchmarks/yardstick.py [-n 20000] [--seed 7]
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import time

HORIZON = 730.0
ITEMS = ["a", "b", "c", "d", "e", "f", "g"]
P = {"a": 0.4, "b": 0.3, "c": 0.25, "d": 0.5, "e": 0.3, "f": 0.6 * 0.5, "g": 0.15}
REQUIRES = {"b": ["a"], "c": ["b"]}
AFTER = {"g": 2}
CAPACITY = 4
CANCEL = 0.1
TRUST_WEIGHT, ON_AGREEMENT, TRUST_MIN, TRUST_MAX = 1.0, 0.1, -2.0, 2.0


def clip(x: float) -> float:
    return max(TRUST_MIN, min(TRUST_MAX, x))


def replicate(rng: random.Random) -> tuple[dict[str, float | None], bool]:
    # Everything that happens, on one timeline: (day, order, what, detail).
    # At equal days: events (0), then constraint changes (1), then rounds (2).
    queue: list[tuple[float, int, int, str, float]] = []
    seq = 0

    def push(day: float, order: int, what: str, detail: float = 0.0) -> None:
        nonlocal seq
        if day <= HORIZON:
            heapq.heappush(queue, (day, order, seq, what, detail))
            seq += 1

    t = 0.0
    while t <= HORIZON:
        push(t, 2, "round")
        t += rng.triangular(20, 70, 35)
    for kind, rate in (("exchange", 3.0), ("escalation", 1.5)):
        t = rng.expovariate(rate / 365)
        while t <= HORIZON:
            push(t, 0, kind)
            t += rng.expovariate(rate / 365)
    review = 90.0
    while review <= HORIZON:
        push(review, 1, "review")
        review += 180

    agreed: dict[str, float | None] = dict.fromkeys(ITEMS)
    on_agenda = dict.fromkeys(ITEMS, 0)
    sanctions, linkage = True, False
    linkage_id = 0
    trust = 0.0
    suspended_until = -1.0
    broken = False
    while queue:
        day, _, _, what, detail = heapq.heappop(queue)
        if what == "exchange":
            trust = clip(trust + 0.1)
        elif what == "escalation":
            trust = clip(trust - 0.3)
            suspended_until = max(suspended_until, day + rng.uniform(20, 60))
            if not broken and rng.random() < 0.05:
                broken = True
            linkage = True
            linkage_id += 1
            push(day + rng.expovariate(1.0 / 365), 1, "linkage_lift", linkage_id)
        elif what == "review":
            if sanctions and rng.random() < 0.2:
                sanctions = False
        elif what == "linkage_lift":
            if linkage and detail == linkage_id:
                linkage = False
        elif what == "round":
            if broken or day < suspended_until or rng.random() < CANCEL:
                continue
            eligible = [
                x
                for x in ITEMS
                if agreed[x] is None
                and all(agreed[r] is not None for r in REQUIRES.get(x, []))
                and not (x == "d" and sanctions)
            ][:CAPACITY]
            done = []
            for x in eligible:
                if on_agenda[x] >= AFTER.get(x, 0):
                    p = 1 / (1 + math.exp(-(math.log(P[x] / (1 - P[x])) + TRUST_WEIGHT * trust)))
                    if x == "e" and linkage:
                        p *= 0.5
                    if rng.random() < p:
                        done.append(x)
                on_agenda[x] += 1
            for x in done:
                agreed[x] = day
                trust = clip(trust + ON_AGREEMENT)
    return agreed, broken


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    counts = dict.fromkeys(ITEMS, 0)
    breakdowns = 0
    for _ in range(args.n):
        agreed, broken = replicate(rng)
        breakdowns += broken
        for x in ITEMS:
            counts[x] += agreed[x] is not None
    wall = time.perf_counter() - t0
    print(" ".join(f"{x}={counts[x] / args.n:.4f}" for x in ITEMS), f"breakdown={breakdowns / args.n:.4f}")
    print(f"{args.n:,} replications in {wall:.2f} s: {args.n / wall:,.0f} replications/s")


if __name__ == "__main__":
    main()
