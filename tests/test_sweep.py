"""Sweeps: closed forms across points, common random numbers, executors, resume, bad input."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

from sim.cli import main
from sim.errors import UserError
from sim.runs.sweep import make_spec, parse_values
from tests.helpers import ROOT, SCENARIOS, assert_proportion, interruptible

ISTANBUL = str(SCENARIOS / "istanbul-2025.yaml")


def scenario_file(tmp_path: Path, text: str | None = None) -> str:
    path = tmp_path / "two.yaml"
    path.write_text(
        text
        or (
            "schema: 1\nname: two\ncalendar: {start: 2025-01-01, horizon: 30}\n"
            "simulation: {replications: 4000, seed: 99}\n"
            "rounds: {interval: 10}\n"  # rounds at 0, 10, 20, 30: four rounds
            "items:\n  a: {p: 0.3}\n  b: {p: 0.6}\n"
        )
    )
    return str(path)


def data_files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in ("manifest.json", "report.html")
    }


def test_values_lists_and_ranges() -> None:
    assert parse_values("0.1,0.2,0.4") == (0.1, 0.2, 0.4)
    assert parse_values("0.1:0.5:5") == pytest.approx((0.1, 0.2, 0.3, 0.4, 0.5))
    for bad in ("", "0.1:0.5", "a,b", "0:1:1", "0:1:x", "nan"):
        with pytest.raises(UserError):
            parse_values(bad)


def test_one_item_over_p_matches_the_closed_form(tmp_path: Path) -> None:
    out = tmp_path / "sw"
    assert (
        main(
            [
                "sweep",
                scenario_file(tmp_path),
                "--set",
                "items.a.p=0.1:0.9:5",
                "--jobs",
                "1",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    points = pq.read_table(out / "points.parquet").to_pydict()
    rows = [i for i, item in enumerate(points["item"]) if item == "a"]
    assert len(rows) == 5
    previous = -1.0
    for i in rows:
        p = points["items.a.p"][i]
        k = round(points["p_agreed"][i] * 4000)
        assert_proportion(k, 4000, 1 - (1 - p) ** 4, f"p={p}")
        assert points["ci_low"][i] <= points["p_agreed"][i] <= points["ci_high"][i]
        assert points["p_agreed"][i] >= previous  # monotone: common random numbers
        previous = points["p_agreed"][i]
    assert set(points["status"]) == {"ok"}
    assert (out / "points.csv").read_text().splitlines()[0] == (
        "point,items.a.p,item,p_agreed,ci_low,ci_high,median_day,status"
    )
    assert not (out / "parts").exists()
    assert len(list((out / "plots").glob("*.png"))) == 1


def test_common_random_numbers_across_points(tmp_path: Path) -> None:
    out = tmp_path / "sw"
    assert (
        main(
            [
                "sweep",
                scenario_file(tmp_path),
                "--set",
                "items.a.p=0.1,0.3,0.7",
                "--jobs",
                "1",
                "--out",
                str(out),
                "--quiet",
                "--no-plots",
            ]
        )
        == 0
    )
    items = pq.read_table(out / "items.parquet").to_pandas()
    b = items[items["item"] == "b"].pivot(index="replication", columns="point", values="day")
    assert b.shape == (4000, 3)
    assert all(b[0].equals(b[k]) for k in (1, 2))  # b cannot be influenced: identical outcomes
    a = items[items["item"] == "a"].pivot(index="replication", columns="point", values="day").fillna(np.inf)
    assert (a[1] <= a[0]).all() and (a[2] <= a[1]).all()  # replication by replication, never later


def test_designs(tmp_path: Path) -> None:
    f = scenario_file(tmp_path)
    oat = make_spec(f, ["items.a.p=0.1,0.3,0.5", "items.b.p=0.2,0.6"], design="oat")
    assert [p.values for p in oat.points] == [  # the scenario as written, then one path at a time
        {},
        {"items.a.p": 0.1},
        {"items.a.p": 0.5},
        {"items.b.p": 0.2},
    ]
    lhs = make_spec(f, ["items.a.p=0.1:0.5:2", "rounds.capacity=1,2"], design="lhs", samples=20)
    a = np.array([p.values["items.a.p"] for p in lhs.points])
    assert len(lhs.points) == 20 and a.min() >= 0.1 and a.max() <= 0.5
    assert np.histogram(a, bins=20, range=(0.1, 0.5))[0].tolist() == [1] * 20  # one per stratum
    assert {p.scenario.rounds.capacity for p in lhs.points} <= {1, 2}
    again = make_spec(f, ["items.a.p=0.1:0.5:2", "rounds.capacity=1,2"], design="lhs", samples=20)
    assert [p.values for p in again.points] == [p.values for p in lhs.points]
    grid = make_spec(f, ["items.a.p=0.1,0.2", "items.b.p=0.5,0.6,0.7"])
    assert len(grid.points) == 7 and grid.points[1].values == {"items.a.p": 0.1, "items.b.p": 0.6}
    assert grid.points[6].values == {}  # the scenario (a = 0.3) is off the grid: it comes last, as written
    on = make_spec(f, ["items.a.p=0.1,0.3", "items.b.p=0.5,0.6,0.7"])
    assert len(on.points) == 6  # (0.3, 0.6) is a point of the grid: that point is the scenario as written


def test_sweep_file(tmp_path: Path) -> None:
    study = tmp_path / "study.yaml"
    study.write_text("design: oat\nreplications: 100\nparameters:\n  items.a.p: 0.1:0.5:3\n  items.b.p: [0.2, 0.9]\n")
    spec = make_spec(scenario_file(tmp_path), [], sweep_file=str(study))
    assert spec.design == "oat" and spec.base.simulation.replications == 100 and len(spec.points) == 5
    study.write_text("design: oat\nparameters:\n  items.a.p: 0.1:0.5:3\nsampels: 3\n")
    with pytest.raises(UserError) as exc:
        make_spec(scenario_file(tmp_path), [], sweep_file=str(study))
    assert f"{study}:4: sampels: unknown field 'sampels'" in str(exc.value)


@pytest.mark.parametrize(
    ("sets", "expected"),
    [
        (
            ["items.flight.p=0.1,0.2"],
            "--set items.flight.p: not a number in the scenario; nearest valid paths: items.flights.p",
        ),
        (["items.flights.p=0.5,1.2"], "point 1 (items.flights.p=1.2): items.flights.p: must be <= 1.0, not 1.2"),
        (["rounds.interval.mode=20,200"], "point 1 (rounds.interval.mode=200): rounds.interval: mode (200)"),
        (["items.flights.p"], "expected PATH=VALUES"),
        (["items.flights.p=0.1:x:3"], "'x' is not a number"),
        ([], "nothing to sweep"),
    ],
)
def test_bad_sweeps_exit_2_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sets: list[str], expected: str
) -> None:
    out = tmp_path / "sw"
    argv = ["sweep", ISTANBUL, "--out", str(out)]
    for s in sets:
        argv += ["--set", s]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert not out.exists()


def test_a_failing_point_is_recorded_and_the_rest_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sim.runs.executors as ex

    real = ex.simulate_task

    def flaky(plan, start, stop):  # type: ignore[no-untyped-def]
        if plan.items[0].p == 0.2:
            raise MemoryError("out of memory at this point")
        return real(plan, start, stop)

    monkeypatch.setattr(ex, "simulate_task", flaky)
    out = tmp_path / "sw"
    assert (
        main(
            [
                "sweep",
                scenario_file(tmp_path),
                "--set",
                "items.a.p=0.1,0.2,0.3",
                "--jobs",
                "1",
                "-n",
                "500",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 1
    )
    points = pq.read_table(out / "points.parquet").to_pydict()
    status = dict(zip(zip(points["point"], points["item"], strict=True), points["status"], strict=True))
    assert status[(1, "a")] == "error: MemoryError: out of memory at this point"
    assert status[(0, "a")] == status[(2, "b")] == "ok"
    assert "1 of 3 points failed" in capsys.readouterr().err


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_files_as_local_processes(tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    f = scenario_file(tmp_path)
    args = ["sweep", f, "--set", "items.a.p=0.2,0.5", "--set", "items.b.p=0.3,0.6", "-n", "2500", "--quiet"]
    assert main([*args, "--jobs", "2", "--out", str(tmp_path / "local")]) == 0
    assert main([*args, "--jobs", "1", "--out", str(tmp_path / "one")]) == 0
    assert main([*args, "--jobs", "2", "--executor", "dask", "--out", str(tmp_path / "dask")]) == 0
    local = data_files(tmp_path / "local")
    assert local == data_files(tmp_path / "dask") == data_files(tmp_path / "one")
    assert "plots/sweep_heatmaps_p_agreed.png" in local


def _sweep_command(out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "sim",
        "sweep",
        ISTANBUL,
        "--set",
        "trust.weight=0:2:8",
        "-n",
        "10000",  # a point takes about 0.2 s: with 2,000 the rest could finish before the signal arrived
        "--jobs",
        "1",
        "--no-plots",
        "--out",
        str(out),
        *extra,
    ]


def _wait_for_parts(out: Path, proc: subprocess.Popen[bytes], count: int) -> None:
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if len(list((out / "parts").glob("point-*.parquet"))) >= count:
            return
        time.sleep(0.05)
    raise AssertionError("the sweep did not get far enough")


@pytest.mark.slow
@pytest.mark.parametrize("how", ["kill", "interrupt"])
def test_resume_after_a_killed_sweep_gives_identical_files(tmp_path: Path, how: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    whole = tmp_path / "whole"
    subprocess.run(_sweep_command(whole), check=True, env=env, capture_output=True)
    out = tmp_path / "broken"
    proc = subprocess.Popen(
        _sweep_command(out), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=interruptible
    )
    _wait_for_parts(out, proc, 3)
    proc.send_signal(signal.SIGKILL if how == "kill" else signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if how == "interrupt":
        assert proc.returncode == 130
        assert b"are finished and kept in" in err and b"--resume" in err and b"Traceback" not in err
    else:
        assert proc.returncode == -signal.SIGKILL
    kept = len(list((out / "parts").glob("point-*.parquet")))
    assert 3 <= kept < 8
    assert not (out / "points.parquet").exists()
    for part in (out / "parts").glob("point-*.parquet"):
        pq.read_table(part)  # every kept part is complete
    done = subprocess.run(_sweep_command(out, "--resume"), env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert data_files(out) == data_files(whole)
    assert yaml.safe_load((out / "sweep.yaml").read_text())["points"][7]["trust.weight"] == 2.0


def test_resume_refuses_another_sweep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = scenario_file(tmp_path)
    out = tmp_path / "sw"
    assert (
        main(
            [
                "sweep",
                f,
                "--set",
                "items.a.p=0.1,0.2",
                "--jobs",
                "1",
                "-n",
                "100",
                "--out",
                str(out),
                "--quiet",
                "--no-plots",
            ]
        )
        == 0
    )
    assert (
        main(["sweep", f, "--set", "items.a.p=0.1,0.3", "--jobs", "1", "-n", "100", "--out", str(out), "--resume"]) == 2
    )
    assert "holds a different sweep" in capsys.readouterr().err
    assert main(["sweep", f, "--set", "items.a.p=0.1,0.3", "--jobs", "1", "-n", "100", "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err


class Killed(BaseException):
    """A kill -9 at a chosen moment, in-process: nothing after it runs, no cleanup code either."""


def _crash_at(monkeypatch: pytest.MonkeyPatch, module: object, name: str, after: int = 0) -> None:
    """Make ``module.name`` raise Killed on its call number ``after`` (0: the first)."""
    real = getattr(module, name)
    calls = [0]

    def crash(*args: object, **kwargs: object) -> object:
        calls[0] += 1
        if calls[0] > after:
            raise Killed
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, crash)


LATE_MOMENTS = [
    ("gather", 0),  # every point finished, nothing gathered
    ("write_table", 0),  # gathering: points.parquet not yet written
    ("write_table", 1),  # gathering: points.parquet written, items.parquet not
    ("finish_folder", 0),  # gathered and drawn, the manifest not yet complete
    ("rmtree", 0),  # complete, the parts still there
]


@pytest.mark.parametrize(("name", "after"), LATE_MOMENTS, ids=[f"{n}-{a}" for n, a in LATE_MOMENTS])
def test_resume_is_idempotent_after_a_late_kill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str, after: int
) -> None:
    """Killed at any late moment, resumed any number of times: the same files as a sweep that ran straight."""
    import shutil

    from sim.results import sweepfolder
    from sim.runs import sweeping

    f = scenario_file(tmp_path)
    args = ["sweep", f, "--set", "items.a.p=0.1,0.2,0.3", "-n", "500", "--jobs", "1", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "whole")]) == 0
    out = str(tmp_path / "broken")
    with monkeypatch.context() as m:
        if name == "rmtree":
            real = shutil.rmtree
            m.setattr(
                shutil,
                "rmtree",
                lambda p, **k: (_ for _ in ()).throw(Killed) if Path(p).name == "parts" else real(p, **k),
            )
        else:
            _crash_at(m, sweeping if name in ("gather", "finish_folder") else sweepfolder, name, after)
        with pytest.raises(Killed):
            main([*args, "--out", out])
    for _ in range(2):  # resuming twice: the second finds the sweep complete and changes nothing
        assert main([*args, "--out", out, "--resume"]) == 0
        assert data_files(Path(out)) == data_files(tmp_path / "whole")
        assert not (Path(out) / "parts").exists()
    assert "already complete" in capsys.readouterr().out


def test_a_forced_sweep_killed_midway_keeps_the_old_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--force builds the new sweep beside the old one: a kill before the swap leaves the old sweep whole."""
    from sim.runs import sweeping

    f = scenario_file(tmp_path)
    out = str(tmp_path / "sw")
    assert main(["sweep", f, "--set", "items.a.p=0.1,0.2", "-n", "300", "--jobs", "1", "--out", out, "--quiet"]) == 0
    before = data_files(Path(out))
    with monkeypatch.context() as m:
        _crash_at(m, sweeping, "write_part", 1)
        with pytest.raises(Killed):
            main(["sweep", f, "--set", "items.b.p=0.5,0.9", "-n", "300", "--jobs", "1", "--out", out, "--force"])
    assert data_files(Path(out)) == before
    assert main(["sweep", f, "--set", "items.b.p=0.5,0.9", "-n", "300", "--jobs", "1", "--out", out, "--force"]) == 0
    assert data_files(Path(out)) != before


def test_sweep_figures_say_what_they_show(tmp_path: Path) -> None:
    """Tornado whiskers are the paired change's interval (none where a lever cannot touch an item); medians
    after the horizon are drawn, not dropped; heat maps have a scale per item and mark the scenario's values."""
    from sim.api import load_results
    from sim.results.sweepfolder import paired_differences, parse_metric
    from sim.views.plots.sweep import heatmaps, lines

    f = scenario_file(tmp_path)
    oat = tmp_path / "oat"
    assert (
        main(
            [
                "sweep",
                f,
                "--set",
                "items.a.p=0.1,0.6",
                "--design",
                "oat",
                "-n",
                "800",
                "--jobs",
                "1",
                "--out",
                str(oat),
                "--quiet",
                "--no-plots",
            ]
        )
        == 0
    )
    sw = load_results(oat)
    metric = parse_metric(None, sw.base.calendar.start)
    diffs = paired_differences(sw, metric)
    assert set(diffs["b"].values()) == {(0.0, 0.0, 0.0)}  # item b does not depend on items.a.p
    d, lo, hi = diffs["a"][2]
    assert lo < d < hi and d > 0  # raising a's p from 0.3 to 0.6
    grid = tmp_path / "grid"
    assert (
        main(
            [
                "sweep",
                f,
                "--set",
                "items.a.p=0.01,0.3",
                "--set",
                "items.b.p=0.5,0.6",
                "-n",
                "400",
                "--jobs",
                "1",
                "--out",
                str(grid),
                "--quiet",
                "--no-plots",
            ]
        )
        == 0
    )
    g = load_results(grid)
    fig = heatmaps(g, metric)
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 2 and images[0].get_clim() != images[1].get_clim()  # one scale per item
    assert any(line.get_marker() == "s" for ax in fig.axes for line in ax.get_lines())  # the scenario's values
    one = tmp_path / "one"
    assert (
        main(
            [
                "sweep",
                f,
                "--set",
                "items.a.p=0.01,0.3",
                "-n",
                "400",
                "--jobs",
                "1",
                "--out",
                str(one),
                "--quiet",
                "--no-plots",
            ]
        )
        == 0
    )
    fig = lines(load_results(one), parse_metric("median_day", g.base.calendar.start))
    late = [line for line in fig.axes[0].get_lines() if line.get_marker() == "^" and len(line.get_xdata())]
    assert late and 0.01 in late[0].get_xdata()  # p = 0.01: the median is after the horizon, and still drawn


UNCERTAIN = (
    "schema: 1\nname: unsure\ncalendar: {start: 2025-01-01, horizon: 60}\n"
    "simulation: {replications: 3000, seed: 7}\n"
    "rounds: {interval: 10}\n"
    "items:\n  a: {p: {dist: beta, mean: 0.1, concentration: 2}}\n  b: {p: 0.4}\n"
)


def _days(folder: Path, point: int | None = None) -> np.ndarray:
    """Each replication's agreement days (NaN: not agreed), items in file order, of a run or a sweep point."""
    if point is None:
        t = pq.read_table(folder / "items.parquet").to_pandas()
    else:
        t = pq.read_table(folder / "items.parquet").to_pandas()
        t = t[t["point"] == point]
    return t.pivot(index="replication", columns="item", values="day")[["a", "b"]].to_numpy(float)


def test_a_sweeps_baseline_is_the_forecast_negsim_run_makes(tmp_path: Path) -> None:
    """The tornado's centre, the heat map's mark and the 1-D line's reference are the scenario as
    written, its judgements drawn as `negsim run` draws them, not fixed at their means."""
    from sim.api import load_results
    from sim.results.sweepfolder import parse_metric
    from sim.views.plots.sweep import heatmaps, lines, tornado

    f = scenario_file(tmp_path, UNCERTAIN)
    common = ["-n", "3000", "--jobs", "1", "--quiet", "--no-plots"]
    assert main(["run", f, "--out", str(tmp_path / "run"), *common]) == 0
    ran = _days(tmp_path / "run")
    p_run = float((~np.isnan(ran[:, 0])).mean())
    args = ["--set", "items.a.p=0.05,0.4", "--set", "items.b.p=0.2,0.6"]
    assert main(["sweep", f, *args, "--design", "oat", "--out", str(tmp_path / "oat"), *common]) == 0
    np.testing.assert_array_equal(_days(tmp_path / "oat", 0), ran)  # the same replications, byte for byte
    oat = load_results(tmp_path / "oat")
    assert oat.baseline == 0 and oat.values(0) == {}
    assert [oat.values(i) for i in range(1, 5)] == [
        {"items.a.p": 0.05},
        {"items.a.p": 0.4},
        {"items.b.p": 0.2},
        {"items.b.p": 0.6},
    ]
    metric = parse_metric(None, oat.base.calendar.start)
    fig = tornado(oat, metric)
    centre = [ln.get_xdata()[0] for ln in fig.axes[0].get_lines() if ln.get_linestyle() == "-"]
    assert centre == [pytest.approx(p_run)]  # the centre line of item a's panel
    # a fixed mean is another forecast: this scenario's P(a) is far from the one at p = 0.1 fixed
    assert abs(p_run - (1 - 0.9**6)) > 0.1

    assert main(["sweep", f, "--set", "items.a.p=0.05,0.1,0.4", "--out", str(tmp_path / "one"), *common]) == 0
    one = load_results(tmp_path / "one")
    assert one.baseline == 3 and one.values(3) == {}  # the grid has no such point: the scenario is added
    np.testing.assert_array_equal(_days(tmp_path / "one", 3), ran)
    fig = lines(one, metric)
    marks = [ln for ln in fig.axes[0].get_lines() if ln.get_marker() == "D" and len(ln.get_xdata())]
    assert len(marks) == 2 and tuple(marks[0].get_xdata()) == (pytest.approx(0.1),)  # at the judgement's mean
    assert marks[0].get_ydata()[0] == pytest.approx(p_run)  # with the value of the scenario as written
    xs = sorted(x for ln in fig.axes[0].get_lines() if ln.get_marker() == "o" for x in ln.get_xdata())
    assert xs == [0.05, 0.05, 0.1, 0.1, 0.4, 0.4]  # the line is the grid alone

    assert main(["sweep", f, *args, "--out", str(tmp_path / "two"), *common]) == 0
    two = load_results(tmp_path / "two")
    assert two.baseline == 4
    fig = heatmaps(two, metric)
    assert f"as written: {p_run:.0%}" in fig.axes[0].get_title(loc="left")
    grid = [ln for ln in fig.axes[0].get_lines() if ln.get_marker() == "s"]
    assert not grid  # no cell is the scenario as written: none is marked as if it were
    assert main(["sweep", f, "--set", "items.b.p=0.2,0.4", "--out", str(tmp_path / "plain"), *common]) == 0
    plain = load_results(tmp_path / "plain")
    assert plain.baseline == 1 and len(plain.described["points"]) == 2  # b's own value is on the grid


def test_tornado_whiskers_stay_within_0_and_100_percent(tmp_path: Path) -> None:
    """A lever that takes an item's chance to 0 has a paired interval reaching below 0%: it is cut at 0%,
    and the axis has no room for negative chances."""
    from sim.api import load_results
    from sim.results.sweepfolder import parse_metric
    from sim.views.plots.sweep import tornado

    out = tmp_path / "oat"
    args = ["--set", "items.a.p=0,0.9", "--design", "oat", "-n", "800", "--jobs", "1", "--quiet", "--no-plots"]
    assert main(["sweep", scenario_file(tmp_path), *args, "--out", str(out)]) == 0
    sw = load_results(out)
    fig = tornado(sw, parse_metric(None, sw.base.calendar.start))
    fig.savefig(__import__("io").BytesIO(), format="png")
    ax = fig.axes[0]  # item a
    xs = [x for c in ax.collections for seg in c.get_segments() for x in seg[:, 0]]
    xs += [x for ln in ax.get_lines() if ln.get_marker() == "|" for x in ln.get_xdata()]
    assert xs and min(xs) >= 0.0 and max(xs) <= 1.0
    assert ax.get_xlim()[0] >= 0.0


def test_median_dates_in_sweep_figures_are_dates_with_the_year(tmp_path: Path) -> None:
    """The tornado and the line of median dates read as dates, the year under the first tick."""
    import io

    from sim.api import load_results
    from sim.results.sweepfolder import parse_metric
    from sim.views.plots.sweep import lines, tornado

    common = ["-n", "400", "--jobs", "1", "--quiet", "--no-plots"]
    oat, one = tmp_path / "oat", tmp_path / "one"
    assert (
        main(
            [
                "sweep",
                scenario_file(tmp_path),
                "--set",
                "items.b.p=0.3,0.9",
                "--design",
                "oat",
                "--out",
                str(oat),
                *common,
            ]
        )
        == 0
    )
    assert main(["sweep", scenario_file(tmp_path), "--set", "items.b.p=0.3,0.9", "--out", str(one), *common]) == 0
    for sw, draw, axis in ((load_results(oat), tornado, "xaxis"), (load_results(one), lines, "yaxis")):
        fig = draw(sw, parse_metric("median_day", sw.base.calendar.start))
        fig.savefig(io.BytesIO(), format="png")
        ax = fig.axes[1] if draw is tornado else fig.axes[0]  # (item b's panel of the tornado)
        ticks = [t.get_text() for t in getattr(ax, axis).get_ticklabels() if t.get_text()]
        assert ticks and "2025" in ticks[0], ticks


# ---------------------------------------------------------------------- a sweep folder read back is untrusted input

CUBA = SCENARIOS / "backtests-v1" / "cuba-2015"
SWEEP = ["sweep", str(CUBA / "scenario.yaml"), "--set", "rounds.cancel=0.1,0.3,0.5", "-n", "100", "--jobs", "1"]


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished sweep, and the same sweep killed after its first point (for --resume), made once."""
    from sim.runs import sweeping

    root = tmp_path_factory.mktemp("sweeps")
    assert main([*SWEEP, "--no-plots", "--quiet", "--out", str(root / "whole")]) == 0
    with pytest.MonkeyPatch.context() as m:
        _crash_at(m, sweeping, "write_part", 1)
        with pytest.raises(Killed):
            main([*SWEEP, "--no-plots", "--quiet", "--out", str(root / "killed")])
    assert sorted(p.name for p in (root / "killed" / "parts").iterdir()) == ["point-000000.parquet"]
    return root


def rewrite(path: Path, change: object) -> None:
    """Rewrite a Parquet file through ``change`` (a function of its table), as someone editing a folder would."""
    pq.write_table(change(pq.read_table(path)), path)  # type: ignore[operator]


def column(name: str, values: object) -> object:
    import pyarrow as pa

    return lambda t: t.set_column(t.column_names.index(name), name, pa.array(values(t.column(name).to_pylist())))  # type: ignore[operator]


FINISHED: list[tuple[str, object, str]] = [
    (
        "a-row-missing",
        lambda f: rewrite(f / "items.parquet", lambda t: t.slice(0, t.num_rows - 1)),
        "items.parquet: point 2 has 399 rows, not 100 replications x 4 items = 400",
    ),
    (
        "a-point-missing",
        lambda f: rewrite(f / "items.parquet", lambda t: t.slice(0, 400)),
        "items.parquet: no records of point 1, which ran",
    ),
    (
        "agreed-as-text",
        lambda f: rewrite(f / "items.parquet", column("agreed", lambda v: ["no"] * len(v))),
        "items.parquet: point 0: column 'agreed' holds text, not true/false",
    ),
    (
        "day-overflows",
        lambda f: rewrite(f / "items.parquet", column("day", lambda v: [1e300] * len(v))),
        "items.parquet: point 0: column 'day', row 0: 1e+300: the day of agreement must lie between 0 and the horizon",
    ),
    (
        "records-of-a-point-that-did-not-run",
        lambda f: rewrite(f / "items.parquet", column("point", lambda v: [7] * len(v))),
        "items.parquet: column 'point': records of point 7, which did not run",
    ),
    (
        "points-out-of-order",
        lambda f: rewrite(f / "items.parquet", column("point", lambda v: list(reversed(v)))),
        "items.parquet: column 'point', row 400: the points are out of order",
    ),
    (
        "a-point-missing-in-a-row",
        lambda f: rewrite(
            f / "items.parquet", column("point", lambda v: [None if i == 5 else x for i, x in enumerate(v)])
        ),
        "items.parquet: column 'point', row 5: missing",
    ),
    (
        "a-points-row-missing",
        lambda f: rewrite(f / "points.parquet", lambda t: t.slice(1)),
        "points.parquet: 11 rows, not 3 points x 4 items = 12",
    ),
    (
        "p-as-text",
        lambda f: rewrite(f / "points.parquet", column("p_agreed", lambda v: ["x"] * len(v))),
        "points.parquet: column 'p_agreed' holds text, not numbers",
    ),
    (
        "p-beyond-one",
        lambda f: rewrite(f / "points.parquet", column("p_agreed", lambda v: [5.0] * len(v))),
        "points.parquet: column 'p_agreed', row 0: 5: a probability lies between 0 and 1",
    ),
    (
        "swept-value-changed",
        lambda f: rewrite(f / "points.parquet", column("rounds.cancel", lambda v: [0.9] * len(v))),
        "points.parquet: column 'rounds.cancel', row 0: 0.9: not the value sweep.yaml gives it",
    ),
    (
        "failed-points-as-text",
        lambda f: _manifest(f, failed_points="x"),
        "manifest.json:1: failed_points: must be a whole number, not the text 'x'",
    ),
    ("complete-as-text", lambda f: _manifest(f, complete="yes"), "manifest.json:1: complete: must be true or false"),
]
RESUMED = {"failed-points-as-text", "complete-as-text"}
"""Damages --resume reads in a finished sweep (it reads only the manifest of one)."""


def _manifest(folder: Path, **changes: object) -> None:
    import json

    data = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**data, **changes}))


@pytest.mark.parametrize(("name", "damage", "message"), FINISHED, ids=[d[0] for d in FINISHED])
def test_a_damaged_sweep_folder_is_one_clear_line_everywhere_it_is_read(
    sweeps: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, damage: object, message: str
) -> None:
    """plot, compare and score of a point, --resume and sim.load_results: the file and the field, exit 2."""
    import shutil

    import sim

    folder = tmp_path / "sw"
    shutil.copytree(sweeps / "whole", folder)
    damage(folder)  # type: ignore[operator]
    observed = ["--observed", str(CUBA / "observed.yaml"), "--no-plots", "--out"]
    for argv in (
        ["plot", str(folder)],
        ["compare", f"{folder}:0", f"{folder}:1", "--no-plots", "--out", str(tmp_path / "c")],
        ["score", f"{folder}:1", *observed, str(tmp_path / "s")],
        *([[*SWEEP, "--out", str(folder), "--resume"]] if name in RESUMED else []),
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        assert f"{folder}/{message}" in err, err
    with pytest.raises(UserError, match=re.escape(message)):
        sim.load_results(folder)


KILLED: list[tuple[str, object, str | None]] = [
    ("a-stray-file", lambda f: (f / "parts" / "point-abc.parquet").write_text("mine"), None),
    ("a-superscript-point", lambda f: (f / "parts" / "point-00000\u00b9.parquet").write_text("x"), None),
    (
        "a-row-missing",
        lambda f: rewrite(f / "parts" / "point-000000.parquet", lambda t: t.slice(1)),
        "parts/point-000000.parquet: 399 rows, not 100 replications x 4 items = 400; delete it",
    ),
    (
        "agreed-as-text",
        lambda f: rewrite(f / "parts" / "point-000000.parquet", column("agreed", lambda v: ["no"] * len(v))),
        "parts/point-000000.parquet: column 'agreed' holds text, not true/false; delete it",
    ),
    (
        "garbage",
        lambda f: (f / "parts" / "point-000000.parquet").write_bytes(b"PAR1 garbage"),
        "parts/point-000000.parquet: not a readable Parquet file",
    ),
    (
        "a-folder-named-as-a-part",
        lambda f: (f / "parts" / "point-000001.parquet").mkdir(),
        "parts/point-000001.parquet: not a part negsim wrote (a folder or a link); delete it",
    ),
    ("sweep-yaml-binary", lambda f: (f / "sweep.yaml").write_bytes(b"\xff\xfe\x00"), "holds a different sweep"),
    (
        "scenario-yaml-not-utf8",
        lambda f: (f / "scenario.yaml").write_bytes(b"name: \xff\n"),
        "the scenario has changed",
    ),
]


@pytest.mark.parametrize(("damage", "message"), [k[1:] for k in KILLED], ids=[k[0] for k in KILLED])
def test_resume_reads_a_killed_sweep_as_untrusted_input(
    sweeps: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: object, message: str | None
) -> None:
    """A stray file in parts/ is not a part (the sweep resumes to the same files); a damaged part, or files that
    are not text, are one line naming the file (exit 2)."""
    import shutil

    folder = tmp_path / "sw"
    shutil.copytree(sweeps / "killed", folder)
    damage(folder)  # type: ignore[operator]
    code = main([*SWEEP, "--out", str(folder), "--resume", "--no-plots", "--quiet"])
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    if message is None:
        assert code == 0, err
        assert data_files(folder) == data_files(sweeps / "whole")
    else:
        assert code == 2 and len(err.strip().splitlines()) == 1 and message in err, err


def test_a_point_is_named_by_ascii_digits_only(
    sweeps: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """SWEEP:¹ or SWEEP:٣ (digits to str.isdigit) is not point 1 or 3: one line saying how to name a point."""
    folder = sweeps / "whole"
    for point in ("\u00b9", "\u0663", "1\n", "+1", "0x1"):
        assert main(["compare", f"{folder}:0", f"{folder}:{point}", "--no-plots", "--out", str(tmp_path / "c")]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        assert "is not a point of the sweep; name one by its number, such as" in err, err
    assert not (tmp_path / "c").exists()


def test_run_force_never_replaces_a_sweep_whose_manifest_says_run(
    sweeps: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The files present say what a folder is: a sweep with a manifest edited to say "run" is kept."""
    import shutil

    folder = tmp_path / "sw"
    shutil.copytree(sweeps / "whole", folder)
    _manifest(folder, kind="run")
    before = data_files(folder)
    assert main(["run", str(CUBA / "scenario.yaml"), "-n", "50", "--jobs", "1", "--out", str(folder), "--force"]) == 2
    assert "--force replaces only a run folder, so it is kept" in capsys.readouterr().err
    assert data_files(folder) == before


def test_plot_with_another_metric_keeps_the_figures_of_the_first(sweeps: Path, tmp_path: Path) -> None:
    """plot SWEEP --metric B adds B's figure beside A's (and the report shows both), never deleting A's."""
    import shutil

    folder = tmp_path / "sw"
    shutil.copytree(sweeps / "whole", folder)
    assert main(["plot", str(folder), "--metric", "median_day"]) == 0
    first = {p.name: p.read_bytes() for p in (folder / "plots").iterdir()}
    assert set(first) == {"sweep_lines_p_agreed.png", "sweep_lines_median_day.png"}
    assert main(["plot", str(folder), "--metric", "p_by:2016-01-21"]) == 0
    now = {p.name: p.read_bytes() for p in (folder / "plots").iterdir()}
    assert set(now) == {*first, "sweep_lines_p_by_2016-01-21.png"}
    assert now["sweep_lines_median_day.png"] == first["sweep_lines_median_day.png"]
    assert (folder / "report.html").read_text().count("<img") == 3
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        ("p_by:2017-01-22", "p_by:2017-01-22: after the horizon, 2017-01-21"),
        ("p_by:2030-01-01", "p_by:2030-01-01: after the horizon, 2017-01-21"),
        ("p_by:2015-01-20", "p_by:2015-01-20: before the start, 2015-01-21"),
        ("p_by:-3", "p_by:-3: before the start, 2015-01-21"),
        ("p_by:1e400", "p_by:1e400: after the horizon"),
        ("p_by:nan", "give p_by:YYYY-MM-DD or p_by:DAYS"),
    ],
)
def test_p_by_a_date_outside_the_run_is_refused(
    sweeps: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], metric: str, message: str
) -> None:
    """plot, sweep and SweepResults.plot refuse a p_by date before the start or after the horizon, before drawing."""
    import shutil

    from sim.api import load_results

    folder = tmp_path / "sw"
    shutil.copytree(sweeps / "whole", folder)
    before = data_files(folder)
    for argv in (["plot", str(folder), "--metric", metric], [*SWEEP, "--metric", metric, "--out", str(tmp_path / "n")]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and message in err, err
    assert data_files(folder) == before and not (tmp_path / "n").exists()
    with pytest.raises(UserError, match=re.escape(message)):
        load_results(folder).plot(metric)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        ("median", "metric: median: choose p_agreed, median_day, or p_by:YYYY-MM-DD"),
        ("p_by:2030-01-01", "metric: p_by:2030-01-01: after the horizon, 2017-01-21"),
    ],
)
def test_a_study_files_metric_is_checked_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, metric: str, message: str
) -> None:
    """A study's metric that cannot be drawn is refused naming the study file, its line and field, before
    a single point runs or a folder is written; validate finds a metric negsim does not know."""
    from sim.runs import sweeping

    study = tmp_path / "study.yaml"
    study.write_text(f"parameters:\n  rounds.cancel: [0.1, 0.3]\nmetric: {metric}\n")
    monkeypatch.setattr(sweeping, "run_points", lambda *a, **k: pytest.fail("a point ran"))
    out = tmp_path / "sw"
    argv = ["sweep", str(CUBA / "scenario.yaml"), "--sweep", str(study), "-n", "100", "--jobs", "1", "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and f"{study}:3: {message}" in err, err
    assert not out.exists()
    if metric == "median":
        assert main(["validate", str(study)]) == 2
        assert f"{study}:3: {message}" in capsys.readouterr().err


# ---------------------------------------------------------------------- a sweep's parent, whatever its points


def test_items_written_a_point_at_a_time_are_the_bytes_of_the_whole_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GroupWriter holds at most a row group: tables of any sizes written in turn make the file that
    writing their concatenation whole makes, and a failure leaves neither file nor temporary."""
    import pyarrow as pa

    from sim.results import sweepfolder

    monkeypatch.setattr(sweepfolder, "GROUP_ROWS", 7)
    rng = np.random.default_rng(5)
    tables = [
        pa.table(
            {
                "point": np.full(n, i, np.int32),
                "day": rng.random(n),
                "item": pa.array(["a", "b"] * (n // 2), pa.string()),
            }
        )
        for i, n in enumerate((4, 2, 16, 0, 6, 8))
    ]
    with sweepfolder.GroupWriter(tmp_path / "items.parquet") as w:
        for t in tables:
            w.write(t)
    pq.write_table(pa.concat_tables(tables), tmp_path / "whole.parquet", row_group_size=7, compression="zstd")
    assert (tmp_path / "items.parquet").read_bytes() == (tmp_path / "whole.parquet").read_bytes()
    assert [g.num_rows for g in map(pq.ParquetFile(tmp_path / "items.parquet").metadata.row_group, range(6))] == [
        7,
        7,
        7,
        7,
        7,
        1,
    ]
    with pytest.raises(RuntimeError), sweepfolder.GroupWriter(tmp_path / "failed.parquet") as w:
        w.write(tables[0])
        raise RuntimeError("a point failed to gather")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["items.parquet", "whole.parquet"]


def test_a_sweeps_records_are_read_a_point_at_a_time_across_batches() -> None:
    """points_of gives each point's rows whole, however the file's batches cut them, and names the
    row (counted from the file's start) where the points go back."""
    import pyarrow as pa

    from sim.results.checks import points_of

    point = np.repeat([0, 2, 3], [5, 3, 4])
    table = pa.table({"point": point, "replication": np.arange(12)})
    for size in (1, 2, 5, 12):
        got = [(p, t.column("replication").to_pylist()) for p, t in points_of("f", table.to_batches(size))]
        assert got == [(0, [0, 1, 2, 3, 4]), (2, [5, 6, 7]), (3, [8, 9, 10, 11])]
        assert all(t.column_names == ["replication"] for _, t in points_of("f", table.to_batches(size)))
    back = table.set_column(0, "point", pa.array(np.r_[point[:7], [1], point[8:]]))
    for size in (1, 4, 7, 12):
        with pytest.raises(UserError, match=r"^f: column 'point', row 7: the points are out of order$"):
            list(points_of("f", back.to_batches(size)))


def test_gathering_without_the_points_in_memory_writes_the_same_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no room to keep points' records for gathering (KNOWN_BYTES 0: every part read back from
    the folder), the sweep's files are the same bytes."""
    from sim.runs import sweeping

    assert main([*SWEEP, "--no-plots", "--quiet", "--out", str(tmp_path / "kept")]) == 0
    monkeypatch.setattr(sweeping, "KNOWN_BYTES", 0)
    assert main([*SWEEP, "--no-plots", "--quiet", "--out", str(tmp_path / "read")]) == 0
    for name in ("items.parquet", "points.parquet", "points.csv"):
        assert (tmp_path / "kept" / name).read_bytes() == (tmp_path / "read" / name).read_bytes()
