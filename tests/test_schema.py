"""negsim schema: the JSON Schemas offered to editors agree with negsim validate.

Every file validate accepts passes its schema (the bundled scenarios, backtest cases, observed files,
the benchmark scenario and every YAML example in the README); a file the schema refuses, validate
refuses too; and what validate refuses by its shape or range alone (p: 1.5, a negative interval, an
unknown key, a date that does not exist, a misspelt range) the schema refuses as well, so that an
editor flags it as it is typed. The schema is checked without a ``format`` checker: dates are
refused by their pattern, as an editor that ignores ``format: date`` would refuse them; and it is
read both as the draft it declares (2020-12) and as draft-07, which most editors implement.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, Draft202012Validator

from sim.cli import _file_kind, main
from sim.errors import UserError
from sim.results.observed import Observed
from sim.runs.sweep import MAX_POINTS, RANGE_PATTERN, SweepFile, parse_values
from sim.scenario.documents import load_document, parse_yaml, to_plain
from sim.scenario.models import Scenario
from sim.scenario.schema import DATE_PATTERN, json_schema
from tests.helpers import BASE, ROOT, SCENARIOS, merge

MODELS = {"scenario": Scenario, "study": SweepFile, "observed": Observed}
SCHEMAS = {kind: json_schema(model, f"negsim {kind} file") for kind, model in MODELS.items()}
VALIDATORS = {kind: Draft202012Validator(schema) for kind, schema in SCHEMAS.items()}
DRAFT_7 = {
    kind: Draft7Validator({**s, "$schema": "http://json-schema.org/draft-07/schema#"}) for kind, s in SCHEMAS.items()
}
"""The same schemas read as draft-07, the draft most editors' YAML language servers implement."""
CORPUS = ROOT / "tests" / "corpus"
TABLE = SCENARIOS / "backtests" / "table.yaml"

UNREADABLE = {
    "alias-bomb.yaml",
    "alias-expanded-size.yaml",
    "binary-garbage.yaml",
    "control-characters.yaml",
    "custom-include-tag.yaml",
    "deep-nesting.yaml",
    "duplicate-key.yaml",
    "duplicate-section.yaml",
    "empty-file.yaml",
    "json-duplicate-key.json",
    "json-trailing-comma.json",
    "not-utf8.yaml",
    "number-thousands-of-digits.yaml",
    "only-comments.yaml",
    "python-object-tag.yaml",
    "sweep-binary.yaml",
    "syntax-bad-indent.yaml",
    "syntax-colon-in-value.yaml",
    "syntax-multiple-documents.yaml",
    "syntax-tab-indent.yaml",
    "syntax-unclosed-bracket.yaml",
    "yaml-lone-surrogate.yaml",
    "yaml-set.yaml",
    "yaml-two-merge-keys.yaml",
}
"""Corpus files the YAML (or JSON) reader refuses before there is any data for a schema to judge:
syntax errors, duplicate keys, binary or non-UTF-8 bytes, tags, alias bombs (by count or by size),
empty files, numbers of thousands of digits, sets, two merge keys in one mapping, lone surrogates. An
editor's YAML parser flags most of these itself."""

BEYOND_SCHEMA = {
    "cycle-self.yaml": "a requires cycle",
    "cycle-two.yaml": "a requires cycle",
    "dangling-constraint.yaml": "a name that refers to another section",
    "dangling-impose.yaml": "a name that refers to another section",
    "dangling-party.yaml": "a name that refers to another section",
    "dangling-requires.yaml": "a name that refers to another section",
    "dangling-when-agreed.yaml": "a name that refers to another section",
    "date-before-start.yaml": "a date compared with calendar.start",
    "date-horizon-before-start.yaml": "a date compared with calendar.start",
    "dist-mode-outside.yaml": "one parameter compared with another (mode between low and high)",
    "dist-uniform-reversed.yaml": "one parameter compared with another (high below low)",
    "trust-bounds.yaml": "one field compared with another (trust.min above trust.max)",
    "range-interval-tiny.yaml": "the number of rounds in the horizon (the interval against the horizon)",
    "interval-gamma-tiny-shape.yaml": "the number of rounds in the horizon (what the interval's draws do)",
    "judgement-beta-nan.yaml": "a beta's a + b (one parameter added to another)",
    "judgement-beta-u-shaped.yaml": "what a distribution's draws do (a beta too U-shaped to compute)",
    "judgement-exponential-overflow.yaml": "what a distribution's draws do at its extremes",
    "judgement-lognormal-overflow.yaml": "what a distribution's draws do at its extremes",
    "judgement-normal-overflow.yaml": "what a distribution's draws do at its extremes",
    "judgement-triangular-overflow.yaml": "what a distribution's draws do at its extremes",
    "nonfinite-p-nan.yaml": "a non-finite number (.nan exists in YAML, not in JSON)",
    "nonfinite-rate-inf.yaml": "a non-finite number (.inf exists in YAML, not in JSON)",
    "sweep-invalid-point.yaml": "a point checked against the scenario it sweeps",
    "sweep-wrong-path.yaml": "a path checked against the scenario it sweeps",
}
"""Corpus files validate refuses for reasons no JSON Schema can express, which their schema accepts."""


def errors(kind: str, data: Any) -> list[str]:
    """The schema's complaints about a document's data, as an editor would see them (read as
    draft 2020-12 and as draft-07, the two readings agreeing)."""
    found = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATORS[kind].iter_errors(data)]
    assert bool(found) == (not DRAFT_7[kind].is_valid(data)), found
    return found


def plain(path: Path) -> Any:
    """A file's data as an editor sees it: dates as text (as in JSON), keys as text."""
    return to_plain(load_document(path).data)


def validate(path: Path | str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["validate", str(path)])
    return code, capsys.readouterr().err


def test_the_schemas_are_json_schemas_and_the_command_prints_them(capsys: pytest.CaptureFixture[str]) -> None:
    """negsim schema prints a valid draft 2020-12 JSON Schema of each kind of file."""
    for kind, schema in SCHEMAS.items():
        Draft202012Validator.check_schema(schema)
        assert main(["schema", kind]) == 0
        assert json.loads(capsys.readouterr().out) == schema


def properties(node: Any, where: str = "") -> list[tuple[str, Any]]:
    """Every field of a schema, (where, its schema): the properties of each object it describes,
    through definitions and choices (not the bounds that ``if``/``then`` cases add to them)."""
    out: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "object":
            out += [(f"{where}.{name}", field) for name, field in (node.get("properties") or {}).items()]
        for key, value in node.items():
            out += properties(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += properties(value, f"{where}[{i}]")
    return out


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_every_field_has_a_description(kind: str) -> None:
    """Every field of every schema (definitions included) says what it is, for an editor's hover."""
    fields = properties(SCHEMAS[kind])
    assert len(fields) >= 9
    bare = [where for where, field in fields if not field.get("description")]
    assert not bare, bare


def repository_files(*suffixes: str) -> list[Path]:
    """The repository's files with these suffixes, but the malformed corpus, test outputs and results."""
    out = []
    for folder, subfolders, names in os.walk(ROOT):
        subfolders[:] = [d for d in subfolders if not d.startswith(".") and d not in ("results", "golden", "corpus")]
        out += [Path(folder) / name for name in names if name.endswith(suffixes)]
    return sorted(out)


FILES = repository_files(".yaml", ".yml", ".json")


def test_every_repository_file_is_judged() -> None:
    """The files below are all of the repository's inputs; only reference-class tables, which have no
    `negsim schema` of their own, are left out."""
    kinds = {p: _file_kind(load_document(p).data) for p in FILES}
    assert {p.name for p, kind in kinds.items() if kind == "table"} == {"table.yaml"}
    assert len([p for p, kind in kinds.items() if kind == "scenario"]) >= 30
    assert len([p for p, kind in kinds.items() if kind == "observed"]) >= 30
    assert ROOT / "benchmarks" / "synthetic.yaml" in kinds


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_file_validate_accepts_passes_its_schema(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Bundled scenarios (table citations and regime values included), backtest cases, observed files."""
    kind = _file_kind(load_document(path).data)
    if kind == "table":
        pytest.skip("a reference-class table: not a kind negsim schema prints")
    code, err = validate(path, capsys)
    assert code == 0, err
    assert not errors(kind, plain(path))


def readme_examples() -> list[tuple[str, str]]:
    """Every fenced YAML block of the README and the other Markdown files, with where it is."""
    out = []
    for md in repository_files(".md"):
        text = md.read_text(encoding="utf-8")
        for m in re.finditer(r"^```ya?ml\n(.*?)^```", text, re.S | re.M):
            out.append((f"{md.relative_to(ROOT)}:{text[: m.start()].count(chr(10)) + 1}", m.group(1)))
    return out


EXAMPLES = readme_examples()


def whole(data: Any) -> str | None:
    """The kind of a whole file (a scenario with its name, a study, an observed file); None for a fragment."""
    if isinstance(data, dict) and ({"schema", "name"} <= set(data) or "parameters" in data or "as_of" in data):
        return _file_kind(data)
    return None


def test_the_readme_has_examples_of_both_kinds() -> None:
    """At least one whole file and several fragments, so that the test below judges something."""
    kinds = [whole(parse_yaml(text, where).data) for where, text in EXAMPLES]
    assert "study" in kinds and kinds.count(None) >= 3


@pytest.mark.parametrize(("where", "text"), EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_every_readme_example_passes_its_schema(
    where: str, text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A whole file passes validate and its schema. A fragment (a section or two, naming items defined
    elsewhere, so that validate cannot judge it alone) passes the scenario schema once set into a
    small scenario."""
    path = tmp_path / "example.yaml"
    path.write_text(text, encoding="utf-8")
    data = plain(path)
    kind = whole(data)
    if kind is None:
        assert not errors("scenario", merge(BASE, data))
        return
    code, err = validate(path, capsys)
    assert code == 0, err
    assert not errors(kind, data)


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.iterdir() if p.name != "expected.json"))
def test_the_schema_refuses_what_the_corpus_holds(name: str) -> None:
    """Every malformed corpus file (each refused by validate or sweep: tests/test_corpus.py) is refused by
    its schema, but those refused for what no JSON Schema can express, listed above."""
    expected = json.loads((CORPUS / "expected.json").read_text())[name]
    try:
        data = plain(CORPUS / name)
    except UserError:
        assert name in UNREADABLE
        return
    assert name not in UNREADABLE
    kind = "study" if expected.get("kind") == "sweep" else "scenario"
    if name in BEYOND_SCHEMA:
        assert not errors(kind, data), "the schema now refuses it: take it off BEYOND_SCHEMA"
    else:
        assert errors(kind, data)


def bundled(path: str) -> dict[str, Any]:
    return plain(SCENARIOS / path)


STUDY: dict[str, Any] = {"design": "grid", "parameters": {"trust.weight": [0.5, 1.0]}}


def changed(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """A copy with one field (a path such as ``items/flights/p``) set, or removed if the value is '-'."""
    out = copy.deepcopy(data)
    *parents, last = dotted.split("/")
    node = out
    for key in parents:
        node = node.setdefault(key, {})
    if value == "-":
        del node[last]
    else:
        node[last] = value
    return out


ISTANBUL = "istanbul-2025.yaml"
CUBA_OBSERVED = "backtests/cuba-2015/observed.yaml"
BETA = {"dist": "beta", "mean": 0.3, "concentration": 10}

REFUSED: list[tuple[str, str, str, Any]] = [
    ("scenario", ISTANBUL, "items/flights/p", 1.5),
    ("scenario", ISTANBUL, "items/flights/p", -0.1),
    ("scenario", ISTANBUL, "items/flights/p", True),
    ("scenario", ISTANBUL, "items/flights/p", "high"),
    ("scenario", ISTANBUL, "items/flights/p", {"dist": "normal", "mean": 0.3, "sd": 0.1}),
    ("scenario", ISTANBUL, "items/flights/p", {"dist": "uniform", "low": 0.5, "high": 1.5}),
    ("scenario", ISTANBUL, "items/flights/p", {"dist": "beta", "mean": 1.2, "concentration": 3}),
    ("scenario", ISTANBUL, "items/flights/p", {"dist": "beta", "a": 2, "b": 3, "mean": 0.4}),
    ("scenario", ISTANBUL, "items/flights/p", {"regime": {"decided": 1.5, "undecided": 0.1}}),
    ("scenario", ISTANBUL, "items/flights/p", {"row": 2}),
    ("scenario", ISTANBUL, "items/flights/accept", {"ru": 0.5}),
    ("scenario", ISTANBUL, "items/staffing/accept", {}),
    ("scenario", ISTANBUL, "items/flights/prority", 1),
    ("scenario", ISTANBUL, "items/flights/after_rounds", -1),
    ("scenario", ISTANBUL, "items/flights/after_rounds", 1.5),
    ("scenario", ISTANBUL, "items/flights/status", "done"),
    ("scenario", ISTANBUL, "items/flights/constraints/aviation", -0.5),
    ("scenario", ISTANBUL, "items/flights/constraints/aviation", "blocked"),
    ("scenario", ISTANBUL, "items/flights/constraints/aviation", {"dist": "normal", "mean": 1, "sd": 0.2}),
    ("scenario", ISTANBUL, "items/flights/hazard", -1),
    ("scenario", ISTANBUL, "items/fli ghts", {"p": 0.5}),
    ("scenario", ISTANBUL, "rounds/interval", -14),
    ("scenario", ISTANBUL, "rounds/interval", 0),
    ("scenario", ISTANBUL, "rounds/interval", {"dist": "fixed", "value": 0}),
    ("scenario", ISTANBUL, "rounds/interval", {"dist": "uniform", "low": -5, "high": 10}),
    ("scenario", ISTANBUL, "rounds/interval", {"dist": "triangle", "low": 21, "mode": 42, "high": 90}),
    ("scenario", ISTANBUL, "rounds/interval", {"dist": "gamma", "shape": 2}),
    ("scenario", ISTANBUL, "rounds/interval", {"dist": "uniform", "low": 1, "high": 2, "mode": 1.5}),
    ("scenario", ISTANBUL, "rounds/interval", {"dist": "normal", "mean": 30, "sd": 0}),
    ("scenario", ISTANBUL, "rounds/interval", {"dist": "exponential", "mean": 2e9}),
    ("scenario", ISTANBUL, "rounds/interval", "1:30"),
    ("scenario", ISTANBUL, "rounds/first", 40000),
    ("scenario", ISTANBUL, "rounds/cancel", 1.5),
    ("scenario", ISTANBUL, "rounds/capacity", 0),
    ("scenario", ISTANBUL, "events/escalation/rate", -1),
    ("scenario", ISTANBUL, "events/escalation/breakdown", 2),
    ("scenario", ISTANBUL, "events/escalation/suspend", -3),
    ("scenario", ISTANBUL, "events/prisoner_exchange/rate", "-"),
    ("scenario", ISTANBUL, "constraints/aviation/lift/p", "-"),
    ("scenario", ISTANBUL, "constraints/linkage/lift/rate", 0),
    ("scenario", ISTANBUL, "constraints/linkage/lift", {"when_agreed": []}),
    ("scenario", ISTANBUL, "constraints/aviation/active", "yes"),
    ("scenario", ISTANBUL, "regime/states/decided/share", 1.5),
    ("scenario", ISTANBUL, "regime/states/decided/odds", 0),
    ("scenario", ISTANBUL, "trust/weight", {"dist": "normal", "mean": 1, "sd": -1}),
    ("scenario", ISTANBUL, "simulation/seed", -1),
    ("scenario", ISTANBUL, "simulation/seed", 2**64),
    ("scenario", ISTANBUL, "simulation/replications", 0),
    ("scenario", ISTANBUL, "calendar/start", "2025-02-30"),
    ("scenario", ISTANBUL, "calendar/start", "2025-13-01"),
    ("scenario", ISTANBUL, "calendar/start", "10 April 2025"),
    ("scenario", ISTANBUL, "calendar/horizon", -5),
    ("scenario", ISTANBUL, "calendar/horizon", 0),
    ("scenario", ISTANBUL, "calendar/horizon", 100000),
    ("scenario", ISTANBUL, "calendar/horizon", "2026-02-29"),
    ("scenario", ISTANBUL, "calendar/milestones", ["2025-06-31"]),
    ("scenario", ISTANBUL, "name", "My Talks"),
    ("scenario", ISTANBUL, "schema", 2),
    ("scenario", ISTANBUL, "weather", "fine"),
    ("scenario", ISTANBUL, "table", 3),
    ("study", "", "parameters/trust.weight", "0:2"),
    ("study", "", "parameters/trust.weight", "0..2:3"),
    ("study", "", "parameters/trust.weight", "0:2:1"),
    ("study", "", "parameters/trust.weight", "0.5"),
    ("study", "", "parameters/trust.weight", {"from": 0, "to": 2, "point": 3}),
    ("study", "", "parameters/trust.weight", {"from": 0, "to": 2}),
    ("study", "", "parameters/trust.weight", {"from": "0", "to": 2, "points": 3}),
    ("study", "", "parameters/trust.weight", []),
    ("study", "", "parameters/trust.weight", [0.1, "high"]),
    ("study", "", "design", "random"),
    ("study", "", "samples", 0),
    ("study", "", "seed", True),
    ("study", "", "replications", "2000"),
    ("study", "", "sampels", 10),
    ("observed", CUBA_OBSERVED, "as_of", "2017-02-30"),
    ("observed", CUBA_OBSERVED, "items", {}),
    ("observed", CUBA_OBSERVED, "items/banking", "soon"),
    ("observed", CUBA_OBSERVED, "checkpoints", ["2016-01-01", "2016-01-01"]),
    ("observed", CUBA_OBSERVED, "base_rate/per_round", 1),
    (
        "observed",
        CUBA_OBSERVED,
        "forecasts",
        [{"source": "x", "made": "2015-01-01", "item": "banking", "by": "2016-01-01", "p": 1.5}],
    ),
    ("observed", CUBA_OBSERVED, "breakdwon", None),
]
"""Values validate refuses by their shape or range alone, each set into a valid file."""

ACCEPTED: list[tuple[str, str, str, Any]] = [
    ("scenario", ISTANBUL, "rounds/interval", 14),
    ("scenario", ISTANBUL, "rounds/interval", {"dist": "fixed", "value": 14}),
    ("scenario", ISTANBUL, "rounds/interval", {"dist": "uniform", "low": 0, "high": 30}),
    ("scenario", ISTANBUL, "rounds/interval", {"dist": "gamma", "shape": 4, "scale": 10}),
    ("scenario", ISTANBUL, "rounds/first", "2025-05-01"),
    ("scenario", ISTANBUL, "rounds/first", 30),
    ("scenario", ISTANBUL, "rounds/first", {"dist": "uniform", "low": 0, "high": 10}),
    ("scenario", ISTANBUL, "rounds/cancel", {"dist": "uniform", "low": 0, "high": 0.2}),
    ("scenario", ISTANBUL, "items/flights/p", 1),
    ("scenario", ISTANBUL, "items/flights/p", BETA),
    ("scenario", ISTANBUL, "items/flights/p", {"dist": "beta", "a": 2, "b": 5}),
    ("scenario", ISTANBUL, "items/flights/p", {"dist": "triangular", "low": 0, "mode": 0.2, "high": 1}),
    ("scenario", ISTANBUL, "items/flights/p", {"regime": {"decided": BETA, "undecided": 0.05}}),
    ("scenario", ISTANBUL, "items/flights/constraints/aviation", 0.5),
    ("scenario", ISTANBUL, "items/flights/constraints/aviation", {"dist": "gamma", "shape": 2, "scale": 0.5}),
    ("scenario", ISTANBUL, "items/flights/hazard", {"dist": "lognormal", "mu": 0, "sigma": 1}),
    ("scenario", ISTANBUL, "trust/weight", {"dist": "normal", "mean": -1, "sd": 0.3}),
    ("scenario", ISTANBUL, "constraints/linkage/lift", {"when_agreed": ["banking"]}),
    ("scenario", ISTANBUL, "calendar/horizon", 365),
    ("scenario", ISTANBUL, "calendar/horizon", "2028-02-29"),
    ("scenario", ISTANBUL, "simulation/seed", 2**64 - 1),
    ("scenario", ISTANBUL, "simulation/replications", 2000.0),
    ("scenario", ISTANBUL, "items/flights/p", {"row": "R2.decided"}),
    ("scenario", ISTANBUL, "rounds/interval", {"row": "R8.interval"}),
    ("scenario", ISTANBUL, "items/flights/after_rounds", {"row": "R3.after_rounds"}),
    ("scenario", ISTANBUL, "calendar/horizon", {"row": "R11"}),
    ("study", "", "parameters/trust.weight", "0:2:3"),
    ("study", "", "parameters/trust.weight", " -1.5e0 : 2. : 100000 "),
    ("study", "", "parameters/trust.weight", {"from": 0.5, "to": 3, "points": 2}),
    ("study", "", "parameters/trust.weight", 0.5),
    ("study", "", "metric", "p_by:2025-12-31"),
    ("observed", CUBA_OBSERVED, "checkpoints", ["2016-01-01", "2016-06-30"]),
    ("observed", CUBA_OBSERVED, "constraints/embargo", {"lifted": None, "imposed": ["2016-01-01"], "in_force": True}),
]
"""Forms validate accepts, each set into a valid file: plain numbers where a distribution may stand,
judgements within their range, values per regime state, rows of the table, the study's ranges."""


def write(kind: str, base: str, dotted: str, value: Any, tmp_path: Path) -> tuple[Path, Any]:
    """The file a case makes (JSON, which validate reads too), with the table its rows cite."""
    data = changed(STUDY if kind == "study" else bundled(base), dotted, value)
    if kind == "scenario" and '"row"' in json.dumps(data):
        data["table"] = str(TABLE)
    path = tmp_path / f"{kind}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path, data


def case_id(case: tuple[str, str, str, Any]) -> str:
    return f"{case[0]}:{case[2]}={json.dumps(case[3])[:40]}"


@pytest.mark.parametrize("case", REFUSED, ids=[case_id(c) for c in REFUSED])
def test_both_refuse(case: tuple[str, str, str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A value refused by its shape or range is refused by validate and flagged by the schema."""
    path, data = write(*case, tmp_path)
    code, err = validate(path, capsys)
    assert code == 2 and "Traceback" not in err
    assert errors(case[0], data)


@pytest.mark.parametrize("case", ACCEPTED, ids=[case_id(c) for c in ACCEPTED])
def test_both_accept(case: tuple[str, str, str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every form validate reads is one the schema takes."""
    path, data = write(*case, tmp_path)
    code, err = validate(path, capsys)
    assert code == 0, err
    assert not errors(case[0], data)


def test_the_date_pattern_is_the_calendar() -> None:
    """The pattern takes exactly the dates that exist: 29 February in leap years (1600, 2000, 2024; not
    1900 or 2100), no 31 April, no year 0."""
    pattern = re.compile(DATE_PATTERN)
    day = dt.date(1895, 1, 1)
    while day < dt.date(2105, 1, 1):
        assert pattern.search(day.isoformat()), day
        day += dt.timedelta(days=1)
    for year in range(1, 10000):
        text = f"{year:04d}-02-29"
        try:
            dt.date.fromisoformat(text)
            exists = True
        except ValueError:
            exists = False
        assert bool(pattern.search(text)) == exists, text
    for text in ("0000-01-01", "2025-04-31", "2025-02-30", "2025-00-10", "2025-01-32", "2025-1-01", "20250101"):
        assert not pattern.search(text), text


RANGES = ["0:2:3", "0.1:0.5:5", "-1:1:2", " 1 : 2 : 3 ", ".5:1.:2", "1e-3:2E2:07", f"0:1:{MAX_POINTS}"]
NOT_RANGES = ["0:2", "0:2:1", "0:2:0", "0:2:x", "a:2:3", "0:2:3:4", "0,2,3", f"0:1:{MAX_POINTS + 1}", "0:1:2.5", ""]


@pytest.mark.parametrize("text", RANGES + NOT_RANGES)
def test_the_range_pattern_reads_what_parse_values_reads(text: str) -> None:
    """A study's FROM:TO:POINTS matches the pattern exactly when the sweep reads it as a range."""
    try:
        parse_values(text)
        reads = ":" in text
    except UserError:
        reads = False
    assert bool(re.search(RANGE_PATTERN, text)) == reads
