"""The explorer without a browser: its controls, variants, runs, differences, saved files, the
page's state and the command line (tests/test_explore_browser.py drives the page in Chromium)."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats

from sim import api
from sim.app import controls as ctl
from sim.app.differences import compare
from sim.app.model import Explorer
from sim.cli import main
from sim.errors import UserError
from sim.results.compare import RunData, comparison_rows
from sim.scenario.checks import check_document
from sim.scenario.documents import Document
from sim.scenario.load import load_scenario
from sim.scenario.paths import scenario_data, set_path
from tests.helpers import BASE, BUNDLED, ROOT, SCENARIOS

ISTANBUL = SCENARIOS / "istanbul-2025.yaml"
AVIATION = "constraints.aviation.lift.p.mean"
CUBA = SCENARIOS / "backtests" / "cuba-2015"


@pytest.fixture(scope="module")
def explorer() -> Explorer:
    return Explorer(ISTANBUL, replications=2000)


# ---------------------------------------------------------------------- controls


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.parent.name if p.name == "scenario.yaml" else p.stem)
def test_every_listed_number_has_a_control_titled_in_words(path: Path) -> None:
    """Every path --list-paths lists is a control, once, under a group, with a title that is no dotted path."""
    s = load_scenario(path)
    groups = ctl.groups(s)
    paths = [c.path for g in groups for c in g.controls]
    assert sorted(paths) == sorted(ctl.listed_paths(s))
    for g in groups:
        assert not re.search(r"[a-z_]\.[a-z_]", g.title), g.title
        for c in g.controls:
            assert not re.search(r"[a-z_]\.[a-z_]", c.label), c.label
            assert c.label and c.label != c.path


def test_the_controls_are_what_sweep_list_paths_prints(capsys: pytest.CaptureFixture[str]) -> None:
    """The explorer's paths and `negsim sweep FILE --list-paths` agree (two listings of one thing)."""
    assert main(["sweep", str(ISTANBUL), "--list-paths"]) == 0
    printed = {line.split()[0] for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert printed == set(ctl.listed_paths(load_scenario(ISTANBUL)))


def test_groups_follow_items_constraints_events_then_rounds() -> None:
    """Items first (in file order), then constraints, events, rounds, trust and the regime."""
    keys = [g.key for g in ctl.groups(load_scenario(ISTANBUL))]
    heads = [k.split(".")[0] for k in keys]
    assert heads == sorted(heads, key=ctl.SECTIONS.index)
    assert keys[:5] == [f"items.{x}" for x in load_scenario(ISTANBUL).items]
    assert ctl.label(AVIATION, load_scenario(ISTANBUL)) == "Chance of lifting at each review: mean"


def test_a_distribution_shows_its_mean_and_the_range_of_most_draws() -> None:
    """Beta(mean 0.1, concentration 8) is Beta(0.8, 7.2): its mean and 10%-90% quantiles, as scipy gives them."""
    data = scenario_data(load_scenario(ISTANBUL))
    low, high = stats.beta(0.8, 7.2).ppf([0.1, 0.9])
    text = ctl.spread(data, "constraints.aviation.lift.p")
    assert text == f"beta: mean 0.1; 80% of draws between {low:.3g} and {high:.3g}"
    assert ctl.spread(set_path(data, "constraints.aviation.lift.p", 0.2), "constraints.aviation.lift.p") == ""


# ---------------------------------------------------------------------- variants and runs


def test_a_bad_value_gets_the_validators_own_message_and_runs_nothing(explorer: Explorer, tmp_path: Path) -> None:
    """A mean of 1.5 for a chance: the message `negsim validate` gives for the same file, by path."""
    before = explorer.runs
    v = explorer.variant({AVIATION: 1.5})
    assert v.scenario is None
    file = tmp_path / "bad.yaml"
    file.write_text(yaml.safe_dump(set_path(explorer.data, AVIATION, 1.5), allow_unicode=True))
    _, problems = check_document(Document(str(file), yaml.safe_load(file.read_text()), {}))
    assert v.problems == {p.path: [p.message] for p in problems}
    assert any(path.startswith("constraints.aviation.lift.p") for path in v.problems)
    with pytest.raises(ValueError):
        explorer.run(v)
    assert explorer.runs == before


def test_a_run_is_the_same_replications_as_negsim_run(explorer: Explorer) -> None:
    """The explorer's run of a variant is byte for byte what sim.run gives for its scenario."""
    v = explorer.variant({AVIATION: 0.3})
    assert v.scenario is not None
    assert explorer.run(v).records.equals(api.run(v.scenario).records)


def test_the_difference_is_paired_and_exact_where_a_change_cannot_reach(explorer: Explorer) -> None:
    """Lifting the aviation sanctions more often moves flights up, beyond its interval, and leaves
    staffing (agreed before flights can be) the same in every replication."""
    base = explorer.run(explorer.variant({}))
    view = compare(base, explorer.run(explorer.variant({AVIATION: 0.4})))
    assert view.paired
    by_item = {it.item: {m.key: m for m in it.measures} for it in view.items}
    flights, staffing = by_item["flights"]["horizon"], by_item["staffing"]["horizon"]
    assert flights.low is not None and flights.low > 0
    assert (staffing.diff, staffing.low, staffing.high) == (0.0, 0.0, 0.0)
    banking = by_item["banking"]["horizon"]
    assert banking.low is not None and banking.high is not None and banking.low <= 0 <= banking.high


def test_differences_are_negsim_compares(explorer: Explorer) -> None:
    """Each item's difference and interval by the horizon are those of `negsim compare`'s paired rows."""
    b = explorer.run(explorer.variant({}))
    c = explorer.run(explorer.variant({AVIATION: 0.4, "items.banking.p": 0.45}))
    rows = comparison_rows(
        [
            RunData("a", "", b.scenario, b.records.item_agreed, b.records.item_day),
            RunData("b", "", c.scenario, c.records.item_agreed, c.records.item_day),
        ]
    )
    theirs = {r["item"]: (r["p_agreed"], r["diff"], r["diff_low"], r["diff_high"]) for r in rows if r["run"] == "b"}
    view = compare(b, c)
    for it in view.items:
        m = next(m for m in it.measures if m.key == "horizon")
        assert (m.current, m.diff, m.low, m.high) == pytest.approx(theirs[it.item], abs=1e-12)


def test_the_figures_are_those_of_the_run_summary(explorer: Explorer) -> None:
    """P(agreed) by the horizon and by each milestone equal summary.json's for the same run."""
    c = explorer.run(explorer.variant({AVIATION: 0.3}))
    summary = api.Results(c.scenario, c.records).summary_data
    view = compare(c, c)
    for it, entry in zip(view.items, summary["items"], strict=True):
        shown = {m.key: m.current for m in it.measures}
        assert shown["horizon"] == pytest.approx(entry["p"], abs=1e-6)
        for mark in entry["by_milestone"]:
            assert shown[mark["date"]] == pytest.approx(mark["p"], abs=1e-6)


def test_a_judgement_fixed_at_a_number_replaces_its_distribution(explorer: Explorer) -> None:
    """A number at a judgement's own path replaces the distribution; its parameters are then moot."""
    v = explorer.variant({"items.flights.p": 0.25, "items.flights.p.mean": 0.9})
    assert v.scenario is not None and v.scenario.items["flights"].p == 0.25


def test_unlisted_paths_and_unchanged_values_are_dropped(explorer: Explorer) -> None:
    """Only listed paths whose value differs from the file count as changes (and go in the address)."""
    assert explorer.clean({AVIATION: 0.1, "simulation.seed": 3, "nowhere": 1, "items.banking.p": 0.5}) == {
        "items.banking.p": 0.5
    }


def test_given_a_history_the_forecast_is_negsim_run_given(tmp_path: Path) -> None:
    """With an observed file, the forecast given its history has `negsim run --given`'s numbers and kept share."""
    x = Explorer(CUBA / "scenario.yaml", CUBA / "observed-mid-2015.yaml", replications=200)
    out = x.run(x.variant({}), given=True)
    assert out.given is not None and out.records.n == 200
    done = api.run_to_folder(
        str(CUBA / "scenario.yaml"),
        given=str(CUBA / "observed-mid-2015.yaml"),
        replications=200,
        out=str(tmp_path / "given"),
        plots=False,
        jobs=1,
    )
    assert done.given is not None and (done.given.tried, done.given.kept) == (out.given.tried, out.given.kept)
    summary = done.results.summary_data
    view = compare(out, out)
    for it, entry in zip(view.items, summary["items"], strict=True):
        assert next(m.current for m in it.measures if m.key == "horizon") == pytest.approx(entry["p"], abs=1e-6)


# ---------------------------------------------------------------------- saving


def test_a_saved_variant_validates_runs_the_same_and_says_what_changed(explorer: Explorer, tmp_path: Path) -> None:
    """The file validates, runs to the same records, lists each changed field, and is never overwritten."""
    v = explorer.variant({AVIATION: 0.3})
    path = explorer.save(v, tmp_path / "aviation-eased.yaml")
    text = path.read_text(encoding="utf-8")
    assert "#   constraints.aviation.lift.p.mean: 0.1 -> 0.3" in text
    assert "#   name: istanbul-2025 -> aviation-eased" in text
    assert main(["validate", str(path)]) == 0
    again = load_scenario(path)
    assert again.name == "aviation-eased"
    assert api.run(again).records.equals(explorer.run(v).records)
    with pytest.raises(UserError, match="already exists"):
        explorer.save(v, path)
    with pytest.raises(UserError, match="not valid"):
        explorer.save(explorer.variant({AVIATION: 2.0}), tmp_path / "bad.yaml")
    assert not (tmp_path / "bad.yaml").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aviation-eased.yaml"]  # no temporary file left


def test_the_default_name_is_the_first_free_one(tmp_path: Path) -> None:
    """Variants are named <file>-variant-<k>.yaml beside the file, never over one that exists."""
    file = tmp_path / "talks.yaml"
    file.write_text(ISTANBUL.read_text(encoding="utf-8"), encoding="utf-8")
    x = Explorer(file, replications=100)
    assert x.default_name() == tmp_path / "talks-variant-1.yaml"
    (tmp_path / "talks-variant-1.yaml").write_text("")
    assert x.default_name() == tmp_path / "talks-variant-2.yaml"


# ---------------------------------------------------------------------- the page (Panel, no browser)


@pytest.fixture()
def page(explorer: Explorer):  # type: ignore[no-untyped-def]
    from sim.app.page import Page

    p = Page(explorer, notebook=True)
    yield p
    p.close()


def test_the_page_shows_the_current_runs_numbers(page, explorer: Explorer) -> None:  # type: ignore[no-untyped-def]
    """After a change, the page's table holds the new run's figures, marked with its generation."""
    page.refresh_now()
    page._set_texts({**page.form.values, AVIATION: "0.3"})
    asyncio.run(page.refresh())
    assert "data-status='current'" in page.status.object
    html = page.items_html.object
    assert f'data-generation="{page.generation}"' in html
    c = explorer.run(explorer.variant({AVIATION: 0.3}))
    flights = float(c.records.item_agreed[:, list(c.scenario.items).index("flights")].mean())
    row = re.search(r'data-item="flights" data-measure="horizon" data-current="([^"]+)"', html)
    assert row is not None and float(row.group(1)) == flights


def test_a_bad_value_on_the_page_is_shown_beside_it_and_runs_nothing(page, explorer: Explorer) -> None:  # type: ignore[no-untyped-def]
    """Text that is no number, and a number the validator refuses, are shown by path; nothing runs."""
    page.refresh_now()
    before, shown = explorer.runs, page.items_html.object
    page._set_texts({**page.form.values, AVIATION: "abc"})
    asyncio.run(page.refresh())
    assert page.form.problems == {AVIATION: "'abc' is not a number"}
    page._set_texts({**page.form.values, AVIATION: "1.5"})
    asyncio.run(page.refresh())
    message = explorer.variant({AVIATION: 1.5}).problems
    assert set(page.form.problems) >= {AVIATION}
    assert any(m in page.form.problems[AVIATION] for ms in message.values() for m in ms)
    assert "data-status='invalid'" in page.status.object
    assert explorer.runs == before and page.items_html.object == shown
    assert page.results.styles["opacity"] != "1"  # the old figures are dimmed, not shown as current


def test_a_superseded_run_is_never_shown(page, explorer: Explorer) -> None:  # type: ignore[no-untyped-def]
    """A run whose values have changed since it started neither runs nor reaches the page."""
    page.refresh_now()
    g = page.generation
    base, current = explorer.variant({}), explorer.variant({AVIATION: 0.35})
    done = page._compute(g, base, current, False)
    assert done is not None
    page.generation += 1  # a later change
    shown = page.items_html.object
    page._show(g, *done)
    assert page.items_html.object == shown
    before = explorer.runs
    assert page._compute(g, base, explorer.variant({AVIATION: 0.36}), False) is None
    assert explorer.runs == before


def test_the_address_holds_the_state(explorer: Explorer) -> None:
    """Changed numbers, the pinned baseline and the history switch round-trip through the query string."""
    from sim.app.page import Page

    args = {AVIATION: ["0.3"], "base.items.banking.p": ["0.5"], "nowhere": ["1"]}
    page = Page(explorer, args, notebook=True)
    try:
        assert page.form.values[AVIATION] == "0.3"
        assert page.base == {"items.banking.p": 0.5}
        assert "nowhere" in page.general.object
        current, _ = page._current()
        assert page.query(current) == f"?{AVIATION}=0.3&base.items.banking.p=0.5"
    finally:
        page.close()


def test_pinning_makes_the_current_values_the_baseline(page, explorer: Explorer) -> None:  # type: ignore[no-untyped-def]
    """Pinned, a variant is its own baseline: every difference is zero in every replication."""
    page._set_texts({**page.form.values, AVIATION: "0.3"})
    page._on_pin()
    assert page.base == {AVIATION: 0.3}
    assert 'data-diff="0.0"' in page.items_html.object and "pts" not in page.items_html.object


def test_sim_explore_shows_the_page_inline() -> None:
    """In a notebook, sim.explore gives the page, run once, as the Bokeh document Jupyter displays."""
    import sim

    page = sim.explore(ISTANBUL, replications=300)
    try:
        assert "data-status='current'" in page.status.object
        assert 'data-item="flights"' in page.items_html.object
        root = page.view.get_root()
        inputs = [m for m in root.references() if type(m).__name__ == "TextInput"]
        assert len(inputs) >= sum(len(g.controls) for g in page.x.groups)  # Panel's own inputs, which notebooks sync
        assert callable(page._repr_mimebundle_)
    finally:
        page.close()


# ---------------------------------------------------------------------- the command line


def test_without_the_extra_one_line_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`negsim explore` without negsim[app]: exit 2 and one line naming the install command."""
    import sim.app

    monkeypatch.setattr(sim.app, "find_spec", lambda name: None)
    assert main(["explore", str(ISTANBUL), "--no-browser"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["negsim explore needs the app extra: pip install 'negsim[app]'"]


def test_a_bad_file_is_refused_before_serving(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A scenario with a mistake: the validator's located message and exit 2, no server."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(ISTANBUL.read_text(encoding="utf-8").replace("cancel: 0.15", "cancel: 1.5"), encoding="utf-8")
    assert main(["explore", str(bad), "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert "rounds.cancel" in err and "Traceback" not in err


def test_a_port_in_use_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """--port of a port already taken: one line, exit 2."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["explore", str(ISTANBUL), "--no-browser", "--port", str(port)]) == 2
    assert f"--port: {port} is in use" in capsys.readouterr().err


def test_only_the_page_modules_import_panel() -> None:
    """The core and the explorer's computing modules load without Panel; only page, form and serve need it."""
    code = (
        "import sys, sim.app.model, sim.app.differences, sim.app.tables, sim.cli, sim.api; "
        "print(sorted(m for m in ('panel', 'bokeh') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
    users = {
        p.stem for p in (ROOT / "sim").rglob("*.py") if re.search(r"^(import|from) (panel|bokeh)", p.read_text(), re.M)
    }
    assert users == {"page", "form", "serve"}


def test_paired_differences_use_the_same_replications(explorer: Explorer) -> None:
    """Runs of one file and seed hold replications 0..n-1 in order: what makes the pairing valid."""
    out = explorer.run(explorer.variant({AVIATION: 0.2}))
    assert np.array_equal(out.records.replication, np.arange(out.records.n))


def test_a_variant_asked_for_twice_at_once_runs_once(tmp_path: Path) -> None:
    """Two threads asking for the same values (the warm-up and the first page) share one run."""
    import threading

    x = Explorer(ISTANBUL, replications=500)
    v = x.variant({AVIATION: 0.25})
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(x.run(v))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert x.runs == 1 and len(got) == 3 and all(g is got[0] for g in got)


def test_a_run_far_larger_than_intended_is_refused_not_started() -> None:
    """The explorer refuses what `negsim run` refuses without --allow-large, as a problem, running nothing."""
    x = Explorer(ISTANBUL, replications=100_000_000)
    v = x.variant({})
    assert v.scenario is None and "agreement draws" in v.problems[""][0] and "--allow-large" not in v.problems[""][0]
    assert x.runs == 0


def test_runs_on_warm_worker_processes_are_the_same_bytes() -> None:
    """Two worker processes, sent a new plan with every task, give the records one process gives,
    for a plain run and for one given a history."""
    x = Explorer(ISTANBUL, replications=1500, jobs=2)
    one = Explorer(ISTANBUL, replications=1500)
    try:
        for overrides in ({}, {AVIATION: 0.3}):
            assert x.run(x.variant(overrides)).records.equals(one.run(one.variant(overrides)).records)
    finally:
        x.close()
    g = Explorer(CUBA / "scenario.yaml", CUBA / "observed-mid-2015.yaml", replications=150, jobs=2)
    g1 = Explorer(CUBA / "scenario.yaml", CUBA / "observed-mid-2015.yaml", replications=150)
    try:
        assert g.run(g.variant({}), given=True).records.equals(g1.run(g1.variant({}), given=True).records)
    finally:
        g.close()


def test_what_a_variant_says_that_can_never_happen_is_noted(tmp_path: Path) -> None:
    """The validator's warnings for the values (as `negsim validate` gives them) are shown, and the values still run."""
    from sim.app.page import Page

    file = tmp_path / "small.yaml"
    file.write_text(yaml.safe_dump(BASE), encoding="utf-8")
    page = Page(Explorer(file), notebook=True)
    try:
        page._set_texts({**page.form.values, "rounds.first": "150"})
        page.refresh_now()
        note = page.general.object
        assert "Note: rounds.first: warning:" in note and "is after the horizon" in note
        assert "data-status='current'" in page.status.object
    finally:
        page.close()
