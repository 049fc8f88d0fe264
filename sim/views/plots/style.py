"""Shared look of negsim figures: legible at report size, dated axes, reproducible files."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import matplotlib
import matplotlib.dates as mdates
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter

from sim.results.stats import cumulative
from sim.views.glyphs import surely_drawn

RC: Any = {
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "font.size": 10.5,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.labelsize": 10.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.fontsize": 9.5,
    "legend.frameon": False,
    "svg.hashsalt": "negsim",
    "svg.fonttype": "none",
    "text.parse_math": False,  # a "$" in a title is a dollar sign, never mathtext
}
FALLBACK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK KR",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "Noto Sans Arabic",
    "Noto Sans Hebrew",
    "Noto Sans Devanagari",
    "Arial Unicode MS",
)
"""Fonts tried, glyph by glyph, after DejaVu Sans (which has Latin, Greek, Cyrillic and Arabic but no
Chinese, Japanese or Korean), when they are installed: titles in those scripts then render."""


def _families() -> list[str]:
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return ["DejaVu Sans", *[f for f in FALLBACK_FONTS if f in installed]]


RC["font.family"] = _families()


def missing_glyphs(texts: list[str]) -> list[str]:
    """The characters of ``texts`` that no font of the figures has (they would show as boxes)."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    chars = {c for text in texts for c in text if ord(c) > 127 and not c.isspace()}
    if not chars or surely_drawn(list(chars)):
        return []
    maps = []
    for family in RC["font.family"]:
        path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
        maps.append(FT2Font(path).get_charmap())
    return sorted(c for c in chars if not any(ord(c) in m for m in maps))


def say_missing_glyphs(texts: list[str]) -> None:
    """One warning for every character the figures cannot show, before drawing (matplotlib would
    warn once per glyph and per drawing process)."""
    import warnings

    missing = missing_glyphs(texts)
    if missing:
        warnings.warn(
            f"{len(missing)} characters in titles or names have no glyph in the installed fonts and show as "
            f"boxes in the figures ({''.join(missing[:10])}); install a font that has them, such as Noto Sans "
            "CJK (Debian and Ubuntu: fonts-noto-cjk)",
            UserWarning,
            stacklevel=2,
        )


COLORS = [
    "#1b6ca8",
    "#d1495b",
    "#2a9d8f",
    "#e9a03b",
    "#6a4c93",
    "#8c564b",
    "#3d405b",
    "#e76f51",
    "#4d908e",
    "#9c6644",
    "#577590",
    "#b5838d",
]
"""Distinct colours that stay apart in greyscale print order."""


F = TypeVar("F", bound=Callable[..., Figure])


def styled(draw: F) -> F:
    """Draw a figure inside negsim's style, so every text in it (titles, labels, legends, the
    user's own names) is literal: no mathtext, whatever the user's matplotlib settings."""

    @functools.wraps(draw)
    def inner(*args: Any, **kwargs: Any) -> Figure:
        with matplotlib.rc_context(RC):
            return draw(*args, **kwargs)

    return inner  # type: ignore[return-value]


def color(i: int) -> str:
    return COLORS[i % len(COLORS)]


def figure(width: float = 9.0, height: float = 5.0, **kw: Any) -> Figure:
    with matplotlib.rc_context(RC):
        return Figure(figsize=(width, height), layout="constrained", **kw)


def subplots(nrows: int = 1, ncols: int = 1, width: float = 9.0, height: float = 5.0, **kw: Any) -> tuple[Figure, Any]:
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(width, height), layout="constrained")
        axes = fig.subplots(nrows, ncols, **kw)
    return fig, axes


def panel_grid(k: int, ncols: int, width: float, row_height: float, **kw: Any) -> tuple[Figure, Any]:
    """Room for ``k`` panels (at least one) in rows of ``ncols``: the figure and its axes (2-D; the
    j-th panel is ``axes.flat[j]``). Empty slots are hidden, and with a shared x axis the panel above
    an empty slot shows the x labels the hidden one would have carried."""
    k = max(k, 1)
    nrows = -(-k // ncols)
    fig, axes = subplots(nrows, ncols, width=width, height=max(3.4, row_height * nrows + 1.2), squeeze=False, **kw)
    for j in range(k, nrows * ncols):
        axes.flat[j].set_visible(False)
        if j >= ncols and kw.get("sharex"):
            axes.flat[j - ncols].tick_params(labelbottom=True)
    return fig, axes


def to_dates(start: dt.date, days: np.ndarray | list[float] | float) -> np.ndarray:
    """Days from ``start`` as matplotlib date numbers."""
    return mdates.date2num(dt.datetime.combine(start, dt.time())) + np.asarray(days, dtype=float)


class YearDates(Formatter):
    """Date tick labels that always show the year: the month (the day and month where ticks are
    closer than a month apart; the year alone on yearly ticks), with the year under the first tick
    shown and under every tick where the year changes. matplotlib's concise formatter shows the
    year only where it changes, so an axis within one year, or one that starts in May, had none."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return str(mdates.num2date(x).date().isoformat())

    def format_ticks(self, values: Any) -> list[str]:
        values = [float(v) for v in values]
        if not values:
            return []
        dates = [mdates.num2date(v).date() for v in values]
        step = min((b - a for a, b in itertools.pairwise(values)), default=365.0)
        lo, hi = sorted(self.axis.get_view_interval()) if self.axis is not None else (-math.inf, math.inf)
        if step >= 360 and all(d.month == 1 and d.day == 1 for d in dates):
            return [str(d.year) for d in dates]
        out, shown = [], None
        for v, d in zip(values, dates, strict=True):
            text = d.strftime("%b") if step >= 27 else f"{d.day} {d:%b}"
            if (
                lo - 1e-9 <= v <= hi + 1e-9
            ):  # ticks outside the view are never drawn: the year goes under the first one that is
                if d.year != shown:
                    text += f"\n{d.year}"
                shown = d.year
            out.append(text)
        return out


def year_dates(axis: Any, minticks: int = 4, maxticks: int = 9) -> None:
    """Dated ticks with the year (:class:`YearDates`) on an axis (``ax.xaxis`` or ``ax.yaxis``)."""
    axis.set_major_locator(mdates.AutoDateLocator(minticks=minticks, maxticks=maxticks))
    axis.set_major_formatter(YearDates())


def date_axis(ax: Any, start: dt.date, horizon: float) -> None:
    year_dates(ax.xaxis)
    lo, hi = to_dates(start, [0.0, horizon])
    pad = (hi - lo) * 0.01
    ax.set_xlim(lo - pad, hi + pad)


def mark_day(ax: Any, start: dt.date, day: float, text: str, colour: str = "0.45", ls: Any = ":") -> None:
    """A vertical line on a date axis, labelled along it at the top (a milestone, the horizon)."""
    x = float(to_dates(start, day))
    ax.axvline(x, color=colour, lw=0.9, ls=ls, zorder=0)
    ax.text(
        x,
        0.99,
        text + " ",
        transform=ax.get_xaxis_transform(),
        rotation=90,
        ha="right",
        va="top",
        fontsize=7.5,
        color=colour,
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 0.6},
    )


def mark_horizon(ax: Any, start: dt.date, horizon: float) -> None:
    """The horizon, labelled with its date: nothing is simulated after it."""
    mark_day(ax, start, horizon, f"horizon {(start + dt.timedelta(days=horizon)).isoformat()}", "0.3", "--")


def title(fig: Figure, main: str, caption: str = "") -> None:
    """A bold title above, and a small grey caption below saying how to read the figure."""
    import textwrap

    width = int(fig.get_figwidth() * 8.5)
    fig.suptitle("\n".join(textwrap.wrap(main, width)) or main, fontsize=13, fontweight="bold")
    if caption:
        lines = textwrap.wrap(caption, int(fig.get_figwidth() * 15))
        fig.supxlabel("\n".join(lines), fontsize=9, color="0.35")


def svg_default() -> bool:
    """Whether figures are also written as SVG when no option says: ``NEGSIM_SVG=1`` in the environment."""
    return os.environ.get("NEGSIM_SVG", "").strip().lower() in ("1", "true", "yes")


def save(fig: Figure, folder: Path, name: str, svg: bool | None = None) -> list[Path]:
    """Write ``name.png`` (and ``name.svg`` when asked) with no time stamps, so the files are reproducible."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    with matplotlib.rc_context(RC):
        png = folder / f"{name}.png"
        fig.savefig(png, format="png", metadata={"Software": None})
        out.append(png)
        if svg_default() if svg is None else svg:
            path = folder / f"{name}.svg"
            fig.savefig(path, format="svg", metadata={"Date": None, "Creator": None})
            out.append(path)
    return out


def step_curve(ax: Any, start: dt.date, days: np.ndarray, horizon: float, colour: str, **line: Any) -> Any:
    """A cumulative probability over dates (``sim.results.stats.cumulative``) with its shaded 95% band."""
    curve = cumulative(days, horizon).on_grid()
    xs = to_dates(start, curve.days)
    ax.step(xs, curve.p, where="post", color=colour, lw=line.pop("lw", 2.2), **line)
    ax.fill_between(xs, curve.low, curve.high, step="post", color=colour, alpha=0.18, lw=0)
    return curve


def given_of(results: Any) -> dict[str, Any] | None:
    """The ``--given`` section of a run's manifest (None for an unconditioned run)."""
    given = (results.manifest or {}).get("given")
    return given if isinstance(given, dict) and isinstance(given.get("as_of_day"), (int, float)) else None


def mark_as_of(ax: Any, start: dt.date, given: dict[str, Any] | None, text: bool = True) -> None:
    """Shade the history a ``--given`` run was conditioned on, up to its as_of, and label the line."""
    if given is None:
        return
    lo, at = to_dates(start, [0.0, float(given["as_of_day"])])
    ax.axvspan(lo - 1e3, at, color="0.85", alpha=0.45, lw=0, zorder=0)
    ax.axvline(at, color="0.25", lw=1.2, ls="--", zorder=1)
    if text:
        ax.text(
            at,
            0.99,
            f" as of {given['as_of']}",
            transform=ax.get_xaxis_transform(),
            ha="left",
            va="top",
            fontsize=9,
            color="0.2",
        )


def given_caption(given: dict[str, Any] | None, shaded: bool = True) -> str:
    """The sentence a conditioned run's captions add: what the forecast is given."""
    if given is None:
        return ""
    return (
        f" Given the history to {given['as_of']}{' (shaded)' if shaded else ''}: the {given['kept']:,} "
        f"replications kept of {given['tried']:,} tried agree with what happened by then; after it, the forecast."
    )
