"""Every edge a user reaches: what they see there (one clear line, exit 2, nothing half-written)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.api import Results
from sim.cli import main, printable
from sim.engine.plan import compile_plan
from sim.engine.simulate import simulate
from sim.views.plots import FIGURES
from tests.helpers import SCENARIOS, make

ISTANBUL = str(SCENARIOS / "istanbul-2025.yaml")


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["simulation.replications=100,200"], "cannot be swept"),
        (["simulation.seed=1,2"], "cannot be swept"),
        (["trust.weight=0,1", "trust.weight=2"], "given twice"),
    ],
)
def test_sweeps_that_cannot_do_what_they_say_are_refused(
    sets: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Sweeping the replications or the seed, or giving a path twice, is refused before anything runs."""
    argv = ["sweep", ISTANBUL, *(x for s in sets for x in ("--set", s)), "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    assert message in one_error_line(capsys)
    assert not (tmp_path / "o").exists()


DOLLARS = make(
    title="Flights at $200 a seat, $50 off",
    description="$x$ and \\alpha",
    items={"a": {"p": 0.4, "title": "Banking ($ accounts) for $embassies$"}, "b": {"p": 0.2}},
    constraints={"c": {"title": "Sanctions $US", "lift": {"rate": 2}}},
)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_a_dollar_sign_is_a_dollar_sign_in_every_figure(name: str) -> None:
    """User text reaches figures as literal text: no mathtext, no crash, nothing garbled."""
    fig = FIGURES[name](Results(DOLLARS, simulate(compile_plan(DOLLARS), 0, 300)))
    fig.canvas.draw()  # mathtext would fail or garble here
    texts = [t for t in fig.findobj(lambda a: hasattr(a, "get_parse_math"))]
    assert all(not t.get_parse_math() for t in texts if "$" in t.get_text())
    assert any("$200" in t.get_text() for t in texts)


def test_a_run_with_dollars_everywhere_writes_its_figures(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text((SCENARIOS / "istanbul-2025.yaml").read_text().replace("title: ", "title: $5 $ ", 1))
    assert main(["run", str(path), "-n", "200", "--jobs", "1", "--out", str(tmp_path / "o"), "--quiet"]) == 0
    assert len(list((tmp_path / "o" / "plots").glob("*.png"))) == 6


def test_control_characters_never_reach_the_terminal_raw(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An escape sequence in a title is printed as an escape, not sent to the terminal."""
    path = tmp_path / "s.yaml"
    text = (SCENARIOS / "istanbul-2025.yaml").read_text()
    path.write_text(re.sub(r"^title: .*$", lambda _: 'title: "\\e[2J\\a talks"', text, count=1, flags=re.M))
    assert main(["trace", str(path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\\x1b[2J\\x07" in out
    assert printable("ok\n\ttab\u202e") == "ok\n\ttab\\u202e"
