"""The explorer's worker processes: started once, kept for its life, and sent the plan with each
task, so that every change of a number (a new plan) uses the cores at once.

``negsim run``'s local pool (:class:`sim.runs.executors.LocalProcesses`) gives each worker its plans
when it starts, which suits one plan run long; the explorer runs a new plan every few seconds, for
a fraction of a second each, and a plan pickles to a few kilobytes. Replication *i* depends only on
``(seed, i)``, so the records are the same bytes as in one process.

Used with ``negsim explore --jobs J`` (J > 1), for large runs: at the bundled scenario's 5,000
replications one process was faster on the shared two-core machine where it was measured (0.52 s
against 0.82 s a run, median of twelve), the batches being small and the cores busy.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed

from sim.runs.executors import Executor, Outcome, Plans, Task, ignore_interrupts, simulate_task


class WarmPool(Executor):
    """``jobs`` local processes (forkserver on Linux, spawn elsewhere), started on first use."""

    def __init__(self, jobs: int) -> None:
        self.workers = jobs
        self._pool: ProcessPoolExecutor | None = None

    def _start(self) -> ProcessPoolExecutor:
        if self._pool is None:
            method = "forkserver" if sys.platform.startswith("linux") else "spawn"
            ctx = mp.get_context(method)
            if method == "forkserver":
                ctx.set_forkserver_preload(["sim.engine.simulate"])
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx, initializer=ignore_interrupts)
        return self._pool

    def map(self, plans: Plans, tasks: Sequence[Task]) -> Iterator[Outcome]:
        pool = self._start()
        futures: dict[Future[object], object] = {
            pool.submit(simulate_task, plans[plan_key], start, stop): key for key, plan_key, start, stop in tasks
        }
        for fut in as_completed(futures):
            exc = fut.exception()
            yield futures[fut], exc if exc is not None else fut.result()  # type: ignore[misc]

    def close(self, cancel: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=not cancel, cancel_futures=cancel)
            self._pool = None
