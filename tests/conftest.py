"""Hypothesis's default number of examples follows NEGSIM_HYPOTHESIS_SCALE too (tests/helpers.py).

The suite's commands wait for their figures, as a script that reads them does (NEGSIM_WAIT=1, for
the commands run in-process and the processes the tests start); tests/test_background.py tests
the figures drawn after the command returns, and :func:`no_drawing_outlives_the_session` checks
that none of the processes it starts is left when the session ends."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.helpers import examples

os.environ["NEGSIM_WAIT"] = "1"

settings.register_profile("negsim", max_examples=examples(100))
settings.load_profile("negsim")


def drawings_under(folder: Path) -> list[int]:
    """Processes drawing figures after ``run`` returned (``sim.api.draw_later``) into a folder under
    ``folder``: this session's, not another engineer's on the same machine (Linux's /proc; none found
    elsewhere)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(b"draw_later" in a for a in argv) and any(a.startswith(bytes(folder)) for a in argv):
            found.append(int(proc.name))
    return found


@pytest.fixture(scope="session", autouse=True)
def no_drawing_outlives_the_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Fail the session if a detached drawing started by a test is still running at its end (a test
    that did not wait for the figures it caused); such processes are ended, by their ids."""
    yield
    left = drawings_under(tmp_path_factory.getbasetemp().resolve())
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"detached drawings outlived the test session: processes {left}"
