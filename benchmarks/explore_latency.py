"""What a user of ``negsim explore`` waits for: the first value after the command starts, and each
update after an input changes, measured in the system's headless Chromium through Playwright.

The command runs as a user types it (a fresh process, imports included); the clock for the first
value starts when it is launched, and for an update when Enter is pressed in an input, and stops
when the page says its numbers are current (``#negsim-status``). Each update sets a value not set
before, so no run comes from the explorer's cache. The load average is printed beside the figures,
since the cores may be shared.

    python benchmarks/explore_latency.py [--updates 10] [--jobs 1 2] [--file scenarios/istanbul-2025.yaml]
    python benchmarks/explore_latency.py --screenshot docs/explorer.png    # the README's picture
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
AVIATION = "constraints.aviation.lift.p.mean"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settled(page: Any, old: str | None, limit: float = 120.0) -> dict[str, str]:
    """The status once a new generation is current (polled every 10 ms)."""
    status = page.locator("#negsim-status")
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        attrs = status.evaluate("e => Object.assign({}, e.dataset)") if status.count() else {}
        if (
            attrs
            and attrs["generation"] != old
            and attrs["status"] == "current"
            and attrs["shown"] == attrs["generation"]
        ):
            return dict(attrs)
        time.sleep(0.01)
    raise SystemExit("the page did not become current in time")


def measure(page: Any, file: str, jobs: int, updates: int, screenshot: str | None) -> dict[str, Any]:
    """One server, as a user starts it: the first value, then ``updates`` changes of the aviation
    review's chance (each to a value not set before, so none comes from the cache)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        command = [
            sys.executable,
            "-m",
            "sim",
            "explore",
            file,
            "--port",
            str(port),
            "--no-browser",
            "--jobs",
            str(jobs),
        ]
        t0 = time.perf_counter()
        with log.open("w") as out:
            server = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        try:
            while True:
                try:
                    with urllib.request.urlopen(url, timeout=5):
                        break
                except OSError:
                    if server.poll() is not None:
                        raise SystemExit(log.read_text()) from None
                    time.sleep(0.02)
            serving = time.perf_counter() - t0
            page.goto(url)
            state = settled(page, None)
            first = time.perf_counter() - t0
            waits, runs = [], []
            box = page.locator(f'input[data-path="{AVIATION}"]')
            for k in range(updates):
                box.fill(f"{0.12 + 0.03 * k:.2f}")
                t = time.perf_counter()
                box.press("Enter")
                state = settled(page, state["generation"])
                waits.append(time.perf_counter() - t)
                text = page.locator("#negsim-status").inner_text()
                runs.append(float(text.rsplit("(", 1)[1].split(" s")[0]))
            if screenshot:
                box.scroll_into_view_if_needed()
                box.fill("0.3")
                box.press("Enter")
                settled(page, state["generation"])
                page.screenshot(path=screenshot)
        finally:
            server.terminate()
            server.wait(timeout=10)
    return {"serving": serving, "first": first, "waits": waits, "runs": runs}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--file", default="scenarios/istanbul-2025.yaml", help="relative to the repository")
    ap.add_argument("--updates", type=int, default=10)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1], help="measure with each of these --jobs (1 2: both)")
    ap.add_argument("--screenshot", help="after the updates, save a PNG of the page here (the aviation chance at 0.3)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if chromium is None:
        raise SystemExit("Chromium is not installed (Debian: apt-get install chromium)")
    print(f"negsim explore {Path(args.file).name} on {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f})")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        try:
            for i, jobs in enumerate(args.jobs):
                page = browser.new_page(viewport={"width": 1440, "height": 1250})  # a browser already open
                got = measure(page, args.file, jobs, args.updates, args.screenshot if i == 0 else None)
                page.close()
                waits, runs = got["waits"], got["runs"]
                print(f"--jobs {jobs}")
                print(f"  serving after                       {got['serving']:6.2f} s")
                print(f"  first value after the command       {got['first']:6.2f} s")
                print(
                    f"  update after an input changed       {statistics.median(waits):6.2f} s median of {len(waits)} "
                    f"(fastest {min(waits):.2f}, slowest {max(waits):.2f})"
                )
                print(f"    of which the simulation           {statistics.median(runs):6.2f} s median")
        finally:
            browser.close()
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    if args.screenshot:
        print(f"wrote {args.screenshot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
