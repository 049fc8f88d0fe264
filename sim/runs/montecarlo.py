"""Replications of one plan in batches, on any executor; ``--precision``.

Replication *i* depends only on ``(seed, i)`` (see :mod:`sim.engine.streams`), so the records are
the same bytes whatever the executor, the number of jobs or the size of the batches; batches only
amortise dispatch. ``--precision`` adds batches until every item's 95% interval is narrow enough.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from sim.engine.history import History
from sim.engine.plan import Plan
from sim.engine.records import Records
from sim.results.stats import Z95, wilson
from sim.runs.executors import Executor, LocalProcesses, default_jobs, in_order

BATCH = 4000
"""Largest batch: the batch engine is fastest at a few thousand replications per call (see
benchmarks/RESULTS.md); smaller runs are cut finer so that every worker gets a share."""
MIN_BATCH = 500
MAX_PRECISION_REPLICATIONS = 1_000_000
"""Default ceiling on replications when ``--precision`` keeps adding batches."""

Progress = Callable[[int], None]
"""Called with the replications just finished."""
Planned = Callable[[int], None]
"""Called with the replications planned so far, whenever that grows (``--precision`` and ``--given``
add batches as they go): what a progress bar counts towards."""
Sink = Callable[[Records], None]


def batch_size(n: int, jobs: int) -> int:
    """Replications per task: at most BATCH, and at least four tasks per worker when there is enough work."""
    return max(MIN_BATCH, min(BATCH, -(-n // (4 * jobs))))


def batches(start: int, stop: int, size: int = BATCH) -> list[tuple[int, int]]:
    return [(a, min(a + size, stop)) for a in range(start, stop, size)]


def replications(
    executor: Executor, plan: Plan, start: int, stop: int, progress: Progress | None = None, sink: Sink | None = None
) -> Records:
    """Replications ``start..stop-1`` of ``plan``; ``sink`` sees every batch in replication order."""
    out = []
    for records in replication_parts(executor, plan, start, stop, progress):
        if sink is not None:
            sink(records)
        out.append(records)
    return Records.concat(out)


def replication_parts(
    executor: Executor, plan: Plan, start: int, stop: int, progress: Progress | None = None
) -> Iterator[Records]:
    """Replications ``start..stop-1`` of ``plan``, task by task in replication order, each as soon
    as it and those before it are done: a caller that keeps a few of them holds no more."""
    plans = {0: plan}
    parts = batches(start, stop, batch_size(stop - start, executor.workers))
    tasks = [(i, 0, a, b) for i, (a, b) in enumerate(parts)]
    for done in in_order(_counted(executor.map(plans, tasks), progress), list(range(len(tasks)))):
        yield done.records


def _counted(outcomes, progress: Progress | None):  # type: ignore[no-untyped-def]
    for key, outcome in outcomes:
        if progress is not None and not isinstance(outcome, BaseException):
            progress(outcome.records.n)
        yield key, outcome


@dataclass(frozen=True)
class Precision:
    """The outcome of ``--precision``: target, ceiling, and whether the target was met."""

    target: float
    ceiling: int
    reached: bool
    worst_half_width: float


def half_width(rec: Records) -> float:
    """The widest side of any item's 95% Wilson interval on P(agreed by horizon)."""
    n = rec.n
    worst = 0.0
    for k in rec.item_agreed.sum(axis=0).tolist():
        p = k / n
        low, high = wilson(k, n)
        worst = max(worst, p - low, high - p)
    return float(worst)


def needed(rec: Records, target: float) -> int:
    """Replications the normal approximation says the worst item needs for a half-width of ``target``:
    ``z^2 p (1 - p) / target^2`` (with p(1 - p) at least 1/n)."""
    n = rec.n
    worst = max((k / n) * (1 - k / n) for k in rec.item_agreed.sum(axis=0).tolist())
    worst = max(worst, 1.0 / n)
    return math.ceil(Z95**2 * worst / target**2)


def run(
    plan: Plan,
    n: int,
    executor: Executor | None = None,
    *,
    jobs: int | None = None,
    precision: float | None = None,
    ceiling: int = MAX_PRECISION_REPLICATIONS,
    progress: Progress | None = None,
    sink: Sink | None = None,
    planned: Planned | None = None,
) -> tuple[Records, Precision | None]:
    """Run ``n`` replications; with ``precision``, keep adding batches up to ``ceiling``.

    The sequence of sizes depends only on the records so far, never on the executor, so the
    result is the same for any number of processes. ``sink`` sees every batch, in order, as it
    arrives (to stream the records to disk); ``planned`` the replications planned, first ``n``, then
    each new goal of ``precision``. Without an executor, local processes are used (``jobs``, default
    all cores) and closed at the end.
    """
    if executor is None:
        with LocalProcesses(jobs or default_jobs()) as local:
            return run(
                plan, n, local, precision=precision, ceiling=ceiling, progress=progress, sink=sink, planned=planned
            )
    if planned is not None:
        planned(n)
    rec = replications(executor, plan, 0, n, progress, sink)
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
        if planned is not None:
            planned(goal)
        parts.append(replications(executor, plan, total, goal, progress, sink))
        total = goal
        rec = Records.concat(parts)


# ---------------------------------------------------------------------- --given


MIN_KEPT = 100
"""Fewer kept replications than this is noise, not a forecast: ``--given`` refuses to write it."""


@dataclass(frozen=True)
class Given:
    """How ``--given`` went: replications tried and kept, and each condition's own pass rate."""

    tried: int
    kept: int  # agreeing replications among those tried (the run keeps the first ``wanted``)
    wanted: int
    conditions: list[tuple[str, int]]  # (condition, replications tried that met it)
    held: dict[int, int]  # rounds held by as_of -> replications tried (the scenario's own spread)
    regimes: dict[int, int] = field(default_factory=dict)  # the regime's state -> replications tried (the prior)

    @property
    def acceptance(self) -> float:
        return self.kept / self.tried if self.tried else 0.0


def run_given(
    plan: Plan,
    n: int,
    history: History,
    executor: Executor | None = None,
    *,
    jobs: int | None = None,
    precision: float | None = None,
    ceiling: int = MAX_PRECISION_REPLICATIONS,
    progress: Progress | None = None,
    sink: Sink | None = None,
    planned: Planned | None = None,
) -> tuple[Records, Given, Precision | None]:
    """The first ``n`` replications (in replication order) whose history up to ``history.as_of``
    agrees with ``history``, trying batches until there are ``n`` of them or ``ceiling``
    replications have been tried; with ``precision``, more until every item's interval among the
    kept is narrow enough. ``plan.census`` must be ``history.as_of`` (it counts the rounds).

    The batches tried depend only on the records so far, so the kept replications are the same
    bytes for any executor; ``sink`` sees them, in order, at the end.
    """
    if plan.census != history.as_of:
        raise ValueError("the plan's census day must be the history's as_of")
    if executor is None:
        with LocalProcesses(jobs or default_jobs()) as local:
            return run_given(
                plan,
                n,
                history,
                local,
                precision=precision,
                ceiling=ceiling,
                progress=progress,
                sink=sink,
                planned=planned,
            )
    kept: list[Records] = []
    met: dict[str, int] = {}
    held: dict[int, int] = {}
    regimes: dict[int, int] = {}
    tried = count = 0
    wanted = n
    reached = None
    while True:
        if count >= wanted:
            rec = Records.concat(kept).take(wanted)
            if precision is None:
                break
            width = half_width(rec)
            if width <= precision or tried >= ceiling:
                reached = Precision(precision, ceiling, bool(width <= precision), width)
                break
            wanted = max(needed(rec, precision), wanted + MIN_BATCH)
            continue
        if tried >= ceiling:
            break
        if tried == 0:
            goal = min(ceiling, wanted)  # first, as many as asked for (all of them, for an empty history)
        else:  # then as many as the acceptance so far says are needed, and a tenth more
            rate = count / tried if count else 1.0 / tried
            goal = tried + math.ceil((wanted - count) / rate * 1.1)
            goal = min(ceiling, max(tried + MIN_BATCH, math.ceil(goal / MIN_BATCH) * MIN_BATCH))
        if planned is not None:
            planned(goal)  # the replications tried so far and in this batch: what the bar counts
        for batch in replication_parts(executor, plan, tried, goal, progress):  # only the kept rows are held
            agree = np.ones(batch.n, bool)
            for name, rows in history.conditions(batch):
                met[name] = met.get(name, 0) + int(rows.sum())
                agree &= rows
            for k, c in zip(*np.unique(batch.held_by_census, return_counts=True), strict=True):
                held[int(k)] = held.get(int(k), 0) + int(c)
            if plan.regime is not None:
                for k, c in zip(*np.unique(batch.regime_start, return_counts=True), strict=True):
                    regimes[int(k)] = regimes.get(int(k), 0) + int(c)
            part = batch.select(agree)
            kept.append(part)
            count += part.n
        tried = goal
    if not kept:
        raise ValueError("no replication was tried")
    rec = Records.concat(kept).take(wanted)
    given = Given(tried, count, wanted, list(met.items()), dict(sorted(held.items())), dict(sorted(regimes.items())))
    if precision is not None and reached is None:
        reached = Precision(precision, ceiling, False, half_width(rec) if rec.n else 1.0)
    if sink is not None:
        for a in range(0, rec.n, BATCH):
            sink(rec.drop(a).take(BATCH))
    return rec, given, reached
