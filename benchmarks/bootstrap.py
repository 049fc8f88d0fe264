"""Bootstrap intervals of scores and skill: item by item (before) and on arrays (now), in one run (issue 20).

    python benchmarks/bootstrap.py [--repeat 5] [--profile]

``sim.results.skill.intervals`` gives every score and skill of ``score`` and ``backtest`` a 95%
interval from 2,000 resamples. Until issue 20 each resample was a list of items and each mean
``np.mean`` of a list (a fifth of ``score --origins`` went there); the loop is kept below as it was,
as the "before". Both run on the same cases, shaped as ``backtest`` pools them (the bundled
library's 21 cases, 2 to 6 items each, three forecasters) and as one ``score --origins`` origin
scores them (one case of 5 items); the script prints the best time of each, the ratio, and whether
the intervals are the same floats. ``--profile`` also runs ``score --origins quarterly`` on the
Cuba case under cProfile and prints the share of its time in ``intervals``.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.results.skill import METRICS, RESAMPLES, ItemScore, intervals  # noqa: E402

FORECASTERS = ["scenario", "null", "climatology"]


def item_by_item(cases: list[list[ItemScore]], name: str, baselines: list[str], resamples: int = RESAMPLES) -> dict:
    """The intervals' resampled means and percentiles as computed before (seed 0)."""
    cases = [c for c in cases if c]
    rng = np.random.default_rng(0)
    draws = []
    for _ in range(resamples):
        picked = [cases[i] for i in rng.integers(0, len(cases), len(cases))] if len(cases) > 1 else cases
        draws.append([c[i] for c in picked for i in rng.integers(0, len(c), len(c))])

    def mean(items: list[ItemScore], who: str, m: str) -> float:
        return float(np.mean([it.scores[who][m] for it in items]))

    def q(values: list[float]) -> tuple[float, float]:
        low, high = np.quantile(np.array(values, dtype=float), [0.025, 0.975])
        return float(low), float(high)

    out: dict = {"score": {}, "skill": {}}
    for who in [name, *baselines]:
        out["score"][who] = {m: q([mean(d, who, m) for d in draws]) for m in METRICS}
    for b in baselines:
        out["skill"][b] = {m: q([mean(d, b, m) - mean(d, name, m) for d in draws]) for m in METRICS}
    return out


def cases_of(sizes: list[int]) -> list[list[ItemScore]]:
    rng = np.random.default_rng(1)
    return [
        [
            ItemScore(f"c{c}", f"i{i}", None, {f: {m: float(rng.random()) for m in METRICS} for f in FORECASTERS})
            for i in range(n)
        ]
        for c, n in enumerate(sizes)
    ]


def best(work, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        work()
        times.append(time.perf_counter() - t0)
    return min(times)


def profile_origins() -> None:
    """The share of ``score --origins quarterly`` (Cuba, one job, no figures) spent in intervals."""
    tmp = Path(tempfile.mkdtemp(prefix="bootstrap-"))
    case = ROOT / "scenarios" / "backtests" / "cuba-2015"
    run = [sys.executable, "-m", "sim", "run", str(case / "scenario.yaml"), "--out", str(tmp / "cuba"), "--no-plots"]
    subprocess.run([*run, "--quiet"], check=True, cwd=tmp, stdout=subprocess.DEVNULL)
    from sim.cli import main

    argv = ["score", str(tmp / "cuba"), "--observed", str(case / "observed.yaml"), "--origins", "quarterly"]
    prof = cProfile.Profile()
    with contextlib.redirect_stdout(io.StringIO()):
        code = prof.runcall(main, [*argv, "--out", str(tmp / "score"), "--no-plots", "--jobs", "1"])
    if code != 0:
        raise SystemExit(f"score --origins: exit {code}")
    stats = pstats.Stats(prof)
    total = stats.total_tt  # type: ignore[attr-defined]
    spent = sum(v[3] for k, v in stats.stats.items() if k[2] == "intervals")  # type: ignore[attr-defined]
    print(f"score --origins quarterly (Cuba) under cProfile: {total:.2f} s, of which intervals {spent:.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    shapes = {
        "backtest, pooled (21 cases)": [5, 3, 4, 2, 6, 3, 5, 4, 2, 3, 6, 4, 5, 2, 3, 4, 6, 3, 5, 2, 4],
        "one score --origins origin": [5],
    }
    print(f"intervals of {len(FORECASTERS)} forecasters, {RESAMPLES} resamples; best of {args.repeat}, seconds:")
    print(f"{'cases':30} {'before':>8} {'now':>8} {'now / before':>13}  same floats")
    for label, sizes in shapes.items():
        cases = cases_of(sizes)
        before = best(lambda cases=cases: item_by_item(cases, "scenario", FORECASTERS[1:]), args.repeat)
        now = best(lambda cases=cases: intervals(cases, "scenario", FORECASTERS[1:]), args.repeat)
        old, new = item_by_item(cases, "scenario", FORECASTERS[1:]), intervals(cases, "scenario", FORECASTERS[1:])
        same = all(
            (new["score"][w][m].low, new["score"][w][m].high) == old["score"][w][m]
            for w in FORECASTERS
            for m in METRICS
        )
        print(f"{label:30} {before:8.3f} {now:8.3f} {now / before:13.3f}  {same}")
    if args.profile:
        profile_origins()


if __name__ == "__main__":
    main()
