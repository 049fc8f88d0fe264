"""Figures drawn after ``negsim run`` returns: whole when visible, the same bytes, said in the
manifest, and never raced by ``plot`` or ``run --force``."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.cli import main
from sim.results import background
from tests.helpers import ROOT, SCENARIOS

ISTANBUL = str(SCENARIOS / "istanbul-2025.yaml")
DETACHED = {k: v for k, v in os.environ.items() if k != "NEGSIM_WAIT"} | {"PYTHONPATH": str(ROOT)}
"""The environment of a user's shell: figures drawn in the background (the suite waits for them)."""


def negsim(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``negsim ARGV`` in a new process, its output captured as a pipe reading it would."""
    return subprocess.run(
        [sys.executable, "-m", "sim", *argv], env=env or DETACHED, capture_output=True, text=True, timeout=300
    )


def manifest(folder: Path) -> dict[str, object]:
    return dict(json.loads((folder / "manifest.json").read_text()))


def pngs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / "plots").glob("*.png"))}


def whole_png(data: bytes) -> bool:
    return data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(b"IEND\xaeB`\x82")


def alive(pid: int) -> bool:
    """Whether process ``pid`` is running (not ended, nor ended and waiting to be reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the process
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def leftovers(folder: Path) -> list[str]:
    """Hidden files and folders: what a drawing writes under temporary names."""
    return sorted(p.name for p in folder.rglob(".*"))


needs_fork = pytest.mark.skipif(
    not background.can_detach(), reason="figures are drawn in the background only where fork is"
)


@needs_fork
def test_run_returns_before_its_figures_which_appear_whole_and_identical(tmp_path: Path) -> None:
    """The command's output ends while the figures are drawn; whenever plots/ is there it holds
    every figure whole; then the manifest says complete, and the PNGs are those of a run that waited."""
    waited, detached = tmp_path / "waited", tmp_path / "detached"
    done = negsim("run", ISTANBUL, "-n", "5000", "--out", str(waited), "--wait")
    assert done.returncode == 0, done.stderr
    assert "background" not in done.stdout and manifest(waited)["figures"] == "complete"
    done = negsim("run", ISTANBUL, "-n", "5000", "--out", str(detached))
    assert done.returncode == 0, done.stderr
    said = manifest(detached)
    assert said["figures"] == "drawing" and isinstance(said["figures_pid"], int)  # a pipe's reader does not wait
    assert f"being drawn in the background (process {said['figures_pid']})" in done.stdout
    assert {p.name for p in detached.iterdir()} >= {"items.parquet", "summary.json", "summary.csv"}
    seen_whole = False
    while background.state(detached) == "drawing":
        if (detached / "report.html").exists():
            assert len(pngs(detached)) == len(pngs(waited))
        if (detached / "plots").exists():
            figures = pngs(detached)
            assert len(figures) == len(pngs(waited)) and all(whole_png(b) for b in figures.values())
            seen_whole = True
        time.sleep(0.005)
    assert background.wait(detached, timeout=120) == "complete", manifest(detached)
    assert seen_whole or (detached / "plots").is_dir()
    assert pngs(detached) == pngs(waited)
    assert not alive(said["figures_pid"])  # type: ignore[arg-type]
    said = manifest(detached)
    assert "figures_pid" not in said and said.keys() == manifest(waited).keys()
    report = (detached / "report.html").read_text()
    embedded = [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', report)]
    assert sorted(embedded) == sorted(pngs(detached).values())
    assert "&quot;figures&quot;: &quot;complete&quot;" in report and "figures_pid" not in report
    assert leftovers(detached) == []


@pytest.mark.slow
@needs_fork
def test_run_force_cancels_the_drawing_it_replaces(tmp_path: Path) -> None:
    """run --force into a folder whose figures are being drawn stops that drawing before it swaps
    the folder in: the new run's figures, complete, and nothing of the old drawing left."""
    out, alone = tmp_path / "out", tmp_path / "alone"
    assert negsim("run", ISTANBUL, "-n", "100000", "--out", str(out)).returncode == 0
    first = manifest(out)["figures_pid"]
    assert isinstance(first, int)
    done = negsim("run", ISTANBUL, "-n", "300", "--out", str(out), "--force")
    assert done.returncode == 0, done.stderr
    assert not alive(first)  # cancelled (or finished) before the folder was replaced
    assert background.wait(out, timeout=120) == "complete"
    assert manifest(out)["replications"] == 300
    assert negsim("run", ISTANBUL, "-n", "300", "--out", str(alone), "--wait").returncode == 0
    assert pngs(out) == pngs(alone)
    assert leftovers(out) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["alone", "out"]


@pytest.mark.slow
@needs_fork
def test_plot_cancels_a_drawing_in_progress_and_draws_them_itself(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert negsim("run", ISTANBUL, "-n", "100000", "--out", str(out)).returncode == 0
    drawer = manifest(out)["figures_pid"]
    done = negsim("plot", str(out))
    assert done.returncode == 0, done.stderr
    assert not alive(drawer)  # type: ignore[arg-type]
    assert background.state(out) == "complete" and "figures_pid" not in manifest(out)
    assert all(whole_png(b) for b in pngs(out).values()) and len(pngs(out)) == 7
    assert leftovers(out) == []


@pytest.mark.slow
@needs_fork
def test_characters_no_font_has_are_said_before_the_command_returns(tmp_path: Path) -> None:
    """The detached process has no terminal: the warning of missing glyphs comes from the command."""
    scenario = tmp_path / "linear-b.yaml"
    text = Path(ISTANBUL).read_text(encoding="utf-8")
    scenario.write_text(re.sub(r"(?m)^title: .*$", 'title: "𐀀𐀁 talks"', text, count=1), encoding="utf-8")
    done = negsim("run", str(scenario), "-n", "200", "--out", str(tmp_path / "out"), "--quiet")
    assert done.returncode == 0 and "2 characters" in done.stderr and "no glyph" in done.stderr, done.stderr
    assert background.wait(tmp_path / "out", timeout=120) == "complete"


def test_wait_flag_and_environment_draw_before_returning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--wait (or NEGSIM_WAIT=1, as this suite sets) draws the figures before main returns; --no-plots says none."""
    monkeypatch.delenv("NEGSIM_WAIT")
    out = tmp_path / "out"
    assert main(["run", ISTANBUL, "-n", "200", "--jobs", "1", "--out", str(out), "--wait", "--quiet"]) == 0
    assert manifest(out)["figures"] == "complete" and len(pngs(out)) == 7 and (out / "report.html").is_file()
    monkeypatch.setenv("NEGSIM_WAIT", "1")
    assert main(["run", ISTANBUL, "-n", "200", "--jobs", "1", "--out", str(out), "--force", "--quiet"]) == 0
    assert manifest(out)["figures"] == "complete" and len(pngs(out)) == 7
    assert main(["run", ISTANBUL, "-n", "200", "--out", str(out), "--force", "--no-plots", "--quiet"]) == 0
    assert manifest(out)["figures"] == "none" and not (out / "plots").exists()
    assert main(["plot", str(out)]) == 0
    assert manifest(out)["figures"] == "complete" and len(pngs(out)) == 7


# ---------------------------------------------------------------------- the lock and the state


def folder_with_manifest(tmp_path: Path, **fields: object) -> Path:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"kind": "run", **fields}))
    return folder


WORK = {
    "sleep": "time.sleep(60)",
    "fail": "raise RuntimeError('no room on the disk')",
    "touch": "(folder / 'drawn').touch()",
    "pool": "with mp.get_context('fork').Pool(2) as p: (folder / 'drawn').write_text(repr(p.map(handler, [0, 1])))",
}


def detached(folder: Path, work: str) -> background.Detached:
    """A drawing process whose work is one of WORK, its folder's lock held from the start."""
    program = (
        f"import sys, time; sys.path.insert(0, {str(ROOT)!r}); from pathlib import Path; "
        "from sim.results import background; folder = Path(sys.argv[1])\n"
        "import multiprocessing as mp, signal\n"
        "def handler(_):\n    return str(signal.getsignal(signal.SIGTERM))\n"
        f"def work():\n    {WORK[work]}\n"
        "sys.exit(background.serve(int(sys.argv[-1]), folder, work))"
    )
    return background.Detached(folder, program, [str(folder)])


def reap(pid: int) -> int:
    """The exit code of a process this one started."""
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@needs_fork
def test_a_cancelled_drawing_stops_and_the_lock_passes(tmp_path: Path) -> None:
    folder = folder_with_manifest(tmp_path, figures="none")
    drawer = detached(folder, "sleep")
    (folder / "manifest.json").write_text(json.dumps({"kind": "run", **drawer.fields}))
    drawer.go()
    assert background.state(folder) == "drawing"
    assert background.wait(folder, timeout=0.5) == "drawing"  # still held
    t0 = time.monotonic()
    with background.locked(folder):
        assert time.monotonic() - t0 < background.PATIENCE  # cancelled, not waited for
        assert background.state(folder) == "drawing"  # held by this process now
    assert reap(drawer.pid) == -signal.SIGTERM  # ended by the signal's default action
    assert background.state(folder) == "interrupted"  # says drawing, but nobody is


@needs_fork
def test_the_processes_a_drawing_forks_end_on_sigterm(tmp_path: Path) -> None:
    """A drawing's pool ends its processes with SIGTERM: they must not inherit a Python handler for
    it (one that wakes another thread than the one waiting for work leaves them waiting for ever,
    and the drawing with them: seen in benchmarks/run_wait.py)."""
    folder = folder_with_manifest(tmp_path, figures="drawing")
    with detached(folder, "pool") as drawer:
        pass
    assert reap(drawer.pid) == 0
    assert (folder / "drawn").read_text() == repr([str(signal.SIG_DFL)] * 2)


@needs_fork
def test_a_failed_drawing_says_why(tmp_path: Path) -> None:
    folder = folder_with_manifest(tmp_path, figures="drawing")
    with detached(folder, "fail") as drawer:
        pass
    assert reap(drawer.pid) == 1
    said = manifest(folder)
    assert said["figures"] == "failed" and said["figures_error"] == "RuntimeError: no room on the disk"
    assert background.state(folder) == "failed"


@needs_fork
def test_a_process_never_told_to_go_does_nothing(tmp_path: Path) -> None:
    folder = folder_with_manifest(tmp_path, figures="drawing")
    with pytest.raises(KeyError), detached(folder, "touch") as drawer:
        raise KeyError("the run failed after the drawing process started")
    assert reap(drawer.pid) == 0 and not (folder / "drawn").exists()
    assert background.wait(folder, timeout=5) == "interrupted"
    with detached(folder, "touch") as drawer:
        pass
    assert reap(drawer.pid) == 0 and (folder / "drawn").exists()


def test_state_of_folders_that_say_nothing(tmp_path: Path) -> None:
    """A folder of an earlier negsim (no figures field) says nothing; set_state leaves it as it is."""
    folder = folder_with_manifest(tmp_path)
    assert background.state(folder) is None
    background.set_state(folder, "complete")
    assert manifest(folder) == {"kind": "run"}
    with background.locked(folder):  # free: taken at once
        pass


@pytest.mark.slow
@needs_fork
def test_a_drawing_killed_leaves_nothing_half_drawn_and_plot_draws_it_again(tmp_path: Path) -> None:
    """kill -9 of the drawing (its whole group) mid-way: no plots/ or report.html but whole ones, the
    state says interrupted, and ``negsim plot`` draws the figures and clears what the drawing left."""
    out = tmp_path / "out"
    assert negsim("run", ISTANBUL, "-n", "100000", "--out", str(out)).returncode == 0
    drawer = manifest(out)["figures_pid"]
    assert isinstance(drawer, int)
    os.killpg(drawer, signal.SIGKILL)
    assert background.wait(out, timeout=60) == "interrupted"
    assert not (out / "report.html").exists()
    assert not (out / "plots").exists() or all(whole_png(b) for b in pngs(out).values())
    done = negsim("plot", str(out))
    assert done.returncode == 0, done.stderr
    assert background.state(out) == "complete" and len(pngs(out)) == 7 and (out / "report.html").is_file()
    assert leftovers(out) == []


def test_run_imports_neither_the_figures_nor_calibration(tmp_path: Path) -> None:
    """What a run returns after is not slowed by what it does not use: without --wait, the command
    imports neither matplotlib (the detached process draws) nor scipy.optimize (calibration's)."""
    program = (
        "import sys; from sim.cli import main; code = main(sys.argv[1:]); "
        "print(sorted(m for m in ('matplotlib', 'scipy.optimize', 'sim.runs.calibration') if m in sys.modules)); "
        "sys.exit(code)"
    )
    out = tmp_path / "out"
    argv = ["run", ISTANBUL, "-n", "200", "--out", str(out), "--quiet"]
    done = subprocess.run([sys.executable, "-c", program, *argv], env=DETACHED, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    expected = "[]" if background.can_detach() else "['matplotlib']"
    assert done.stdout.strip().splitlines()[-1] == expected
    assert background.wait(out, timeout=120) == "complete"  # and nothing left drawing after the test


def test_plot_clears_what_a_killed_drawing_was_writing(tmp_path: Path) -> None:
    """A drawing killed while it wrote report.html or manifest.json (under hidden temporary names)
    leaves them behind; ``plot``, holding the folder's lock, removes them as it draws again."""
    out = tmp_path / "out"
    assert main(["run", ISTANBUL, "-n", "200", "--jobs", "1", "--out", str(out), "--no-plots", "--quiet"]) == 0
    (out / ".report.html.k1ll3d.tmp").write_text("<html><body>half")
    (out / ".manifest.json.k1ll3d.tmp").write_text('{"kind": ')
    assert main(["plot", str(out)]) == 0
    assert leftovers(out) == [] and manifest(out)["figures"] == "complete"


def test_the_characters_said_drawn_without_a_font_check_are_in_dejavu_sans() -> None:
    """sim/views/glyphs.py spares the command the font check for text made of DRAWN's characters:
    each of them (assigned, printable) must be in the font the figures use first."""
    import unicodedata

    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    from sim.views.glyphs import DRAWN, surely_drawn

    font = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans"), fallback_to_default=False)
    charmap = FT2Font(font).get_charmap()
    said = [chr(c) for a, b in DRAWN for c in range(a, b + 1)]
    printable = [c for c in said if unicodedata.category(c) not in ("Cn", "Cc", "Cs", "Co") and not c.isspace()]
    assert len(printable) > 1000 and [c for c in printable if ord(c) not in charmap] == []
    assert surely_drawn(["Istanbul – переговоры ≤ 5 €"]) and not surely_drawn(["中俄 talks"])
