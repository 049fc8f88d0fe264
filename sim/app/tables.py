"""The explorer's tables as HTML: each item's chances against the baseline with the paired
difference, the talks (rounds and breakdown), and the judgements that move each item.

Every figure is also written, unrounded, into ``data-`` attributes of its row, so that a test (or
a script) reads the numbers the page shows without parsing the rounded text. Text from the
scenario is escaped.
"""

from __future__ import annotations

import math
from html import escape

from sim.app.differences import Measure, View

STYLE = """
<style>
.negsim-table {border-collapse: collapse; font-size: 13px; margin: 4px 0 12px 0}
.negsim-table th, .negsim-table td {padding: 3px 8px; text-align: right; border-bottom: 1px solid #e4e4e4}
.negsim-table th:first-child, .negsim-table td:first-child {text-align: left}
.negsim-table tr.negsim-head td {font-weight: 600; background: #f4f4f4; text-align: left}
.negsim-up {color: #1a7f37; font-weight: 600}
.negsim-down {color: #b3261e; font-weight: 600}
.negsim-same {color: #555}
.negsim-moves {background: #fff3c4; font-weight: 600}
.negsim-note {color: #555; font-size: 12px; margin: 2px 0 8px 0}
#negsim-items tr[data-measure="horizon"] td {font-weight: 600}
</style>
"""


def _pct(p: float | None) -> str:
    return "" if p is None else f"{100 * p:.1f}%"


def _attr(x: float | None) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else repr(float(x))


def _difference(m: Measure) -> str:
    """The difference and its 95% interval, coloured when the interval leaves out zero."""
    if m.diff is None or m.low is None or m.high is None:
        return ""
    if m.diff == 0 and m.low == 0 and m.high == 0:
        return '<span class="negsim-same">no change in any replication</span>'
    scale, unit = (100, " pts") if m.share else (1, "")
    kind = "negsim-up" if m.low > 0 else "negsim-down" if m.high < 0 else "negsim-same"
    digits = 2 if max(abs(m.low), abs(m.high)) * scale < 1 else 1  # a small difference is not shown as +0.0
    return (
        f'<span class="{kind}">{scale * m.diff:+.{digits}f}{unit}</span> '
        f'<span class="negsim-same">({scale * m.low:+.{digits}f} to {scale * m.high:+.{digits}f})</span>'
    )


def _row(first: str, m: Measure, item: str) -> str:
    shown = (
        (_pct(m.current), _pct(m.base)) if m.share else (f"{m.current:.2f}", "" if m.base is None else f"{m.base:.2f}")
    )
    data = (
        " ".join(f'data-{k}="{_attr(v)}"' for k, v in (("current", m.current), ("base", m.base), ("diff", m.diff)))
        + f' data-low="{_attr(m.low)}" data-high="{_attr(m.high)}"'
    )
    return (
        f'<tr class="negsim-row" data-item="{escape(item)}" data-measure="{escape(m.key)}" {data}>'
        f"<td>{first}</td><td>{shown[0]}</td><td>{shown[1]}</td><td>{_difference(m)}</td></tr>"
    )


def headline_table(view: View, generation: int) -> str:
    """Each item's P(agreed by the horizon), variant against baseline: the figures a change moves."""
    rows = []
    for it in view.items:
        m = next(m for m in it.measures if m.key == "horizon")
        rows.append(_row(escape(it.title), m, it.item))
    return (
        f'{STYLE}<table class="negsim-table" id="negsim-headline" data-generation="{generation}">'
        "<thead><tr><th>P(agreed by the horizon)</th><th>these values</th><th>baseline</th>"
        f"<th>difference, 95% interval</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def items_table(view: View, generation: int) -> str:
    """Each item's P(agreed) by the horizon and by each milestone, variant against baseline."""
    pairing = (
        "paired: replication <i>i</i> of both runs used the same random streams"
        if view.paired
        else "not paired: the two runs hold different replications, so the interval is Newcombe's for "
        "independent samples"
    )
    rows = []
    for it in view.items:
        rows.append(f'<tr class="negsim-head"><td colspan="4">{escape(it.title)}</td></tr>')
        rows += [_row(escape(m.label), m, it.item) for m in it.measures]
    return (
        f'{STYLE}<table class="negsim-table" id="negsim-items" data-generation="{generation}">'
        "<thead><tr><th>P(agreed)</th><th>these values</th><th>baseline</th>"
        "<th>difference, 95% interval</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        f'<div class="negsim-note">{view.replications:,} replications; differences in percentage points, '
        f"{pairing}.</div>"
    )


def talks_table(view: View, generation: int) -> str:
    """Rounds held, breakdown and every item agreed, variant against baseline."""
    rows = "".join(_row(escape(m.label), m, "") for m in view.talks)
    return (
        f'{STYLE}<table class="negsim-table" id="negsim-talks" data-generation="{generation}">'
        "<thead><tr><th>the talks</th><th>these values</th><th>baseline</th>"
        f"<th>difference, 95% interval</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def judgements_table(view: View, titles: dict[str, str], generation: int) -> str:
    """For each uncertain judgement and item: P(agreed) in the top quarter of its draws minus the
    bottom quarter, marked where it is beyond what chance alone gives."""
    if not view.judgements:
        return '<div class="negsim-note">No judgement is given as a distribution.</div>'
    items = [it.item for it in view.items]
    head = "".join(f"<th>{escape(titles.get(x, x))}</th>" for x in items)
    rows = []
    for j in view.judgements:
        cells = []
        for x in items:
            v = j.spreads.get(x)
            moves = v is not None and abs(v) > view.band
            shown = "" if v is None else f"{100 * v:+.0f}"
            cells.append(f'<td class="{"negsim-moves" if moves else ""}" data-item="{escape(x)}">{shown}</td>')
        rows.append(
            f'<tr data-path="{escape(j.path)}"><td>{escape(j.label)}<br>'
            f'<span class="negsim-note">{escape(j.distribution)}</span></td>{"".join(cells)}</tr>'
        )
    return (
        f'{STYLE}<table class="negsim-table" id="negsim-judgements" data-generation="{generation}">'
        f"<thead><tr><th>judgement</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        '<div class="negsim-note">P(agreed) among the top quarter of a judgement\'s draws minus the bottom '
        f"quarter, in points; marked where beyond the &plusmn;{100 * view.band:.0f} points chance alone can give "
        f"at {view.replications:,} replications.</div>"
    )
