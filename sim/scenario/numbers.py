"""Number types for scenario fields: finite, and never a boolean or a string."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number, not {_kind(value)}")
    if isinstance(value, int):
        try:
            float(value)
        except OverflowError:
            raise ValueError(f"{shown(value)} is beyond the range of numbers (about 1.8e+308)") from None
    return value


def _integer(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be a whole number, not {_kind(value)}")
    return value


def shown(value: Any) -> str:
    """A number as a message shows it: a whole number of many digits in short (``9.99e+4999``)."""
    if isinstance(value, int) and not isinstance(value, bool) and not -(10**24) < value < 10**24:
        digits = str(abs(value))
        short = f"{'-' if value < 0 else ''}{digits[0]}.{digits[1:3]}e+{len(digits) - 1}"
        return f"{short} (a whole number of {len(digits):,} digits)"
    return f"{value!r}"


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"'{str(value).lower()}'"
    if isinstance(value, str):
        return f"the text '{value[:40]}'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return shown(value)


Number = Annotated[float, BeforeValidator(_number)]
"""A finite number (ints accepted)."""
Probability = Annotated[float, BeforeValidator(_number), Field(ge=0.0, le=1.0)]
"""A probability in [0, 1]."""
NonNegative = Annotated[float, BeforeValidator(_number), Field(ge=0.0)]
Positive = Annotated[float, BeforeValidator(_number), Field(gt=0.0)]
Whole = Annotated[int, BeforeValidator(_integer)]
"""A whole number (2.0 is taken as 2)."""
Count = Annotated[int, BeforeValidator(_integer), Field(ge=0)]
"""A whole number, zero or more."""
