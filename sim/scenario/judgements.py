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
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, model_validator

from sim.scenario.distributions import HALF_ULP, TOP_U, ppf
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

MAX_JUDGEMENT = 1e12
"""The largest size of any draw of a judgement, and of its mean: far beyond any chance, multiplier,
rate per 365 days or trust number, and small enough that the sums and products of draws a run
makes (a summary's mean over millions of replications) stay finite."""
MAX_CONCENTRATION = 1e6
"""The largest a + b of a beta: its draws then lie within 0.0005 of its mean either way (a fixed
number in all but name), and beyond it the inverse CDF grows slow (minutes) and unreliable."""
BETA_SAFE = 1e-6
"""With a and b at least this (and a + b at most MAX_CONCENTRATION), scipy's inverse beta CDF is
faithful to the float (checked over a grid in the tests); smaller ones are checked draw by draw."""
Z_LOW = -8.292361075813597
"""ndtri(HALF_ULP): the standard normal's draw at the smallest uniform a stream gives."""
Z_HIGH = 8.209536151601387
"""ndtri(TOP_U): its draw at the largest."""
EXP_HIGH = 36.7368005696771
"""-log1p(-TOP_U): the unit exponential's largest draw."""
PROBE = np.array(
    [
        0.0,
        1e-12,
        1e-9,
        1e-6,
        1e-4,
        0.01,
        0.05,
        0.1,
        0.25,
        0.5,
        0.75,
        0.9,
        0.95,
        0.99,
        1 - 1e-4,
        1 - 1e-6,
        1 - 1e-9,
        TOP_U,
    ]
)
"""Uniforms at which an inverse CDF that may fail (a beta's, for extreme a or b) is checked."""


def _exp(x: float) -> float:
    """math.exp, infinite where it overflows."""
    return math.exp(x) if x < 709.78 else math.inf


def _gamma_top(k: float) -> float:
    """A value at or above the unit gamma(k)'s draw at the largest uniform, without scipy: the
    exponential's (for k <= 1, a gamma is stochastically smaller), else the Chernoff bound
    P(X >= t) <= exp(k - t) (t / k)^k solved for 2^-53 by Newton's method."""
    if k <= 1:
        return EXP_HIGH
    t = k + EXP_HIGH + math.sqrt(2 * k * EXP_HIGH)  # above the root: Newton's steps come down to it
    for _ in range(50):
        step = (t - k - k * math.log(t / k) - EXP_HIGH) / (1 - k / t)
        t -= step
        if abs(step) <= 1e-9 * t:
            break
    return t


def beta_unfaithful(a: float, b: float) -> str | None:
    """Where scipy's inverse beta CDF is wrong for these a and b (a NaN, or a draw that is not the
    quantile asked for to the float, as when every draw comes out 0.5), or None where it is right."""
    from scipy import special

    tiny = np.finfo(float).tiny
    with np.errstate(all="ignore"):
        x = special.betaincinv(a, b, PROBE)
        if not np.isfinite(x).all():
            return "its draws come out as NaN"
        floor = x <= tiny  # at or below the smallest normal float: a draw of 0 in all but name
        x = np.where(floor, 0.0, x)
        if (np.diff(x) < 0).any() or (x < 0).any() or (x > 1).any():
            return "its draws are not in order"
        below = np.where(floor, 0.0, np.nextafter(x, -np.inf))
        above = np.minimum(np.nextafter(np.maximum(x, tiny), np.inf), 1.0)
        # x is the quantile at u to the float: F(below) <= u <= F(above); in the upper half, by the
        # complements, which keep their precision there. 1% of the tail is close enough.
        lower = (special.betainc(a, b, below) <= PROBE * 1.01) & (special.betainc(a, b, above) >= PROBE * 0.99)
        q = 1 - PROBE
        upper = (special.betaincc(a, b, above) <= q * 1.01) & (special.betaincc(a, b, below) >= q * 0.99)
        wrong = ~np.where(PROBE < 0.5, lower, upper | ((x >= 1.0) & (special.betaincc(a, b, below) >= q * 0.99)))
    if wrong.any():
        i = int(np.argmax(wrong))
        return f"its {PROBE[i]:.4g} quantile comes out as {x[i]:.3g}, which is wrong"
    return None


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
            raise ValueError(f"mode ({v['mode']:g}) must lie between low ({v['low']:g}) and high ({v['high']:g})")
        if self.dist == "normal" and v["sd"] <= 0:
            raise ValueError(f"sd must be positive, not {v['sd']:g}")
        if self.dist == "lognormal" and v["sigma"] <= 0:
            raise ValueError(f"sigma must be positive, not {v['sigma']:g}")
        if self.dist == "exponential" and v["mean"] <= 0:
            raise ValueError(f"mean must be positive, not {v['mean']:g}")
        if self.dist == "gamma" and (v["shape"] <= 0 or v["scale"] <= 0):
            raise ValueError(f"shape and scale must be positive, not {v['shape']:g} and {v['scale']:g}")
        if self.dist == "beta":
            if self.a is None and not (0 < v["mean"] < 1 and v["concentration"] > 0):
                raise ValueError(
                    "a beta's mean must lie strictly between 0 and 1, and its concentration be positive, not "
                    f"mean {v['mean']:g} and concentration {v['concentration']:g}"
                )
            if v["a"] <= 0 or v["b"] <= 0:
                raise ValueError(f"a and b must be positive, not a = {v['a']:g} and b = {v['b']:g}")
        problem = self.draw_problem()
        if problem is not None:
            raise ValueError(problem)
        return self

    def draw_problem(self) -> str | None:
        """Why the draws of this judgement cannot all be finite numbers a run can use (or their mean
        cannot), or None: checked at its most extreme draws, those of the smallest and the largest
        uniform a stream gives, and draw by draw where the inverse CDF may fail (an extreme beta)."""
        v = self.params()
        name = self.describe()
        if self.dist == "beta":
            total = v["a"] + v["b"]
            if total > MAX_CONCENTRATION:
                return (
                    f"{name}: a + b is {total:.3g}, above {MAX_CONCENTRATION:,.0f}: such a beta is a fixed number "
                    "in all but name (its draws lie within 0.0005 of its mean) and cannot be drawn reliably; "
                    "give the number"
                )
            if min(v["a"], v["b"]) < BETA_SAFE:
                wrong = beta_unfaithful(v["a"], v["b"])
                if wrong is not None:
                    return f"{name} cannot be drawn: {wrong} (a or b is too small to compute); make them larger"
            return None
        for x in self.extremes():
            if not abs(x) <= MAX_JUDGEMENT:
                return (
                    f"{name} can draw {x:.3g} (its most extreme draw, one in 2^53): a judgement's draws must stay "
                    f"within {MAX_JUDGEMENT:.0e} either side of 0; narrow it"
                )
        mean = self.expected()
        if not abs(mean) <= MAX_JUDGEMENT:
            return f"{name} has a mean of {mean:.3g}: a judgement's mean must stay within {MAX_JUDGEMENT:.0e} of 0"
        return None

    def extremes(self) -> tuple[float, float]:
        """The smallest and the largest draws a run can meet (the inverse CDF at the smallest and the
        largest uniform a stream gives), without scipy; a gamma's largest is a bound at or above it."""
        v = self.params()
        match self.dist:
            case "fixed":
                return (v["value"], v["value"])
            case "uniform" | "triangular":
                return (v["low"], v["high"])
            case "normal":
                return (v["mean"] + v["sd"] * Z_LOW, v["mean"] + v["sd"] * Z_HIGH)
            case "lognormal":
                return (_exp(v["mu"] + v["sigma"] * Z_LOW), _exp(v["mu"] + v["sigma"] * Z_HIGH))
            case "exponential":
                return (0.0, v["mean"] * EXP_HIGH)
            case "gamma":
                return (0.0, v["scale"] * _gamma_top(v["shape"]))
            case _:
                return (0.0, 1.0)

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
                return _exp(v["mu"] + v["sigma"] ** 2 / 2)
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
            return v["mean"] + v["sd"] * special.ndtri(np.minimum(u + HALF_ULP, TOP_U))
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

Draws = tuple[float, float] | None
"""The range a field's draws must stay in beyond its own values (a case effect's, where exp() of a
draw must stay finite), or None."""


def _fixed_as_number(value: Any) -> Any:
    """A BeforeValidator: ``{dist: fixed, value: x}`` is the number x, judged and run as a plain one
    (the same messages, the same warnings)."""
    if isinstance(value, dict) and value.get("dist") == "fixed" and set(value) == {"dist", "value"}:
        return value["value"]
    if isinstance(value, Uncertain) and value.dist == "fixed":
        return value.value
    return value


def _by_regime(number: Any, low: float, high: float, what: str, open_low: bool, draws: Draws) -> Any:
    """The model of a regime-dependent judgement whose values are of the field's own type."""
    key = (id(number), low, high, what, open_low, draws)
    if key not in _BY_REGIME:
        from pydantic import Field, create_model

        inner = Annotated[
            Annotated[Uncertain, Tag(JUDGEMENT_TAG)] | Annotated[number, Tag(NUMBER_TAG)],
            Discriminator(_kind_plain),
            AfterValidator(_support_within(low, high, what, open_low, draws)),
            BeforeValidator(_fixed_as_number),
        ]
        states: Any = Annotated[
            dict[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")], inner], Field(min_length=1)
        ]  # a type built at run time: mypy cannot follow it, pydantic can
        _BY_REGIME[key] = create_model("ByRegime", __base__=ByRegime, regime=(states, ...))
    return _BY_REGIME[key]


def _kind_plain(value: Any) -> str:
    return JUDGEMENT_TAG if isinstance(value, dict | Uncertain) else NUMBER_TAG


def _support_within(low: float, high: float, what: str, open_low: bool = False, draws: Draws = None) -> Any:
    """An AfterValidator: a distribution's draws must all be valid values of the field (above
    ``low``, not at it, where ``open_low``), and within ``draws`` where it is given."""

    def check(value: Any) -> Any:
        if isinstance(value, Uncertain):
            lo, hi = value.support()
            name = value.dist if value.dist not in ("uniform", "triangular") else f"this {value.dist}"
            if lo < low or hi > high:
                raise ValueError(f"{name} can draw outside {what}: keep every draw within it")
            if open_low and hi <= low:
                raise ValueError(f"{name} always draws {hi:g}: every draw must be more than {low:g}")
            if draws is not None:
                for x in value.extremes():
                    if not draws[0] <= x <= draws[1]:
                        raise ValueError(
                            f"{value.describe()} can draw {x:.3g} (its most extreme draw, one in 2^53): keep every "
                            f"draw within [{draws[0]:g}, {draws[1]:g}]"
                        )
        return value

    return check


def judgement(number: Any, low: float, high: float, what: str, open_low: bool = False, draws: Draws = None) -> Any:
    """A field type: ``number`` (a number type, with its own checks and messages; a fixed
    distribution is that number), a distribution drawn once per replication whose draws all lie
    within [low, high] (``what`` says so in words) and ``draws``, or one of those per state of the
    regime (:class:`ByRegime`)."""
    return Annotated[
        Annotated[Uncertain, Tag(JUDGEMENT_TAG)]
        | Annotated[number, Tag(NUMBER_TAG)]
        | Annotated[_by_regime(number, low, high, what, open_low, draws), Tag(REGIME_TAG)],
        Discriminator(_kind),
        AfterValidator(_support_within(low, high, what, open_low, draws)),
        BeforeValidator(_fixed_as_number),
    ]


MAX_SHIFT = 100.0
"""The largest shift of the log odds a case effect may draw: exp() of it stays finite however it is
multiplied (a shift of 10 already turns a chance of 1 in 20,000 into an even one)."""

UncertainProbability = judgement(Probability, 0.0, 1.0, "[0, 1]")
UncertainNonNegative = judgement(NonNegative, 0.0, math.inf, "[0, infinity)")
UncertainPositive = judgement(Positive, 0.0, math.inf, "(0, infinity)", open_low=True)  # a draw of 0: never
UncertainNumber = judgement(Number, -math.inf, math.inf, "the real numbers")
UncertainShift = judgement(
    Annotated[Number, Field(ge=-MAX_SHIFT, le=MAX_SHIFT)],
    -math.inf,
    math.inf,
    "the real numbers",
    draws=(-MAX_SHIFT, MAX_SHIFT),
)
"""A shift of the log odds (a case effect): a number or a distribution within MAX_SHIFT of 0."""


def mean_of(value: float | Uncertain | ByRegime) -> float:
    """A judgement's expected value (the number itself when it is one)."""
    return value.expected() if isinstance(value, Uncertain | ByRegime) else float(value)


def always_zero(value: object) -> bool:
    """Whether a judgement is 0 in every replication (a plain 0, a distribution that only draws 0,
    or 0 in every state of the regime)."""
    if isinstance(value, ByRegime):
        return all(always_zero(v) for v in value.regime.values())
    if isinstance(value, Uncertain):
        return value.support() == (0.0, 0.0)
    return isinstance(value, int | float) and not isinstance(value, bool) and value == 0


def is_uncertain(value: object) -> bool:
    """Whether a judgement varies between replications (a distribution, or by the regime)."""
    return isinstance(value, ByRegime) or (isinstance(value, Uncertain) and value.dist != "fixed")
