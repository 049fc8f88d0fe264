"""A run folder's figures drawn after the command returns: the folder's lock, the state its
manifest records, and the detached process that draws.

Drawing a run's figures takes most of the time of ``negsim run`` (seven PNGs, about a second on
two cores). So ``run`` renames its folder into place with every data file in it and returns, and a
process it started beforehand, detached from the terminal (its own session, its output sent to
/dev/null), reads the folder and draws ``plots/`` and ``report.html`` into it, as ``negsim plot``
would. Nothing half-drawn is ever
visible: ``plots/`` is built under a hidden name and renamed into place whole, ``report.html`` and
``manifest.json`` are written under temporary names and renamed.

``manifest.json`` says where the figures are (``figures``):

* ``complete``: ``plots/`` and ``report.html`` are final;
* ``drawing``: the detached process ``figures_pid`` is drawing them (``interrupted`` from
  :func:`state` when no process holds the folder's lock: it died before finishing);
* ``failed``: drawing failed (``figures_error`` says why); ``negsim plot`` draws them again;
* ``none``: the run was made with ``--no-plots``.

A folder written by an earlier negsim has no such field.

The lock is an exclusive ``flock`` on the folder itself (it moves with the folder when it is
renamed), held by the process that draws, so a script can wait for the figures with
``flock FOLDER true`` or :func:`wait`. ``negsim plot`` and ``run --force`` take it before they
draw or replace the folder, cancelling a detached drawing first (its figures are about to be drawn
again or thrown away), so they never race one.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sim.results.atomic import write_text
from sim.results.files import json_text

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock; figures are drawn before returning
    fcntl = None  # type: ignore[assignment]

COMPLETE, DRAWING, FAILED, NONE, INTERRUPTED = "complete", "drawing", "failed", "none", "interrupted"
PATIENCE = 10.0
"""Seconds a cancelled drawing is given to stop cleanly before it is killed."""


# ---------------------------------------------------------------------- the state in manifest.json


def _manifest(folder: Path) -> dict[str, Any]:
    """The folder's manifest as negsim wrote it; empty if it is missing or not a mapping."""
    try:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def with_state(manifest: dict[str, Any], figures: str, error: str | None = None) -> dict[str, Any]:
    """``manifest`` saying ``figures`` (and why drawing failed), without a drawing process's id."""
    out = {k: v for k, v in manifest.items() if k not in ("figures", "figures_pid", "figures_error")}
    out["figures"] = figures
    if error is not None:
        out["figures_error"] = error
    return out


def set_state(folder: Path, figures: str, error: str | None = None) -> None:
    """Record the figures' state in ``folder/manifest.json`` (atomically). Only the holder of the
    folder's lock writes it; a folder whose manifest says nothing of figures (an earlier negsim's)
    is left as it is."""
    made = _manifest(folder)
    if "figures" in made:
        write_text(folder / "manifest.json", json_text(with_state(made, figures, error)))


def state(folder: Path) -> str | None:
    """What ``folder/manifest.json`` says of the figures (None: it says nothing), or ``interrupted``
    when it says ``drawing`` but no process holds the folder's lock (the drawing died)."""
    said = _manifest(folder).get("figures")
    if said == DRAWING and fcntl is not None:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            free = _try(fd)
        finally:
            os.close(fd)  # releases it at once
        if free:  # read again: the drawing may have finished meanwhile
            said = _manifest(folder).get("figures")
            said = INTERRUPTED if said == DRAWING else said
    return said if isinstance(said, str) else None


def _holder(folder: Path) -> int | None:
    """The detached drawing process the manifest names, if it is still there (a detached drawer
    leads its own session, which the process of a reused id almost never does)."""
    made = _manifest(folder)
    pid = made.get("figures_pid")
    if made.get("figures") != DRAWING or not isinstance(pid, int) or isinstance(pid, bool) or pid <= 1:
        return None
    try:
        return pid if os.getsid(pid) == pid else None
    except (ProcessLookupError, PermissionError):
        return None


# ---------------------------------------------------------------------- the lock


def _try(fd: int) -> bool:
    """Take the lock on ``fd`` if it is free; whether it was taken (released at once by state())."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _same(fd: int, folder: Path) -> bool:
    """Whether ``fd`` is still the folder at ``folder`` (``run --force`` may have replaced it)."""
    try:
        a, b = os.fstat(fd), os.stat(folder)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _cancel(folder: Path, fd: int) -> None:
    """Stop the detached drawing that holds ``fd``'s lock, then wait for the lock (any other holder,
    a ``plot`` in the foreground, is waited for)."""
    pid = _holder(folder)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)  # the drawer and its drawing processes
        end = time.monotonic() + PATIENCE
        while time.monotonic() < end:
            if _try(fd):
                return
            time.sleep(0.01)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    fcntl.flock(fd, fcntl.LOCK_EX)


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s lock (an existing folder), cancelling a detached drawing of its figures first."""
    if fcntl is None or not folder.is_dir():
        yield
        return
    while True:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            if not _try(fd):
                _cancel(folder, fd)
            if _same(fd, folder):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # replaced while we waited: lock the folder that is there now
    try:
        yield
    finally:
        os.close(fd)


def wait(folder: Path, timeout: float | None = None) -> str | None:
    """Wait until no process draws ``folder``'s figures (at most ``timeout`` seconds); return
    :func:`state` then. For scripts: ``flock FOLDER true`` does the same in a shell."""
    if fcntl is None:
        return state(folder)
    end = None if timeout is None else time.monotonic() + timeout
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        while not _try(fd):
            if end is not None and time.monotonic() >= end:
                break
            time.sleep(0.02)
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    return state(folder)


# ---------------------------------------------------------------------- the detached process


class Detached:
    """A new Python process, started now, that runs ``program`` with ``argv`` and the numbers of two
    descriptors it inherits: the lock of the folder being built (``staged``), so that the folder is
    locked from the moment it appears, and a pipe on which :func:`serve` waits to be told to go
    once the folder is in place (it ends without doing anything if it is not).

    A fresh interpreter rather than a fork: it inherits no pipe or process of this one (a fork would
    keep the worker pool's forkserver and resource tracker, and with them the terminal's or a pipe's
    output, open until the figures are drawn), and works the same from any thread. Its own session,
    /dev/null for input and output: Ctrl-C and a shell's job control leave it be, and a pipe reading
    negsim's output ends when negsim does. Its process id is in :attr:`fields`, for the manifest.
    """

    def __init__(self, staged: Path, program: str, argv: list[str]) -> None:
        lock = os.open(staged, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self._write = -1
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            read, self._write = os.pipe()
            try:
                os.set_inheritable(lock, True)
                os.set_inheritable(read, True)
                quiet = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
                command = [sys.executable, "-c", program, *argv, str(lock), str(read)]
                self.pid = os.posix_spawn(sys.executable, command, os.environ, file_actions=quiet, setsid=True)
            finally:
                os.close(read)
        except BaseException:
            self.abandon()
            raise
        finally:
            os.close(lock)  # the new process's copy holds the lock now

    @property
    def fields(self) -> dict[str, Any]:
        """What the manifest says while the figures are drawn."""
        return {"figures": DRAWING, "figures_pid": self.pid}

    def go(self) -> None:
        """The folder is in place: draw."""
        if self._write >= 0:
            with contextlib.suppress(BrokenPipeError):  # it has ended already
                os.write(self._write, b"g")
            self.abandon()

    def abandon(self) -> None:
        """Nothing to draw after all: the waiting process ends."""
        if self._write >= 0:
            os.close(self._write)
            self._write = -1

    def __enter__(self) -> Detached:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self.go() if kind is None else self.abandon()


def serve(read: int, final: Path, work: Callable[[], object]) -> int:
    """In the process :class:`Detached` started: wait to be told to go, then ``work`` (which draws
    into ``final``); the exit code. A failure is recorded in the manifest (``failed`` and why). The
    folder's lock is held until the process ends.

    A cancellation (SIGTERM, to the whole group) ends it and its drawing processes at once, by the
    signal's default action: every file is written under a temporary name and renamed, so nothing
    half-drawn is visible, and the ``plot`` or ``run --force`` that cancelled it clears what it
    left. (A Python handler would be inherited by the processes the drawing forks, and there it can
    wake a thread other than the one waiting for work, which then waits for ever: the pool, ending
    them with SIGTERM, hung.)"""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        if os.read(read, 1) != b"g":
            return 0
        os.close(read)
        work()
    except Exception as exc:
        with contextlib.suppress(Exception):
            set_state(final, FAILED, f"{type(exc).__name__}: {exc}"[:500])
        return 1
    return 0


def can_detach() -> bool:
    """Whether figures can be drawn by a detached process here (flock and posix_spawn: Linux, macOS)."""
    return fcntl is not None and hasattr(os, "posix_spawn") and hasattr(os, "POSIX_SPAWN_OPEN")
