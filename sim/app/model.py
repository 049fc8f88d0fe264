"""What the explorer computes, without any widget: variants of a scenario, their runs, and the
differences from a pinned baseline.

A variant is the scenario file with some of its numbers changed (``{path: value}``, the paths of
``negsim sweep --list-paths``). It is validated exactly as a file is (the validator's own
messages, by path) and nothing runs while any is wrong. Every variant runs with the file's seed
and replications, so replication *i* of a variant and of the baseline share their random streams
and the differences are paired (as ``negsim compare`` pairs runs). With an observed file, a
variant can instead be run given the history to its ``as_of`` (``negsim run --given``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.app.controls import Group, groups, is_distribution, listed_paths, node_at
from sim.app.workers import WarmPool
from sim.engine.history import History
from sim.engine.plan import compile_plan
from sim.engine.records import Records
from sim.errors import UserError
from sim.results.atomic import write_text
from sim.results.compare import scenario_diff
from sim.results.folder import scenario_yaml
from sim.results.observed import history, load_observed
from sim.runs import montecarlo
from sim.runs.executors import Executor, InProcess
from sim.scenario.checks import check_document, check_run_size, scenario_warnings
from sim.scenario.documents import Document
from sim.scenario.load import load_scenario
from sim.scenario.models import Scenario
from sim.scenario.paths import scenario_data, set_path

Overrides = Mapping[str, float | None]
"""Changed numbers by path; None at a judgement's path leaves its distribution in place."""

CACHED = 16
"""Runs kept in memory (the baseline, and the last few variants, so that going back is instant)."""


@dataclass(frozen=True)
class Variant:
    """A variant built and validated: its scenario, or the validator's messages by path."""

    overrides: dict[str, float]
    scenario: Scenario | None
    problems: dict[str, list[str]] = field(default_factory=dict)
    """The validator's messages, by the path of the field it names ('' for the scenario as a whole)."""
    notes: tuple[str, ...] = ()
    """What a valid variant says that can never happen (the warnings of ``negsim validate``)."""


@dataclass(frozen=True)
class Outcome:
    """A variant run: its records (given a history, the kept replications) and how long it took."""

    scenario: Scenario
    records: Records
    seconds: float
    given: montecarlo.Given | None = None
    problem: str | None = None
    """Why there is no forecast given the history (too few replications agree with it)."""


class Explorer:
    """One scenario file to explore: its controls, its variants and their runs (shared by every
    page that shows it; runs are cached and counted, and safe to start from several threads)."""

    def __init__(
        self,
        file: str | os.PathLike[str],
        observed: str | os.PathLike[str] | None = None,
        replications: int | None = None,
        seed: int | None = None,
        jobs: int = 1,
    ) -> None:
        self.file = Path(file)
        s = load_scenario(self.file)
        update = {k: v for k, v in (("replications", replications), ("seed", seed)) if v is not None}
        self.original = s.with_values(simulation={**s.simulation.model_dump(), **update}) if update else s
        self.data = scenario_data(self.original)
        self.groups: list[Group] = groups(self.original)
        self.paths = set(listed_paths(self.original))
        self.observed = None if observed is None else Path(observed)
        self.known: History | None = None
        if observed is not None:
            obs = load_observed(observed, self.original)
            if obs.as_of >= self.original.date(self.original.horizon):
                raise UserError(f"{observed}: as_of {obs.as_of.isoformat()} is at or after the horizon")
            self.known = history(obs, self.original)
        self.runs = 0
        """Simulations started so far (a bad value starts none)."""
        self._cache: OrderedDict[tuple[Any, ...], Outcome] = OrderedDict()
        self._lock = threading.Lock()
        self._pending: dict[tuple[Any, ...], Future[Outcome]] = {}
        self.executor: Executor = WarmPool(jobs) if jobs > 1 else InProcess()
        """Where runs go: worker processes kept warm (the page's runs use every core), or this process."""

    @property
    def as_of(self) -> dt.date | None:
        """The observed file's as_of, when there is one."""
        return None if self.known is None else self.original.date(self.known.as_of)

    # ------------------------------------------------------------------ variants

    def clean(self, overrides: Overrides) -> dict[str, float]:
        """Only the paths a control sets, and only where they differ from the file."""
        out = {}
        for path, value in overrides.items():
            if path not in self.paths or value is None:
                continue
            if node_at(self.data, path) != value:
                out[path] = float(value)
        return dict(sorted(out.items()))

    def variant(self, overrides: Overrides) -> Variant:
        """The file with these numbers changed, validated as a file is."""
        changes = self.clean(overrides)
        fixed = [p for p in changes if is_distribution(node_at(self.data, p))]
        data = self.data
        for path, value in changes.items():
            if path in fixed or any(path.startswith(f + ".") for f in fixed):
                continue  # a judgement fixed at a number loses its parameters
            data = set_path(data, path, value)
        for path in fixed:
            data = set_path(data, path, changes[path])
        doc = Document(str(self.file), data, {})
        s, found = check_document(doc)
        if s is None or found:
            problems: dict[str, list[str]] = {}
            for p in found:
                problems.setdefault(p.path, []).append(p.message)
            return Variant(changes, None, problems or {"": ["not a valid scenario"]})
        try:  # a valid scenario can still ask for far more work than intended (rounds a day apart)
            check_run_size(s, s.simulation.replications)
        except UserError as exc:
            return Variant(changes, None, {"": [str(exc).split("; pass --allow-large")[0]]})
        notes = tuple(f"{w.path}: {w.message}" if w.path else w.message for w in scenario_warnings(doc, s))
        return Variant(changes, s, notes=notes)

    # ------------------------------------------------------------------ runs

    def run(self, variant: Variant, given: bool = False) -> Outcome:
        """A valid variant's run (cached): every replication, or given the history, those that agree."""
        if variant.scenario is None:
            raise ValueError("an invalid variant does not run")
        key = (tuple(variant.overrides.items()), given and self.known is not None)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            pending = self._pending.get(key)
            if pending is None:  # this thread runs it; any other that asks meanwhile waits for it
                pending = self._pending[key] = Future()
                self.runs += 1
                mine = True
            else:
                mine = False
        if not mine:
            return pending.result()
        try:
            outcome = self._simulate(variant.scenario, given)
        except BaseException as exc:
            pending.set_exception(exc)
            raise
        finally:
            with self._lock:
                del self._pending[key]
        with self._lock:
            self._cache[key] = outcome
            while len(self._cache) > CACHED:
                self._cache.popitem(last=False)
        pending.set_result(outcome)
        return outcome

    def close(self) -> None:
        """Stop the worker processes."""
        self.executor.close(cancel=True)

    def warm(self) -> None:
        """Run the file's values ahead of the first page, which then finds them ready."""
        threading.Thread(target=self.run, args=(self.variant({}),), name="negsim-warm", daemon=True).start()

    def _simulate(self, s: Scenario, given: bool) -> Outcome:
        n = s.simulation.replications
        t0 = time.perf_counter()
        if not given or self.known is None:
            rec, _ = montecarlo.run(compile_plan(s), n, self.executor)
            return Outcome(s, rec, time.perf_counter() - t0)
        plan = compile_plan(s, census=self.known.as_of)
        rec, kept, _ = montecarlo.run_given(plan, n, self.known, self.executor)
        problem = None
        if kept.kept < montecarlo.MIN_KEPT:
            problem = (
                f"the history to {self.as_of} is too unlikely under these values: {kept.kept} of {kept.tried:,} "
                f"replications agree with it (at least {montecarlo.MIN_KEPT} are needed for a forecast)"
            )
        return Outcome(s, rec, time.perf_counter() - t0, kept, problem)

    # ------------------------------------------------------------------ saving

    def default_name(self) -> Path:
        """The first free ``<file>-variant-<k>.yaml`` beside the file."""
        k = 1
        while (path := self.file.with_name(f"{self.file.stem}-variant-{k}.yaml")).exists():
            k += 1
        return path

    def save(self, variant: Variant, path: str | os.PathLike[str]) -> Path:
        """Write a valid variant as a scenario file (never over an existing file): the scenario as
        run, named after the file, under a header that lists what changed from the original."""
        if variant.scenario is None:
            raise UserError("the values are not valid; nothing was saved")
        target = Path(path)
        if target.suffix.lower() not in (".yaml", ".yml"):
            raise UserError(f"{target}: a scenario variant is saved as .yaml")
        if target.exists():
            raise UserError(f"{target}: already exists; choose another name")
        if not target.parent.is_dir():
            raise UserError(f"{target.parent}: no such folder")
        s = variant.scenario
        name = re.sub(r"[^a-z0-9_-]+", "-", target.stem.lower()).strip("-_")
        if name and name[0].isalnum():
            s = s.with_values(name=name)
        write_text(target, variant_header(self.original, s, self.file) + scenario_yaml(s))
        return target


def variant_header(original: Scenario, variant: Scenario, file: Path) -> str:
    """YAML comments saying where a variant came from and each field that differs (the scenario
    diff of ``negsim compare``)."""
    lines = [
        f"# A variant of {file.name}, saved by negsim explore on {dt.date.today().isoformat()}.",
        "# What changed from the original (field: original -> variant):",
    ]
    lines += [f"#   {path}: {a} -> {b}".replace("\n", " ") for path, a, b in scenario_diff(original, variant)]
    return "\n".join(lines) + "\n"
