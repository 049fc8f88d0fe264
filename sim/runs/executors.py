"""Where batches of replications run: local processes, or a Dask distributed cluster.

Both take the same tasks, ``simulate(plan, start, stop)``, and hand back the same records, so
the numbers are byte-identical whatever the executor or the number of workers. Dask is an
optional extra (``pip install 'negsim[dask]'``).
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, NamedTuple

from sim.engine.plan import Plan
from sim.engine.records import Records
from sim.engine.simulate import simulate
from sim.errors import UserError


def ignore_interrupts() -> None:
    """In a worker: leave Ctrl-C to the parent, which stops cleanly and says what was kept."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Done(NamedTuple):
    """A finished task: its records, and the seconds the worker spent simulating them."""

    records: Records
    seconds: float


def simulate_task(plan: Plan, start: int, stop: int) -> Done:
    """The unit of work: replications ``start..stop-1`` of one plan."""
    t0 = time.perf_counter()
    rec = simulate(plan, start, stop)
    return Done(rec, time.perf_counter() - t0)


class Executor:
    """Runs tasks and yields ``(key, result or exception)`` as they finish, a bounded number in flight."""

    workers: int = 1

    def run(self, tasks: Iterable[tuple[Any, Plan, int, int]]) -> Iterator[tuple[Any, Done | BaseException]]:
        raise NotImplementedError

    def close(self, cancel: bool = False) -> None:
        pass

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(cancel=exc[0] is not None)


class InProcess(Executor):
    """One job: no worker processes at all."""

    def run(self, tasks: Iterable[tuple[Any, Plan, int, int]]) -> Iterator[tuple[Any, Done | BaseException]]:
        for key, plan, start, stop in tasks:
            try:
                yield key, simulate_task(plan, start, stop)
            except Exception as exc:  # a failing point is recorded, the rest go on
                yield key, exc


class LocalProcesses(Executor):
    """A pool of local worker processes (forkserver on Linux, spawn elsewhere)."""

    def __init__(self, jobs: int) -> None:
        self.workers = jobs
        method = "forkserver" if sys.platform.startswith("linux") else "spawn"
        ctx = mp.get_context(method)
        if method == "forkserver":
            ctx.set_forkserver_preload(["sim.engine.records"])
        self.pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=ignore_interrupts)

    def run(self, tasks: Iterable[tuple[Any, Plan, int, int]]) -> Iterator[tuple[Any, Done | BaseException]]:
        queue = iter(tasks)
        pending: dict[Any, Any] = {}

        def submit() -> bool:
            task = next(queue, None)
            if task is None:
                return False
            key, plan, start, stop = task
            pending[self.pool.submit(simulate_task, plan, start, stop)] = key
            return True

        for _ in range(2 * self.workers):
            if not submit():
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                key = pending.pop(fut)
                exc = fut.exception()
                yield key, (exc if exc is not None else fut.result())
                submit()

    def close(self, cancel: bool = False) -> None:
        self.pool.shutdown(wait=True, cancel_futures=cancel)


class DaskCluster(Executor):
    """A Dask distributed cluster at ``address``, or a LocalCluster of ``jobs`` single-threaded workers."""

    def __init__(self, address: str | None, jobs: int) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise UserError("--executor dask needs Dask: pip install 'negsim[dask]' (or dask[distributed])") from None
        self.cluster = None
        try:
            if address:
                self.client = Client(address, timeout="20s")
            else:
                self.cluster = LocalCluster(
                    n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None
                )
                self.client = Client(self.cluster)
        except (OSError, TimeoutError) as exc:
            raise UserError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        info = self.client.scheduler_info()
        self.workers = max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))

    def run(self, tasks: Iterable[tuple[Any, Plan, int, int]]) -> Iterator[tuple[Any, Done | BaseException]]:
        from dask.distributed import as_completed

        queue = iter(tasks)
        keys: dict[Any, Any] = {}

        def submit() -> Any:
            task = next(queue, None)
            if task is None:
                return None
            key, plan, start, stop = task
            fut = self.client.submit(simulate_task, plan, start, stop, pure=False)
            keys[fut] = key
            return fut

        first = [f for f in (submit() for _ in range(2 * self.workers)) if f is not None]
        if not first:
            return
        seq = as_completed(first)
        for fut in seq:
            key = keys.pop(fut)
            if fut.status == "error":
                yield key, fut.exception()
            else:
                yield key, fut.result()
            fut.release()
            nxt = submit()
            if nxt is not None:
                seq.add(nxt)

    def close(self, cancel: bool = False) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(kind: str, jobs: int, address: str | None = None) -> Executor:
    if kind == "dask":
        return DaskCluster(address, jobs)
    if address:
        raise UserError("--address is for --executor dask")
    return InProcess() if jobs == 1 else LocalProcesses(jobs)
