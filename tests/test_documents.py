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


def test_every_key_is_a_name_as_written() -> None:
    """Keys YAML would read as a date, a boolean, nothing or a number are the text written, merged ones too."""
    doc = parse_yaml("a: {2025-01-01: 1, true: 2, ~: 3, 1: 4}\nb: &b {no: 5, 0x10: 6}\nc: {<<: *b}\n", "f.yaml")
    assert doc.data["a"] == {"2025-01-01": 1, "true": 2, "~": 3, "1": 4}
    assert doc.data["c"] == {"no": 5, "0x10": 6}
    assert doc.line(("a", "~")) == 1
    with pytest.raises(UserError, match=r"f\.yaml:2: duplicate key '1'"):
        parse_yaml("1: a\n'1': b\n", "f.yaml")


def test_two_merge_keys_in_one_mapping_are_refused_at_the_second() -> None:
    """The second '<<' would silently replace values of the first; a merge list is the way to merge both."""
    text = "a: &a {p: 1}\nb: &b {p: 2}\nc:\n  <<: *a\n  <<: *b\n"
    with pytest.raises(UserError, match=r"^f.yaml:5: c: two merge keys \('<<'\) in one mapping"):
        parse_yaml(text, "f.yaml")
    doc = parse_yaml("a: &a {p: 1}\nb: &b {p: 2, q: 3}\nc:\n  <<: [*a, *b]\n  r: 4\n", "f.yaml")
    assert doc.data["c"] == {"p": 1, "q": 3, "r": 4} and doc.line(("c", "r")) == 5 and doc.line(("c", "q")) == 2


def test_a_set_is_refused_its_order_would_change_between_runs() -> None:
    with pytest.raises(UserError, match=r"^f.yaml:2: sources: a set \(!!set\) has no order"):
        parse_yaml("name: x\nsources: !!set {a: null, b: null}\n", "f.yaml")


def test_aliases_count_their_expanded_size_against_the_file_limit() -> None:
    """A small file whose aliases expand past the limit of a file is refused as that file would be."""
    text = "a: &a '" + "x" * 1000 + "'\nb: [" + ", ".join(["*a"] * 50) + "]\n"
    assert len(text) < 2000
    with pytest.raises(UserError, match="with its aliases expanded the document is more than 40,000 characters"):
        parse_yaml(text, "f.yaml", max_bytes=40_000)
    assert len(parse_yaml(text, "f.yaml", max_bytes=60_000).data["b"]) == 50


@pytest.mark.parametrize("parse", [parse_yaml, parse_json])
def test_a_lone_surrogate_is_refused_at_its_field_and_a_pair_is_its_character(parse: object) -> None:
    """Half of a UTF-16 pair is no character (it could never be written back); two halves are one character."""
    name = "f.json" if parse is parse_json else "f.yaml"
    with pytest.raises(UserError, match=rf"^{name}:2: a.b: holds \\ud800, half of a UTF-16 surrogate pair"):
        parse('{"x": 1,\n "a": {"b": "t\\ud800"}}', name)  # type: ignore[operator]
    with pytest.raises(UserError, match=rf"^{name}:2: a: a key holds \\udc00"):
        parse('{"x": 1,\n "a": {"\\udc00": 1}}', name)  # type: ignore[operator]
    assert parse('{"a": "\\ud83d\\ude00"}', name).data == {"a": "\U0001f600"}  # type: ignore[operator]


@pytest.mark.parametrize("parse", [parse_yaml, parse_json])
def test_a_number_of_thousands_of_digits_is_refused_at_its_field(parse: object) -> None:
    """Python refuses to read integers of more than 4,300 digits: that must be a message, not a crash."""
    name = "f.json" if parse is parse_json else "f.yaml"
    with pytest.raises(UserError, match=rf"^{name}:3: s.seed: a number written with 5,000 digits"):
        parse('{"x": 1,\n "s": {\n  "seed": ' + "9" * 5000 + "}}", name)  # type: ignore[operator]
