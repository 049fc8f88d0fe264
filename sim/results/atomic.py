"""Writing without ever leaving half a result: temporary names, then renames.

A file is written beside its destination under a hidden temporary name and renamed into place.
A folder is built under a hidden ``.NAME.PID.partial-*`` name and renamed into place when
complete; replacing an existing folder (``--force``) swaps the two in one atomic step where the
system allows (Linux ``renameat2(RENAME_EXCHANGE)``), so a ``kill -9`` at any moment leaves
either the previous folder or the complete new one. ``--force`` replaces only a folder negsim
wrote, of the same kind (a run, a sweep, a comparison, a score); without it, the final rename
refuses to replace a folder that appeared meanwhile (``RENAME_NOREPLACE``), so of two commands
writing to the same place at once exactly one wins. Symbolic links at the destination are never
followed. Leftovers of killed runs are removed by the next run that writes to the same place.

Temporary names are made with ``mkstemp``/``mkdtemp``, which keep them private (0600, 0700) while
they are written; once complete they get the modes the user's umask gives any new file, like the
Parquet files and figures beside them, so that a colleague the umask lets in can open the report.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sim.errors import UserError

_RENAME_NOREPLACE = 1
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100

KINDS = {
    "run": "items.parquet",
    "sweep": "sweep.yaml",
    "comparison": "comparison.csv",
    "score": "score.json",
    "backtest": "backtest.json",
    "calibration": "calibration.json",
    "discovery": "discover.json",
}
"""The kinds of folder negsim writes, each with the file that marks folders written before
manifests said their kind."""


def umask() -> int:
    """The process's umask: read from /proc where the system has it, since setting the umask to read
    it changes it for every thread meanwhile."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def public(path: str | os.PathLike[str], folder: bool = False) -> None:
    """Give a file (or folder) made private by mkstemp (mkdtemp) the modes of any new file: 0666
    (0777) less the umask."""
    os.chmod(path, (0o777 if folder else 0o666) & ~umask())


def write_text(path: Path, text: str) -> None:
    """Write a file under a temporary name, then rename it into place (with the umask's modes)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        public(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _renameat2(a: Path, b: Path, flags: int) -> int | None:
    """``renameat2(a, b, flags)``: 0, or the errno; None where the system has no renameat2."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), flags) == 0:
        return 0
    return ctypes.get_errno() or -1


def alive(pid: int) -> bool:
    """Whether process ``pid`` is running (one of another user's counts). A process that has ended
    but is not yet reaped (a zombie: a detached drawing, say, whose parent has gone) has ended: it
    holds no lock and writes nothing more, so what it left may be cleared."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except FileNotFoundError:  # ended meanwhile, or no /proc (not Linux: kill's answer stands)
        return not os.path.isdir("/proc/self")
    except (OSError, IndexError):
        return True


def remove_stale(target: Path) -> None:
    """Remove temporary folders left beside ``target`` by runs that were killed."""
    if not target.parent.is_dir():
        return
    for p in target.parent.glob(f".{target.name}.*.partial-*"):
        try:
            pid = int(p.name[len(target.name) + 2 :].split(".")[0])
        except ValueError:
            continue
        if not alive(pid) and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)


def folder_kind(folder: Path) -> str | None:
    """The kind of negsim folder ``folder`` is (``run``, ``sweep``, ...), or None if negsim did not
    write it. The files present decide, not the manifest alone: a folder holding one kind's files
    and a manifest that names no other kind (a manifest is text anyone can edit, so a sweep whose
    manifest says "run" is not a run that ``run --force`` may replace)."""
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return None
    present = {kind for kind, marker in KINDS.items() if (folder / marker).is_file()}
    if "sweep" in present:
        present.discard("run")  # a finished sweep gathers its records in items.parquet too
    if len(present) != 1:
        return None
    (found,) = present
    try:
        if manifest.stat().st_size >= 1 << 20:
            return None
        claimed = json.loads(manifest.read_text(encoding="utf-8")).get("kind")
    except (OSError, ValueError, RecursionError, AttributeError):
        return None
    return found if claimed in (None, found) else None


def check_target(target: Path, force: bool, kind: str | None) -> bool:
    """Whether ``target`` may be written: True if it exists, holds something, and may be replaced.

    Refuses (exit 2) a symbolic link at the destination or its parent, a file in the way, a
    non-empty folder without ``force``, and with ``force`` a folder negsim did not write or wrote
    as another kind.
    """
    for p in (target, target.parent):
        if p.is_symlink():
            raise UserError(f"{p}: is a symbolic link; negsim does not write through links it did not make")
    if target.exists() and not target.is_dir():
        raise UserError(f"{target}: exists and is not a folder")
    if not target.is_dir() or not any(target.iterdir()):
        return False
    if not force:
        raise UserError(f"{target}: already exists and is not empty (pass --force to replace it)")
    found = folder_kind(target)
    if kind is not None and found != kind:
        what = f"a negsim {found} folder" if found else "not a folder negsim wrote"
        raise UserError(f"{target}: {what}; --force replaces only a {kind} folder, so it is kept")
    return True


def _make_parent(target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{target.parent}: cannot create the folder ({exc.strerror or exc})") from None


def make_temporary(target: Path) -> Path:
    """A hidden folder beside ``target`` to build it in, with the modes the umask gives new folders."""
    try:
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}.partial-"))
        public(tmp, folder=True)
        return tmp
    except OSError as exc:
        raise UserError(f"{target.parent}: cannot write there ({exc.strerror or exc})") from None


def place(tmp: Path, target: Path, replace: bool) -> None:
    """Rename the complete folder ``tmp`` to ``target``: swapped with the old one when ``replace``;
    otherwise refused if something appeared at ``target`` meanwhile."""
    if replace and target.exists():
        if _renameat2(tmp, target, _RENAME_EXCHANGE) == 0:
            shutil.rmtree(tmp, ignore_errors=True)  # now holds the previous folder
            return
        old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}.partial-old"))
        os.replace(target, old / "previous")
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
        return
    taken = f"{target}: appeared while this command was writing it (another negsim writing there?); it is kept"
    if target.is_dir() and not target.is_symlink():  # an empty folder: rename replaces it only while it stays empty
        try:
            os.rename(tmp, target)
        except OSError:
            raise UserError(taken) from None
        return
    done = _renameat2(tmp, target, _RENAME_NOREPLACE)
    if done is None or done in (errno.EINVAL, errno.ENOSYS):  # no renameat2 here: the next best thing
        if target.exists():
            raise UserError(taken)
        os.rename(tmp, target)
    elif done == errno.EEXIST or done == errno.ENOTEMPTY:
        raise UserError(taken)
    elif done != 0:
        raise OSError(done, os.strerror(done), str(target))


@contextlib.contextmanager
def staged_folder(target: Path, force: bool = False, kind: str | None = None) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``target`` only if the block completes.

    An existing non-empty ``target`` is an error unless ``force``, and then only a folder negsim
    wrote as ``kind`` is replaced, once the new folder is complete, in one atomic swap where the
    system allows.
    """
    replace = check_target(target, force, kind)
    _make_parent(target)
    remove_stale(target)
    tmp = make_temporary(target)
    try:
        yield tmp
        if replace:
            check_target(target, force, kind)  # still a folder of the right kind
        place(tmp, target, replace)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
