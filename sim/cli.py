"""The ``negsim`` command line: ``main(argv) -> exit code``.

Exit codes: 0 done; 2 bad input or usage (one clear message, no traceback); 1 a fault of
negsim (with a traceback to report); 130 interrupted. Heavy modules are imported inside the
commands, so ``negsim --help`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import traceback
import unicodedata
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from sim.errors import Interrupted, ScenarioWarning, UserError, plural

PROG = "negsim"

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"})
"""Unicode categories shown as escapes: controls, format characters (zero-width spaces and joiners,
bidi overrides, the byte-order mark), surrogates, private and unassigned code points, line and
paragraph separators, and spaces other than the plain one."""


def _escape(c: str) -> str:
    code = ord(c)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str) -> str:
    """Text safe and unambiguous on a terminal: control characters from a user's file (escape
    sequences, bells, bidi overrides) and invisible ones (a zero-width space in a name) are shown
    as escapes, never sent raw; newlines and tabs stay."""
    if text.isascii():
        return _CONTROL.sub(lambda m: _escape(m[0]), text)
    return "".join(c if c in "\n\t " or unicodedata.category(c) not in _INVISIBLE else _escape(c) for c in text)


def say(*parts: object, file: TextIO | None = None) -> None:
    """print(), with whatever came from a user's file made safe for the terminal."""
    print(printable(" ".join(str(p) for p in parts)), file=file or sys.stdout)


def _whole(low: int, high: int | None = None, what: str = "") -> Any:
    """An argparse type: a whole number in [low, high]."""

    def parse(text: str) -> int:
        try:
            value = int(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        if high is not None and not low <= value <= high:
            raise argparse.ArgumentTypeError(what or f"must be between {low} and {high}, not {value}")
        if value < low:
            raise argparse.ArgumentTypeError(
                f"must be at least {low}, not {value}" if low else f"must be 0 or more, not {value}"
            )
        return value

    return parse


_jobs = _whole(1, 1024, "must be between 1 and 1024")
_replications = _whole(1, 100_000_000, "must be between 1 and 100,000,000 (sim.scenario.models.MAX_REPLICATIONS)")
_samples = _whole(1, 100_000, "must be between 1 and 100,000 points")
_seed = _whole(0, 2**64 - 1, "must be between 0 and 2**64 - 1")
_index = _whole(0, 2**62 - 1, "must be between 0 and 2**62 - 1")


def _folder(text: str) -> str:
    """An argparse type: a folder to write; never empty."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must name a folder, not an empty string")
    return text


def _address(text: str) -> str:
    """An argparse type: a Dask scheduler address, tcp://HOST:PORT (or tls://)."""
    if not re.fullmatch(r"(tcp|tls)://[A-Za-z0-9_.\-\[\]:]+:[0-9]{1,5}", text) or int(text.rsplit(":", 1)[1]) > 65535:
        raise argparse.ArgumentTypeError(f"'{text[:60]}' is not a scheduler address such as tcp://HOST:8786")
    return text


def _seconds(text: str) -> float:
    """An argparse type: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text[:40]}' is not a number of seconds") from None
    if not 0 < value < 1e6:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds (and less than a million), not {text[:40]}")
    return value


PATIENCE = 60.0
"""Seconds --executor dask waits for its scheduler to answer, and for a worker, unless --worker-timeout says."""


def _patience(args: argparse.Namespace) -> float:
    """--worker-timeout, which only Dask has: refused with the local executor rather than ignored."""
    if args.worker_timeout is None:
        return PATIENCE
    if args.executor != "dask":
        raise UserError(
            "--worker-timeout is for --executor dask (how long to wait for its scheduler and workers); "
            "local processes need none"
        )
    return float(args.worker_timeout)


def _labels(text: str) -> list[str]:
    """An argparse type: run names, comma-separated, none of them empty."""
    labels = [x.strip() for x in text.split(",")]
    if not any(labels) or not all(labels):
        raise argparse.ArgumentTypeError("give a name for every run, comma-separated (such as base,eased)")
    return labels


def _precision(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not 0 < value < 0.5:
        raise argparse.ArgumentTypeError(f"must be between 0 and 0.5 (a half-width such as 0.01), not {text}")
    return value


def _max_bytes(args: argparse.Namespace) -> int:
    from sim.scenario.documents import MAX_FILE_BYTES

    return 1 << 40 if getattr(args, "allow_large", False) else MAX_FILE_BYTES


TABLE_HELP = (
    "the reference-class table the scenario's {row: R} citations are read from (default: the table the "
    "scenario names, or its backtest library's table.yaml)"
)


def _executor_options(p: argparse.ArgumentParser) -> None:
    """--executor, --address, --worker-timeout: where the simulations run."""
    p.add_argument("--executor", choices=["local", "dask"], default="local", help="local processes (default) or Dask")
    p.add_argument(
        "--address", metavar="tcp://HOST:8786", type=_address, help="a Dask scheduler (default: a LocalCluster)"
    )
    p.add_argument(
        "--worker-timeout",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="with --executor dask: give up after this long without an answer from the scheduler, or without "
        "any worker connected (default 60)",
    )


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, exit 2, like every other user error
        raise UserError(f"{self.prog}: {message} (see '{self.prog} --help')")


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Monte Carlo simulation of rounds of negotiation, from a scenario file.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    large = "read files over 1 MiB and run more than a billion agreement draws (both refused by default)"
    v = sub.add_parser("validate", help="check scenario files; every problem with file, line and field")
    v.add_argument("files", nargs="+", metavar="FILE")
    v.add_argument("--allow-large", action="store_true", help=large)
    v.add_argument("--table", metavar="FILE", help=TABLE_HELP)

    r = sub.add_parser("run", help="run a scenario's replications and write a result folder")
    r.add_argument("file", metavar="FILE")
    r.add_argument("-n", "--replications", type=_replications, help="replications (default: the scenario's)")
    r.add_argument("--seed", type=_seed, help="random seed (default: the scenario's)")
    r.add_argument("--jobs", type=_jobs, help="worker processes (default: all cores)")
    r.add_argument("--out", metavar="DIR", type=_folder, help="result folder (default: results/<name>/<time stamp>)")
    r.add_argument(
        "--precision",
        type=_precision,
        metavar="E",
        help="add replications until every item's 95%% interval on P(agreed by horizon) is at most E wide on each side",
    )
    r.add_argument(
        "--max-replications",
        type=_replications,
        metavar="N",
        default=None,
        help="ceiling on replications tried, for --precision and --given (default: 1,000,000)",
    )
    r.add_argument(
        "--given",
        metavar="OBSERVED",
        help="keep only the replications whose history up to the observed file's as_of agrees with it "
        "(items agreed or not, constraints lifted or not, breakdown, rounds held): a forecast given what "
        "happened; -n counts the kept replications",
    )
    r.add_argument("--executor", choices=["local", "dask"], default="local", help="local processes (default) or Dask")
    r.add_argument(
        "--address", metavar="tcp://HOST:8786", type=_address, help="a Dask scheduler (default: a LocalCluster)"
    )
    r.add_argument(
        "--worker-timeout",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="with --executor dask: give up after this long without an answer from the scheduler, or without "
        "any worker connected (default 60)",
    )
    r.add_argument("--no-plots", action="store_true", help="skip the figures")
    r.add_argument(
        "--wait",
        action="store_true",
        help="draw the figures and report.html before returning (default: drawn in the background after the "
        'command returns, manifest.json saying "figures": "complete" when they are; NEGSIM_WAIT=1 waits too)',
    )
    r.add_argument(
        "--svg",
        action="store_true",
        default=None,
        help="write SVG beside every PNG (default: NEGSIM_SVG=1 in the environment, else PNG only)",
    )
    r.add_argument("--force", action="store_true", help="replace an existing result folder")
    r.add_argument("--quiet", action="store_true", help="print only where the results went")
    r.add_argument("--allow-large", action="store_true", help=large)
    r.add_argument("--table", metavar="FILE", help=TABLE_HELP)
    r.add_argument(
        "--null",
        action="store_true",
        help="run the scenario's null model: each item its own constant chance in every scheduled "
        "round; no constraints, trust or events",
    )

    t = sub.add_parser("trace", help="tell one replication as a dated timeline")
    t.add_argument("file", metavar="FILE")
    t.add_argument("--replication", type=_index, default=0, metavar="I", help="which replication (default 0)")
    t.add_argument("--seed", type=_seed, help="random seed (default: the scenario's)")
    t.add_argument("--allow-large", action="store_true", help=large)
    t.add_argument("--table", metavar="FILE", help=TABLE_HELP)

    pl = sub.add_parser("plot", help="draw the figures again from a result or sweep folder")
    pl.add_argument("folder", metavar="RESULT_DIR")
    pl.add_argument("--metric", help="for a sweep: p_agreed (default), median_day, or p_by:YYYY-MM-DD")
    pl.add_argument(
        "--svg",
        action="store_true",
        default=None,
        help="write SVG beside every PNG (default: NEGSIM_SVG=1 in the environment, else PNG only)",
    )

    w = sub.add_parser("sweep", help="run a scenario over a range of parameter values")
    w.add_argument("file", metavar="FILE")
    w.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="PATH=VALUES",
        help="a dotted path to a number and its values: 0.1,0.2,0.4 or FROM:TO:POINTS (repeatable)",
    )
    w.add_argument("--sweep", metavar="STUDY", help="a sweep file (YAML) with parameters, design, samples")
    w.add_argument(
        "--design",
        choices=["grid", "lhs", "oat", "sobol"],
        help="grid (default), lhs, oat, or sobol (variance shares: sobol.csv)",
    )
    w.add_argument(
        "--samples",
        type=_samples,
        metavar="K",
        help="points of a Latin hypercube (--design lhs), or the base sample size of a sobol design "
        "(K x (parameters + 3) points)",
    )
    w.add_argument("-n", "--replications", type=_replications, help="replications per point")
    w.add_argument("--seed", type=_seed)
    w.add_argument("--jobs", type=_jobs, help="local worker processes, or LocalCluster workers")
    w.add_argument("--executor", choices=["local", "dask"], default="local")
    w.add_argument(
        "--address", metavar="tcp://HOST:8786", type=_address, help="a Dask scheduler (default: a LocalCluster)"
    )
    w.add_argument(
        "--worker-timeout",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="with --executor dask: give up after this long without an answer from the scheduler, or without "
        "any worker connected (default 60)",
    )
    w.add_argument(
        "--out", metavar="DIR", type=_folder, help="sweep folder (default: results/<name>/sweep-<time stamp>)"
    )
    w.add_argument("--resume", action="store_true", help="continue an interrupted sweep in --out DIR")
    w.add_argument("--force", action="store_true", help="replace an existing folder")
    w.add_argument("--metric", help="also plot: median_day, or p_by:YYYY-MM-DD")
    w.add_argument("--no-plots", action="store_true")
    w.add_argument(
        "--svg",
        action="store_true",
        default=None,
        help="write SVG beside every PNG (default: NEGSIM_SVG=1 in the environment, else PNG only)",
    )
    w.add_argument("--list-paths", action="store_true", help="list every number a sweep can set, with its value")
    w.add_argument("--quiet", action="store_true")
    w.add_argument("--allow-large", action="store_true", help=large)
    w.add_argument("--table", metavar="FILE", help=TABLE_HELP)

    sc = sub.add_parser(
        "score", help="score runs' forecasts against what happened, beside baselines, with 95%% intervals"
    )
    sc.add_argument("folders", nargs="*", metavar="RESULT_DIR")
    sc.add_argument(
        "--observed",
        nargs="+",
        required=True,
        metavar="FILE",
        help="what happened (one file for all runs, or one per run, in order)",
    )
    sc.add_argument("--out", metavar="DIR", type=_folder, help="score folder (default: RESULT_DIR/score)")
    sc.add_argument("--force", action="store_true", help="replace an existing score folder")
    sc.add_argument(
        "--svg",
        action="store_true",
        default=None,
        help="write SVG beside every PNG (default: NEGSIM_SVG=1 in the environment, else PNG only)",
    )
    sc.add_argument("--no-plots", action="store_true")
    sc.add_argument(
        "--origins",
        metavar="WHEN",
        help="forecasts made on each of these dates, each given the history by then, scored against what "
        "followed: 'quarterly', 'monthly' (from the start, every quarter or month end before as_of) or "
        "dates separated by commas (one run, one observed file)",
    )
    sc.add_argument(
        "-n", "--replications", type=_replications, help="with --origins: replications kept per origin (default 2,000)"
    )
    sc.add_argument("--jobs", type=_jobs, help="with --origins: worker processes (default: all cores)")
    sc.add_argument(
        "--max-replications",
        type=_replications,
        metavar="N",
        help="with --origins: ceiling on replications tried per origin (default: 1,000,000)",
    )
    _executor_options(sc)

    bt = sub.add_parser(
        "backtest",
        help="run and score every case of a backtest library (scenario.yaml + observed.yaml per folder), pooled",
    )
    bt.add_argument("library", metavar="DIR")
    bt.add_argument("-n", "--replications", type=_replications, help="replications per case (default: each scenario's)")
    bt.add_argument("--jobs", type=_jobs, help="worker processes (default: all cores)")
    bt.add_argument(
        "--out", metavar="DIR", type=_folder, help="backtest folder (default: results/backtest); runs are kept in it"
    )
    bt.add_argument("--no-plots", action="store_true", help="skip the figures and the report")
    bt.add_argument(
        "--table", metavar="FILE", help="run every case with this reference-class table instead of the library's"
    )
    bt.add_argument(
        "--svg",
        action="store_true",
        default=None,
        help="write SVG beside every PNG (default: NEGSIM_SVG=1 in the environment, else PNG only)",
    )
    bt.add_argument(
        "--force", action="store_true", help="replace an existing backtest folder (its unchanged runs are reused)"
    )
    bt.add_argument(
        "--loo",
        action="store_true",
        help="also forecast each case from the table calibrated without it (leave one case out), and pool those",
    )
    _executor_options(bt)

    ca = sub.add_parser("calibrate", help="fit the reference-class table's figures to a backtest library")
    ca.add_argument("library", metavar="LIBRARY")
    ca.add_argument(
        "--out",
        metavar="DIR",
        type=_folder,
        required=True,
        help="where table.yaml, calibration.json and report.html go",
    )
    ca.add_argument(
        "-n", "--replications", type=_replications, help="replications of each case's simulation (default 8,000)"
    )
    ca.add_argument("--jobs", type=_jobs, help="worker processes (default: all cores)")
    ca.add_argument(
        "--resamples",
        type=_whole(10, 10_000, "must be between 10 and 10,000"),
        default=None,
        help="bootstrap resamples over cases (default 200)",
    )
    ca.add_argument("--table", metavar="FILE", help="the table to calibrate (default: the library's table.yaml)")
    ca.add_argument("--force", action="store_true", help="replace an existing calibration folder")
    _executor_options(ca)

    tb = sub.add_parser("table", help="print a reference-class table file as Markdown (the README's copy is this)")
    tb.add_argument("file", metavar="FILE")

    sm = sub.add_parser("schema", help="print the JSON Schema of scenario, study or observed files (for editors)")
    sm.add_argument("kind", nargs="?", default="scenario", choices=["scenario", "study", "observed"])

    dv = sub.add_parser(
        "discover", help="which judgements decide an item: PRIM boxes over a run's judgement draws or a sweep's points"
    )
    dv.add_argument("folder", metavar="RESULT_DIR|SWEEP_DIR")
    dv.add_argument("--item", required=True, help="the item whose agreement the box should hold")
    dv.add_argument("--by", metavar="DATE", help="agreed by this date (default: by the horizon)")
    dv.add_argument("--not", dest="negate", action="store_true", help="the box where the item is NOT agreed")
    dv.add_argument(
        "--box",
        type=_whole(0, 100_000, "must be a box of the peeling trajectory (0, 1, 2, ...)"),
        metavar="K",
        help="take box K of the peeling trajectory (default: the one that separates best)",
    )
    dv.add_argument(
        "--resamples",
        type=_whole(0, 10_000, "must be between 0 and 10,000"),
        default=None,
        metavar="R",
        help="bootstrap resamples for the bounds' stability (default 50)",
    )
    dv.add_argument(
        "--out", metavar="DIR", type=_folder, help="discovery folder (default: RESULT_DIR/discover-ITEM...)"
    )
    dv.add_argument("--force", action="store_true", help="replace an existing discovery folder")
    dv.add_argument("--no-plots", action="store_true", help="files only (no figure, no report.html)")
    dv.add_argument(
        "--svg",
        action="store_true",
        default=None,
        help="write SVG beside every PNG (default: NEGSIM_SVG=1 in the environment, else PNG only)",
    )

    c = sub.add_parser("compare", help="compare runs item by item (and points of sweeps: SWEEP_DIR:POINT)")
    c.add_argument("folders", nargs="+", metavar="RESULT_DIR")
    c.add_argument("--labels", type=_labels, help="names for the runs, comma-separated, in order")
    c.add_argument(
        "--out", metavar="DIR", type=_folder, help="comparison folder (default: results/comparisons/<time stamp>)"
    )
    c.add_argument("--force", action="store_true", help="replace an existing folder")
    c.add_argument(
        "--svg",
        action="store_true",
        default=None,
        help="write SVG beside every PNG (default: NEGSIM_SVG=1 in the environment, else PNG only)",
    )
    c.add_argument("--no-plots", action="store_true", help="tables only (no figures, no report.html)")

    ex = sub.add_parser("explore", help="a live what-if page on 127.0.0.1 (needs the extra: negsim[app])")
    ex.add_argument("file", metavar="FILE")
    ex.add_argument("--observed", metavar="OBS", help="an observed file: shade its history and offer --given")
    ex.add_argument("--port", type=_whole(1, 65535), help="port on 127.0.0.1 (default 5006, or a free one)")
    ex.add_argument("--no-browser", action="store_true", help="do not open a browser; print the address only")
    ex.add_argument("-n", "--replications", type=_replications, help="replications per run (default: the file's)")
    ex.add_argument("--seed", type=_seed, help="seed (default: the file's)")
    ex.add_argument(
        "--jobs",
        type=_jobs,
        default=1,
        help="worker processes for the runs (default 1: this process, fastest at 5,000)",
    )
    return p


# ---------------------------------------------------------------------- commands


def cmd_validate(args: argparse.Namespace) -> int:
    from sim.scenario.checks import scenario_advice, scenario_warnings
    from sim.scenario.documents import load_document
    from sim.scenario.load import check_file

    bad = 0
    for name in args.files:
        try:
            doc = load_document(name, max_bytes=_max_bytes(args))
            kind = _file_kind(doc.data)
            if kind != "scenario":
                say(f"{name}: ok ({_check_other(name, kind, _max_bytes(args))})")
                continue
            doc, scenario, problems = check_file(name, max_bytes=_max_bytes(args), table=args.table)
        except UserError as exc:
            say(exc, file=sys.stderr)
            bad += 1
            continue
        if problems:
            bad += 1
            for problem in problems:
                say(problem, file=sys.stderr)
        else:
            assert scenario is not None
            for warning in scenario_warnings(doc, scenario) + scenario_advice(doc, scenario):
                say(warning, file=sys.stderr)
            say(
                f"{name}: ok ({plural(len(scenario.items), 'item')}, "
                f"{plural(len(scenario.constraints), 'constraint')}, {plural(len(scenario.events), 'event')})"
            )
    return 2 if bad else 0


def _file_kind(data: object) -> str:
    """What a file is, by its fields: a study (``parameters``), an observed file (``as_of``) or a scenario."""
    if isinstance(data, dict) and "parameters" in data and "items" not in data:
        return "study"
    if isinstance(data, dict) and "rows" in data and "items" not in data:
        return "table"
    if isinstance(data, dict) and "as_of" in data and "items" in data and "calendar" not in data:
        return "observed"
    return "scenario"


def _check_other(name: str, kind: str, max_bytes: int) -> str:
    """Check a study or observed file on its own (its names are checked against a scenario when used)."""
    from sim.results.observed import load_observed_alone
    from sim.runs.sweep import load_sweep_file

    if kind == "study":
        study, _ = load_sweep_file(name, max_bytes)
        return f"a sweep file: {plural(len(study.parameters), 'parameter')}, design {study.design}"
    if kind == "table":
        from sim.scenario.load import load_table

        t = load_table(name).table
        return f"a reference-class table: {t.name} version {t.version}, {plural(len(t.rows), 'row')}"
    observed = load_observed_alone(name, max_bytes)
    return f"an observed file as of {observed.as_of.isoformat()}: {plural(len(observed.items), 'item')}"


class _Status:
    """One status line on a terminal after the progress bar (what is being written or drawn);
    nothing when stderr is piped."""

    shown = False

    def __call__(self, text: str) -> None:
        if sys.stderr.isatty():
            sys.stderr.write(f"\r\x1b[K{PROG}: {text}...")
            sys.stderr.flush()
            _Status.shown = True

    @staticmethod
    def clear() -> None:
        if _Status.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            _Status.shown = False


class _Bar:
    """A progress bar on a terminal; silent when stderr is piped. Its total is the work planned so
    far (:meth:`plan`), which ``--precision`` and ``--given`` raise as they add batches."""

    def __init__(self, total: int, unit: str = "rep") -> None:
        self.bar = None
        if sys.stderr.isatty():
            import tqdm

            self.bar = tqdm.tqdm(total=total, unit=unit, unit_scale=True, file=sys.stderr, leave=False)

    def plan(self, total: int) -> None:
        """The work planned so far: what the bar counts towards."""
        if self.bar is not None and total != self.bar.total:
            self.bar.total = max(total, self.bar.n)
            self.bar.refresh()

    def __call__(self, n: int) -> None:
        if self.bar is not None:
            if self.bar.n + n > (self.bar.total or 0):
                self.bar.total = self.bar.n + n
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def cmd_run(args: argparse.Namespace) -> int:
    from sim import api
    from sim.runs.executors import default_jobs
    from sim.views.text import judgements_table, prior_posterior_table, summary_table, talks_text

    api.phase("import")
    if args.max_replications and not (args.precision or args.given):
        raise UserError("--max-replications is the ceiling of --precision and --given; give one of them too")
    bar = _Bar(args.replications or 0)
    try:
        done = api.run_to_folder(
            args.file,
            replications=args.replications,
            seed=args.seed,
            null=args.null,
            out=args.out,
            force=args.force,
            executor=args.executor,
            jobs=args.jobs,
            address=args.address,
            patience=_patience(args),
            precision=args.precision,
            ceiling=args.max_replications,
            plots=not args.no_plots,
            svg=args.svg,
            max_bytes=_max_bytes(args),
            allow_large=args.allow_large,
            argv=[PROG, *sys.argv[1:]] if sys.argv else None,
            progress=bar,
            status=_Status(),
            given=args.given,
            table=args.table,
            planned=bar.plan,
            detach=not (args.wait or os.environ.get("NEGSIM_WAIT", "") not in ("", "0")),
        )
    finally:
        bar.close()
        _Status.clear()
    given = done.results.manifest.get("given")
    if not args.quiet:
        rec, precision = done.results.records, done.precision
        say(summary_table(done.results.summary_data))
        say()
        drivers = judgements_table(done.results.summary_data)
        if drivers:
            say(drivers)
            say()
        if precision is not None and precision.reached:
            say(f"precision: +/-{precision.target:g} reached; widest side {precision.worst_half_width:.4f}")
        used = done.workers
        if given and prior_posterior_table(done.results.summary_data):
            say(prior_posterior_table(done.results.summary_data))
            say()
        talks = talks_text(done.results.summary_data, given)
        if talks:
            say(talks)
        if given:
            say(
                f"given the history as of {given['as_of']}: kept {given['kept']:,} of "
                f"{plural(given['tried'], 'replication')} tried (acceptance {given['acceptance']:.1%})"
            )
        asked = args.jobs or default_jobs()
        why = f" ({asked} asked: {done.fewer})" if done.fewer and used < asked else ""
        say(f"{plural(rec.n, 'replication')} in {done.simulate_seconds:.1f} s on {plural(used, 'job')}{why}")
    say(f"wrote {done.folder}")
    if done.drawing and not args.quiet:
        say(
            f"the figures and report.html are being drawn in the background (process {done.drawing}); "
            'manifest.json says "figures": "complete" when they are (--wait waits for them)'
        )
    if given and given["kept"] < (done.given.wanted if done.given else 0):  # said even with --quiet
        say(
            f"{PROG}: only {given['kept']:,} of the {plural(done.given.wanted if done.given else 0, 'replication')} "
            "asked for "
            f"agree with {args.given} after {given['tried']:,} tried (acceptance {given['acceptance']:.2%}); "
            "raise --max-replications, or revisit the scenario",
            file=sys.stderr,
        )
    if done.precision is not None and not done.precision.reached:  # said even with --quiet
        p = done.precision
        say(
            f"{PROG}: precision +/-{p.target:g} NOT reached: the ceiling of {plural(p.ceiling, 'replication')} came "
            f"first (widest side {p.worst_half_width:.4f}); raise --max-replications",
            file=sys.stderr,
        )
    return 0


def cmd_trace(args: argparse.Namespace) -> int:
    from sim.api import with_run_settings
    from sim.engine.trace import trace
    from sim.scenario.load import load_scenario
    from sim.views.text import format_trace

    s = with_run_settings(load_scenario(args.file, max_bytes=_max_bytes(args), table=args.table), seed=args.seed)
    lines, rec = trace(s, args.replication)
    say(format_trace(s, args.replication, lines, rec))
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from sim.api import redraw

    if args.metric and not (Path(args.folder) / "sweep.yaml").is_file():
        raise UserError(f"--metric is for sweep folders; {args.folder} is not one (a run draws all its figures)")
    files, target = redraw(args.folder, args.metric, svg=args.svg)
    say(f"drew {len(files)} files in {target}, and {Path(args.folder) / 'report.html'}")
    return 0


class _SweepBar:
    """Replications and points done, on a terminal only."""

    def __init__(self, points: int, reps: int) -> None:
        self.bar = None
        self.points, self.done = points, 0
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=points * reps, unit="rep", unit_scale=True, file=sys.stderr, leave=False)

    def __call__(self, reps: int, points: int) -> None:
        self.done += points
        if self.bar is not None:
            self.bar.set_postfix_str(f"points {self.done}/{self.points}", refresh=False)
            self.bar.update(reps)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def cmd_sweep(args: argparse.Namespace) -> int:
    from sim import api
    from sim.api import sweep_to_folder
    from sim.results.sweepfolder import parse_metric, sweep_horizon
    from sim.runs.executors import default_jobs, make_executor
    from sim.runs.sweep import make_spec
    from sim.scenario.checks import check_run_size

    if args.list_paths:
        return _list_paths(args)
    if args.resume and not args.out:
        raise UserError("--resume needs --out DIR, the folder of the sweep to continue")
    spec = make_spec(
        args.file,
        args.sets,
        sweep_file=args.sweep,
        design=args.design,
        samples=args.samples,
        replications=args.replications,
        seed=args.seed,
        max_bytes=_max_bytes(args),
        table=args.table,
    )
    check_run_size(spec.base, spec.base.simulation.replications, len(spec.points), args.allow_large)
    api.phase("validate")
    if args.metric:
        parse_metric(args.metric, spec.base.calendar.start, sweep_horizon(spec.base, [p.values for p in spec.points]))
        spec = type(spec)(**{**spec.__dict__, "metric": args.metric})
    n = spec.base.simulation.replications
    bar = _SweepBar(len(spec.points), n)
    try:
        with make_executor(args.executor, args.jobs, args.address, _patience(args)) as executor:
            outcome = sweep_to_folder(
                spec,
                args.out,
                executor,
                resume=args.resume,
                force=args.force,
                plots=not args.no_plots,
                svg=args.svg,
                argv=[PROG, *sys.argv[1:]],
                progress=bar,
            )
    finally:
        bar.close()
    if outcome.already_complete:
        say(f"{outcome.folder}: the sweep is already complete; nothing to do")
        return 0 if not outcome.failed else 1
    if not args.quiet:
        from sim.results.files import read_json
        from sim.results.sweepfolder import load_sweep
        from sim.views.text import sobol_text, sweep_table

        say(sweep_table(load_sweep(outcome.folder)))
        say()
        for path in sorted(outcome.folder.glob("sobol*.json")):
            say(sobol_text(read_json(path)))
            say()
        total = outcome.points * n
        busy = outcome.simulate_seconds / max(outcome.wall_seconds * outcome.workers, 1e-9)
        alive = (
            f" ({outcome.simulate_seconds / (outcome.up * outcome.workers):.0%} of the {outcome.up:.1f} s the "
            "workers were up)"
            if outcome.up
            else ""
        )
        asked = args.jobs or default_jobs()
        why = f" ({asked} asked: {outcome.fewer})" if outcome.fewer and outcome.workers < asked else ""
        say(
            f"{plural(outcome.points, 'point')} ({outcome.failed} failed) x {plural(n, 'replication')} = {total:,} in "
            f"{outcome.wall_seconds:.1f} s on {plural(outcome.workers, args.executor + ' worker')}{why}; "
            f"simulating {busy:.0%} of the workers' time{alive}"
        )
    say(f"wrote {outcome.folder}")
    if outcome.failed:
        say(
            f"{PROG}: {outcome.failed} of {plural(outcome.points, 'point')} failed; their errors are in the 'status' "
            f"column of {outcome.folder / 'points.csv'}",
            file=sys.stderr,
        )
    return 0 if not outcome.failed else 1


def _list_paths(args: argparse.Namespace) -> int:
    """``sweep FILE --list-paths``: every number of the scenario a sweep can set, with its value."""
    from sim.engine.plan import compile_plan
    from sim.scenario.load import load_scenario
    from sim.scenario.paths import number_at, numeric_paths, scenario_data

    s = load_scenario(args.file, max_bytes=_max_bytes(args), table=args.table)
    data = scenario_data(s)
    judged = dict(compile_plan(s).judgements)
    paths = [p for p in numeric_paths(data) if not p.startswith("simulation.") and p != "schema"]
    rows = sorted([*paths, *judged], key=lambda p: [*p.split("."), ""])  # a judgement just before its parameters
    width = max(len(p) for p in rows)
    for path in rows:
        shown = (
            f"{judged[path].describe()} (a number set here replaces it)"
            if path in judged
            else f"{number_at(data, path):g}"
        )
        say(f"{path.ljust(width)}  {shown}")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from sim import api
    from sim.views.text import origins_text, pooled_text, score_text

    # `score --observed F DIR`: --observed takes every word after it; result folders are folders
    moved = [x for x in args.observed if Path(x.rpartition(":")[0] if ":" in x else x).is_dir()]
    args.folders = [*(args.folders or []), *moved]
    args.observed = [x for x in args.observed if x not in moved]
    if not args.folders or not args.observed:
        raise UserError("score needs result folders and --observed files (negsim score RESULT_DIR --observed FILE)")
    if args.origins is None and (args.replications or args.max_replications):
        raise UserError("-n and --max-replications of score go with --origins")
    try:
        scored, out = api.score(
            args.folders,
            args.observed,
            args.out,
            force=args.force,
            plots=not args.no_plots,
            svg=args.svg,
            origins=args.origins,
            replications=args.replications,
            jobs=args.jobs,
            ceiling=args.max_replications,
            status=_Status(),
            executor=args.executor,
            address=args.address,
            patience=_patience(args),
        )
    finally:
        _Status.clear()
    if "origins" in scored.data:
        texts = [origins_text(scored.data["origins"])]
    else:
        texts = [score_text(entry) for entry in scored.data["runs"]]
        if "pooled" in scored.data and len(scored.cases) > 1:
            texts.append(pooled_text(scored.data["pooled"]))
        if "not_pooled" in scored.data:
            texts.append(f"not pooled: {scored.data['not_pooled']}")
    say("\n\n".join(texts))
    say()
    say(f"wrote {out}")
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    from sim import api
    from sim.views.text import loo_text, pooled_text, score_text

    try:
        done = api.backtest(
            args.library,
            args.out,
            replications=args.replications,
            jobs=args.jobs,
            plots=not args.no_plots,
            svg=args.svg,
            status=_Status(),
            table=args.table,
            force=args.force,
            executor=args.executor,
            address=args.address,
            patience=_patience(args),
            loo=args.loo,
        )
    finally:
        _Status.clear()
    say("\n\n".join(score_text(entry) for entry in done.scored.data["runs"]))
    say()
    say(pooled_text(done.scored.data["pooled"]))
    say()
    if done.scored.data.get("loo"):
        say(loo_text(done.scored.data["loo"]))
        say()
    if done.reused:
        say(f"reused the runs of {', '.join(done.reused)} (scenario, count, seed and negsim unchanged)")
    say(f"wrote {done.folder}")
    for skipped in done.skipped:  # said even when everything else ran: a misspelt file is left out
        say(f"{PROG}: skipped {skipped}", file=sys.stderr)
    return 0


def cmd_discover(args: argparse.Namespace) -> int:
    """``negsim discover``: PRIM's box for an item, printed and written to a folder."""
    from sim import api
    from sim.views.text import discovery_text

    done = api.discover(
        args.folder,
        args.item,
        by=args.by,
        negate=args.negate,
        box=args.box,
        out=args.out,
        force=args.force,
        plots=not args.no_plots,
        svg=args.svg,
        resamples=api.discovery.prim.RESAMPLES if args.resamples is None else args.resamples,
        argv=[PROG, *sys.argv[1:]],
    )
    say(discovery_text(done.discovery.data))
    say()
    say(f"wrote {done.folder}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from sim import api
    from sim.views.text import comparison_table, diff_text, outcomes_table

    comparison, out = api.compare(
        args.folders, args.labels, args.out, force=args.force, plots=not args.no_plots, svg=args.svg
    )
    say(comparison_table(comparison))
    say()
    if comparison.outcomes:
        say(outcomes_table(comparison))
        say()
    say(diff_text(comparison))
    say()
    say(f"wrote {out}")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from sim import api
    from sim.views.text import calibration_text

    try:
        done = api.calibrate(
            args.library,
            args.out,
            replications=args.replications,
            jobs=args.jobs,
            resamples=args.resamples,  # None: the default of sim.runs.calibration
            table=args.table,
            force=args.force,
            executor=args.executor,
            address=args.address,
            patience=_patience(args),
            status=_Status(),
        )
    finally:
        _Status.clear()
    say(calibration_text(done.table))
    say(f"wrote {done.folder}")
    return 0


def cmd_table(args: argparse.Namespace) -> int:
    """``negsim table FILE``: a reference-class table as Markdown (the README's copy is this output)."""
    from sim.scenario.load import load_table
    from sim.scenario.table import markdown

    say(markdown(load_table(args.file)).rstrip("\n"))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """JSON Schema of a kind of file, for editors with a YAML language server."""
    import json

    from pydantic import BaseModel

    from sim.results.observed import Observed
    from sim.runs.sweep import SweepFile
    from sim.scenario.models import Scenario
    from sim.scenario.schema import json_schema

    models: dict[str, type[BaseModel]] = {"scenario": Scenario, "study": SweepFile, "observed": Observed}
    say(json.dumps(json_schema(models[args.kind], f"negsim {args.kind} file"), indent=2))
    return 0


def cmd_explore(args: argparse.Namespace) -> int:
    """``negsim explore FILE``: serve the explorer on 127.0.0.1 until Ctrl-C."""
    from sim.app import require
    from sim.app.model import Explorer

    require()
    explorer = Explorer(args.file, args.observed, args.replications, args.seed, jobs=args.jobs)
    from sim.app.serve import serve

    try:
        serve(explorer, args.port, not args.no_browser, say)
    except KeyboardInterrupt:
        say(f"{PROG} explore: stopped")
    return 0


COMMANDS = {
    "validate": cmd_validate,
    "run": cmd_run,
    "trace": cmd_trace,
    "plot": cmd_plot,
    "sweep": cmd_sweep,
    "compare": cmd_compare,
    "score": cmd_score,
    "backtest": cmd_backtest,
    "schema": cmd_schema,
    "table": cmd_table,
    "calibrate": cmd_calibrate,
    "explore": cmd_explore,
    "discover": cmd_discover,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    with warnings.catch_warnings():
        warnings.simplefilter("always", ScenarioWarning)
        warnings.showwarning = _show_warning
        return _main(argv)


def _show_warning(message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
    """A warning is one line on stderr (a scenario's own already names its file, line and field);
    matplotlib's warning for each missing glyph is replaced by one said before drawing."""
    text = str(message)
    if text.startswith("Glyph ") and "missing from font" in text:
        return  # said once, before drawing (views.plots.style.say_missing_glyphs)
    say(message if issubclass(category, ScenarioWarning) else f"{PROG}: warning: {message}", file=sys.stderr)


def _main(argv: list[str]) -> int:
    try:
        try:
            args = parser().parse_args(argv)
        except SystemExit as exc:  # --help
            return int(exc.code or 0)
        if args.version:
            from sim import __version__

            say(f"{PROG} {__version__}")
            return 0
        if not args.command:
            parser().print_help()
            return 2
        return COMMANDS[args.command](args)
    except UserError as exc:
        say(
            str(exc) if str(exc).startswith(PROG) or ":" in str(exc).split(" ")[0] else f"{PROG}: {exc}",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        say(f"{PROG}: interrupted; no result folder was written", file=sys.stderr)
        return 130
    except Interrupted as exc:
        say(f"{PROG}: {exc}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # the machine's, not the input's nor negsim's: a full disk, a read-only place
        where = exc.filename or "a file"
        say(
            f"{PROG}: cannot write {where}: {exc.strerror or exc}. Nothing half-written was left; an earlier "
            "result there is kept, and a sweep's finished points are kept for --resume.",
            file=sys.stderr,
        )
        return 2
    except Exception:
        say(f"{PROG}: internal error (a fault in negsim, please report it with this text):", file=sys.stderr)
        traceback.print_exc()
        return 1
