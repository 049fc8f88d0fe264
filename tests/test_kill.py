"""kill -9 at any moment leaves either the previous result or a complete one; Ctrl-C stops cleanly."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.results.folder import load
from tests.helpers import ROOT, SCENARIOS, interruptible

ISTANBUL = str(SCENARIOS / "istanbul-2025.yaml")
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
DELAYS = [1.0, 2.8, 4.0, 5.2, 7.0]
"""Seconds after the start: simulating, writing parquet, drawing plots, writing the report, done."""
COMPLETE = {
    "scenario.yaml",
    "manifest.json",
    "items.parquet",
    "constraints.parquet",
    "parameters.parquet",
    "replications.parquet",
    "summary.json",
    "summary.csv",
    "plots",
    "report.html",
}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def command(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "sim", "run", ISTANBUL, "-n", "8000", "--jobs", "2", "--out", str(out), *extra]


@pytest.mark.slow
@pytest.mark.parametrize("existing", [False, True], ids=["new", "replacing"])
@pytest.mark.parametrize("delay", DELAYS)
def test_kill_9_leaves_the_previous_state_or_a_complete_result(tmp_path: Path, delay: float, existing: bool) -> None:
    out = tmp_path / "out"
    before: dict[str, bytes] = {}
    if existing:
        subprocess.run([*command(out), "-n", "300"], env=ENV, check=True, capture_output=True)
        before = snapshot(out)
    proc = subprocess.Popen(
        command(out, "--force"), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole job: the command and its workers
    proc.wait()
    if out.exists():
        now = snapshot(out)
        if now != before:
            assert {p.name for p in out.iterdir()} == COMPLETE
            assert load(out).records.n == 8000
            assert len(list((out / "plots").glob("*.png"))) == 7  # the six figures of every run and the judgements
    else:
        assert not existing, "the previous result was lost"
    visible = [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")]
    assert visible in ([], ["out"])
    # The next run to the same place cleans up what the killed one left behind.
    subprocess.run([*command(out, "--force"), "-n", "200", "--no-plots"], env=ENV, check=True, capture_output=True)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


@pytest.mark.slow
def test_ctrl_c_stops_cleanly(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [*command(out), "-n", "1000000"],  # about ten seconds: 200,000 could finish before the Ctrl-C, idle
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=interruptible,
    )
    time.sleep(2.0)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal sends it: to the whole foreground group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    text = err.decode()
    assert "interrupted" in text and "no result folder was written" in text and "Traceback" not in text
    assert len(text.strip().splitlines()) == 1
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_two_runs_to_the_same_folder_at_once_one_wins(tmp_path: Path) -> None:
    """Started together without --force: exactly one writes the folder, the other says why (exit 2)."""
    out = tmp_path / "out"
    procs = [
        subprocess.Popen(
            [*command(out), "-n", "3000", "--no-plots"],
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = []
    for p in procs:
        _, err = p.communicate(timeout=120)
        results.append((p.returncode, err))
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    loser = next(err for code, err in results if code == 2)
    assert ("appeared while" in loser or "already exists" in loser) and "Traceback" not in loser
    assert load(out).records.n == 3000


CUBA = SCENARIOS / "backtests-v1" / "cuba-2015"
KEEP = {"table.yaml", "cuba-2015", "israel-uae-2020", "scenario.yaml", "observed.yaml"}
"""A library of two cases, enough to calibrate."""


def group(pgid: int) -> list[tuple[int, str]]:
    """The live processes of a process group (pid, command line), read from /proc."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                found.append((int(d.name), (d / "cmdline").read_bytes().replace(b"\0", b" ").decode()))
        except (OSError, ValueError, IndexError):
            continue
    return found


ORPHANS = {
    # command, and how many processes of the group show that its workers are up
    "run --given": (
        ["run", str(CUBA / "scenario.yaml"), "--given", str(CUBA / "observed-mid-2015.yaml"), "-n", "200000"],
        lambda procs: sum("forkserver" in cmd for _, cmd in procs) >= 3,  # the forkserver and two workers
    ),
    "score --origins": (
        ["score", "RUN", "--observed", str(CUBA / "observed.yaml"), "--origins", "quarterly", "-n", "60000"],
        lambda procs: sum("forkserver" in cmd for _, cmd in procs) >= 3,
    ),
    "calibrate (bootstrap)": (
        ["calibrate", "LIBRARY", "-n", "600", "--resamples", "400"],
        lambda procs: sum("forkserver" in cmd for _, cmd in procs) >= 3,
    ),
    "run (drawing)": (
        ["run", ISTANBUL, "-n", "3000"],  # too few to start workers: the processes that draw the figures are forked
        lambda procs: sum(" -m sim run " in cmd for _, cmd in procs) >= 3,
    ),
}


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
@pytest.mark.parametrize("name", list(ORPHANS))
def test_workers_end_when_their_parent_is_killed(tmp_path: Path, name: str) -> None:
    """SIGKILL to negsim alone (not its group): its workers, the forkserver and the resource tracker end
    within seconds, instead of waiting for work for ever."""
    argv, up = ORPHANS[name]
    if "RUN" in argv:
        run = tmp_path / "run"
        made = [sys.executable, "-m", "sim", "run", str(CUBA / "scenario.yaml"), "-n", "300", "--no-plots"]
        subprocess.run([*made, "--jobs", "1", "--out", str(run)], env=ENV, check=True, capture_output=True)
        argv = [str(run) if a == "RUN" else a for a in argv]
    if "LIBRARY" in argv:
        library = tmp_path / "library"
        shutil.copytree(SCENARIOS / "backtests", library, ignore=lambda d, names: [n for n in names if n not in KEEP])
        argv = [str(library) if a == "LIBRARY" else a for a in argv]
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", *argv, "--jobs", "2", "--out", str(tmp_path / "out")],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a group of its own: everything it starts, and nothing else
    )
    try:
        deadline = time.monotonic() + 180
        while not up(group(proc.pid)) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert up(group(proc.pid)), f"the workers never started: {group(proc.pid)}"
        os.kill(proc.pid, signal.SIGKILL)  # negsim alone: it has no chance to stop anything
        proc.wait()
        deadline = time.monotonic() + 5
        while group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert group(proc.pid) == []
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever survived, so that a failure leaves no orphans


def test_workers_cannot_be_interrupted_while_they_start() -> None:
    """The forkserver (and so every worker it forks) is started with Ctrl-C blocked, and the parent's
    own mask is left as it was: a Ctrl-C while the forkserver still imported its preload printed a
    KeyboardInterrupt traceback of its own beside negsim's one line (about one run in four)."""
    program = (
        "import signal\n"
        "from multiprocessing import forkserver\n"
        "from sim.runs.executors import LocalProcesses\n"
        "ex = LocalProcesses(2)\n"
        "ex._start({})\n"
        "pid = forkserver._forkserver._forkserver_pid\n"
        "status = open(f'/proc/{pid}/status').read()\n"
        "blocked = int(status.split('SigBlk:')[1].split()[0], 16)\n"
        "print(bool(blocked & (1 << (signal.SIGINT - 1))), sorted(signal.pthread_sigmask(signal.SIG_BLOCK, set())))\n"
        "ex.close()\n"
    )
    done = subprocess.run([sys.executable, "-c", program], env=ENV, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "[]"]
