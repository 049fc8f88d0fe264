"""The distribution union of scenario files, and sampling by inverse CDF.

Every draw is ``ppf(u)`` of a keyed uniform ``u``, so a changed parameter moves each draw
monotonically instead of reshuffling the stream (common random numbers across sweep points).
Durations are days and never negative: the normal is truncated at zero.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator

from sim.scenario.numbers import Number

Kind = Literal["fixed", "uniform", "triangular", "normal", "lognormal", "exponential", "gamma"]

PARAMETERS: dict[str, tuple[str, ...]] = {
    "fixed": ("value",),
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "normal": ("mean", "sd"),
    "lognormal": ("mu", "sigma"),
    "exponential": ("mean",),
    "gamma": ("shape", "scale"),
}
"""Which parameters each kind takes; every other one is an error."""

MAX_DAYS = 1e9
"""The largest number of days a duration's parameter may hold: far beyond any horizon, and small
enough that no inverse CDF overflows."""

HALF_ULP = 2.0**-54  # moves u from [0, 1) into (0, 1) for the unbounded inverse CDFs
TOP_U = 1.0 - 2.0**-53
"""The largest uniform a stream gives, and the largest argument the unbounded inverse CDFs take:
the largest uniform plus HALF_ULP rounds to 1, where they are infinite."""


CAP_GRID = np.unique(
    np.concatenate([np.linspace(0.0, 1.0, 1001)[:-1], 1.0 - 10.0 ** -np.linspace(0.5, 15.9, 617), [TOP_U, 1.0]])
)
"""The uniforms of :meth:`Distribution.capped_mean`: a thousand steps, then forty to a decade towards 1."""


class Distribution(BaseModel):
    """A non-negative random duration in days. A plain number means ``{dist: fixed, value: x}``."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    dist: Kind
    value: Number | None = None
    low: Number | None = None
    mode: Number | None = None
    high: Number | None = None
    mean: Number | None = None
    sd: Number | None = None
    mu: Number | None = None
    sigma: Number | None = None
    shape: Number | None = None
    scale: Number | None = None

    @model_validator(mode="before")
    @classmethod
    def _plain_number(cls, data: Any) -> Any:
        if isinstance(data, int | float) and not isinstance(data, bool):
            return {"dist": "fixed", "value": data}
        if isinstance(data, str | bool) or data is None:
            shown = (
                f"the text '{data[:40]}'"
                if isinstance(data, str)
                else str(data).lower()
                if data is not None
                else "nothing"
            )
            raise ValueError(
                f"must be a number of days or a distribution such as {{dist: uniform, low, high}}, not {shown}"
            )
        return data

    @model_validator(mode="after")
    def _check(self) -> Distribution:
        wanted = PARAMETERS[self.dist]
        given = {
            k
            for k in ("value", "low", "mode", "high", "mean", "sd", "mu", "sigma", "shape", "scale")
            if getattr(self, k) is not None
        }
        missing = [k for k in wanted if k not in given]
        extra = sorted(given - set(wanted))
        if missing:
            raise ValueError(f"{self.dist} needs {', '.join(repr(k) for k in missing)}")
        if extra:
            raise ValueError(
                f"{self.dist} takes {', '.join(repr(k) for k in wanted)}, not {', '.join(repr(k) for k in extra)}"
            )
        v = self.params()
        for k in ("value", "low", "mode", "high", "mean", "sd", "scale"):
            if k in v and abs(v[k]) > MAX_DAYS:
                raise ValueError(f"{k}: {v[k]:g} days is beyond any horizon (at most {MAX_DAYS:g})")
        if self.dist == "fixed" and v["value"] < 0:
            raise ValueError(f"value: days cannot be negative, not {v['value']:g}")
        if self.dist in ("uniform", "triangular"):
            if v["low"] < 0:
                raise ValueError(f"low: days cannot be negative, not {v['low']:g}")
            if v["high"] < v["low"]:
                raise ValueError(f"high ({v['high']:g}) is below low ({v['low']:g})")
        if self.dist == "triangular" and not v["low"] <= v["mode"] <= v["high"]:
            raise ValueError(f"mode ({v['mode']:g}) must lie between low ({v['low']:g}) and high ({v['high']:g})")
        if self.dist == "normal":
            if v["mean"] < 0:
                raise ValueError(f"mean: days cannot be negative (the normal is truncated at 0), not {v['mean']:g}")
            if v["sd"] <= 0:
                raise ValueError(f"sd must be positive, not {v['sd']:g}")
        if self.dist == "lognormal" and v["sigma"] <= 0:
            raise ValueError(f"sigma must be positive, not {v['sigma']:g}")
        if self.dist == "exponential" and v["mean"] <= 0:
            raise ValueError(f"mean must be positive, not {v['mean']:g}")
        if self.dist == "gamma" and (v["shape"] <= 0 or v["scale"] <= 0):
            raise ValueError(f"shape and scale must be positive, not {v['shape']:g} and {v['scale']:g}")
        if self.dist == "lognormal" and self.expected() > 1e9:
            raise ValueError(f"mu and sigma give a mean of {self.expected():.3g} days, more than a billion")
        return self

    def params(self) -> dict[str, float]:
        return {k: float(getattr(self, k)) for k in PARAMETERS[self.dist]}

    def expected(self) -> float:
        """The mean, in days."""
        v = self.params()
        match self.dist:
            case "fixed":
                return v["value"]
            case "uniform":
                return (v["low"] + v["high"]) / 2
            case "triangular":
                return (v["low"] + v["mode"] + v["high"]) / 3
            case "normal":
                a = -v["mean"] / v["sd"]
                return v["mean"] + v["sd"] * _mills(a)
            case "lognormal":
                return math.exp(min(v["mu"] + v["sigma"] ** 2 / 2, 700.0))
            case "exponential":
                return v["mean"]
            case _:
                return v["shape"] * v["scale"]

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF: uniforms in [0, 1) to days (vectorised)."""
        return ppf(self.dist, self.params(), u)

    def describe(self) -> str:
        """``gamma(shape=2, scale=10)``, for messages."""
        return f"{self.dist}(" + ", ".join(f"{k}={v:g}" for k, v in self.params().items()) + ")"

    def median_floor(self) -> float:
        """A value at or below the median, without scipy (0 where none is cheap: a gamma of shape
        below 1)."""
        v = self.params()
        match self.dist:
            case "fixed":
                return v["value"]
            case "uniform" | "triangular":
                return float(self.ppf(np.array([0.5]))[0])
            case "normal":
                return v["mean"]  # truncated at 0 from a mean of 0 or more: the median is above the mean
            case "lognormal":
                return math.exp(min(v["mu"], 700.0))
            case "exponential":
                return v["mean"] * math.log(2)
            case _:
                return max(v["shape"] - 1 / 3, 0.0) * v["scale"]  # Chen and Rubin (1986): above k - 1/3 for k >= 1

    def capped_mean(self, cap: float) -> float:
        """E[min(X, cap)], the mean of the draws counted only up to ``cap`` days: intervals of X days
        pass ``cap`` after about cap / E[min(X, cap)] of them, however large the mean (a gamma of tiny
        shape has a mean of a day with nearly every draw under a second). An upper sum over the
        inverse CDF, on a grid that closes in on u = 1, so it errs on the side of fewer rounds."""
        with np.errstate(all="ignore"):
            days = np.minimum(np.nan_to_num(self.ppf(CAP_GRID[1:]), nan=cap), cap)
        return float(np.sum(np.diff(CAP_GRID) * days))


def _mills(a: float) -> float:
    """E[Z | Z > a] for a standard normal Z."""
    from scipy import special

    return float(math.exp(-a * a / 2) / math.sqrt(2 * math.pi) / special.ndtr(-a))


def ppf(kind: str, v: dict[str, float], u: np.ndarray) -> np.ndarray:
    """Inverse CDF of a distribution kind with parameters ``v`` at uniforms ``u`` in [0, 1)."""
    u = np.asarray(u, dtype=np.float64)
    special = _special() if kind in ("normal", "lognormal", "gamma") else None
    match kind:
        case "fixed":
            return np.full_like(u, v["value"])
        case "uniform":
            return v["low"] + (v["high"] - v["low"]) * u
        case "triangular":
            a, c, b = v["low"], v["mode"], v["high"]
            if b == a:
                return np.full_like(u, a)
            f = (c - a) / (b - a)
            left = a + np.sqrt(u * (b - a) * (c - a))
            right = b - np.sqrt((1 - u) * (b - a) * (b - c))
            return np.where(u < f, left, right)
        case "normal":
            assert special is not None
            lo = special.ndtr(-v["mean"] / v["sd"])
            q = lo + (1 - lo) * (u + HALF_ULP)
            return np.maximum(v["mean"] + v["sd"] * special.ndtri(np.minimum(q, TOP_U)), 0.0)
        case "lognormal":
            assert special is not None
            return np.exp(v["mu"] + v["sigma"] * special.ndtri(np.minimum(u + HALF_ULP, TOP_U)))
        case "exponential":
            return -v["mean"] * np.log1p(-u)
        case "gamma":
            assert special is not None
            return v["scale"] * special.gammaincinv(v["shape"], u)
    raise AssertionError(kind)


def _special() -> Any:
    """scipy.special, imported only where needed: importing it takes a quarter of a second."""
    from scipy import special

    return special
