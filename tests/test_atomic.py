"""Writing without ever leaving half a result: temporary names, then renames."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sim.errors import UserError
from sim.results.atomic import alive, remove_stale, staged_folder, write_text


def test_write_text_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    """The file holds the new text; nothing else is left beside it."""
    target = tmp_path / "a.txt"
    target.write_text("old")
    write_text(target, "new\n")
    assert target.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_a_staged_folder_appears_only_when_complete(tmp_path: Path) -> None:
    """Inside the block the target does not exist; after it, it holds what was written."""
    target = tmp_path / "out"
    with staged_folder(target) as tmp:
        (tmp / "x").write_text("1")
        assert not target.exists()
    assert (target / "x").read_text() == "1"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_failure_leaves_the_previous_folder_untouched(tmp_path: Path) -> None:
    """An exception inside the block: the old folder stays exactly as it was, no temporary is left."""
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep").write_text("old")
    with pytest.raises(RuntimeError), staged_folder(target, force=True) as tmp:
        (tmp / "keep").write_text("new")
        raise RuntimeError("crash")
    assert (target / "keep").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_force_replaces_and_no_force_refuses(tmp_path: Path) -> None:
    """A non-empty folder is replaced only with force; an empty one is simply used."""
    target = tmp_path / "out"
    target.mkdir()
    with staged_folder(target):  # empty: fine
        pass
    (target / "old").write_text("1")
    with pytest.raises(UserError, match="pass --force"), staged_folder(target):
        pass
    with staged_folder(target, force=True) as tmp:
        (tmp / "new").write_text("2")
    assert [p.name for p in target.iterdir()] == ["new"]


def test_a_file_in_the_way_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("not a folder")
    with pytest.raises(UserError, match="not a folder"), staged_folder(tmp_path / "out", force=True):
        pass


def test_leftovers_of_dead_processes_are_removed_live_ones_kept(tmp_path: Path) -> None:
    """A killed run's temporary folder is cleared by the next run; a running one's is not."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    (tmp_path / f".out.{dead_pid}.partial-abc").mkdir()
    (tmp_path / f".out.{os.getpid()}.partial-def").mkdir()
    remove_stale(tmp_path / "out")
    assert [p.name for p in tmp_path.iterdir()] == [f".out.{os.getpid()}.partial-def"]


def test_a_folder_that_appeared_meanwhile_is_never_replaced(tmp_path: Path) -> None:
    """Without --force the final rename refuses a destination that another command filled meanwhile."""
    target = tmp_path / "out"
    with pytest.raises(UserError, match="appeared while"), staged_folder(target) as tmp:
        (tmp / "mine").write_text("1")
        target.mkdir()
        (target / "theirs").write_text("2")  # another negsim finished first
    assert [p.name for p in target.iterdir()] == ["theirs"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_force_replaces_only_folders_negsim_wrote_of_the_same_kind(tmp_path: Path) -> None:
    """--force replaces a run with a run; never a folder without a negsim manifest, never another kind."""
    import json

    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("years of work")
    with pytest.raises(UserError, match="not a folder negsim wrote"), staged_folder(home, force=True, kind="run"):
        pass
    run = tmp_path / "run"
    run.mkdir()
    (run / "items.parquet").write_text("records")
    (run / "manifest.json").write_text(json.dumps({"kind": "run"}))
    with pytest.raises(UserError, match="a negsim run folder"), staged_folder(run, force=True, kind="comparison"):
        pass
    with staged_folder(run, force=True, kind="run") as tmp:
        (tmp / "manifest.json").write_text(json.dumps({"kind": "run", "new": True}))
    assert json.loads((run / "manifest.json").read_text())["new"] is True
    assert (home / "thesis.tex").exists()


def test_symbolic_links_at_the_destination_are_refused(tmp_path: Path) -> None:
    """A link planted where results go (the folder or its parent) is not followed."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "name").symlink_to(elsewhere)
    with pytest.raises(UserError, match="symbolic link"), staged_folder(tmp_path / "results" / "name" / "run"):
        pass
    (tmp_path / "link").symlink_to(tmp_path / "missing")
    with pytest.raises(UserError, match="symbolic link"), staged_folder(tmp_path / "link"):
        pass
    assert list(elsewhere.iterdir()) == []


@pytest.fixture
def umask_027() -> Iterator[int]:
    """The process's umask set to 027 for the test (group may read, others nothing), then restored."""
    old = os.umask(0o027)
    try:
        yield 0o027
    finally:
        os.umask(old)


def modes(folder: Path) -> dict[str, int]:
    """The permission bits of a folder and of everything in it, by relative path."""
    found = {".": folder.stat().st_mode & 0o777}
    for p in folder.rglob("*"):
        found[str(p.relative_to(folder))] = p.stat().st_mode & 0o777
    return found


def test_staged_folders_and_files_follow_the_umask(tmp_path: Path, umask_027: int) -> None:
    """A staged folder and the files written in it get the modes any other new file gets (not 0700/0600)."""
    target = tmp_path / "out"
    with staged_folder(target) as tmp:
        write_text(tmp / "report.html", "<p>hello</p>\n")
        (tmp / "plots").mkdir()
        (tmp / "plots" / "a.png").write_bytes(b"png")
    assert modes(target) == {".": 0o750, "report.html": 0o640, "plots": 0o750, "plots/a.png": 0o640}
    with staged_folder(target, force=True) as tmp:  # replacing: the same
        write_text(tmp / "report.html", "<p>again</p>\n")
    assert modes(target) == {".": 0o750, "report.html": 0o640}
    write_text(target / "report.html", "<p>in place</p>\n")
    assert modes(target)["report.html"] == 0o640


def test_the_files_present_decide_a_folders_kind_not_its_manifest(tmp_path: Path) -> None:
    """A sweep whose manifest says "run" is still a sweep: run --force never replaces it."""
    import json

    from sim.results.atomic import folder_kind

    sweep = tmp_path / "sweep"
    sweep.mkdir()
    for name in ("sweep.yaml", "scenario.yaml", "points.parquet", "items.parquet"):
        (sweep / name).write_text("x")
    (sweep / "manifest.json").write_text(json.dumps({"kind": "run"}))
    assert folder_kind(sweep) is None  # the manifest and the files disagree: not trusted
    with pytest.raises(UserError, match="--force replaces only a run folder"), staged_folder(sweep, True, "run"):
        pass
    assert (sweep / "sweep.yaml").exists()
    (sweep / "manifest.json").write_text(json.dumps({"kind": "sweep"}))
    assert folder_kind(sweep) == "sweep"
    (sweep / "manifest.json").write_text(json.dumps({"format": 1}))  # no kind: the files say it
    assert folder_kind(sweep) == "sweep"
    run = tmp_path / "run"
    run.mkdir()
    (run / "items.parquet").write_text("x")
    (run / "manifest.json").write_text(json.dumps({"kind": "score"}))  # a run that claims to be a score
    assert folder_kind(run) is None
    (run / "manifest.json").write_text(json.dumps({"kind": "run"}))
    assert folder_kind(run) == "run"
    (run / "score.json").write_text("{}")  # two kinds' files at once: neither
    assert folder_kind(run) is None


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="zombies are read from /proc")
def test_a_process_that_ended_but_is_not_reaped_has_left_its_temporary_folder(tmp_path: Path) -> None:
    """A cancelled detached drawing ends before init reaps it; while it is a zombie, kill(pid, 0)
    still succeeds, so its .plots.PID.partial-* folder was kept beside the figures that replaced it
    (test_plot_cancels_a_drawing_in_progress_and_draws_them_itself failed so, now and then)."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    try:
        for _ in range(200):  # until it has exited (a zombie: this process has not waited for it)
            if Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] == b"Z":
                break
            time.sleep(0.01)
        left = tmp_path / f".out.{pid}.partial-x"
        left.mkdir()
        assert not alive(pid)
        remove_stale(tmp_path / "out")
        assert not left.exists()
        assert alive(os.getpid())
    finally:
        os.waitpid(pid, 0)
