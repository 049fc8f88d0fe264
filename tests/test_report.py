"""report.html: the numbers of the run, the user's words as text, nothing fetched from a network."""

from __future__ import annotations

import re

from sim.api import Results
from sim.engine.plan import compile_plan
from sim.engine.simulate import simulate
from sim.views.report import comparison_body, esc, pct, run_body, table
from tests.helpers import make

HOSTILE = make(
    title="<script>alert(1)</script> & <b>talks</b>",
    description='Flights at $200 a seat, "50 off" & <i>more</i>',
    items={"a": {"p": 0.5, "title": "<img src=x onerror=alert(1)>"}, "b": {"p": 0.2}},
)


def test_user_text_is_escaped() -> None:
    """Titles and descriptions appear as text: no tag of theirs reaches the page."""
    html = run_body(Results(HOSTILE, simulate(compile_plan(HOSTILE), 0, 200)))
    assert "<script>" not in html and "<img src=x" not in html and "<i>more</i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;talks&lt;/b&gt;" in html
    assert "$200" in html


def test_the_run_table_shows_the_summary() -> None:
    """Each item's P(agreed by horizon) and interval, as percentages, and the joint outcomes."""
    res = Results(HOSTILE, simulate(compile_plan(HOSTILE), 0, 400))
    html = run_body(res)
    for it in res.summary_data["items"]:
        assert f'<td class="n">{pct(it["p"])}</td>' in html
        assert f"{pct(it['ci_low'])} – {pct(it['ci_high'])}" in html
    assert html.count("<tr>") >= len(res.summary_data["joint_outcomes"])
    assert not re.search(r'(src|href)="(http|//)', html)


def test_table_and_number_cells() -> None:
    """Numbers are right-aligned cells; text (and dates) are not; everything is escaped."""
    out = table(["a", "b"], [["12.5%", "x<y"], ["2025-01-01", "-3"]])
    assert '<td class="n">12.5%</td><td>x&lt;y</td>' in out
    assert "<td>2025-01-01</td>" in out and '<td class="n">-3</td>' in out
    assert esc("<&>") == "&lt;&amp;&gt;" and pct(None) == "" and pct(0.1234) == "12.3%"


def test_comparison_page_states_the_kind_of_difference(tmp_path) -> None:
    """The comparison page lists each run's difference with its interval and whether it is paired."""
    from sim.results.compare import Comparison, RunData, comparison_rows

    a = simulate(compile_plan(HOSTILE), 0, 300)
    b_s = make(items={"a": {"p": 0.7}, "b": {"p": 0.2}})
    b = simulate(compile_plan(b_s), 0, 300)
    runs = [
        RunData("base", "x", HOSTILE, a.item_agreed, a.item_day),
        RunData("<alt>", "y", b_s, b.item_agreed, b.item_day),
    ]
    html = comparison_body(Comparison(runs, comparison_rows(runs)))
    assert "&lt;alt&gt;" in html and "<alt>" not in html
    assert "paired" in html and "What pairing buys" in html
