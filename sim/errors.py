"""User-facing errors: one clear message, exit code 2, never a traceback."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in an input file, located by line and field path."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class UserError(Exception):
    """A mistake in the user's input or command line (exit code 2)."""

    def __init__(self, message: str, problems: Iterable[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)

    def __str__(self) -> str:
        if self.problems:
            return "\n".join(str(p) for p in self.problems)
        return str(self.args[0])


def did_you_mean(name: str, candidates: Iterable[object]) -> str:
    """Return `` (did you mean 'x'?)`` for the closest candidate, or an empty string. Candidates
    are compared as text, whatever they are (a key read as nothing or a date is one too)."""
    close = difflib.get_close_matches(str(name), sorted({str(c) for c in candidates}), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def plural(n: int, word: str, many: str | None = None) -> str:
    """``n`` and the word, singular for one: "1 replication", "2,000 replications"."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"


class ScenarioWarning(UserWarning):
    """Something a valid input says that can never happen (``file:line: field: warning: what``):
    one line on stderr, and the command goes on."""


class Interrupted(Exception):
    """Ctrl-C during a long run: the message says what was kept; the exit code is 130."""
