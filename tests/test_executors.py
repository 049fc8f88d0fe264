"""The one pool: every executor gives the same records for the same tasks."""

from __future__ import annotations

import pytest

from sim.engine.plan import compile_plan
from sim.engine.simulate import simulate
from sim.runs import executors
from sim.runs.executors import Done, InProcess, LocalProcesses, in_order, make_executor
from tests.helpers import make

PLANS = {"a": compile_plan(make(items={"x": {"p": 0.3}})), "b": compile_plan(make(items={"x": {"p": 0.9}}))}
TASKS = [(i, "a" if i % 2 else "b", 100 * i, 100 * i + 100) for i in range(6)]


def collect(executor: executors.Executor) -> dict[object, object]:
    out = {}
    for key, done in executor.map(PLANS, TASKS):
        assert isinstance(done, Done)
        out[key] = done.records
    return out


def test_in_process_runs_each_task_on_its_plan() -> None:
    """Task i runs replications 100i..100i+99 of the plan it names."""
    got = collect(InProcess())
    assert sorted(got) == list(range(6))
    for key, plan_key, start, stop in TASKS:
        assert got[key].equals(simulate(PLANS[plan_key], start, stop))


@pytest.mark.slow
def test_local_processes_give_the_same_records_and_stay_warm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker processes: the same records; the pool is reused for the same plans, restarted for others."""
    monkeypatch.setattr(executors, "POOL_MIN", 0)
    reference = collect(InProcess())
    with LocalProcesses(2) as pool:
        got = collect(pool)
        first = pool._pool
        assert all(got[k].equals(reference[k]) for k in reference)
        collect(pool)
        assert pool._pool is first and pool.used == 2
        list(pool.map({"a": PLANS["b"], "b": PLANS["a"]}, TASKS[:2]))
        assert pool._pool is not first


def test_small_work_does_not_start_workers() -> None:
    """Less than POOL_MIN replications run in this process: no pool, one job used."""
    with LocalProcesses(2) as pool:
        collect(pool)
        assert pool._pool is None and pool.used == 1


def test_a_failing_task_is_reported_not_raised() -> None:
    """A task that fails gives its exception; the others still run."""
    broken = {"a": PLANS["a"], "b": None}
    out = dict(InProcess().map(broken, TASKS))  # type: ignore[arg-type]
    assert isinstance(out[0], BaseException) and isinstance(out[1], Done)


def test_in_order_waits_for_predecessors_and_raises_failures() -> None:
    """Outcomes arriving out of order come out in key order; a failure is raised."""
    d = [Done(simulate(PLANS["a"], i, i + 1), 0.0) for i in range(3)]
    assert [x.records.start for x in in_order(iter([(2, d[2]), (0, d[0]), (1, d[1])]), [0, 1, 2])] == [0, 1, 2]
    with pytest.raises(ValueError, match="boom"):
        list(in_order(iter([(0, d[0]), (1, ValueError("boom"))]), [0, 1]))


def test_make_executor_checks_its_options() -> None:
    """--address belongs to Dask; local is the default."""
    from sim.errors import UserError

    with pytest.raises(UserError, match="--address is for --executor dask"):
        make_executor("local", 2, "tcp://x:1")
    assert isinstance(make_executor("local", 1), LocalProcesses)


@pytest.mark.slow
def test_dask_gives_the_same_records() -> None:
    """A Dask LocalCluster: the same records as in this process."""
    reference = collect(InProcess())
    with make_executor("dask", 2) as cluster:
        got = collect(cluster)
    assert all(got[k].equals(reference[k]) for k in reference)


@pytest.mark.slow
def test_dask_with_every_worker_gone_gives_up_and_says_so() -> None:
    """No worker left: after the patience given, one line saying so, not a wait for ever."""
    import time

    from sim.errors import UserError

    with make_executor("dask", 1, patience=3.0) as cluster:
        assert isinstance(cluster, executors.DaskCluster)
        collect(cluster)  # works while the worker is there
        cluster.cluster.scale(0)  # type: ignore[union-attr]
        deadline = time.monotonic() + 30
        while cluster.connected() and time.monotonic() < deadline:
            time.sleep(0.2)
        t0 = time.monotonic()
        with pytest.raises(UserError, match=r"no Dask worker has been connected .* for 3 s"):
            collect(cluster)
        assert time.monotonic() - t0 < 20
