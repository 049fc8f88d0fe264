"""The explorer in a real browser: `negsim explore` served, headless Chromium (the system's; no
browser is downloaded) driven by Playwright. One input changed, the page's numbers are those of
`negsim run` of the variant it saves; a bad value shows the validator's message and runs
nothing; no request leaves the machine."""

from __future__ import annotations

import csv
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from sim.app.model import Explorer
from tests.helpers import ROOT, SCENARIOS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium), so no browser can be driven"
)

ISTANBUL = SCENARIOS / "istanbul-2025.yaml"
AVIATION = "constraints.aviation.lift.p.mean"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`negsim explore` of the bundled scenario, as a user starts it, on a free port."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    log = tmp_path_factory.mktemp("explore") / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim", "explore", str(ISTANBUL), "--port", str(port), "--no-browser"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"negsim explore did not start: {log.read_text()}") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait(page: Any, old_generation: str | None, states: tuple[str, ...] = ("current",)) -> dict[str, str]:
    """Wait until the page has taken a change (a new generation) and settled in one of ``states``."""
    status = page.locator("#negsim-status")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        attrs = status.evaluate("e => Object.assign({}, e.dataset)")
        settled = attrs["status"] != "current" or attrs["shown"] == attrs["generation"]
        if attrs["generation"] != old_generation and attrs["status"] in states and settled:
            return dict(attrs)
        time.sleep(0.05)
    raise AssertionError(f"the page did not settle: {status.evaluate('e => e.outerHTML')}")


def _rows(page: Any, generation: str) -> dict[tuple[str, str], dict[str, str]]:
    """Every figure of the items table, by (item, measure), checked to be of that generation."""
    assert page.locator("#negsim-items").get_attribute("data-generation") == generation
    rows = page.locator("#negsim-items tr.negsim-row").evaluate_all(
        "rows => rows.map(r => Object.assign({}, r.dataset))"
    )
    return {(r["item"], r["measure"]): r for r in rows}


def _enter(page: Any, path: str, text: str) -> None:
    box = page.locator(f'input[data-path="{path}"]')
    box.fill(text)
    box.press("Enter")


def test_a_change_in_the_page_is_negsim_run_of_the_saved_variant(served: str, tmp_path: Path) -> None:
    """Move the aviation review's chance: flights move, staffing stays exactly, banking within its
    interval; the saved variant runs to the page's numbers; a bad value runs nothing; every request
    stays on this machine."""
    from playwright.sync_api import sync_playwright

    seen: list[str] = []
    outside: list[str] = []

    def guard(route: Any) -> None:
        url = urlparse(route.request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname not in LOOPBACK:
            outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.route("**/*", guard)
            page = context.new_page()
            page.on("request", lambda r: seen.append(r.url))
            page.on("websocket", lambda ws: seen.append(ws.url))
            page.goto(served)
            first = _wait(page, None)
            before = _rows(page, first["generation"])

            _enter(page, AVIATION, "0.3")
            moved = _wait(page, first["generation"])
            rows = _rows(page, moved["generation"])
            assert page.url.endswith(f"?{AVIATION}=0.3")
            flights, staffing, banking = (
                rows["flights", "horizon"],
                rows["staffing", "horizon"],
                rows["banking", "horizon"],
            )
            assert float(flights["current"]) > float(before["flights", "horizon"]["current"])
            assert float(flights["low"]) > 0
            assert staffing["current"] == before["staffing", "horizon"]["current"]
            assert (staffing["diff"], staffing["low"], staffing["high"]) == ("0.0", "0.0", "0.0")
            assert float(banking["low"]) <= 0 <= float(banking["high"])

            saved = tmp_path / "aviation-eased.yaml"
            page.locator(".negsim-save-as input").fill(str(saved))
            page.locator(".negsim-save button").click()
            page.locator(f".negsim-saved[data-saved='{saved}']").wait_for(timeout=10_000)

            _enter(page, AVIATION, "1.5")
            bad = _wait(page, moved["generation"], ("invalid",))
            message = page.locator(f'.negsim-problem[data-path="{AVIATION}"]').inner_text()
            expected = Explorer(ISTANBUL).variant({AVIATION: 1.5}).problems
            assert any(m in message for ms in expected.values() for m in ms), message
            assert bad["runs"] == moved["runs"] and bad["shown"] == moved["generation"]
            assert _rows(page, moved["generation"]) == rows  # the figures are the last valid ones, dimmed
        finally:
            browser.close()

    assert outside == []
    assert seen and all(urlparse(u).hostname in LOOPBACK for u in seen if urlparse(u).scheme not in ("data", "blob"))

    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(saved), "--out", str(out), "--no-plots", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    with (out / "summary.csv").open(encoding="utf-8") as f:
        summary = {row["item"]: row for row in csv.DictReader(f)}
    assert set(summary) == {item for item, _ in rows}
    for (item, measure), row in rows.items():
        column = "p_agreed" if measure == "horizon" else f"p_by_{measure}"
        assert round(float(row["current"]), 6) == float(summary[item][column]), (item, measure)
