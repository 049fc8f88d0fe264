"""The commands as functions: what ``negsim`` runs, and the notebook API.

This is the layer that composes: it reads scenarios, runs replications on an executor, writes
result folders, and adds the figures and reports of :mod:`sim.views` to them. The modules below it
compute and write data and never import presentation. In a notebook::

    import sim
    res = sim.run("scenarios/istanbul-2025.yaml", n=2000)   # Results, no files written
    res.summary                                            # pandas
    res.plot("agreement_curves")                           # a matplotlib Figure
    sim.load_results("results/base")                        # a run, sweep or comparison folder
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from sim.engine.plan import compile_plan
from sim.errors import UserError, plural
from sim.results import background, discovery, sobol, sweepfolder
from sim.results import compare as comparing
from sim.results import score as scoring
from sim.results.atomic import check_target, staged_folder, write_text
from sim.results.files import json_text, manifest_of, read_json, sha256_file, stamped_folder
from sim.results.folder import ParquetSink, RunResults, default_folder, load, manifest, write_run
from sim.results.observed import history, load_observed
from sim.runs import forecasting, montecarlo
from sim.runs.executors import Executor, default_jobs, make_executor
from sim.runs.sweep import SweepSpec
from sim.runs.sweeping import SweepOutcome, sweep
from sim.scenario.checks import check_run_size
from sim.scenario.documents import MAX_FILE_BYTES, load_document
from sim.scenario.load import TableSource, load_scenario, load_table
from sim.scenario.models import Scenario
from sim.scenario.null import null_scenario
from sim.scenario.table import LoadedTable
from sim.views.glyphs import figure_texts, surely_drawn

if TYPE_CHECKING:  # imported where used: run need not wait for scipy.optimize (a third of its imports)
    from sim.runs import calibration as calibrating

__all__ = [
    "BacktestOutcome",
    "CalibrationOutcome",
    "ComparisonResults",
    "DiscoverOutcome",
    "Discovery",
    "Results",
    "RunOutcome",
    "SweepResults",
    "backtest",
    "box_bounds",
    "calibrate",
    "compare",
    "discover",
    "explore",
    "load_results",
    "redraw",
    "run",
    "run_to_folder",
    "score",
    "sweep_to_folder",
]


# ---------------------------------------------------------------------- where the time goes


def _process_age() -> float:
    """Seconds since this process started (Linux; 0 elsewhere): the import time of a command."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


class Phases:
    """Marks the end of each phase of a command (``NEGSIM_PHASES=1`` prints them on stderr, for
    benchmarks/commands.py); silent otherwise."""

    def __init__(self) -> None:
        self.on = bool(os.environ.get("NEGSIM_PHASES"))
        self.last = time.perf_counter() - (_process_age() if self.on else 0.0)  # the first phase: imports

    def __call__(self, name: str) -> None:
        if self.on:
            now = time.perf_counter()
            print(f"phase {name} {now - self.last:.3f}", file=sys.stderr)
            self.last = now


phase = Phases()


# ---------------------------------------------------------------------- notebook objects


class Results(RunResults):
    """A run: pandas tables (``summary``, ``items``, ``constraints``, ``replications``), its
    figures as matplotlib Figures (``plot(name)``), and its report as HTML in Jupyter."""

    def plot(self, name: str = "agreement_curves") -> Any:
        """One of the run's figures (names: ``sim.views.plots.FIGURES``)."""
        from sim.views.plots import FIGURES

        if name not in FIGURES:
            raise UserError(f"no figure '{name}'; choose one of {', '.join(FIGURES)}")
        return FIGURES[name](self)

    def _repr_html_(self) -> str:
        """The report, with the figures saved in the run's folder (drawn afresh for a run in memory)."""
        from sim.views.report import run_body

        plots = self.folder / "plots" if self.folder is not None and (self.folder / "plots").is_dir() else None
        if plots is None:
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                draw_run(self, Path(tmp))
                return run_body(self, Path(tmp) / "plots")
        return run_body(self, plots)

    def __repr__(self) -> str:
        where = f" from {self.folder}" if self.folder else ""
        size = f"{plural(self.records.n, 'replication')}, {plural(len(self.scenario.items), 'item')}"
        return f"<negsim run {self.scenario.name}: {size}{where}>"

    def discover(
        self, item: str, by: str | None = None, negate: bool = False, box: int | None = None, **settings: Any
    ) -> Discovery:
        """Which judgements decide ``item`` (agreed by the horizon, or by ``by``; ``negate``: not
        agreed): PRIM over the replications' draws, as ``negsim discover`` finds it, writing nothing."""
        inputs = discovery.run_inputs(self, item, by, negate)
        return Discovery(discovery.find(inputs, box=box, **settings), inputs)

    @classmethod
    def of(cls, data: RunResults) -> Results:
        return cls(data.scenario, data.records, data.manifest, data.folder, data._summary)


class SweepResults(sweepfolder.SweepResults):
    """A sweep: pandas tables (``summary``, ``points``, ``items``), its figures, an HTML view."""

    def plot(self, metric: str | None = None) -> Any:
        """The sweep's figure for a metric (p_agreed, median_day, p_by:DATE), as a matplotlib Figure."""
        from sim.views.plots.sweep import figure_for

        horizon = sweepfolder.sweep_horizon(self.base, self.described["points"])
        return figure_for(self, sweepfolder.parse_metric(metric, self.base.calendar.start, horizon))[1]

    def _repr_html_(self) -> str:
        from sim.views.report import sweep_body

        return sweep_body(self, embed_plots=(self.folder / "plots").is_dir())

    def __repr__(self) -> str:
        points = len(self.described["points"])
        return f"<negsim sweep {self.base.name}: {self.design}, {plural(points, 'point')}, from {self.folder}>"

    def discover(
        self, item: str, by: str | None = None, negate: bool = False, box: int | None = None, **settings: Any
    ) -> Discovery:
        """Which swept values decide ``item``: PRIM over the sweep's points, as ``negsim discover``."""
        inputs = discovery.sweep_inputs(self, item, by, negate)
        return Discovery(discovery.find(inputs, box=box, **settings), inputs)

    @property
    def sobol(self) -> Any:
        """A sobol sweep's first and total indices (sobol.csv) as pandas, or None for another design."""
        import pandas as pd

        path = self.folder / "sobol.csv"
        return pd.read_csv(path) if path.is_file() else None

    @classmethod
    def of(cls, data: sweepfolder.SweepResults) -> SweepResults:
        return cls(data.folder, data.described, data.base, data.points_table, data.items_file, data.manifest)


class ComparisonResults:
    """A comparison folder read back: its tables, its figures, an HTML view."""

    def __init__(self, folder: Path) -> None:
        import pandas as pd

        self.folder = folder
        try:
            self.table = pd.read_csv(folder / "comparison.csv")
            diff = folder / "scenario_diff.csv"
            self.scenario_diff = pd.read_csv(diff) if diff.exists() else pd.DataFrame()
        except (ValueError, OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{folder}: not a readable comparison folder ({type(exc).__name__})") from None
        if not {"run", "item", "p_agreed"} <= set(self.table.columns):
            raise UserError(f"{folder / 'comparison.csv'}: not a comparison (columns differ)")
        for col in ("p_agreed", "ci_low", "ci_high"):  # read as untrusted input: numbers where numbers are
            if col not in self.table.columns:
                continue
            values = pd.to_numeric(self.table[col], errors="coerce")
            bad = (values.isna() | (values < 0) | (values > 1)).to_numpy()
            if bad.any():
                row = int(bad.argmax())
                raise UserError(
                    f"{folder / 'comparison.csv'}:{row + 2}: {col}: {str(self.table[col].iloc[row])[:40]!r} "
                    "is not a probability between 0 and 1"
                )

    @property
    def summary(self) -> Any:
        """P(agreed by horizon): one row per item, one column per run."""
        return self.table.pivot(index="item", columns="run", values="p_agreed")

    def plot(self, name: str = "compare_differences") -> Any:
        """A figure of the comparison, as saved in its folder."""
        import matplotlib.image as mpimg

        from sim.views.plots.style import subplots

        path = self.folder / "plots" / f"{name}.png"
        if not path.exists():
            raise UserError(f"{self.folder}: no figure '{name}'")
        fig, ax = subplots(width=10, height=6)
        ax.imshow(mpimg.imread(path))
        ax.set_axis_off()
        return fig

    def _repr_html_(self) -> str:
        return str(self.table.to_html(index=False)) + str(self.scenario_diff.to_html(index=False))


class Discovery:
    """A discovery (``negsim discover``, ``Results.discover``): the box in words (``words``), its
    bounds (``boxes``, pandas), the peeling trajectory (``trajectory``), the figure (``plot()``),
    the bounds per field path (``bounds()``), and in Jupyter the same page as report.html."""

    def __init__(self, data: dict[str, Any], inputs: discovery.Inputs | None = None, folder: Path | None = None):
        self.data = data
        self.inputs = inputs
        self.folder = folder

    @property
    def words(self) -> str:
        return str(self.data["words"])

    @property
    def boxes(self) -> Any:
        """The chosen box: one row per field it restricts (boxes.csv)."""
        import pandas as pd

        return pd.DataFrame(self.data["box"]["restrictions"])

    @property
    def trajectory(self) -> Any:
        import pandas as pd

        return pd.DataFrame([{k: v for k, v in t.items() if k != "bounds"} for t in self.data["trajectory"]])

    def bounds(self, box: int | None = None) -> dict[str, tuple[float, float]]:
        """The box's bounds per field path (``-inf``/``inf`` where open); ``box``: one of the trajectory's."""
        return discovery.box_bounds(self.data, box)

    def plot(self) -> Any:
        """The figure, as a matplotlib Figure (the scatter panel needs the points: not for a folder read back)."""
        from sim.views.plots.discovery import discovery_figure

        x = self.inputs.x if self.inputs is not None else None
        y = self.inputs.y if self.inputs is not None else None
        return discovery_figure(self.data, x, y)

    def __str__(self) -> str:
        from sim.views.text import discovery_text

        return discovery_text(self.data)

    def __repr__(self) -> str:
        return f"<negsim discovery: {self.data['item']}, {len(self.data['box']['restrictions'])} fields in the box>"

    def _repr_html_(self) -> str:
        from sim.views.report import discovery_body

        if self.folder is not None and (self.folder / "plots").is_dir():
            return discovery_body(self.data, self.folder / "plots")
        import tempfile

        from sim.views.plots.style import save

        with tempfile.TemporaryDirectory() as tmp:
            save(self.plot(), Path(tmp), "discovery")
            return discovery_body(self.data, Path(tmp))


def box_bounds(source: Discovery | dict[str, Any] | str | os.PathLike[str], box: int | None = None) -> dict[str, Any]:
    """The bounds of a discovery's chosen box (or of box ``box`` of its trajectory) per field path:
    ``{"constraints.aviation.lift.p": (0.079, inf)}``, for a page or figure that shades it. ``source``:
    a :class:`Discovery`, its data, or a discovery folder."""
    if isinstance(source, Discovery):
        return source.bounds(box)
    data = source if isinstance(source, dict) else discovery.read(source)
    return discovery.box_bounds(data, box)


def load_results(path: str | os.PathLike[str]) -> Results | SweepResults | ComparisonResults | Discovery:
    """Read a run, sweep, comparison or discovery folder."""
    folder = Path(path)
    if (folder / "discover.json").is_file():
        return Discovery(discovery.read(folder), None, folder)
    if (folder / "sweep.yaml").is_file():
        return SweepResults.of(sweepfolder.load_sweep(folder))
    if (folder / "comparison.csv").is_file():
        return ComparisonResults(folder)
    return Results.of(load(folder))


def _scenario(scenario: Scenario | str | os.PathLike[str]) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def with_run_settings(s: Scenario, replications: int | None = None, seed: int | None = None) -> Scenario:
    """The scenario with ``simulation.replications`` and ``seed`` replaced where given."""
    update = {k: v for k, v in (("replications", replications), ("seed", seed)) if v is not None}
    return s.with_values(simulation={**s.simulation.model_dump(), **update}) if update else s


def run(
    scenario: Scenario | str | os.PathLike[str],
    n: int | None = None,
    *,
    seed: int | None = None,
    jobs: int = 1,
    executor: str = "local",
    address: str | None = None,
) -> Results:
    """Run a scenario (a file or a :class:`Scenario`) and return its :class:`Results`, writing nothing."""
    s = with_run_settings(_scenario(scenario), n, seed)
    with make_executor(executor, jobs, address) as pool:
        rec, _ = montecarlo.run(compile_plan(s), s.simulation.replications, pool)
    return Results(s, rec)


# ---------------------------------------------------------------------- commands that write folders


@dataclass
class RunOutcome:
    """A run written to its folder."""

    results: Results
    folder: Path
    precision: montecarlo.Precision | None
    simulate_seconds: float
    workers: int
    given: montecarlo.Given | None = None
    fewer: str | None = None
    """Why fewer processes were used than asked (None when as many were)."""
    drawing: int | None = None
    """The process drawing the figures and report after this returned (``detach``), or None."""


def run_to_folder(
    scenario_file: str,
    *,
    replications: int | None = None,
    seed: int | None = None,
    null: bool = False,
    out: str | None = None,
    force: bool = False,
    executor: str = "local",
    jobs: int | None = None,
    address: str | None = None,
    patience: float = 60.0,
    precision: float | None = None,
    ceiling: int | None = None,
    plots: bool = True,
    svg: bool | None = None,
    max_bytes: int | None = None,
    allow_large: bool = False,
    argv: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
    status: Callable[[str], None] | None = None,
    given: str | None = None,
    table: TableSource = None,
    planned: Callable[[int], None] | None = None,
    detach: bool = False,
) -> RunOutcome:
    """``negsim run``: simulate, stream the records to a new folder, add the summary, manifest,
    figures and report, and rename the folder into place. With ``given`` (an observed file), only
    the replications whose history up to its ``as_of`` agrees with it are kept. With ``detach``,
    the figures and report are drawn by a detached process after this returns (where the system
    can fork; :mod:`sim.results.background`), and manifest.json says when they are complete."""
    s = load_scenario(scenario_file, max_bytes=max_bytes or MAX_FILE_BYTES, table=table)
    phase("validate")
    obs = None
    if given is not None:
        obs = load_observed(given, s, given=True)  # against the scenario as written, before any null model
        if obs.as_of >= s.date(s.horizon):
            raise UserError(f"{given}: as_of {obs.as_of.isoformat()} is at or after the horizon: nothing to forecast")
    if null:
        s = null_scenario(s)
    s = with_run_settings(s, replications, seed)
    known = None
    if obs is not None:
        known = history(obs, s)
        if null and known.saw_pause:  # the scenario as written can pause: load_observed said nothing
            raise UserError(
                f"{given}: talks.paused: the talks paused before as_of, but the null model never pauses them, so no "
                "replication of it agrees with this history; leave out --null, or the pause from a copy of the file"
            )
        check_given_size(s, scenario_file, replications, ceiling)
    asked_ceiling = ceiling
    ceiling = ceiling or montecarlo.MAX_PRECISION_REPLICATIONS
    largest = max(s.simulation.replications, ceiling) if precision or known else s.simulation.replications
    check_run_size(s, largest, allow_large=allow_large)
    target = Path(out) if out else default_folder(s)
    check_target(target, force, "run")  # before simulating, so that a mistake costs nothing
    detach = detach and plots and background.can_detach()
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.perf_counter()
    with (
        contextlib.ExitStack() as later,  # left last: after the folder is in place
        make_executor(executor, jobs, address, patience) as pool,
        staged_folder(target, force=force, kind="run") as tmp,
    ):
        sink = ParquetSink(s, tmp)  # the records go to disk batch by batch, as they come
        conditioned = None
        if known is None:
            rec, reached = montecarlo.run(
                compile_plan(s),
                s.simulation.replications,
                pool,
                precision=precision,
                ceiling=ceiling,
                progress=progress,
                sink=sink.write,
                planned=planned,
            )
        else:
            rec, conditioned, reached = montecarlo.run_given(
                compile_plan(s, census=known.as_of),
                s.simulation.replications,
                known,
                pool,
                precision=precision,
                ceiling=ceiling,
                progress=progress,
                sink=sink.write,
                planned=planned,
            )
            check_kept(conditioned, known, given or "", s, asked_ceiling)
        sink.close()
        wall = time.perf_counter() - t0
        phase("simulate")
        s = with_run_settings(s, rec.n)
        info = None
        if reached is not None:
            info = {
                "target_half_width": reached.target,
                "ceiling": reached.ceiling,
                "reached": reached.reached,
                "worst_half_width": round(reached.worst_half_width, 6),
            }
        workers, fewer = pool.used, pool.fewer  # small local runs do not start worker processes
        results = Results(s, rec)
        results.manifest = manifest(
            s,
            scenario_file=scenario_file,
            replications=rec.n,
            jobs=workers,
            executor=executor,
            started=started,
            wall_seconds=wall,
            argv=argv,
            precision=info,
        )
        if conditioned is not None and known is not None:
            results.manifest["given"] = given_manifest(conditioned, known, given or "", s, rec)
        drawer = None
        if detach:
            warn_missing_glyphs(s)  # here: the detached process has no terminal to say it on
            argv = [str(Path(__file__).resolve().parent.parent), str(target.absolute()), str(svg), str(jobs or 0)]
            drawer = later.enter_context(background.Detached(tmp, DRAW_LATER, argv))
            results.manifest.update(drawer.fields)
        else:
            results.manifest["figures"] = background.COMPLETE if plots else background.NONE
        if status:
            status("writing the summary and manifest")
        write_run(results, tmp, parquet=False)
        phase("write")
        if plots and not detach:
            if status:
                status("drawing the figures and the report")
            draw_run(results, tmp, svg=svg, jobs=jobs or default_jobs())
        if target.is_dir():  # the folder --force replaces: a drawing of its figures is cancelled, not raced
            later.enter_context(background.locked(target))
    results.folder = target
    return RunOutcome(results, target, reached, wall, workers, conditioned, fewer, drawer.pid if drawer else None)


def check_given_size(
    s: Scenario, scenario_file: str | os.PathLike[str], replications: int | None, ceiling: int | None
) -> None:
    """Refuse, before simulating, a --given run that asks for fewer replications than a forecast
    needs kept, or lets fewer be tried: the message names the command-line option (or the
    scenario's field) that asks for them, not the history."""
    least = montecarlo.MIN_KEPT
    wanted = s.simulation.replications
    if wanted < least:
        if replications is not None:
            where = f"-n {replications:,}"
        else:
            doc = load_document(scenario_file)
            where = f"{doc.problem(('simulation', 'replications'), str(wanted)).__str__()}"
        raise UserError(
            f"{where}: a forecast --given a history keeps at least {least} replications that agree with it; "
            f"give -n {least} or more"
        )
    if ceiling is not None and ceiling < wanted:
        raise UserError(
            f"--max-replications {ceiling:,}: fewer replications tried than the {wanted:,} to keep (-n), of which "
            "only those that agree with the history are kept: raise it well above -n, or leave it out (default "
            f"{montecarlo.MAX_PRECISION_REPLICATIONS:,})"
        )


def check_kept(
    conditioned: montecarlo.Given, known: Any, observed: str, s: Scenario, ceiling: int | None = None
) -> None:
    """Refuse a conditioned forecast of fewer than MIN_KEPT replications: that is noise, and the
    message says which conditions the scenario rarely meets, or, where the history is likely enough
    and only the ``--max-replications`` given stopped the tries, names that option."""
    if conditioned.kept >= montecarlo.MIN_KEPT:
        return
    tried = conditioned.tried
    rate = conditioned.kept / tried if tried else 0.0
    if ceiling is not None and tried >= ceiling and rate * montecarlo.MAX_PRECISION_REPLICATIONS >= montecarlo.MIN_KEPT:
        need = math.ceil(montecarlo.MIN_KEPT * max(1.0, conditioned.wanted / montecarlo.MIN_KEPT) / rate * 1.2)
        raise UserError(
            f"--max-replications {ceiling:,}: only {conditioned.kept} of the {tried:,} replications tried agree with "
            f"{observed} (acceptance {rate:.1%}), fewer than the {montecarlo.MIN_KEPT} a forecast needs: raise "
            f"--max-replications to about {need:,}, or leave it out"
        )
    worst = sorted(conditioned.conditions, key=lambda c: c[1])[:3]
    lines = [f"  {name}: met by {met / tried:.2%} of replications" for name, met in worst]
    if known.held is not None:
        spread = ", ".join(f"{k} in {c / tried:.0%}" for k, c in conditioned.held.items() if c / tried >= 0.005)
        lines.append(f"  rounds held by as_of in the scenario: {spread}")
    raise UserError(
        f"{observed}: the history as of {s.date(known.as_of).isoformat()} is too unlikely under {s.name}: "
        f"{conditioned.kept} of {plural(tried, 'replication')} agree with it (at least {montecarlo.MIN_KEPT} are "
        "needed for a forecast). Revisit the scenario: it gives little chance to what happened. "
        "The conditions met least often:\n" + "\n".join(lines)
    )


def regime_names(s: Scenario) -> tuple[str, ...]:
    """The regime's states in the order runs number them (none without a regime)."""
    regime = compile_plan(s).regime
    return () if regime is None else regime.names


def given_manifest(
    conditioned: montecarlo.Given, known: Any, observed: str, s: Scenario, kept: Any = None
) -> dict[str, Any]:
    """What ``--given`` kept, for manifest.json."""
    tried = conditioned.tried
    return {
        "observed_file": str(observed),
        "observed_sha256": sha256_file(Path(observed)),
        "as_of": s.date(known.as_of).isoformat(),
        "as_of_day": known.as_of,
        "tried": tried,
        "agreeing": conditioned.kept,
        "kept": min(conditioned.kept, conditioned.wanted),
        "acceptance": round(conditioned.acceptance, 6),
        "conditions": [{"condition": name, "met": round(met / tried, 6)} for name, met in conditioned.conditions],
        "rounds_held_by_as_of": {str(k): c for k, c in conditioned.held.items()},
        **(
            {
                "regime_prior": {names[k]: round(c / tried, 6) for k, c in conditioned.regimes.items()},
                "regime_at_as_of": {
                    name: round(float((kept.regime_at_census == k).mean()), 6) for k, name in enumerate(names)
                }
                if kept is not None and kept.n
                else {},
            }
            if (names := regime_names(s))
            else {}
        ),
    }


def warn_missing_glyphs(s: Scenario) -> None:
    """Warn of characters the figures cannot draw (fonts are read only for text beyond those DejaVu Sans has)."""
    texts = figure_texts(s)
    if not surely_drawn(texts):
        from sim.views.plots.style import say_missing_glyphs

        say_missing_glyphs(texts)


DRAW_LATER = "import sys; sys.path.insert(0, sys.argv[1]); from sim.api import draw_later; draw_later(sys.argv[2:])"
"""The program of the process that draws a run's figures after ``run`` returned (``python -c``)."""


def draw_later(argv: list[str]) -> None:
    """The process that draws a run's figures after ``run`` returned (:class:`background.Detached`):
    FOLDER SVG JOBS LOCK READ. It imports what drawing needs while the run finishes, and once the
    folder is in place draws its figures and report as ``negsim plot`` does."""
    import sim.views.plots
    import sim.views.report  # noqa: F401 - both imported while the command finishes

    folder, svg, jobs, lock, read = argv
    os.set_inheritable(int(lock), False)  # held until this process ends, by it alone
    shown = {"None": None, "True": True, "False": False}[svg]
    sys.exit(background.serve(int(read), Path(folder), lambda: redraw_run(Path(folder), shown, int(jobs) or None)))


def redraw_run(folder: Path, svg: bool | None = None, jobs: int | None = None) -> list[Path]:
    """A run folder's figures (``plots/``, built under a hidden name and renamed into place whole)
    and ``report.html`` drawn from its files, and its manifest saying they are complete. The caller
    holds the folder's lock."""
    for name in ("report.html", "manifest.json"):  # what a cancelled or killed drawing was writing
        for left in folder.glob(f".{name}.*.tmp"):
            left.unlink(missing_ok=True)
    results = load(folder)
    results.summary_data  # noqa: B018 - computed once here, not in each process that draws
    results.records.forget()  # type: ignore[attr-defined]  # each drawing reads its own columns
    from sim.views.plots import draw_all  # matplotlib's memory after the summary's, not beside it
    from sim.views.report import run_report

    said = "figures" in results.manifest
    if said:
        results.manifest = background.with_state(results.manifest, background.COMPLETE)
    with staged_folder(folder / "plots", force=True) as tmp:
        files = draw_all(results, tmp, svg=svg, jobs=jobs or default_jobs())
    write_text(folder / "report.html", run_report(results, folder))
    if said:
        background.set_state(folder, background.COMPLETE)
    return files


def draw_run(results: RunResults, folder: Path, svg: bool | None = None, jobs: int = 2) -> list[Path]:
    """A run folder's figures (``plots/``, drawn on ``jobs`` processes) and ``report.html``."""
    from sim.views.plots import draw_all
    from sim.views.report import run_report

    files = draw_all(results, folder / "plots", svg=svg, jobs=jobs)
    phase("plots")
    write_text(folder / "report.html", run_report(results, folder))
    phase("report")
    return files


def redraw(path: str | os.PathLike[str], metric: str | None = None, svg: bool | None = None) -> tuple[list[Path], Path]:
    """``negsim plot``: draw a run's or a sweep's figures and report again from its files (a run's
    figures being drawn after ``run`` returned are cancelled first: these replace them)."""
    folder = Path(path)
    target = folder / "plots"
    if (folder / "sweep.yaml").is_file():
        from sim.views.plots.sweep import draw_sweep as draw
        from sim.views.report import sweep_report

        sw = sweepfolder.load_sweep(folder)
        sweepfolder.parse_metric(
            metric, sw.base.calendar.start, sweepfolder.sweep_horizon(sw.base, sw.described["points"])
        )
        with staged_folder(target, force=True) as tmp:
            keep_figures(target, tmp)  # the figures of other metrics stay beside this one's
            files = draw(sw, tmp, metric, svg=svg) + draw_sobol(sw, tmp, svg)
        write_text(folder / "report.html", sweep_report(sw))
    else:
        with background.locked(folder):  # a drawing in progress is cancelled: these figures replace it
            files = redraw_run(folder, svg)
    return files, target


def keep_figures(plots: Path, into: Path) -> None:
    """Copy the figures in ``plots`` (PNG and SVG files, never links) into ``into``, where new ones are
    drawn over them: a sweep redrawn for one metric keeps the figures drawn before for others."""
    import shutil

    if not plots.is_dir() or plots.is_symlink():
        return
    for p in plots.iterdir():
        if p.suffix in (".png", ".svg") and p.is_file() and not p.is_symlink():
            shutil.copyfile(p, into / p.name)


def sweep_to_folder(
    spec: SweepSpec,
    out: str | None,
    pool: Executor,
    *,
    resume: bool = False,
    force: bool = False,
    plots: bool = True,
    svg: bool | None = None,
    argv: list[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SweepOutcome:
    """``negsim sweep``: run every point into the sweep folder, then its figures and report."""
    target = Path(out) if out else stamped_folder(Path("results") / spec.base.name, "sweep-")
    t0 = time.perf_counter()

    def finish(folder: Path, made: dict[str, Any]) -> None:
        sw = sweepfolder.load_sweep(folder)  # once: a large sweep's sweep.yaml takes seconds to read
        if spec.design == "sobol":
            write_sobol(sw, spec.metric)
        if not plots:
            return
        from sim.views.plots.sweep import draw_sweep as draw
        from sim.views.report import sweep_report

        phase("simulate+gather")
        draw(sw, folder / "plots", spec.metric, svg=svg)
        draw_sobol(sw, folder / "plots", svg)
        phase("plots")
        made["wall_seconds"] = round(time.perf_counter() - t0, 3)
        sw.manifest = made
        write_text(folder / "report.html", sweep_report(sw))

    return sweep(spec, target, pool, resume=resume, force=force, argv=argv, progress=progress, finish=finish)


def sobol_metrics(sw: sweepfolder.SweepResults, metric: str | None) -> list[sweepfolder.Metric]:
    """The metrics a sobol sweep's indices are computed for: P(agreed by horizon), and ``--metric
    p_by:DATE`` when given (a median date has no variance to share out)."""
    start = sw.base.calendar.start
    out = [sweepfolder.parse_metric(None, start)]
    chosen = sweepfolder.parse_metric(metric, start) if metric else None
    if chosen is not None and chosen.kind == "p_by":
        out.append(chosen)
    return out


def write_sobol(sw: sweepfolder.SweepResults, metric: str | None = None) -> list[dict[str, Any]]:
    """A sobol sweep's indices: ``sobol.csv`` and ``sobol.json`` (and ``sobol_p_by_DATE.*``) in its folder."""
    out = []
    for m in sobol_metrics(sw, metric):
        data = sobol.indices(sw, m)
        sobol.write_files(data, sw.folder, m)
        out.append(data)
    return out


def draw_sobol(sw: sweepfolder.SweepResults, plots: Path, svg: bool | None = None) -> list[Path]:
    """The figure of each ``sobol*.json`` of a sweep folder (none for other designs)."""
    from sim.views.plots.discovery import sobol_figure
    from sim.views.plots.style import save

    files: list[Path] = []
    for path in sorted(sw.folder.glob("sobol*.json")):
        data = read_json(path)
        files += save(
            sobol_figure(data, sw.base.title or sw.base.name), plots, path.stem.replace("sobol", "sobol_indices"), svg
        )
    return files


@dataclass
class DiscoverOutcome:
    """A discovery written to its folder."""

    discovery: Discovery
    folder: Path


def discover(
    source: str | os.PathLike[str],
    item: str,
    *,
    by: str | None = None,
    negate: bool = False,
    box: int | None = None,
    out: str | None = None,
    force: bool = False,
    plots: bool = True,
    svg: bool | None = None,
    resamples: int = discovery.prim.RESAMPLES,
    argv: list[str] | None = None,
) -> DiscoverOutcome:
    """``negsim discover``: PRIM over a run's judgement draws or a sweep's points, into a folder
    (``SOURCE/discover-ITEM...`` by default): discover.json, boxes.csv, trajectory.csv, the figure
    and report.html, written whole or not at all."""
    folder = Path(source)
    if (folder / "sweep.yaml").is_file():
        sw = sweepfolder.load_sweep(folder)
        inputs = discovery.sweep_inputs(sw, item, by, negate)
    elif (folder / "discover.json").is_file():
        raise UserError(f"{folder}: a discovery folder; give the run or sweep folder it was made from")
    else:
        inputs = discovery.run_inputs(load(folder), item, by, negate)
    target = Path(out) if out else discovery.default_folder(folder, item, by, negate)
    check_target(target, force, "discovery")  # before the work, so that a mistake costs nothing
    data = discovery.find(inputs, box=box, resamples=resamples)
    with staged_folder(target, force=force, kind="discovery") as tmp:
        discovery.write_files(data, tmp)
        write_text(tmp / "manifest.json", json_text(manifest_of("discovery", source=str(folder), command=argv)))
        if plots:
            from sim.views.plots.discovery import discovery_figure
            from sim.views.plots.style import save
            from sim.views.report import discovery_report

            save(discovery_figure(data, inputs.x, inputs.y), tmp / "plots", "discovery", svg)
            write_text(tmp / "report.html", discovery_report(data, tmp / "plots"))
    return DiscoverOutcome(Discovery(data, inputs, target), target)


def compare(
    specs: list[str],
    labels: list[str] | None = None,
    out: str | None = None,
    *,
    force: bool = False,
    plots: bool = True,
    svg: bool | None = None,
) -> tuple[comparing.Comparison, Path]:
    """``negsim compare``: runs (and sweep points) item by item, into a comparison folder."""
    comparison = comparing.compare(specs, labels)
    target = Path(out) if out else comparing.default_folder()

    def extra(tmp: Path) -> None:
        from sim.views.plots.compare import draw_comparison
        from sim.views.report import comparison_report

        draw_comparison(comparison, tmp / "plots", svg)
        write_text(tmp / "report.html", comparison_report(comparison, tmp))

    comparing.write(comparison, target, force=force, extra=extra if plots else None)
    return comparison, target


def score(
    runs: list[str],
    observed: list[str],
    out: str | None = None,
    *,
    force: bool = False,
    plots: bool = True,
    svg: bool | None = None,
    origins: str | None = None,
    replications: int | None = None,
    jobs: int | None = None,
    ceiling: int | None = None,
    status: Callable[[str], None] | None = None,
    executor: str = "local",
    address: str | None = None,
    patience: float = 60.0,
) -> tuple[scoring.Scored, Path]:
    """``negsim score``: runs' forecasts against what happened, into a score folder; with ``origins``
    (one run, one observed file), forecasts made on each of those dates given the history by then."""
    if origins is not None and (len(runs) != 1 or len(observed) != 1):
        raise UserError("--origins scores one run against one observed file")
    target = Path(out) if out else scoring.default_folder(runs)
    check_target(target, force, "score")  # before simulating the baselines, so that a mistake costs nothing
    with make_executor(executor, jobs, address, patience) as pool:
        if origins is not None:
            scored = forecasting.origins(
                runs[0], observed[0], origins, pool, replications=replications, ceiling=ceiling, status=status
            )
        else:
            scored = forecasting.score_runs(runs, observed, pool)

    def extra(tmp: Path) -> None:
        draw_scores(scored, tmp / "plots", svg)
        write_text(tmp / "report.html", score_report(scored, tmp / "plots"))

    scoring.write(scored, target, force=force, extra=extra if plots else None)
    return scored, target


def draw_scores(scored: scoring.Scored, plots: Path, svg: bool | None = None) -> None:
    """A score folder's figures: a reliability diagram, and a timeline per case (with ``--origins``,
    the forecast's path over the origins and the timeline of the first)."""
    from sim.views.plots.score import origins, reliability, timelines
    from sim.views.plots.style import save

    save(reliability(scored.cases), plots, "reliability", svg)
    if "origins" in scored.data:
        save(origins(scored.data["origins"], item_titles(scored)[0]), plots, "origins", svg)
        shown = scored.cases[:1]
    else:
        shown = scored.cases
    for case, name in zip(shown, scoring.timeline_names(shown), strict=True):
        save(timelines(case), plots, name, svg)


def item_titles(scored: scoring.Scored) -> list[dict[str, str]]:
    """Each scored case's items by title (its id where it has none), in the order of its runs."""
    return [{name: it.title or name for name, it in case.scenario.items.items()} for case in scored.cases]


def score_report(scored: scoring.Scored, plots: Path, title: str = "Forecasts against what happened") -> str:
    from sim.views.report import page, score_body

    return page(title, score_body(scored.data, plots, title, item_titles(scored)))


# ---------------------------------------------------------------------- backtests


@dataclass
class BacktestOutcome:
    """A backtest library scored: the cases, the folder, and which runs were made afresh."""

    scored: scoring.Scored
    folder: Path
    made: list[str]
    reused: list[str]
    skipped: list[str] = field(default_factory=list)


def backtest(
    library: str | os.PathLike[str],
    out: str | None = None,
    *,
    replications: int | None = None,
    jobs: int | None = None,
    plots: bool = True,
    svg: bool | None = None,
    status: Callable[[str], None] | None = None,
    table: str | os.PathLike[str] | None = None,
    force: bool = False,
    executor: str = "local",
    address: str | None = None,
    patience: float = 60.0,
    loo: bool = False,
) -> BacktestOutcome:
    """``negsim backtest DIR``: check every case, then run each (reusing the runs of the folder it
    replaces when made from the same files by this negsim), score each against its observed file
    beside the baselines, pool them, and write ``backtest.json``, the figures and ``report.html``:
    a new folder, renamed into place whole."""
    root = Path(library)
    chosen = None if table is None else load_table(table)
    lib = forecasting.read_library(root, chosen, replications)  # every case checked before anything is written
    fitted = library_table(root, chosen) if loo else None
    target = Path(out) if out else Path("results") / "backtest"
    check_target(target, force, "backtest")
    cache = target if target.is_dir() else None

    def run_case(case: forecasting.CaseFiles, folder: Path) -> None:
        run_to_folder(
            str(case.folder / "scenario.yaml"),
            replications=replications,
            out=str(folder),
            force=True,
            jobs=jobs,
            plots=False,
            table=chosen,
            executor=executor,
            address=address,
            patience=patience,
        )

    with staged_folder(target, force=force, kind="backtest") as tmp:
        write_text(
            tmp / "manifest.json",
            json_text(
                manifest_of(
                    "backtest",
                    library=str(root),
                    cases=[c.name for c in lib.cases],
                    skipped=lib.skipped,
                    table=None if chosen is None else chosen.provenance(),
                )
            ),
        )
        (tmp / "runs").mkdir()
        runs, made, reused = forecasting.library_runs(lib, tmp / "runs", cache and cache / "runs", run_case, status)
        with make_executor(executor, jobs, address, patience) as pool:
            left_out = None
            if fitted is not None:
                from sim.runs import calibration as calibrating

                left_out = calibrating.leave_one_case_out(
                    lib, fitted, pool, replications or calibrating.CALIBRATION_REPLICATIONS, status=status
                )
            scored, loo_cases = forecasting.score_library(
                lib, runs, pool, status, None if left_out is None else left_out.forecasts
            )
        if left_out is not None:
            scored.data["loo"] = loo_data(loo_cases, left_out, fitted)  # type: ignore[arg-type]
        if lib.skipped:
            scored.data["skipped"] = lib.skipped
        final = {str(tmp / "runs" / c.name): str(target / "runs" / c.name) for c in lib.cases}
        for entry in [*scored.data["runs"], *(scored.data.get("loo") or {}).get("runs", [])]:
            entry["run"] = final.get(entry["run"], entry["run"])  # where the run is once the folder is renamed
        write_text(tmp / "backtest.json", json_text(scored.data))
        if plots:
            if status:
                status("drawing the figures and the report")
            (tmp / "plots").mkdir()
            draw_scores(scored, tmp / "plots", svg)
            write_text(tmp / "report.html", score_report(scored, tmp / "plots", f"Backtests: {root}"))
    for case, res in zip(scored.cases, runs, strict=True):  # the runs now live in the renamed folder
        case.run = str(target / "runs" / Path(case.run).name)
        res.folder = target / "runs" / Path(case.run).name
    return BacktestOutcome(scored, target, made, reused, lib.skipped)


def library_table(root: Path, chosen: LoadedTable | None) -> LoadedTable:
    """The table a library is calibrated from: --table's, else the library's table.yaml."""
    if chosen is not None:
        return chosen
    if not (root / "table.yaml").is_file():
        raise UserError(f"{root}: no table.yaml to calibrate (give one with --table FILE)")
    return load_table(root / "table.yaml")


def loo_data(cases: list[scoring.Case], left_out: calibrating.LeftOut, table: LoadedTable) -> dict[str, Any]:
    """backtest.json's ``loo`` section: shaped like ``pooled``, with the cases weighed alike, the case
    whose removal moves the skill most, each case's scores, and the fits."""
    problem = left_out.problem
    return {
        **scoring.pooled_data(cases),
        "cases_alike": scoring.cases_alike(cases),
        "most_influential": scoring.most_influential(cases),
        "runs": [scoring.case_data(c) for c in cases],
        "table": table.provenance(),
        "fit": {
            "families": {f: round(float(v), 4) for f, v in zip(problem.families, left_out.theta[:-1], strict=True)},
            "case_effect_sd": round(left_out.fit.tau, 4),
            "effective_replications": {k: round(v, 1) for k, v in left_out.fit.ess.items()},
        },
        "left_out": {
            name: {
                "families": {f: round(float(v), 4) for f, v in zip(problem.families, theta[:-1], strict=True)},
                "case_effect_sd": round(float(np.exp(theta[-1])), 4),
            }
            for name, theta in left_out.thetas.items()
        },
        "method": "each case forecast from the table calibrated on the other cases (negsim calibrate's fit "
        "without it), scored as backtest scores it, beside the same baselines and the uncalibrated table",
    }


@dataclass
class CalibrationOutcome:
    """A library calibrated: the fit and where it was written."""

    calibrated: calibrating.Calibrated
    folder: Path
    table: dict[str, Any]


def calibrate(
    library: str | os.PathLike[str],
    out: str,
    *,
    replications: int | None = None,
    jobs: int | None = None,
    resamples: int | None = None,
    table: str | os.PathLike[str] | None = None,
    force: bool = False,
    executor: str = "local",
    address: str | None = None,
    patience: float = 60.0,
    status: Callable[[str], None] | None = None,
) -> CalibrationOutcome:
    """``negsim calibrate LIBRARY --out DIR``: fit the table's rows to the library (sim.results.calibration)
    and write ``table.yaml`` (the fitted table, with 90% intervals), ``calibration.json`` and ``report.html``
    (``resamples``: by default sim.runs.calibration.RESAMPLES)."""
    root = Path(library)
    chosen = None if table is None else load_table(table)
    lib = forecasting.read_library(root, chosen)
    base = library_table(root, chosen)
    target = Path(out)
    check_target(target, force, "calibration")
    from sim.runs import calibration as calibrating

    resamples = calibrating.RESAMPLES if resamples is None else resamples
    n = replications or calibrating.CALIBRATION_REPLICATIONS
    with make_executor(executor, jobs, address, patience) as pool:
        refs, sims = calibrating.converge(lib, base, pool, n, status=status)
    cal = calibrating.calibrate(refs, sims, resamples, jobs or default_jobs(), status)
    fitted = calibrating.fitted_table(base, cal, str(root), dt.date.today())
    data = {
        "library": str(root),
        "cases": [c.name for c in lib.cases],
        "table": base.provenance(),
        "replications": n,
        "resamples": resamples,
        "interval": 0.9,
        **cal.summary,
        "effective_replications": {k: round(v, 1) for k, v in cal.fit.ess.items()},
        "converged": cal.fit.converged,
        "method": {
            "model": "each beta figure's mean, in families (one log-odds correction each), and a normal case "
            "effect shared by a case's items; composite likelihood of each scored item's quarter of agreement "
            "(or none by as_of), simulated and reweighted by importance sampling; prior: the table's figures",
            "intervals": "90% percentile bootstrap over cases",
            "pull": "the figure's change when the case is left out of the fit",
        },
    }
    with staged_folder(target, force=force, kind="calibration") as tmp:
        text = yaml.safe_dump(fitted.model_dump(exclude_none=True), sort_keys=False, allow_unicode=True, width=100)
        write_text(tmp / "table.yaml", f"# Fitted by negsim calibrate from {base.file} and {root}\n{text}")
        write_text(tmp / "calibration.json", json_text(data))
        write_text(
            tmp / "manifest.json", json_text(manifest_of("calibration", library=str(root), table=base.provenance()))
        )
        from sim.views.report import calibration_report

        write_text(tmp / "report.html", calibration_report(data))
    return CalibrationOutcome(cal, target, data)


# ---------------------------------------------------------------------- the explorer


def explore(
    scenario_file: str | os.PathLike[str],
    observed: str | os.PathLike[str] | None = None,
    *,
    replications: int | None = None,
    seed: int | None = None,
    jobs: int = 1,
) -> Any:
    """``negsim explore`` in a notebook: the same live page, inline (needs the extra
    ``negsim[app]``). With ``observed``, a switch shows the forecast given its history; ``jobs``
    worker processes run each change (one, this process, is fastest at a few thousand replications)."""
    from sim.app import require

    require()
    from sim.app.model import Explorer
    from sim.app.serve import notebook

    return notebook(Explorer(scenario_file, observed, replications, seed, jobs=jobs))
