"""Fuzzing: valid scenario documents mutated field by field, and scenario text mutated byte by byte,
never make negsim raise anything but a clean user error. A mutant that validates must also run.

More examples: ``NEGSIM_FUZZ_EXAMPLES=5000 python -m pytest tests/test_fuzz.py``.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.engine.plan import compile_plan
from sim.engine.simulate import simulate
from sim.engine.trace import trace
from sim.errors import UserError
from sim.results.summary import summarize
from sim.scenario.checks import check_document
from sim.scenario.documents import Document, parse_yaml
from sim.views.text import format_trace
from tests.helpers import BUNDLED, examples, stem

EXAMPLES = examples(int(os.environ.get("NEGSIM_FUZZ_EXAMPLES", "300")))
TEXTS = {stem(p): p.read_text(encoding="utf-8") for p in BUNDLED}
DOCS = {name: parse_yaml(text, name).data for name, text in TEXTS.items()}

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            0,
            -1,
            1,
            0.5,
            2,
            1e-9,
            1e9,
            36525,
            10**20,
            "",
            "block",
            "2025-02-30",
            "2025-04-11",
            "open",
            "agreed",
            "flights",
            "aviation",
            "ru",
            [],
            {},
            [1, 2],
            ["flights"],
            ["nope"],
            {"dist": "gamma"},
            {"dist": "triangular", "low": 5, "mode": 1, "high": 2},
            {"dist": "normal", "mean": 0, "sd": 1e-300},
            {"dist": "lognormal", "mu": 50, "sigma": 9},
            {"rate": 1e6},
            {"when_agreed": ["staffing"]},
            dt.date(2025, 4, 10),
            dt.date(1900, 1, 1),
            dt.date(2999, 1, 1),
        ]
    ),
    st.text(max_size=20),
    st.lists(st.integers(-3, 3), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths(v, (*prefix, i))
    return out


def mutate(doc: Any, path: tuple[Any, ...], op: str, junk: Any, key: str) -> Any:
    doc = copy.deepcopy(doc)
    if not path:
        return junk if op == "replace" else doc
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if op == "replace":
        parent[last] = junk
    elif op == "delete":
        del parent[last]
    elif op == "add" and isinstance(parent[last], dict):
        parent[last][key] = junk
    elif op == "rename" and isinstance(parent, dict):
        parent[f"{last}{key}"] = parent.pop(last)
    return doc


def exercise(doc: Any) -> None:
    """Validate; if valid, run a few replications, summarise and trace: only UserError may escape."""
    try:
        scenario, problems = check_document(Document("fuzz.yaml", doc, {}))
    except UserError:
        return
    for p in problems:
        assert p.message and p.file == "fuzz.yaml"
    if scenario is None:
        assert problems
        return
    s = scenario.with_values(simulation={"replications": 3, "seed": 1})
    rec = simulate(compile_plan(s), 0, 3)
    summary = summarize(s, rec)
    assert all(0 <= it["p"] <= 1 for it in summary["items"])
    assert all(math.isfinite(t) for t in rec.trust)
    lines, state = trace(s, 0)
    format_trace(s, 0, lines, state)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    name=st.sampled_from(sorted(DOCS)),
    pick=st.integers(0, 10_000),
    op=st.sampled_from(["replace", "replace", "delete", "add", "rename"]),
    junk=JUNK,
    key=st.sampled_from(["x", "s", "_2", "p", "rate", "dist"]),
)
def test_mutated_documents_give_only_clean_errors(name: str, pick: int, op: str, junk: Any, key: str) -> None:
    doc = DOCS[name]
    candidates = paths(doc)
    exercise(mutate(doc, candidates[pick % len(candidates)], op, junk, key))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    name=st.sampled_from(sorted(TEXTS)),
    edits=st.lists(
        st.tuples(
            st.integers(0, 10**6),
            st.sampled_from(["insert", "delete", "replace"]),
            st.sampled_from(list(":-[]{}&*!|>#'\"\t\n 0123456789.aez,\x00\x07é\u2028")),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_mutated_text_gives_only_clean_errors(name: str, edits: list[tuple[int, str, str]]) -> None:
    text = TEXTS[name]
    for pos, op, char in edits:
        i = pos % (len(text) + 1)
        if op == "insert":
            text = text[:i] + char + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + 1 :]
        else:
            text = text[:i] + char + text[i + 1 :]
    try:
        doc = parse_yaml(text, "fuzz.yaml")
    except UserError as exc:
        assert str(exc).startswith("fuzz.yaml")
        return
    exercise(doc.data)
