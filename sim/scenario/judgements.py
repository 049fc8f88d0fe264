"""Judgements given as distributions: a probability, rate, multiplier or trust number that its author
can only bound ("somewhere between 0.1 and 0.5") is drawn once per replication.

``{dist: beta, a: 2, b: 5}`` or ``{dist: beta, mean: 0.3, concentration: 10}`` (a = mean x
concentration), and the distributions of durations (uniform, triangular, normal, lognormal,
gamma, exponential, fixed). Each field says which values it takes; a distribution whose draws could
fall outside them is refused at validation (a normal for a probability, a uniform below zero for a
rate). Draws are ``ppf(u)`` of a keyed uniform of the stream ``param/<path>``, so a larger mean moves
every replication's draw the same way and common random numbers still pair runs.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Tag, model_validator

from sim.scenario.distributions import HALF_ULP, ppf
from sim.scenario.numbers import NonNegative, Number, Positive, Probability

Kind = Literal["fixed", "uniform", "triangular", "normal", "lognormal", "exponential", "gamma", "beta"]

PARAMETERS: dict[str, tuple[tuple[str, ...], ...]] = {
    "fixed": (("value",),),
    "uniform": (("low", "high"),),
    "triangular": (("low", "mode", "high"),),
    "normal": (("mean", "sd"),),
    "lognormal": (("mu", "sigma"),),
    "exponential": (("mean",),),
    "gamma": (("shape", "scale"),),
    "beta": (("a", "b"), ("mean", "concentration")),
}
"""The parameters each kind takes (beta: either form)."""

_FIELDS = ("value", "low", "mode", "high", "mean", "sd", "mu", "sigma", "shape", "scale", "a", "b", "concentration")


class Uncertain(BaseModel):
    """A judgement drawn once per replication."""

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
    a: Number | None = None
    b: Number | None = None
    concentration: Number | None = None

    @model_validator(mode="after")
    def _check(self) -> Uncertain:
        given = {k for k in _FIELDS if getattr(self, k) is not None}
        forms = PARAMETERS[self.dist]
        if not any(given == set(form) for form in forms):
            wanted = " or ".join(", ".join(repr(k) for k in form) for form in forms)
            raise ValueError(f"{self.dist} takes {wanted}, not {', '.join(sorted(given)) or 'nothing'}")
        v = self.params()
        if self.dist in ("uniform", "triangular") and v["high"] < v["low"]:
            raise ValueError(f"high ({v['high']:g}) is below low ({v['low']:g})")
        if self.dist == "triangular" and not v["low"] <= v["mode"] <= v["high"]:
            raise ValueError(f"mode ({v['mode']:g}) must lie between low and high")
        if self.dist == "normal" and v["sd"] <= 0:
            raise ValueError("sd must be positive")
        if self.dist == "lognormal" and v["sigma"] <= 0:
            raise ValueError("sigma must be positive")
        if self.dist == "exponential" and v["mean"] <= 0:
            raise ValueError("mean must be positive")
        if self.dist == "gamma" and (v["shape"] <= 0 or v["scale"] <= 0):
            raise ValueError("shape and scale must be positive")
        if self.dist == "beta":
            if self.a is None and not (0 < v["mean"] < 1 and v["concentration"] > 0):
                raise ValueError("a beta's mean must lie strictly between 0 and 1, and its concentration be positive")
            if v["a"] <= 0 or v["b"] <= 0:
                raise ValueError("a and b must be positive")
        return self

    def params(self) -> dict[str, float]:
        """The parameters, with beta's mean/concentration form turned into a and b."""
        if self.dist == "beta" and self.a is None:
            m, c = float(self.mean or 0.0), float(self.concentration or 0.0)
            return {"a": m * c, "b": (1 - m) * c, "mean": m, "concentration": c}
        return {k: float(getattr(self, k)) for k in _FIELDS if getattr(self, k) is not None}

    def support(self) -> tuple[float, float]:
        """The smallest and largest values a draw can take."""
        v = self.params()
        match self.dist:
            case "fixed":
                return (v["value"], v["value"])
            case "uniform" | "triangular":
                return (v["low"], v["high"])
            case "normal":
                return (-math.inf, math.inf)
            case "beta":
                return (0.0, 1.0)
            case _:
                return (0.0, math.inf)

    def expected(self) -> float:
        """The mean of the draws."""
        v = self.params()
        match self.dist:
            case "fixed":
                return v["value"]
            case "uniform":
                return (v["low"] + v["high"]) / 2
            case "triangular":
                return (v["low"] + v["mode"] + v["high"]) / 3
            case "normal" | "exponential":
                return v["mean"]
            case "lognormal":
                return math.exp(v["mu"] + v["sigma"] ** 2 / 2)
            case "gamma":
                return v["shape"] * v["scale"]
            case _:
                return v["a"] / (v["a"] + v["b"])

    def bound(self, q: float) -> float:
        """A value at or above the ``q`` quantile, without scipy: the top of a bounded support, else
        Cantelli's mean + sd * sqrt(q / (1 - q)), which holds for any distribution."""
        hi = self.support()[1]
        if math.isfinite(hi):
            return hi
        v = self.params()
        match self.dist:
            case "normal":
                sd = v["sd"]
            case "exponential":
                sd = v["mean"]
            case "lognormal":
                sd = math.sqrt(math.expm1(v["sigma"] ** 2)) * self.expected()
            case _:  # gamma
                sd = math.sqrt(v["shape"]) * v["scale"]
        return self.expected() + sd * math.sqrt(q / (1 - q))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF at uniforms ``u`` in [0, 1): the durations' inverse CDFs
        (:func:`sim.scenario.distributions.ppf`), except that a judgement's normal is not truncated
        at 0 (a trust weight may be negative), and the beta."""
        v = self.params()
        if self.dist not in ("normal", "beta"):
            return ppf(self.dist, v, u)
        from scipy import special

        u = np.asarray(u, dtype=np.float64)
        if self.dist == "normal":
            return v["mean"] + v["sd"] * special.ndtri(u + HALF_ULP)
        return special.betaincinv(v["a"], v["b"], u)

    def describe(self) -> str:
        """``beta(a=2, b=5)``, for tables."""
        shown = {k: v for k, v in self.params().items() if not (self.dist == "beta" and k in ("mean", "concentration"))}
        return f"{self.dist}(" + ", ".join(f"{k}={v:g}" for k, v in shown.items()) + ")"


JUDGEMENT_TAG = "@judgement"
NUMBER_TAG = "@number"
REGIME_TAG = "@regime"


class ByRegime(BaseModel):
    """A judgement that depends on the case-level regime: ``{regime: {decided: 0.4, undecided:
    0.05}}``, one value (a number or a distribution) per state of the scenario's ``regime``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    regime: dict[str, Any]

    def expected(self) -> float:
        """The plain mean over the states (the share-weighted mean needs the scenario's regime)."""
        values = [mean_of(v) for v in self.regime.values()]
        return sum(values) / len(values) if values else 0.0


def _kind(value: Any) -> str:
    if isinstance(value, ByRegime) or (isinstance(value, dict) and "regime" in value and "dist" not in value):
        return REGIME_TAG
    return JUDGEMENT_TAG if isinstance(value, dict | Uncertain) else NUMBER_TAG


_BY_REGIME: dict[tuple[Any, ...], Any] = {}


def _by_regime(number: Any, low: float, high: float, what: str, open_low: bool) -> Any:
    """The model of a regime-dependent judgement whose values are of the field's own type."""
    key = (id(number), low, high, what, open_low)
    if key not in _BY_REGIME:
        from pydantic import Field, create_model

        inner = Annotated[
            Annotated[Uncertain, Tag(JUDGEMENT_TAG)] | Annotated[number, Tag(NUMBER_TAG)],
            Discriminator(_kind_plain),
            AfterValidator(_support_within(low, high, what, open_low)),
        ]
        states: Any = Annotated[
            dict[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")], inner], Field(min_length=1)
        ]  # a type built at run time: mypy cannot follow it, pydantic can
        _BY_REGIME[key] = create_model("ByRegime", __base__=ByRegime, regime=(states, ...))
    return _BY_REGIME[key]


def _kind_plain(value: Any) -> str:
    return JUDGEMENT_TAG if isinstance(value, dict | Uncertain) else NUMBER_TAG


def _support_within(low: float, high: float, what: str, open_low: bool = False) -> Any:
    """An AfterValidator: a distribution's draws must all be valid values of the field."""

    def check(value: Any) -> Any:
        if isinstance(value, Uncertain):
            lo, hi = value.support()
            if lo < low or hi > high or (open_low and lo <= low):
                name = value.dist if value.dist not in ("uniform", "triangular") else f"this {value.dist}"
                raise ValueError(f"{name} can draw outside {what}: keep every draw within it")
        return value

    return check


def judgement(number: Any, low: float, high: float, what: str, open_low: bool = False) -> Any:
    """A field type: ``number`` (a number type, with its own checks and messages), a distribution
    drawn once per replication whose draws all lie within [low, high] (``what`` says so in words),
    or one of those per state of the regime (:class:`ByRegime`)."""
    return Annotated[
        Annotated[Uncertain, Tag(JUDGEMENT_TAG)]
        | Annotated[number, Tag(NUMBER_TAG)]
        | Annotated[_by_regime(number, low, high, what, open_low), Tag(REGIME_TAG)],
        Discriminator(_kind),
        AfterValidator(_support_within(low, high, what, open_low)),
    ]


UncertainProbability = judgement(Probability, 0.0, 1.0, "[0, 1]")
UncertainNonNegative = judgement(NonNegative, 0.0, math.inf, "[0, infinity)")
UncertainPositive = judgement(Positive, 0.0, math.inf, "[0, infinity)")  # a draw of 0: never
UncertainNumber = judgement(Number, -math.inf, math.inf, "the real numbers")


def mean_of(value: float | Uncertain | ByRegime) -> float:
    """A judgement's expected value (the number itself when it is one)."""
    return value.expected() if isinstance(value, Uncertain | ByRegime) else float(value)


def is_uncertain(value: object) -> bool:
    """Whether a judgement varies between replications (a distribution, or by the regime)."""
    return isinstance(value, ByRegime) or (isinstance(value, Uncertain) and value.dist != "fixed")
