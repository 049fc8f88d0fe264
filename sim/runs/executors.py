"""Where batches of replications run: in this process, in local worker processes, or on Dask.

One abstraction serves ``run``, ``--precision`` and ``sweep``. An executor is given the plans
once (local workers receive them when they start; Dask broadcasts them to every worker) and then
tasks that name a plan by key: ``(task key, plan key, start, stop)``, the replications
``start..stop-1`` of that plan. Replication *i* depends only on ``(seed, i)``, so the records are
the same bytes whatever the executor, the number of workers or the size of the batches. Dask is
an optional extra (``pip install 'negsim[dask]'``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing as mp
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Hashable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, NamedTuple

from sim.engine.plan import Plan
from sim.engine.records import Records
from sim.engine.simulate import simulate
from sim.errors import UserError
from sim.results.atomic import alive

POOL_MIN = 20_000
"""Fewer replications than this run in this process: they take less time than starting workers."""

Task = tuple[Any, Hashable, int, int]
"""(task key, plan key, start, stop). Keys are any hashable values; typed Any so that a caller's
dict[int, Plan] and its tuple task keys are accepted and unpacked as they are (Mapping is invariant in
its keys)."""
Plans = Mapping[Any, Plan]


class Done(NamedTuple):
    """A finished task: its records, and the seconds the worker spent simulating them."""

    records: Records
    seconds: float


Outcome = tuple[Any, "Done | BaseException"]


def default_jobs() -> int:
    """All the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def ignore_interrupts() -> None:
    """In a worker: leave Ctrl-C to the parent, which stops cleanly and says what was kept."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def start_forkserver() -> None:
    """Start multiprocessing's forkserver (and its resource tracker) with Ctrl-C blocked, if they are
    not running yet. The signal mask is inherited through fork and exec, so neither the forkserver
    nor the workers it forks can ever be interrupted: a Ctrl-C while the forkserver was still
    importing its preload (pydantic, numpy: about a second) printed a KeyboardInterrupt traceback of
    its own beside negsim's one line. Ctrl-C is negsim's: it arrives here as soon as the mask is
    restored, and negsim stops its workers and says what it kept."""
    from multiprocessing import forkserver, resource_tracker

    resource_tracker.ensure_running()  # first: starting it unblocks SIGINT (it ignores Ctrl-C itself)
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - not POSIX
        forkserver.ensure_running()
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        forkserver.ensure_running()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


_PR_SET_PDEATHSIG = 1


def end_with_parent(parent: int) -> None:
    """In a worker process: end as soon as ``parent`` (the negsim process that started the pool) dies,
    even by SIGKILL, which gives it no chance to stop its workers. Without this they wait for work
    for ever, and keep the forkserver and the resource tracker alive with them.

    On Linux the kernel kills the worker when the process that forked it dies (``PR_SET_PDEATHSIG``);
    a forkserver's workers are forked by the forkserver, not by negsim, so a watchdog thread also
    waits for negsim itself to end (a pidfd where the system has one; elsewhere it polls, every
    half second, whether the parent is still there)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    threading.Thread(target=_watch, args=(parent, os.getppid()), name="negsim-watch-parent", daemon=True).start()


def _watch(parent: int, ppid: int) -> None:
    """Wait until ``parent`` has ended, then end this process at once."""
    try:
        fd = os.pidfd_open(parent)
    except ProcessLookupError:
        os._exit(1)  # it has ended already
    except (AttributeError, OSError):
        fd = None
    if fd is not None:
        select.select([fd], [], [])  # readable once the process has ended
        os._exit(1)
    while alive(parent) and os.getppid() == ppid:
        time.sleep(0.5)
    os._exit(1)


def worker_setup(parent: int) -> None:
    """The initializer of every pool's workers: Ctrl-C is the parent's, and they end with it."""
    ignore_interrupts()
    end_with_parent(parent)


def simulate_task(plan: Plan, start: int, stop: int) -> Done:
    """The unit of work: replications ``start..stop-1`` of one plan, timed."""
    t0 = time.perf_counter()
    rec = simulate(plan, start, stop)
    return Done(rec, time.perf_counter() - t0)


class Executor:
    """Runs tasks and yields ``(task key, Done or the exception)`` as they finish, a bounded
    number in flight (twice the workers), so a long sweep never queues everything at once."""

    workers: int = 1
    up: float = 0.0
    """Seconds the workers have been up (started to closed): the time they could have simulated."""

    @property
    def used(self) -> int:
        """Workers that have run tasks so far (local processes stay unstarted for small work)."""
        return self.workers

    @property
    def fewer(self) -> str | None:
        """Why fewer workers were used than there are (None when all were)."""
        return None

    def map(self, plans: Plans, tasks: Sequence[Task]) -> Iterator[Outcome]:
        raise NotImplementedError

    def close(self, cancel: bool = False) -> None:
        pass

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(cancel=exc[0] is not None)


class InProcess(Executor):
    """One job: no worker processes at all."""

    def map(self, plans: Plans, tasks: Sequence[Task]) -> Iterator[Outcome]:
        for key, plan_key, start, stop in tasks:
            try:
                yield key, simulate_task(plans[plan_key], start, stop)
            except Exception as exc:  # a failing sweep point is recorded, the others go on
                yield key, exc


_PLANS: Plans = {}
"""A local worker's plans, set once when it starts."""


def _init_worker(plans: Plans, parent: int) -> None:
    global _PLANS
    _PLANS = plans
    worker_setup(parent)


def _local_task(plan_key: Hashable, start: int, stop: int) -> Done:
    return simulate_task(_PLANS[plan_key], start, stop)


def _bounded(submit: Any, tasks: Sequence[Task], limit: int, wait_any: Any) -> Iterator[tuple[Hashable, Any]]:
    """Keep at most ``limit`` tasks in flight; yield (task key, future) as they finish."""
    queue = iter(tasks)
    pending: dict[Any, Hashable] = {}

    def more() -> None:
        task = next(queue, None)
        if task is not None:
            key, plan_key, start, stop = task
            pending[submit(plan_key, start, stop)] = key

    for _ in range(limit):
        more()
    while pending:
        for fut in wait_any(pending):
            yield pending.pop(fut), fut
            more()


class LocalProcesses(Executor):
    """A pool of local worker processes (forkserver on Linux, spawn elsewhere), started on first
    use and kept warm across calls with equal plans; each worker receives the plans once.
    Work smaller than :data:`POOL_MIN` replications runs in this process while no pool is up."""

    def __init__(self, jobs: int) -> None:
        self.workers = jobs
        self._pool: ProcessPoolExecutor | None = None
        self._plans: Plans | None = None
        self._started = False
        self._why = ""

    @property
    def used(self) -> int:
        return self.workers if self._started else 1

    @property
    def fewer(self) -> str | None:
        return None if self.used >= self.workers else self._why

    def _start(self, plans: Plans) -> ProcessPoolExecutor:
        if self._pool is not None and self._plans != plans:
            self.close()
        if self._pool is None:
            method = "forkserver" if sys.platform.startswith("linux") else "spawn"
            ctx = mp.get_context(method)
            if method == "forkserver":
                ctx.set_forkserver_preload(["sim.engine.simulate"])
                start_forkserver()
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=ctx, initializer=_init_worker, initargs=(plans, os.getpid())
            )
            self._plans = plans
            self._started = True
            self._since = time.perf_counter()
        return self._pool

    def map(self, plans: Plans, tasks: Sequence[Task]) -> Iterator[Outcome]:
        size = sum(stop - start for _, _, start, stop in tasks)
        if self.workers == 1 or len(tasks) == 1 or (self._pool is None and size < POOL_MIN):
            if not self._why:
                self._why = (
                    "the work was one batch, run in this process"
                    if len(tasks) == 1 and size >= POOL_MIN
                    else f"fewer than {POOL_MIN:,} replications take less time in this process than starting workers"
                )
            yield from InProcess().map(plans, tasks)
            return
        pool = self._start(plans)

        def wait_any(pending: dict[Future[Done], Hashable]) -> set[Future[Done]]:
            return wait(pending, return_when=FIRST_COMPLETED)[0]

        for key, fut in _bounded(lambda k, a, b: pool.submit(_local_task, k, a, b), tasks, 2 * self.workers, wait_any):
            exc = fut.exception()
            yield key, (exc if exc is not None else fut.result())

    def close(self, cancel: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=cancel)
            self.up += time.perf_counter() - self._since
            self._pool = None
            self._plans = None


def _dask_task(plans: Plans, plan_key: Hashable, start: int, stop: int) -> Done:
    return simulate_task(plans[plan_key], start, stop)


class DaskCluster(Executor):
    """A Dask distributed cluster at ``address``, or a LocalCluster of ``jobs`` single-threaded
    workers. The plans are broadcast to every worker once per call."""

    def __init__(self, address: str | None, jobs: int, patience: float = 60.0) -> None:
        self.patience = patience
        self.address = address or "a LocalCluster"
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise UserError("--executor dask needs Dask: pip install 'negsim[dask]' (or dask[distributed])") from None
        self.cluster = None
        if address:
            probe_scheduler(address, patience)
            try:
                self.client = Client(address, timeout=f"{patience}s")
            except Exception as exc:  # whatever the address answers, one line
                raise UserError(f"cannot reach the Dask scheduler at {address}: {_said(exc)}") from None
        else:
            # No dashboard, and the scheduler's own HTTP server on a free port: on its default, 8787,
            # a second cluster on the machine (another negsim) printed "Port 8787 is already in use".
            self.cluster = LocalCluster(
                n_workers=jobs,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                scheduler_kwargs={"dashboard_address": ":0"},
            )
            self.client = Client(self.cluster)
        info = self.client.scheduler_info()
        self.workers = max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))
        self._scattered: tuple[Plans, Any] | None = None

    def connected(self) -> int:
        """Workers connected to the scheduler now."""
        return len(self.client.scheduler_info().get("workers", {}))

    def map(self, plans: Plans, tasks: Sequence[Task]) -> Iterator[Outcome]:
        from dask.distributed import wait

        if self.connected() == 0:
            self._wait_for_workers()
        if self._scattered is None or self._scattered[0] != plans:
            self._scattered = (plans, self.client.scatter([dict(plans)], broadcast=True, hash=False)[0])
        shared = self._scattered[1]

        def submit(plan_key: Hashable, start: int, stop: int) -> Any:
            return self.client.submit(_dask_task, shared, plan_key, start, stop, pure=False)

        def wait_any(pending: dict[Any, Hashable]) -> list[Any]:
            while True:  # wait for a task, but not for ever: say so when every worker has gone
                try:
                    done, _ = wait(list(pending), timeout=2.0, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    done = set()
                if done:
                    return list(done)
                if self.connected() == 0:
                    self._wait_for_workers()

        for key, fut in _bounded(submit, tasks, 2 * self.workers, wait_any):
            outcome = fut.exception() if fut.status == "error" else fut.result()
            fut.release()
            yield key, outcome

    def _wait_for_workers(self) -> None:
        """No worker is connected: wait up to ``patience`` seconds for one, then give up, saying so."""
        deadline = time.monotonic() + self.patience
        while time.monotonic() < deadline:
            if self.connected():
                return
            time.sleep(min(1.0, self.patience))
        raise NoWorkers(
            f"no Dask worker has been connected to {self.address} for {self.patience:g} s (--worker-timeout); "
            "what was finished is kept (a sweep continues with --resume)"
        )

    def close(self, cancel: bool = False) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _said(exc: BaseException) -> str:
    """An exception as one short line: its kind, and its message if it has one."""
    text = " ".join(str(exc).split())[:160]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def probe_scheduler(address: str, timeout: float) -> None:
    """Check that a Dask scheduler answers at ``address`` within ``timeout`` seconds (--worker-timeout),
    before a Client is made: Dask's own connection waits without end for a server that accepts the
    connection and says nothing, and fails in many ways on one that answers something else, or on a
    tls:// address without a TLS configuration. Every failure is one line (exit 2)."""
    import asyncio

    from distributed import Security
    from distributed.comm import connect

    async def identify() -> object:
        comm = await connect(address, timeout=timeout, **security)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    security = Security().get_connection_args("client")
    if address.startswith("tls://") and security.get("ssl_context") is None:
        raise UserError(
            f"{address}: a tls:// scheduler needs Dask's TLS settings (the CA file, and the client's certificate "
            "and key, under distributed.comm.tls in the Dask configuration); none are set"
        )
    try:
        answer = asyncio.run(asyncio.wait_for(identify(), timeout))
    except TimeoutError:
        raise UserError(
            f"no answer from a Dask scheduler at {address} within {timeout:g} s (--worker-timeout)"
        ) from None
    except OSError as exc:
        raise UserError(f"cannot reach the Dask scheduler at {address}: {_said(exc)}") from None
    except Exception as exc:  # whatever else the address answers, one line
        raise UserError(f"{address}: answers, but not as a Dask scheduler does ({type(exc).__name__})") from None
    if not isinstance(answer, dict) or answer.get("type") != "Scheduler":
        raise UserError(f"{address}: answers, but not as a Dask scheduler does")


class NoWorkers(UserError):
    """The Dask cluster has no worker left: the machine's problem, said in one line (exit 2)."""


def make_executor(
    kind: str = "local", jobs: int | None = None, address: str | None = None, patience: float = 60.0
) -> Executor:
    """The one pool: ``local`` processes (this process for one job or small work) or ``dask``
    (a cluster at ``address``, or a LocalCluster of ``jobs`` workers; ``patience`` seconds without
    any worker and it gives up)."""
    jobs = jobs or default_jobs()
    if kind == "dask":
        return DaskCluster(address, jobs, patience)
    if address:
        raise UserError("--address is for --executor dask")
    return LocalProcesses(jobs)


def in_order(outcomes: Iterator[Outcome], keys: Sequence[Hashable]) -> Iterator[Done]:
    """Finished tasks in the order of ``keys``, as soon as each one's predecessors are in;
    the first failure is raised."""
    done: dict[Hashable, Done] = {}
    nxt = 0
    for key, outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
        done[key] = outcome
        while nxt < len(keys) and keys[nxt] in done:
            yield done.pop(keys[nxt])
            nxt += 1
