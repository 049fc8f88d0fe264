"""Reading YAML and JSON input safely, keeping the line of every field.

Only plain data is ever built (no YAML tag constructs a Python object). Booleans follow
YAML 1.2 (``true``/``false`` only), so keys such as ``on`` or ``no`` stay strings. Every key
of a mapping is a name, kept as written: ``2025-01-01:``, ``true:`` or ``~:`` are the text
``'2025-01-01'``, ``'true'`` and ``'~'``, never a date, a boolean or nothing.
Duplicate keys, alias bombs (by node count and by expanded size), deep nesting, huge files,
undecodable text, lone surrogates, numbers of absurd length, two merge keys in one mapping and
sets (whose order would change from run to run) are user errors.
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
MAX_DIGITS = 1000
"""Longest whole number read (in digits): far beyond the range of any field (the largest, a seed, has
20 digits), and below Python's own limit on reading integers (4,300 digits), which would be a crash."""

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


_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_SET = "tag:yaml.org,2002:set"
_INT = "tag:yaml.org,2002:int"


def _as_written(key_node: yaml.Node) -> yaml.Node:
    """A scalar key as the text written (``2025-01-01``, ``true``, ``~``, ``1``): every key is a name."""
    if isinstance(key_node, yaml.ScalarNode) and key_node.tag not in (_STR, _MERGE):
        return yaml.ScalarNode(_STR, key_node.value, key_node.start_mark, key_node.end_mark, key_node.style)
    return key_node


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans and numbers, keys as written, duplicate-key and bad-date detection."""

    yaml_implicit_resolvers = {  # noqa: RUF012 - PyYAML's own class attribute
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in _YAML11]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(
                    None, None, "a key must be a plain value, not a list or mapping", key_node.start_mark
                )
            key = str(key_node.value)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key '{key}'", key_node.start_mark)
            seen.add(key)
        self.flatten_mapping(node)  # merge keys first, so that the keys they bring are kept as written too
        node.value = [(_as_written(k), v) for k, v in node.value]
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


class Refused(Exception):
    """Something in a document's content that no field may hold, located: raised while walking it."""

    def __init__(self, path: PathKey, line: int, message: str) -> None:
        super().__init__(message)
        self.path, self.line, self.message = path, line, message

    def error(self, name: str) -> UserError:
        where = f"{name}:{self.line}"
        return UserError(
            f"{where}: {format_path(self.path)}: {self.message}" if self.path else f"{where}: {self.message}"
        )


_SURROGATE = re.compile("[\ud800-\udfff]")


def surrogate_problem(text: str) -> str | None:
    """What is wrong with text holding a lone surrogate (half of a UTF-16 pair, not a character,
    which no file can be written with), or None if it holds none."""
    found = _SURROGATE.search(text)
    if found is None:
        return None
    return f"holds \\u{ord(found[0]):04x}, half of a UTF-16 surrogate pair, which is not a character: remove it"


def expanded_size(node: yaml.Node, sizes: dict[int, int] | None = None) -> int:
    """About how many characters a node takes written out with its aliases expanded: its scalars'
    text, and a few characters of punctuation and indentation for each (each node once, however
    often aliases repeat it)."""
    sizes = {} if sizes is None else sizes
    if id(node) not in sizes:
        if isinstance(node, yaml.ScalarNode):
            size = len(node.value) + 4
        elif isinstance(node, yaml.MappingNode):
            size = 2 + sum(expanded_size(k, sizes) + expanded_size(v, sizes) for k, v in node.value)
        else:
            size = 2 + sum(expanded_size(item, sizes) for item in node.value)
        sizes[id(node)] = size
    return sizes[id(node)]


class _Walk:
    """Records the line of every field, counting the nodes with aliases expanded, and refuses what no
    field may hold (a set, two merge keys in one mapping, a number of absurd length)."""

    def __init__(self, max_nodes: int) -> None:
        self.lines: dict[PathKey, int] = {}
        self.nodes = max_nodes

    def __call__(self, node: yaml.Node, path: PathKey) -> None:
        self.nodes -= 1
        if self.nodes < 0:
            raise UserError("too many YAML nodes after alias expansion")
        if len(path) > MAX_DEPTH:
            raise UserError(f"nested more than {MAX_DEPTH} levels deep")
        line = node.start_mark.line + 1
        if node.tag == _SET:
            raise Refused(
                path,
                line,
                "a set (!!set) has no order, so what negsim writes would change from run to run: write a list",
            )
        if isinstance(node, yaml.ScalarNode):
            digits = len(node.value.lstrip("+-"))
            if node.tag == _INT and digits > MAX_DIGITS:
                raise Refused(path, line, f"a number written with {digits:,} digits is beyond the range of every field")
        elif isinstance(node, yaml.MappingNode):
            merges = [(k, v) for k, v in node.value if k.tag == _MERGE]
            if len(merges) > 1:
                raise Refused(
                    path,
                    merges[1][0].start_mark.line + 1,
                    "two merge keys ('<<') in one mapping: the second would silently replace values of the first; "
                    "merge both in one: '<<: [*first, *second]'",
                )
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE:
                    continue
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
                self.lines.setdefault((*path, key), key_node.start_mark.line + 1)
                self(value_node, (*path, key))
            for _, value_node in merges:  # the fields a merge brings, at their own lines (after the mapping's own)
                for merged in value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]:
                    self(merged, path)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self.lines.setdefault((*path, i), item.start_mark.line + 1)
                self(item, (*path, i))


def _walk(node: yaml.Node, path: PathKey, lines: dict[PathKey, int], budget: list[int]) -> None:
    """Record the line of every field, counting nodes with aliases expanded (for JSON's line map)."""
    walk = _Walk(budget[0])
    walk(node, path)
    lines.update({k: v for k, v in walk.lines.items() if k not in lines})


def _plain_text(data: Any, path: PathKey, lines: dict[PathKey, int]) -> Any:
    """The data with every text checked for lone surrogates: a pair written as two escapes
    (``"\\ud83d\\ude00"``) is the one character it encodes, a lone half is refused at its field."""

    def fix(text: str, at: PathKey, what: str = "") -> str:
        if surrogate_problem(text) is None:
            return text
        try:
            return text.encode("utf-16", "surrogatepass").decode("utf-16")
        except UnicodeDecodeError:
            line = Document("", None, lines).line(at)
            raise Refused(at if not what else at[:-1], line, f"{what}{surrogate_problem(text)}") from None

    if isinstance(data, str):
        return fix(data, path)
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            name = fix(key, (*path, key), "a key ") if isinstance(key, str) else key
            out[name] = _plain_text(value, (*path, key), lines)
        return out
    if isinstance(data, list):
        return [_plain_text(v, (*path, i), lines) for i, v in enumerate(data)]
    return data


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


def parse_yaml(text: str, name: str, *, max_nodes: int = MAX_NODES, max_bytes: int = MAX_FILE_BYTES) -> Document:
    """Parse YAML text into plain data and a line map; the document with its aliases expanded is
    held to ``max_nodes`` nodes and to ``max_bytes`` (the limit of the file itself)."""
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise UserError(f"{name}:{line}: unacceptable character #x{exc.character:04x} (not a text file?)") from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise UserError(f"{name}: the file is empty")
        walk = _Walk(max_nodes)
        walk.lines[()] = node.start_mark.line + 1
        walk(node, ())
        lines = walk.lines
        if expanded_size(node) > max_bytes:  # aliases may expand a small file into one negsim would refuse
            raise UserError(
                f"with its aliases expanded the document is more than {max_bytes:,} characters, the limit of a "
                "file (pass --allow-large to read it anyway)"
            )
        data = _plain_text(loader.construct_document(node), (), lines)
    except Refused as exc:
        raise exc.error(name) from None
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
    """Parse JSON text; line numbers (and the field of a refused value) come from a YAML reading of
    the same text when it allows."""
    lines: dict[PathKey, int] = {(): 1}
    try:
        node = yaml.compose(text, Loader=_Loader)
        if node is not None:
            _walk(node, (), lines, [MAX_NODES])
    except Refused as exc:
        raise exc.error(name) from None
    except (yaml.YAMLError, UserError, RecursionError):
        pass

    def whole(digits: str) -> int:
        if len(digits.lstrip("-")) > MAX_DIGITS:
            line = text[: text.find(digits)].count("\n") + 1
            raise Refused((), line, f"a number written with {len(digits):,} digits is beyond the range of every field")
        return int(digits)

    try:
        data = _plain_text(json.loads(text, object_pairs_hook=_no_duplicates, parse_int=whole), (), lines)
    except Refused as exc:
        raise exc.error(name) from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{name}:{exc.lineno}: JSON syntax error: {exc.msg}") from None
    except ValueError as exc:
        raise UserError(f"{name}: {exc}") from None
    except RecursionError:
        raise UserError(f"{name}: nested too deeply") from None
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
    return parse_yaml(text, name, max_bytes=max_bytes)


def to_plain(value: Any) -> Any:
    """Dates to ISO strings, tuples to lists: a structure ``yaml.safe_dump`` and JSON both take."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
