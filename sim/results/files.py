"""The plain formats of result folders: JSON and CSV text, folder names, provenance."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
import math
import os
import platform
import sys
from collections.abc import Iterable, Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from sim.errors import UserError
from sim.scenario.documents import load_document

STAMP = "%Y%m%dT%H%M%SZ"
"""UTC time stamps in folder names: sortable, and valid on every file system."""


def json_text(data: Any) -> str:
    """Indented JSON with a final newline; NaN is refused (missing values are null)."""
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""How a spreadsheet recognises a formula: a text cell starting so is opened as one."""


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _is_number(value):
        return "'" + value  # text, never a live formula (=HYPERLINK(...) in a title)
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV with a header row and ``\\n`` line ends; missing values (None, NaN) are empty cells,
    booleans are ``true``/``false``, and text that a spreadsheet would run as a formula is quoted
    with a leading apostrophe, as spreadsheet users expect."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow([_cell(v) for v in row])
    return buf.getvalue()


def stamped_folder(parent: str | os.PathLike[str], prefix: str = "") -> Path:
    """``parent/<prefix><UTC time stamp>``, made unique with ``-2``, ``-3``... if it exists."""
    stamp = prefix + dt.datetime.now(dt.timezone.utc).strftime(STAMP)
    base = Path(parent)
    out = base / stamp
    i = 2
    while out.exists():
        out = base / f"{stamp}-{i}"
        i += 1
    return out


def versions() -> dict[str, str]:
    """Versions of Python, negsim and the libraries that shape its numbers."""
    out = {"python": platform.python_version()}
    for dist in ("negsim", "numpy", "scipy", "simpy", "pydantic", "pyarrow", "matplotlib", "PyYAML"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def read_json(path: Path, what: str = "file") -> Any:
    """A JSON file negsim wrote, read as untrusted input: size, encoding, depth and syntax checked,
    every failure one line naming the file."""
    doc = load_document(path)
    return doc.data


def read_manifest(folder: Path) -> dict[str, Any]:
    """A folder's manifest.json (empty if there is none); it must be a mapping."""
    path = folder / "manifest.json"
    if not path.is_file():
        return {}
    data = read_json(path)
    if not isinstance(data, dict):
        raise UserError(f"{path}: not a manifest (a mapping of fields)")
    return data


def read_parquet(path: Path, columns: list[str] | None = None) -> Any:
    """A Parquet file of a result folder; a damaged or foreign file is one line naming it."""
    import pyarrow.parquet as pq

    with _damaged(path):
        return pq.ParquetFile(path).read(columns=columns)  # not read_table: it imports pyarrow.dataset


@contextlib.contextmanager
def _damaged(path: Path) -> Iterator[None]:
    """pyarrow's errors on reading ``path`` as one line naming it (a missing file, or a damaged or
    foreign one)."""
    try:
        yield
    except OSError as exc:
        if not path.is_file():
            raise UserError(f"{path}: missing") from None
        raise UserError(f"{path}: not a readable Parquet file ({str(exc)[:80]})") from None
    except Exception as exc:  # pyarrow raises many kinds on a damaged file
        raise UserError(f"{path}: not a readable Parquet file ({type(exc).__name__})") from None


_NUMPY = {
    **{f"{k}{b}": f"{k}{b}" for k in ("int", "uint") for b in (8, 16, 32, 64)},
    "float": "float32",
    "double": "float64",
    "bool": "bool",
}
"""Arrow's names of the fixed-width types negsim writes, and their numpy dtypes."""


def numpy_of(values: Any, fill: Any = None) -> Any:
    """An Arrow array or chunked array as a numpy array, read from its buffers: pyarrow's own
    ``to_numpy`` and ``fill_null`` import pandas on first use (45 MB and a fifth of a second for every
    command that reads a folder). Nulls become ``fill`` where it is given; other nulls, and types negsim
    does not write, take pyarrow's way."""
    import numpy as np

    if hasattr(values, "chunks"):
        parts = [numpy_of(c, fill) for c in values.chunks]
        if len(parts) == 1:
            return parts[0]
        return np.concatenate(parts) if parts else np.empty(0, _NUMPY.get(str(values.type), "float64"))
    kind = _NUMPY.get(str(values.type))
    if kind is None or (values.null_count and fill is None):
        return (values if fill is None else values.fill_null(fill)).to_numpy(zero_copy_only=False)
    validity, data = values.buffers()[:2]
    out = _bits(data, values.offset, len(values)) if kind == "bool" else _fixed(data, kind, values.offset, len(values))
    if values.null_count:
        out = out.copy()
        out[~_bits(validity, values.offset, len(values))] = fill
    return out


def _bits(buffer: Any, at: int, n: int) -> Any:
    """``n`` bits of an Arrow bitmap from bit ``at``, as booleans."""
    import numpy as np

    if not n:
        return np.empty(0, bool)
    return np.unpackbits(np.frombuffer(buffer, np.uint8), bitorder="little")[at : at + n].astype(bool)


def _fixed(buffer: Any, kind: str, at: int, n: int) -> Any:
    """``n`` values of a fixed-width Arrow buffer from value ``at`` (a read-only view)."""
    import numpy as np

    if not n:
        return np.empty(0, kind)
    return np.frombuffer(buffer, kind, count=n, offset=at * np.dtype(kind).itemsize)


def read_batches(path: Path, columns: list[str] | None = None) -> Iterator[Any]:
    """The record batches of some columns of a Parquet file, row group by row group (memory for a
    row group, not the file); a damaged file is one line naming it."""
    import pyarrow.parquet as pq

    with _damaged(path):
        pf = pq.ParquetFile(path, pre_buffer=False)
        for g in range(pf.metadata.num_row_groups):
            yield from pf.read_row_group(g, columns=columns, use_threads=False).to_batches()
    give_back()


def read_column(path: Path, name: str, fill: Any, dtype: Any) -> Any:
    """One column of a Parquet file as a numpy array (nulls as ``fill``), read row group by row
    group into the final array, so that a million replications take the array's size, not three."""
    import numpy as np
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path, pre_buffer=False)
        out = np.empty(pf.metadata.num_rows, dtype=dtype)
        at = 0
        for g in range(pf.metadata.num_row_groups):
            column = pf.read_row_group(g, columns=[name], use_threads=False).column(0)
            if fill is None and column.null_count:  # a value every row has
                row = at + int(np.flatnonzero(numpy_of(column.is_null()))[0])
                raise UserError(f"{path}: column '{name}', row {row}: missing (every row has one)")
            chunk = numpy_of(column, fill)
            if out.dtype.kind in "iu" and chunk.size and chunk.dtype.kind in "iu":
                low, high = np.iinfo(out.dtype).min, np.iinfo(out.dtype).max
                if int(chunk.min()) < low or int(chunk.max()) > high:  # never wrapped round silently
                    row = at + int(np.flatnonzero((chunk < low) | (chunk > high))[0])
                    raise UserError(f"{path}: column '{name}', row {row}: beyond the {out.dtype} negsim writes")
            out[at : at + chunk.size] = chunk
            at += chunk.size
    except UserError:
        raise
    except Exception as exc:  # pyarrow raises many kinds on a damaged file
        raise UserError(f"{path}: not a readable Parquet file ({type(exc).__name__})") from None
    give_back()
    return out


def give_back() -> None:
    """Return to the system the memory freed since: pyarrow's allocator and the C library's keep freed
    pages for reuse, 80 and 90 MiB of them after reading a million replications' columns one by one."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc() -> Any:
    """The GNU C library, for ``malloc_trim`` (None elsewhere: other systems' allocators are left alone)."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _libc() if sys.platform.startswith("linux") else None


def read_parquet_schema(path: Path) -> list[str]:
    """The column names of a Parquet file."""
    return list(read_schema(path).names)


def read_schema(path: Path) -> Any:
    """The Arrow schema of a Parquet file."""
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path).schema_arrow
    except Exception as exc:  # pyarrow raises many kinds on a damaged file
        raise UserError(f"{path}: not a readable Parquet file ({type(exc).__name__})") from None


def manifest_of(kind: str, **fields: Any) -> dict[str, Any]:
    """A folder's manifest: its format, its kind (what ``--force`` may replace it with), what made
    it, and the versions of what shaped its numbers."""
    return {"format": 1, "kind": kind, **fields, "versions": versions()}


def sha256_file(path: str | os.PathLike[str]) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
