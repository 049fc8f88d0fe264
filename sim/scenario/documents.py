"""Reading YAML and JSON input safely, keeping the line of every field.

Only plain data is ever built (no YAML tag constructs a Python object). Booleans follow
YAML 1.2 (``true``/``false`` only), so keys such as ``on`` or ``no`` stay strings.
Duplicate keys, alias bombs, deep nesting, huge files and undecodable text are user errors.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sim.errors import Problem, UserError

MAX_FILE_BYTES = 1 << 20
"""Largest input file read without ``--allow-large``: scenario files are a few kilobytes."""
MAX_NODES = 100_000
"""Most YAML nodes after alias expansion: stops 'billion laughs' documents."""
MAX_DEPTH = 64
"""Deepest nesting accepted; real scenario files use five levels."""

PathKey = tuple[str | int, ...]


def format_path(path: PathKey) -> str:
    """``('items', 'x', 'requires', 0)`` -> ``items.x.requires[0]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass
class Document:
    """A parsed input file: plain data and the line where each field path starts."""

    file: str
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line(self, path: PathKey) -> int:
        """Line of the field at ``path``, or of its nearest enclosing field."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def problem(self, path: PathKey, message: str) -> Problem:
        return Problem(self.file, self.line(path), format_path(path), message)


_YAML11 = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
"""YAML 1.1 scalars PyYAML resolves that YAML 1.2 does not: yes/no/on/off booleans, base-60
numbers (``1:30:3`` would be 5403), octal ``010`` (8), ``1_000``. Replaced by YAML 1.2's core schema."""
_INT12 = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT12 = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans and numbers, duplicate-key and bad-date detection."""

    yaml_implicit_resolvers = {  # noqa: RUF012 - PyYAML's own class attribute
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in _YAML11]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "a key must be a plain value, not a list or mapping", key_node.start_mark
                ) from None
            if duplicate:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key '{key}'", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        # A date that does not exist (2025-02-30) stays text, so that the field that holds it
        # reports it with its path.
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            return str(node.value)


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", _INT12, list("-+0123456789"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT12, list("-+.0123456789"))


def _yaml12_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if text.startswith("0x"):
        return int(text[2:], 16)
    if text.startswith("0o"):
        return int(text[2:], 8)
    return int(text, 10)


def _yaml12_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    text = str(loader.construct_scalar(node)).lower()
    if text.endswith(".inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    if text == ".nan":
        return float("nan")
    return float(text)


_Loader.add_constructor("tag:yaml.org,2002:int", _yaml12_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _yaml12_float)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def read_text(path: str | os.PathLike[str], *, max_bytes: int = MAX_FILE_BYTES) -> str:
    """Read a UTF-8 text file, turning every way it can fail into a UserError."""
    name = str(path)
    p = Path(path)
    if not p.exists():
        raise UserError(f"{name}: no such file")
    if p.is_dir():
        raise UserError(f"{name}: is a directory, not a file")
    if not p.is_file():  # a FIFO would wait for a writer forever, /dev/zero never ends
        raise UserError(f"{name}: not a regular file (a pipe, a device or a socket); give a scenario file")
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise UserError(
                f"{name}: file is {size:,} bytes, more than the limit of {max_bytes:,} "
                "(pass --allow-large to read it anyway)"
            )
        raw = p.read_bytes()
    except OSError as exc:
        raise UserError(f"{name}: cannot read ({exc.strerror or exc})") from None
    if len(raw) > max_bytes:
        raise UserError(f"{name}: file is more than the limit of {max_bytes:,} bytes")
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise UserError(f"{name}:{line}: binary data, not a text file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UserError(f"{name}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None


def _walk(node: yaml.Node, path: PathKey, lines: dict[PathKey, int], budget: list[int]) -> None:
    """Record the line of every field, counting nodes with aliases expanded."""
    budget[0] -= 1
    if budget[0] < 0:
        raise UserError("too many YAML nodes after alias expansion")
    if len(path) > MAX_DEPTH:
        raise UserError(f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            lines.setdefault((*path, key), key_node.start_mark.line + 1)
            _walk(value_node, (*path, key), lines, budget)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.setdefault((*path, i), item.start_mark.line + 1)
            _walk(item, (*path, i), lines, budget)


def _yaml_error(name: str, exc: yaml.YAMLError) -> UserError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    text = f"{context}; {problem}" if context and "duplicate" not in str(problem) else str(problem)
    if isinstance(exc, yaml.reader.ReaderError):
        return UserError(f"{name}: unacceptable character #x{exc.character:04x} (not a text file?)")
    label = "" if isinstance(exc, yaml.constructor.ConstructorError) else "YAML syntax error: "
    if mark is not None:
        return UserError(f"{name}:{mark.line + 1}: {label}{text}")
    return UserError(f"{name}: YAML syntax error: {text}")


def parse_yaml(text: str, name: str, *, max_nodes: int = MAX_NODES) -> Document:
    """Parse YAML text into plain data and a line map."""
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise UserError(f"{name}:{line}: unacceptable character #x{exc.character:04x} (not a text file?)") from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise UserError(f"{name}: the file is empty")
        lines: dict[PathKey, int] = {(): node.start_mark.line + 1}
        _walk(node, (), lines, [max_nodes])
        data = loader.construct_document(node)
    except UserError as exc:
        if str(exc).startswith(name):
            raise
        raise UserError(f"{name}: {exc}") from None
    except yaml.YAMLError as exc:
        raise _yaml_error(name, exc) from None
    except RecursionError:
        raise UserError(f"{name}: nested too deeply") from None
    finally:
        loader.dispose()
    return Document(name, data, lines)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key '{key}'")
        out[key] = value
    return out


def parse_json(text: str, name: str) -> Document:
    """Parse JSON text; line numbers come from a YAML reading of the same text when it allows."""
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise UserError(f"{name}:{exc.lineno}: JSON syntax error: {exc.msg}") from None
    except ValueError as exc:
        raise UserError(f"{name}: {exc}") from None
    except RecursionError:
        raise UserError(f"{name}: nested too deeply") from None
    lines: dict[PathKey, int] = {(): 1}
    try:
        node = yaml.compose(text, Loader=_Loader)
        if node is not None:
            _walk(node, (), lines, [MAX_NODES])
    except (yaml.YAMLError, UserError, RecursionError):
        pass
    if _depth(data) > MAX_DEPTH:
        raise UserError(f"{name}: nested more than {MAX_DEPTH} levels deep")
    return Document(name, data, lines)


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def load_document(path: str | os.PathLike[str], *, max_bytes: int = MAX_FILE_BYTES) -> Document:
    """Read and parse a YAML or JSON file (chosen by extension) into a Document."""
    name = str(path)
    text = read_text(path, max_bytes=max_bytes)
    if not text.strip():
        raise UserError(f"{name}: the file is empty")
    if name.lower().endswith(".json"):
        return parse_json(text, name)
    return parse_yaml(text, name)


def to_plain(value: Any) -> Any:
    """Dates to ISO strings, tuples to lists: a structure ``yaml.safe_dump`` and JSON both take."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
