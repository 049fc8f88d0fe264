"""The plain formats of result folders: JSON and CSV text, folder names, provenance."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import os
import platform
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

STAMP = "%Y%m%dT%H%M%SZ"
"""UTC time stamps in folder names: sortable, and valid on every file system."""


def json_text(data: Any) -> str:
    """Indented JSON with a final newline; NaN is refused (missing values are null)."""
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV with a header row and ``\\n`` line ends; missing values (None, NaN) are empty cells and
    booleans are ``true``/``false``."""
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


def manifest_of(kind: str, **fields: Any) -> dict[str, Any]:
    """A folder's manifest: its format, its kind (what ``--force`` may replace it with), what made
    it, and the versions of what shaped its numbers."""
    return {"format": 1, "kind": kind, **fields, "versions": versions()}


def sha256_file(path: str | os.PathLike[str]) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
