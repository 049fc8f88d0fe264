"""report.html: the numbers of the run, the user's words as text, nothing fetched from a network."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

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
    """A column of numbers is aligned right, header and every cell (placeholders too); a column of
    text or dates is not; a seed or a count with no comma is a number; everything is escaped."""
    out = table(
        ["item", "P", "seed", "date", "d"],
        [["x<y", "12.5%", "20250410", "2025-01-01", "n/a"], ["1: base", "-3", "7", "2025-02-01", "+0.5 pp"]],
    )
    assert '<th>item</th><th class="n">P</th><th class="n">seed</th><th>date</th><th class="n">d</th>' in out
    assert (
        '<td>x&lt;y</td><td class="n">12.5%</td><td class="n">20250410</td><td><span class=d>2025-01-01</span></td>'
        in out
    )
    assert '<td class="n">n/a</td>' in out and "<td>1: base</td>" in out and '<td class="n">-3</td>' in out
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


MEASURE = """<script>
window.addEventListener("load", () => {
  const widths = [...document.querySelectorAll("table")].map((t) => {
    const room = t.parentElement.getBoundingClientRect().width;
    return `${Math.ceil(t.getBoundingClientRect().width)}/${Math.floor(room)}`;
  });
  const d = document.createElement("div");
  d.id = "measured";
  d.textContent = `page ${document.documentElement.scrollWidth}/${window.innerWidth} tables ${widths.join(" ")}`;
  document.body.appendChild(d);
});
</script>"""


def _widths(browser: str, report: Path, tmp_path: Path) -> tuple[tuple[int, int], list[tuple[int, int]]]:
    """(page width, window width) and each table's (width, room) as Chromium lays the report out at 1200 px."""
    import subprocess

    shown = tmp_path / f"{report.parent.name}-measured.html"
    shown.write_text(report.read_text().replace("</body>", MEASURE + "</body>"))
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1200,2000",
        f"--user-data-dir={tmp_path / 'p'}",
    ]
    done = subprocess.run([browser, *flags, "--dump-dom", shown.as_uri()], capture_output=True, text=True, timeout=120)
    said = re.search(r'id="measured">page (\d+)/(\d+) tables ([\d/ ]*)<', done.stdout)
    assert said, done.stdout[-500:]
    pairs = [tuple(int(v) for v in w.split("/")) for w in said.group(3).split()]
    return (int(said.group(1)), int(said.group(2))), pairs  # type: ignore[return-value]


@pytest.mark.slow
def test_report_tables_fit_the_page(tmp_path: Path) -> None:
    """The sweep (oat, four levers), comparison (long labels) and --given reports are no wider than
    a 1200-pixel window: every table fits its column of the page, its long names broken where needed."""
    import shutil

    from sim.cli import main
    from tests.helpers import SCENARIOS

    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("Chromium is not installed")
    ist = str(SCENARIOS / "istanbul-2025.yaml")
    quiet = ["-n", "200", "--jobs", "1", "--quiet"]
    levers = ["trust.weight=0.5,1.5", "constraints.aviation.lift.p=0.05,0.3", "items.property_roadmap.p=0.05,0.2"]
    levers.append("events.escalation.rate=0.5,2")
    sets = [arg for lever in levers for arg in ("--set", lever)]
    assert main(["sweep", ist, *sets, "--design", "oat", "--out", str(tmp_path / "oat"), *quiet]) == 0
    assert main(["run", ist, "--out", str(tmp_path / "base"), "--no-plots", *quiet]) == 0
    eased = str(SCENARIOS / "istanbul-2025-aviation-eased.yaml")
    assert main(["run", eased, "--out", str(tmp_path / "eased"), "--no-plots", *quiet]) == 0
    labels = "the forecast as of the second round,aviation sanctions eased at the next review,a point of the sweep"
    runs = [str(tmp_path / "base"), str(tmp_path / "eased"), f"{tmp_path / 'oat'}:3"]
    assert main(["compare", *runs, "--labels", labels, "--out", str(tmp_path / "cmp")]) == 0
    observed = tmp_path / "observed.yaml"
    observed.write_text(
        "as_of: 2015-06-30\nitems: {banking: 2015-05-21, embassies: null, aviation_arrangement: null}\n"
        "constraints: {sst_list: 2015-05-29}\nrounds:\n  held: [2015-01-22, 2015-02-27, 2015-03-16, 2015-05-21]\n"
    )
    cuba = str(SCENARIOS / "backtests-v1" / "cuba-2015" / "scenario.yaml")
    assert main(["run", cuba, "--given", str(observed), "--out", str(tmp_path / "given"), *quiet]) == 0
    for folder in ("oat", "cmp", "given"):
        (page, window), tables = _widths(browser, tmp_path / folder / "report.html", tmp_path)
        assert page <= window, f"{folder}: the page is {page} px wide in a {window} px window"
        assert tables and all(width <= room for width, room in tables), f"{folder}: {tables}"


def test_report_tables_name_items_by_title() -> None:
    """The joint outcomes of a run, the items of a comparison and its differences, in percentage points."""
    from sim.results.compare import Comparison, RunData, comparison_rows

    s = make(items={"a_1": {"title": "Banking for the missions", "p": 0.6}, "b_2": {"title": "Visas", "p": 0.4}})
    rec = simulate(compile_plan(s), 0, 400)
    html = run_body(Results(s, rec))
    outcomes = html[html.index("Most frequent outcomes") :].split("<h2>")[0]
    assert "Banking for the missions + Visas" in outcomes and "a_1" not in outcomes
    other = make(items={"a_1": {"title": "Banking for the missions", "p": 0.2}, "b_2": {"title": "Visas", "p": 0.4}})
    rec2 = simulate(compile_plan(other), 0, 400)
    runs = [
        RunData("x", "x", s, rec.item_agreed, rec.item_day),
        RunData("y", "y", other, rec2.item_agreed, rec2.item_day),
    ]
    body = comparison_body(Comparison(runs, comparison_rows(runs)))
    assert "<td>Banking for the missions</td>" in body and "<td>a_1</td>" not in body
    d = comparison_rows(runs)[3]["diff"]  # y, a_1
    assert f"{d * 100:+.1f}\u00a0pp" in body and f"{d:+.1%}" not in body
