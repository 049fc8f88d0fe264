"""Reading YAML and JSON safely, with the line of every field."""

from __future__ import annotations

import datetime as dt

import pytest

from sim.errors import UserError
from sim.scenario.documents import Document, format_path, parse_json, parse_yaml, to_plain

TEXT = """\
name: x
items:
  a:
    p: 0.5
    requires:
      - b
      - c
  b: {p: 1}
on: 2025-01-01
"""


def test_every_field_has_its_line() -> None:
    """Mappings and list entries are located; unknown paths fall back to their nearest parent."""
    doc = parse_yaml(TEXT, "f.yaml")
    assert doc.line(("items", "a", "p")) == 4
    assert doc.line(("items", "a", "requires", 1)) == 7
    assert doc.line(("items", "b", "p")) == 8
    assert doc.line(("items", "a", "nothing", "here")) == 3
    assert doc.line(()) == 1


def test_yaml_12_booleans_and_plain_data() -> None:
    """`on` and `no` stay keys and text; dates are dates; only true/false are booleans."""
    doc = parse_yaml("on: yes\nno: true\nwhen: 2025-02-27\n", "f.yaml")
    assert doc.data == {"on": "yes", "no": True, "when": dt.date(2025, 2, 27)}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\na: 2\n", "f.yaml:2: duplicate key 'a'"),
        ("a: [1, 2\n", "f.yaml:2: YAML syntax error"),
        ("a: !!python/object:os.system x\n", "f.yaml:1:"),
        ("", "the file is empty"),
    ],
)
def test_bad_yaml_is_a_located_user_error(text: str, message: str) -> None:
    with pytest.raises(UserError) as err:
        parse_yaml(text, "f.yaml") if text else parse_yaml("# nothing\n", "f.yaml")
    assert message in str(err.value)


def test_an_impossible_date_stays_text_for_its_field_to_report() -> None:
    assert parse_yaml("d: 2025-02-30\n", "f.yaml").data == {"d": "2025-02-30"}


def test_json_with_line_numbers_and_no_duplicates() -> None:
    doc = parse_json('{\n  "a": {\n    "b": 1\n  }\n}\n', "f.json")
    assert doc.data == {"a": {"b": 1}} and doc.line(("a", "b")) == 3
    with pytest.raises(UserError, match="duplicate key 'a'"):
        parse_json('{"a": 1, "a": 2}', "f.json")


def test_paths_and_plain_values() -> None:
    """Paths print as dotted names with [i] for list entries; dates and tuples become plain data."""
    assert format_path(("items", "x", "requires", 0)) == "items.x.requires[0]"
    assert to_plain({"d": dt.date(2025, 1, 2), "t": (1, 2), 3: None}) == {"d": "2025-01-02", "t": [1, 2], "3": None}
    assert Document("f", {}, {}).problem(("a",), "bad").__str__() == "f:1: a: bad"


def test_yaml_12_numbers() -> None:
    """No base-60 (1:30:3 stays text), no octal 010, 1e3 is a number, underscores are not digits."""
    doc = parse_yaml("a: 1:30:3\nb: 010\nc: 1e3\nd: 1_000\ne: 0x1F\nf: -.5\ng: .inf\n", "f.yaml")
    assert doc.data == {"a": "1:30:3", "b": 10, "c": 1000.0, "d": "1_000", "e": 31, "f": -0.5, "g": float("inf")}
