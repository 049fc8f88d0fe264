"""Replications in batches, in this process or in local worker processes.

Replication *i* depends only on ``(seed, i)`` (see :mod:`sim.engine.streams`), so the records are the
same bytes whatever the number of jobs or the size of the batches; batches only amortise
dispatch. ``--precision`` adds batches until every item's 95% interval is narrow enough.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass

from sim.engine.plan import Plan
from sim.engine.records import Records
from sim.engine.simulate import simulate

BATCH = 4000
"""Largest batch: the batch engine is fastest at a few thousand replications per call (see
benchmarks/RESULTS.md); smaller runs are cut finer so that every worker gets a share."""
MIN_BATCH = 500
POOL_MIN = 20_000
"""Fewer replications than this run in this process: they take less time than starting workers."""
MAX_PRECISION_REPLICATIONS = 1_000_000
"""Default ceiling on replications when ``--precision`` keeps adding batches."""

Progress = Callable[[int], None]


def default_jobs() -> int:
    """All the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def batch_size(n: int, jobs: int) -> int:
    """Replications per task: at most BATCH, and at least four tasks per worker when there is enough work."""
    return max(MIN_BATCH, min(BATCH, -(-n // (4 * jobs))))


def batches(start: int, stop: int, size: int = BATCH) -> list[tuple[int, int]]:
    return [(a, min(a + size, stop)) for a in range(start, stop, size)]


_PLAN: Plan | None = None


def _init_worker(plan: Plan) -> None:
    from sim.runs.executors import ignore_interrupts

    global _PLAN
    _PLAN = plan
    ignore_interrupts()


def _work(bounds: tuple[int, int]) -> Records:
    assert _PLAN is not None
    return simulate(_PLAN, *bounds)


class Runner:
    """Runs batches of replications of one plan, reusing worker processes across calls."""

    def __init__(self, plan: Plan, jobs: int | None = None) -> None:
        self.plan = plan
        self.jobs = max(1, jobs or default_jobs())
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(cancel=exc[0] is not None)

    def close(self, cancel: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=cancel)
            self._pool = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            method = "forkserver" if sys.platform.startswith("linux") else "spawn"
            ctx = mp.get_context(method)
            if method == "forkserver":
                ctx.set_forkserver_preload(["sim.engine.records"])
            self._pool = ProcessPoolExecutor(
                max_workers=self.jobs, mp_context=ctx, initializer=_init_worker, initargs=(self.plan,)
            )
        return self._pool

    def iter_batches(self, start: int, stop: int, progress: Progress | None = None) -> Iterator[Records]:
        """Records of replications ``start..stop-1`` batch by batch, in replication order."""
        parts = batches(start, stop, batch_size(stop - start, self.jobs))
        if self.jobs == 1 or len(parts) == 1 or (stop - start < POOL_MIN and self._pool is None):
            for a, b in parts:
                rec = simulate(self.plan, a, b)
                if progress:
                    progress(b - a)
                yield rec
            return
        pool = self._executor()
        pending: dict[Future[Records], int] = {}
        done: dict[int, Records] = {}
        queue = iter(range(len(parts)))
        nxt = 0
        for _ in range(min(len(parts), 2 * self.jobs)):
            i = next(queue)
            pending[pool.submit(_work, parts[i])] = i
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                i = pending.pop(fut)
                rec = fut.result()
                done[i] = rec
                if progress:
                    progress(rec.n)
                j = next(queue, None)
                if j is not None:
                    pending[pool.submit(_work, parts[j])] = j
            while nxt in done:
                yield done.pop(nxt)
                nxt += 1

    def run(
        self, start: int, stop: int, progress: Progress | None = None, sink: Callable[[Records], None] | None = None
    ) -> Records:
        parts = []
        for rec in self.iter_batches(start, stop, progress):
            if sink is not None:
                sink(rec)
            parts.append(rec)
        return Records.concat(parts)


@dataclass(frozen=True)
class Precision:
    """The outcome of ``--precision``: target, ceiling, and whether the target was met."""

    target: float
    ceiling: int
    reached: bool
    worst_half_width: float


def half_width(rec: Records) -> float:
    """The widest side of any item's 95% Wilson interval on P(agreed by horizon)."""
    from sim.results.stats import wilson

    n = rec.n
    worst = 0.0
    for k in rec.item_agreed.sum(axis=0).tolist():
        p = k / n
        low, high = wilson(k, n)
        worst = max(worst, p - low, high - p)
    return float(worst)


def needed(rec: Records, target: float) -> int:
    """Replications the normal approximation says the worst item needs for ``target``."""
    n = rec.n
    worst = max((k / n) * (1 - k / n) for k in rec.item_agreed.sum(axis=0).tolist())
    worst = max(worst, 1.0 / n)
    return math.ceil(1.959964**2 * worst / target**2)


def run(
    plan: Plan,
    n: int,
    jobs: int | None = None,
    precision: float | None = None,
    ceiling: int = MAX_PRECISION_REPLICATIONS,
    progress: Progress | None = None,
    sink: Callable[[Records], None] | None = None,
) -> tuple[Records, Precision | None]:
    """Run ``n`` replications; with ``precision``, keep adding batches up to ``ceiling``.

    The sequence of sizes depends only on the records so far, never on the jobs, so the
    result is the same for any number of processes. ``sink`` sees every batch, in order, as it
    arrives (to stream the records to disk).
    """
    with Runner(plan, jobs) as runner:
        rec = runner.run(0, n, progress, sink)
        if precision is None:
            return rec, None
        parts = [rec]
        total = n
        while True:
            width = half_width(rec)
            if width <= precision or total >= ceiling:
                return rec, Precision(precision, ceiling, bool(width <= precision), width)
            goal = max(needed(rec, precision), total + MIN_BATCH)
            goal = min(ceiling, math.ceil(goal * 1.05 / MIN_BATCH) * MIN_BATCH)
            parts.append(runner.run(total, goal, progress, sink))
            total = goal
            rec = Records.concat(parts)
