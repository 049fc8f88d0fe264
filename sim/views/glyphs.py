"""Which of a scenario's characters the figures can draw, known without loading a font.

The figures' first font is DejaVu Sans, which matplotlib ships. Checking a title against the
installed fonts means importing matplotlib and reading font files (half a second), which a run
whose figures are drawn after it returns should not wait for; the characters in :data:`DRAWN` are
in DejaVu Sans (``tests/test_background.py`` checks them against the font), so text made only of them
needs no check.
"""

from __future__ import annotations

from sim.scenario.models import Scenario

DRAWN = (
    (0x20, 0x7E),  # ASCII
    (0xA0, 0x2AF),  # Latin-1, Latin Extended-A and -B, IPA
    (0x391, 0x3A1),  # Greek capitals
    (0x3A3, 0x3CE),  # Greek
    (0x400, 0x4FF),  # Cyrillic
    (0x2010, 0x2027),  # dashes, quotation marks, bullets, ellipsis
    (0x2030, 0x205E),  # per mille, primes, guillemets
    (0x20AC, 0x20AC),  # euro sign
    (0x2190, 0x22FF),  # arrows, mathematical operators
)
"""Ranges of code points (inclusive) that DejaVu Sans draws."""


def figure_texts(s: Scenario) -> list[str]:
    """Every text of a scenario that its figures show: titles and names."""
    return [s.title or "", *(p.name or "" for p in s.parties.values() if p is not None)] + [
        x.title or "" for part in (s.items, s.constraints, s.events) for x in part.values()
    ]


def surely_drawn(texts: list[str]) -> bool:
    """Whether every character of ``texts`` is one DejaVu Sans draws (or white space)."""
    return all(c.isspace() or any(a <= ord(c) <= b for a, b in DRAWN) for text in texts for c in text)
