"""Hypothesis's default number of examples follows NEGSIM_HYPOTHESIS_SCALE too (tests/helpers.py)."""

from __future__ import annotations

from hypothesis import settings

from tests.helpers import examples

settings.register_profile("negsim", max_examples=examples(100))
settings.load_profile("negsim")
