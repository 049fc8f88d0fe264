"""The decisions of the model as small pure functions (DESIGN.md, Semantics 3-5).

The SimPy processes in :mod:`sim.engine.model` only wait and call these; they are tested directly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from numpy import exp as _np_exp


def logit(p: float) -> float:
    """log(p / (1 - p)), with p = 0 and p = 1 mapped to -inf and +inf."""
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    return math.log(p / (1.0 - p))


def agreement_probability(p: float, logit_p: float, weight: float, trust: float, multiplier: float) -> float:
    """``p_eff = expit(logit(p) + weight * trust) * multiplier``, clipped to [0, 1].

    p = 0 and p = 1 stay exact whatever the trust, and with no trust shift p is returned
    unchanged (no round trip through the logit).
    """
    shift = weight * trust
    if shift == 0.0 or p <= 0.0 or p >= 1.0:
        base = p
    else:
        z = logit_p + shift
        # numpy's exp, not math.exp: the batch engine computes the same expression on arrays, and
        # the two exps differ in the last bit for a few percent of arguments.
        base = float(1.0 / (1.0 + _np_exp(-z))) if z > -700.0 else 0.0
    q = base * multiplier
    return 0.0 if q < 0.0 else 1.0 if q > 1.0 else q


def multiplier(effects: Sequence[tuple[int, float]], active: Sequence[bool]) -> float:
    """The product of the multipliers of an item's active constraints."""
    out = 1.0
    for c, m in effects:
        if active[c]:
            out *= m
    return out


def agenda(
    order: Sequence[int],
    agreed: Sequence[bool],
    active: Sequence[bool],
    requires: Sequence[Sequence[int]],
    blocks: Sequence[Sequence[int]],
    capacity: int,
) -> list[int]:
    """The items worked on in a held round: eligible ones by priority, at most ``capacity``.

    ``order`` is the items sorted by (priority, file order). Eligible: not yet agreed, every
    required item agreed, and no active constraint blocks it; a blocked item takes no place.
    """
    out: list[int] = []
    for x in order:
        if agreed[x]:
            continue
        for r in requires[x]:
            if not agreed[r]:
                break
        else:
            for c in blocks[x]:
                if active[c]:
                    break
            else:
                out.append(x)
                if len(out) == capacity:
                    break
    return out


def add_trust(trust: float, delta: float, low: float, high: float) -> float:
    """Trust after a change, kept within [low, high]."""
    t = trust + delta
    return low if t < low else high if t > high else t


def first_review(first: float, every: float) -> int:
    """Index of the first review on or after day 0 (reviews before the start are history)."""
    if first >= 0.0:
        return 0
    return math.ceil(-first / every)


def all_agreed(items: Sequence[int], agreed: Sequence[bool]) -> bool:
    return all(agreed[x] for x in items)
