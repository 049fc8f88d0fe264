"""The one pool: every executor gives the same records for the same tasks."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sim.engine.plan import compile_plan
from sim.engine.simulate import simulate
from sim.runs import executors
from sim.runs.executors import Done, InProcess, LocalProcesses, in_order, make_executor
from tests.helpers import SCENARIOS, make

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


@pytest.fixture
def impostor() -> Iterator[Callable[[str], str]]:
    """Local TCP servers that are not Dask schedulers: one that accepts and never answers, one that writes
    junk; ``impostor(kind)`` starts one and gives its port. Closed after the test."""
    import socket
    import threading

    servers: list[socket.socket] = []

    def start(kind: str) -> str:
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        servers.append(server)

        def serve() -> None:
            kept = []
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                kept.append(conn)  # a silent server keeps the connection open and says nothing
                if kind == "junk":
                    with contextlib.suppress(OSError):
                        conn.sendall(b"HTTP/1.1 200 OK\r\n\r\n" + b"\x00\xffnot dask" * 500)

        threading.Thread(target=serve, daemon=True).start()
        return str(server.getsockname()[1])

    yield start
    for server in servers:
        server.close()


def _bounded(call: Callable[[], object]) -> BaseException | None:
    """Run ``call`` in a thread; what it raised. The test fails, rather than hangs, if it never returns."""
    import threading

    raised: list[BaseException | None] = [None]

    def target() -> None:
        try:
            call()
        except BaseException as exc:  # handed back to the test
            raised[0] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(120)
    assert not thread.is_alive(), "still waiting for the scheduler: the connection is not bounded"
    return raised[0]


@pytest.mark.parametrize(
    ("scheme", "kind", "message"),
    [
        ("tcp", "silent", r"no answer from a Dask scheduler at tcp://127\.0\.0\.1:\d+ within 2 s \(--worker-timeout\)"),
        ("tcp", "junk", r"tcp://127\.0\.0\.1:\d+: answers, but not as a Dask scheduler does"),
        ("tls", "silent", r"tls://127\.0\.0\.1:\d+: a tls:// scheduler needs Dask's TLS settings"),
    ],
)
def test_an_address_that_is_not_a_scheduler_is_one_line_within_the_worker_timeout(
    impostor: Callable[[str], str], scheme: str, kind: str, message: str
) -> None:
    """A server that never answers, one that answers junk, a tls:// address without TLS settings: a UserError
    once --worker-timeout has passed at most, never a hang or another exception."""
    from sim.errors import UserError

    address = f"{scheme}://127.0.0.1:{impostor(kind)}"
    raised = _bounded(lambda: make_executor("dask", 1, address, patience=2.0))
    assert isinstance(raised, UserError), repr(raised)
    assert re.fullmatch(message + ".*", str(raised)), str(raised)


def test_the_command_line_says_so_in_one_line(
    impostor: Callable[[str], str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """negsim run --executor dask --address ... : exit 2 and one line; --worker-timeout without Dask is refused."""
    from sim.cli import main

    scenario = str(SCENARIOS / "istanbul-2025.yaml")
    out = ["--out", str(tmp_path / "out"), "--no-plots"]
    address = f"tcp://127.0.0.1:{impostor('junk')}"
    code = main(
        ["run", scenario, "-n", "50", "--executor", "dask", "--address", address, "--worker-timeout", "2", *out]
    )
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "answers, but not as a Dask scheduler does" in err
    for argv in (["run", scenario, "-n", "50"], ["sweep", scenario, "--set", "trust.weight=0,1", "-n", "50"]):
        assert main([*argv, "--worker-timeout", "5", *out]) == 2
        err = capsys.readouterr().err
        assert "--worker-timeout is for --executor dask" in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_real_scheduler_at_an_address_still_works() -> None:
    """The check before connecting lets a scheduler through: the same records as in this process."""
    from dask.distributed import LocalCluster

    reference = collect(InProcess())
    cluster = LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": ":0"},
    )
    with cluster, make_executor("dask", 1, cluster.scheduler_address, patience=30.0) as pool:
        got = collect(pool)
    assert all(got[k].equals(reference[k]) for k in reference)


@pytest.mark.slow
def test_a_local_cluster_starts_quietly_beside_another_on_the_machine() -> None:
    """With port 8787 (distributed's default for the scheduler's HTTP server) taken, as by another
    negsim's cluster, the local cluster starts without a warning (the suite makes warnings errors)."""
    import socket

    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            taken.bind(("", 8787))
            taken.listen()
        except OSError:
            pass  # already taken by something else: the same test
        reference = collect(InProcess())
        with make_executor("dask", 1) as pool:
            got = collect(pool)
        assert all(got[k].equals(reference[k]) for k in reference)  # type: ignore[attr-defined]
