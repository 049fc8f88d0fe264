"""``report.html``: one self-contained file per run, sweep and comparison.

Plots are embedded as PNG data, styles are inline, and nothing is fetched from a network, so
the file opens offline and can be mailed as it is. The same bodies serve as the HTML view of
results in Jupyter.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from sim.results import discovery, shares
from sim.results import sobol as sobol_indices
from sim.results.compare import Comparison, unpaired_interval
from sim.results.files import read_json
from sim.results.folder import RunResults, scenario_yaml
from sim.results.sweepfolder import SweepResults
from sim.views.text import METRIC_NAMES, NAMES, baseline_note, interval_text, point_cells

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#1d1d1f;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
.sub{color:#555;margin-top:0}.wide{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;margin:.6rem 0;font-size:.92rem}
th,td{padding:.25rem .6rem;border-bottom:1px solid #e5e5e5;text-align:left;vertical-align:top;overflow-wrap:break-word}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;overflow-wrap:normal}th{background:#f5f5f7}
.d{white-space:nowrap}
img{max-width:100%;height:auto;border:1px solid #eee;margin:.6rem 0}
pre{background:#f7f7f9;padding:.8rem;overflow:auto;font-size:.82rem;border:1px solid #eee}
.note{color:#555;font-size:.9rem}details{margin:.6rem 0}
"""


def esc(value: Any) -> str:
    return html.escape(str(value))


NUMBER = re.compile(r"[+\-−±]?\d[\d,]*(?:\.\d+)?(?:%|x)?(?=$|\s|\()")
"""A cell that begins with a number (not a date): 12.3%, -0.05, 5,000 of 6,000, 1.4x narrower."""
PLACEHOLDERS = {"", "-", "—", "n/a", "drawn", "unset", "failed"}
"""Cells that stand in a column of numbers for a number that is not there."""


def is_number(text: str) -> bool:
    return NUMBER.match(text) is not None


def numeric_columns(rows: Sequence[Sequence[str]], width: int) -> set[int]:
    """The columns of numbers: at least one cell is a number, and numbers are the most of the cells
    that are not placeholders. Such a column is aligned right, header and every cell, so that its
    digits line up whatever a cell holds (a cell-by-cell choice left some cells of a column apart)."""
    out = set()
    for i in range(width):
        cells = [str(r[i]) for r in rows if i < len(r) and str(r[i]).strip() not in PLACEHOLDERS]
        numbers = sum(is_number(c) for c in cells)
        if numbers and numbers >= len(cells) - numbers:
            out.add(i)
    return out


DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def breakable(text: str, dates: bool = True) -> str:
    """Escaped text in which a long run without spaces (a dotted path, a file name, an item's id) may
    break after its dots, underscores and slashes, so that a table's column can narrow to the page;
    a date never breaks at its hyphens (``dates``; a header's dates may)."""
    out = []
    for word in re.split(r"(\s+)", text):
        if dates and DATE.search(word):
            out.append(DATE.sub(lambda m: f"<span class=d>{m.group(0)}</span>", esc(word)))
        elif len(word) > 16:
            out.append(re.sub(r"([._/])", r"\1<wbr>", esc(word)))
        else:
            out.append(esc(word))
    return "".join(out)


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """An HTML table that fits the page: numbers aligned right column by column, long names able to
    break, and a scroll bar of its own rather than a page wider than the window if all else fails."""
    body_rows = [[str(c) for c in row] for row in rows]
    right = numeric_columns(body_rows, len(header))

    def cell(tag: str, i: int, text: str) -> str:
        shown = esc(text) if tag == "td" and i in right else breakable(text, dates=tag == "td")
        return f'<{tag} class="n">{shown}</{tag}>' if i in right else f"<{tag}>{shown}</{tag}>"

    head = "".join(cell("th", i, str(h)) for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>" for row in body_rows)
    return f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def spaced(iso: str) -> str:
    """An ISO date as a header shows it, breakable between its parts: ``30 Jun 2025``."""
    d = dt.date.fromisoformat(iso)
    return f"{d.day} {d:%b %Y}"


def pct(x: float | None, digits: int = 1) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}%}"


def image(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{data}">'


def images(folder: Path) -> str:
    return "".join(image(p, p.stem.replace("_", " ")) for p in sorted(folder.glob("*.png"))) if folder.is_dir() else ""


def page(title_text: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{esc(title_text)}</title>'
        f"<style>{CSS}</style></head><body>{body}</body></html>\n"
    )


def pre(text: str) -> str:
    return f"<pre>{esc(text)}</pre>"


# ---------------------------------------------------------------------- a run


def run_body(res: RunResults, plots: Path | None = None) -> str:
    s, sm = res.scenario, res.summary_data
    parts = [
        f"<h1>{esc(s.title or s.name)}</h1>",
        f"<p class=sub>{esc(sm['replications']):s} replications, seed {esc(sm['seed'])}; from {esc(sm['start'])} "
        f"to {esc(sm['horizon']['date'])}</p>",
    ]
    if s.description:
        parts.append(f"<p>{esc(s.description)}</p>")
    given = (res.manifest or {}).get("given")
    if isinstance(given, dict) and "as_of" in given:
        parts.append(given_section(given))
    parts.append("<h2>Chance of agreement</h2>")
    marks = [m["date"] for m in sm["items"][0]["by_milestone"]] if sm["items"] else []
    rows = []
    for it in sm["items"]:
        med = it["median"]["date"] if it["median"] else f"after {sm['horizon']['date']}"
        rows.append(
            [
                it["title"],
                pct(it["p"]),
                f"{pct(it['ci_low'])} – {pct(it['ci_high'])}",
                med,
                *[pct(m["p"]) for m in it["by_milestone"]],
            ]
        )
    parts.append(
        table(
            ["item", "P(agreed by horizon)", "95% interval", "median date", *[f"by {spaced(d)}" for d in marks]], rows
        )
    )
    b, a = sm["breakdown"], sm["all_agreed"]
    parts.append(
        f"<p>P(talks broken off) {pct(b['p'])} ({pct(b['ci_low'])} – {pct(b['ci_high'])}); P(every item "
        f"agreed) {pct(a['p'])}; rounds held: mean {sm['rounds']['held_mean']:.2f}.</p>"
    )
    if sm["constraints"]:
        parts.append("<h2>Constraints</h2>")
        parts.append(
            table(
                ["constraint", "P(lifted by horizon)", "P(active at horizon)", "median first lift"],
                [
                    [
                        c["title"],
                        pct(c["lifted"]["p"]),
                        pct(c["active_at_horizon"]["p"]),
                        c["median_first_lift"]["date"] if c["median_first_lift"] else "after horizon",
                    ]
                    for c in sm["constraints"]
                ],
            )
        )
    if sm.get("judgements"):
        parts.append(judgements_section(sm, conditioned=isinstance(given, dict)))
    parts.append("<h2>Most frequent outcomes</h2>")
    titles = {it["item"]: it["title"] for it in sm["items"]}
    parts.append(
        table(
            ["agreed by the horizon", "share", "95% interval"],
            [
                [
                    " + ".join(titles.get(x, x) for x in o["agreed"]) or "nothing",
                    pct(o["p"]),
                    f"{pct(o['ci_low'])} – {pct(o['ci_high'])}",
                ]
                for o in sm["joint_outcomes"]
            ],
        )
    )
    if plots is not None:
        parts.append("<h2>Figures</h2>" + images(plots))
    parts.append(
        "<h2>Scenario as run</h2><details><summary>scenario.yaml</summary>" + pre(scenario_yaml(s)) + "</details>"
    )
    if res.manifest:
        parts.append(
            "<h2>How this was made</h2><details><summary>manifest.json</summary>"
            + pre(json.dumps(res.manifest, indent=2))
            + "</details>"
        )
    return "".join(parts)


def given_section(given: dict[str, Any]) -> str:
    """What a ``--given`` run kept, and how often the scenario met each condition."""
    rows = [[c["condition"], pct(c["met"])] for c in given.get("conditions", [])]
    return (
        f"<h2>Given the history to {esc(given['as_of'])}</h2>"
        f"<p>A forecast given what happened: of {given['tried']:,} replications tried, the "
        f"{given['kept']:,} kept agree with the history in {esc(given.get('observed_file', ''))} up to "
        f"{esc(given['as_of'])} (acceptance {pct(given['acceptance'], 2)}). Their futures are the forecast, and "
        "their judgement draws the posterior. How often the scenario met each condition on its own:</p>"
        + table(["condition, by as_of", "share of replications tried"], rows)
    )


def judgements_section(sm: dict[str, Any], conditioned: bool) -> str:
    """Each uncertain judgement: as written, as drawn (the posterior in a ``--given`` run), and
    the spread of each item's P(agreed by horizon) between the top and bottom quarter of its draws."""
    items = [it["item"] for it in sm["items"]]

    def spread(q: dict[str, Any], mean: Any) -> str:
        return f"{mean:.3g} ({q['0.1']:.3g} – {q['0.9']:.3g})" if q and mean is not None else ""

    rows = []
    noise = sm["judgements"][0].get("band")
    for row in sm["judgements"]:
        rows.append(
            [
                row["path"],
                row["distribution"],
                spread(row["prior"]["quantiles"], row["prior"]["mean"]),
                spread(row["quantiles"], row["mean"]),
                *[shares.cell_text(row["items"][x], noise) for x in items],
            ]
        )
    drawn = "given the history: mean (10% – 90%)" if conditioned else "drawn: mean (10% – 90%)"
    band = shares.band_text(sm["replications"], noise, len(rows) * len(items))
    return (
        "<h2>Uncertain judgements</h2><p>Each judgement written as a distribution is drawn once per replication. "
        "The item columns give P(agreed by horizon) in the top quarter of its draws minus the bottom quarter, and "
        "in brackets the share of the item's variance the draw explains: the judgements with shares beyond the "
        "band chance alone gives are the ones that matter.</p>"
        + table(["judgement", "distribution", "prior: mean (10% – 90%)", drawn, *items], rows)
        + (f"<p class=note>{esc(band)}</p>" if band else "")
    )


def run_report(res: RunResults, folder: Path) -> str:
    return page(res.scenario.title or res.scenario.name, run_body(res, folder / "plots"))


# ---------------------------------------------------------------------- a sweep


def sweep_body(sw: SweepResults, embed_plots: bool = True) -> str:
    d = sw.described
    params = sw.parameters
    pts = sw.points_table.to_pydict()
    items = list(sw.base.items)
    by_point: dict[int, dict[str, Any]] = {}
    for i, point in enumerate(pts["point"]):
        entry = by_point.setdefault(point, {"status": pts["status"][i]})
        entry[pts["item"][i]] = pts["p_agreed"][i]
    failed = any(e["status"] != "ok" for e in by_point.values())  # (a column of 'ok' says nothing)
    rows = [
        [pt, *point_cells(sw, pt), *[pct(e.get(x)) for x in items], *([e["status"]] if failed else [])]
        for pt, e in sorted(by_point.items())
    ]
    note = baseline_note(sw)
    parts = [
        f"<h1>{esc(sw.base.title or sw.base.name)}: sweep</h1>",
        f"<p class=sub>{esc(d['design'])} design, {len(d['points'])} points x {d['replications']:,} replications, "
        f"seed {esc(d['seed'])}, "
        + (
            "a seed per row of the design (see the variance shares)</p>"
            if d.get("seeds")
            else "common random numbers across points</p>"
        ),
        "<h2>Parameters</h2>",
        table(["path", "values"], [[p, ", ".join(f"{v:g}" for v in vals)] for p, vals in d["parameters"].items()]),
        "<h2>P(agreed by horizon) at each point</h2>",
        table(["point", *params, *(sw.base.items[x].title or x for x in items), *(["status"] if failed else [])], rows),
    ]
    if note:
        parts.append(f"<p class=note>{esc(note[0].upper() + note[1:])}.</p>")
    for path in sorted(sw.folder.glob("sobol*.json")):
        parts.append(sobol_section(read_json(path)))
    if embed_plots:
        parts.append("<h2>Figures</h2>" + images(sw.folder / "plots"))
    parts.append(
        "<h2>Base scenario</h2><details><summary>scenario.yaml</summary>" + pre(scenario_yaml(sw.base)) + "</details>"
    )
    parts.append("<details><summary>sweep.yaml</summary>" + pre(yaml.safe_dump(d, sort_keys=False)) + "</details>")
    if sw.manifest:
        parts.append(
            "<h2>How this was made</h2><details><summary>manifest.json</summary>"
            + pre(json.dumps(sw.manifest, indent=2))
            + "</details>"
        )
    return "".join(parts)


def sweep_report(sw: SweepResults) -> str:
    return page(f"{sw.base.title or sw.base.name}: sweep", sweep_body(sw))


# ---------------------------------------------------------------------- a comparison


def pp(x: float, digits: int = 1) -> str:
    """A difference of probabilities in percentage points, signed: ``+3.2 pp`` (one unbreakable piece)."""
    return f"{x * 100:+.{digits}f}\u00a0pp"


def item_title(c: Comparison, item: str) -> str:
    """An item's title, from the first run that has the item (its id where none gives a title)."""
    for r in c.runs:
        if item in r.scenario.items:
            return r.scenario.items[item].title or item
    return item


def narrowing(c: Comparison) -> list[list[str]]:
    """For paired differences: the paired interval's width against the unpaired one's."""
    first = c.runs[0]
    out = []
    for run in c.runs[1:]:
        for row in c.rows:
            if row["run"] != run.label or not row["paired"] or math.isnan(row["diff"]):
                continue
            if first.column(row["item"]) is None:
                continue
            lo, hi = unpaired_interval(first, run, row["item"])
            paired_w = row["diff_high"] - row["diff_low"]
            ratio = "identical outcomes" if paired_w == 0 else f"{(hi - lo) / paired_w:.1f}x narrower"
            half = f"±{paired_w / 2 * 100:.2f}\u00a0pp"
            out.append([run.label, item_title(c, row["item"]), half, f"±{(hi - lo) / 2 * 100:.2f}\u00a0pp", ratio])
    return out


def comparison_body(c: Comparison, plots: Path | None = None) -> str:
    first = c.runs[0]
    order = {item: i for i, item in enumerate(dict.fromkeys(r["item"] for r in c.rows))}
    runs = {r.label: i for i, r in enumerate(c.runs)}
    parts = [
        "<h1>Comparison of runs</h1>",
        f"<p class=sub>Differences are against the first run, '{esc(first.label)}'; differences of "
        "probabilities are in percentage points (pp).</p>",
    ]
    if c.notes:
        parts.append("<ul class=note>" + "".join(f"<li>{esc(n[0].upper() + n[1:])}.</li>" for n in c.notes) + "</ul>")
    parts += [
        table(
            ["run", "scenario", "replications", "seed", "source"],
            [[r.label, r.scenario.title or r.scenario.name, f"{r.n:,}", r.seed, r.source] for r in c.runs],
        ),
        "<h2>P(agreed by horizon) and differences</h2>",
        table(
            ["item", "run", "P(agreed)", "95% interval", "difference", "95% interval", "kind"],
            [
                [
                    item_title(c, row["item"]),
                    row["run"],
                    pct(row["p_agreed"]),
                    f"{pct(row['ci_low'])} – {pct(row['ci_high'])}",
                    "" if row["run"] == first.label else (pp(row["diff"]) if not math.isnan(row["diff"]) else "n/a"),
                    ""
                    if row["run"] == first.label or math.isnan(row["diff"])
                    else f"{pp(row['diff_low'])} to {pp(row['diff_high'])}",
                    "" if row["run"] == first.label else ("paired" if row["paired"] else "unpaired"),
                ]
                for row in sorted(c.rows, key=lambda r: (order[r["item"]], runs[r["run"]]))
            ],
        ),
    ]
    if c.outcomes:
        parts.append("<h2>Milestones, median dates and P(breakdown)</h2>")
        parts.append(
            table(
                ["item", "run", "measure", "value", "difference", "95% interval"],
                [
                    [
                        item_title(c, row["item"]) if row["item"] else "",
                        row["run"],
                        row["measure"],
                        row["value"] if isinstance(row["value"], str) else pct(row["value"]),
                        ""
                        if row["run"] == first.label or math.isnan(row["diff"])
                        else (f"{row['diff']:+.0f} days" if row["measure"] == "median date" else pp(row["diff"])),
                        ""
                        if row["run"] == first.label or math.isnan(row["diff_low"])
                        else f"{pp(row['diff_low'])} to {pp(row['diff_high'])}",
                    ]
                    for row in c.outcomes
                ],
            )
        )
    narrow = narrowing(c)
    if narrow:
        parts.append(
            "<h2>What pairing buys</h2><p class=note>Runs with the same seed and replication count share "
            "their random streams, so each difference is estimated replication by replication.</p>"
        )
        parts.append(table(["run", "item", "paired half-width", "unpaired half-width", "paired interval"], narrow))
    parts.append("<h2>What differs between the scenarios</h2>")
    for label, changes in c.diffs.items():
        parts.append(f"<p><b>{esc(label)}</b> against <b>{esc(first.label)}</b>:</p>")
        parts.append(table(["field", first.label, label], changes) if changes else "<p>no differences</p>")
    if plots is not None:
        parts.append("<h2>Figures</h2>" + images(plots))
    return "".join(parts)


def comparison_report(c: Comparison, folder: Path) -> str:
    return page("Comparison of runs", comparison_body(c, folder / "plots"))


# ---------------------------------------------------------------------- scores and backtests


def skill_table(entry: dict[str, Any]) -> str:
    """Mean scores of the scenario and each baseline, and the scenario's skill against each, with
    95% intervals; an interval that spans zero says so."""
    scores, skills = entry.get("score", {}), entry.get("skill", {})
    rows = []
    for who, per in scores.items():
        skill = skills.get(who, {})
        row = [NAMES.get(who, who), *(interval_text(per[m]) for m in METRIC_NAMES)]
        for m in METRIC_NAMES:
            if who == "scenario" or m not in skill:
                row.append("")
            else:
                row.append(interval_text(skill[m], signed=True) + (" — spans zero" if skill[m]["spans_zero"] else ""))
        rows.append(row)
    header = ["forecaster", "window Brier (95%)", "log score (95%)", "skill, window Brier", "skill, log score"]
    return table(header, rows)


def breakdown_text(b: dict[str, Any]) -> str:
    """Whether the talks broke off by as_of, scored: the forecast's chance of it and its Brier score."""
    said = f"the talks broke off on {b['observed']}" if b["observed"] else "the talks did not break off"
    return (
        f"Breakdown: {said}; the scenario gave P(broken off by as_of) {b['p_by_as_of']:.2f}, Brier score "
        f"{b['brier']:.3f} (null model {b['null_brier']:.3f})."
    )


def case_section(entry: dict[str, Any], plots: list[Path], titles: dict[str, str] | None = None) -> str:
    """One scored forecast: items (by title), skill with intervals, rounds, a breakdown, forecasts on
    record, what the scores leave out, its figures."""
    w = entry["window"]
    title_of = (titles or {}).get
    who = [k for k in NAMES if entry["items"] and k in entry["items"][0]]
    rows = [
        [title_of(it["item"], it["item"]), it["agreed"] or "not by as_of"]
        + [f"{it[k]['window_brier']:.3f}" for k in who]
        + [f"{it[k]['log_score']:.2f}" for k in who]
        for it in entry["items"]
    ]
    parts = [
        f"<h2>{esc(entry['scenario'])}</h2><p class=note>Scored from {esc(w['from'])} to {esc(w['to'])} "
        f"({w['days']:g} days); observed file {esc(entry['observed'])}.</p>",
        skill_table(entry),
        table(
            ["item", "agreed", *(f"window Brier, {NAMES[k]}" for k in who), *(f"log score, {NAMES[k]}" for k in who)],
            rows,
        ),
    ]
    if "rounds" in entry:
        r, q = entry["rounds"]["scenario"], entry["rounds"]["null"]
        parts.append(
            f"<p>Rounds held by as_of: {r['observed']:g} observed; the scenario gave median {r['median']:g} "
            f"(80%: {r['low']:g} to {r['high']:g}) and P(exactly {r['observed']:g}) = {pct(r['p_observed'])}; "
            f"ranked probability score {r['rps']:.2f} (null model {q['rps']:.2f}).</p>"
        )
    if entry.get("breakdown"):
        parts.append(f"<p>{esc(breakdown_text(entry['breakdown']))}</p>")
    if entry.get("on_record"):
        parts.append(
            "<p>Forecasts on record, on the cells they cover:</p>"
            + table(
                ["source", "made", "item", "by", "on record", "scenario", "null model", "happened"],
                [
                    [
                        c["source"],
                        c["made"],
                        title_of(c["item"], c["item"]),
                        c["by"],
                        f"{c['record']:.2f}",
                        f"{c['scenario']:.2f}",
                        f"{c['null']:.2f}",
                        "yes" if c["observed"] else "no",
                    ]
                    for c in entry["on_record"]
                ],
            )
        )
    if entry.get("notes"):
        parts.append("<ul class=note>" + "".join(f"<li>Note: {esc(n)}.</li>" for n in entry["notes"]) + "</ul>")
    parts += [image(p, p.stem.replace("_", " ")) for p in plots]
    return "".join(parts)


def score_body(
    data: dict[str, Any],
    plots: Path | None,
    title_text: str = "Forecasts against what happened",
    titles: Sequence[dict[str, str]] | None = None,
) -> str:
    """A score (or backtest) folder's report: pooled figures first, then every case. ``titles``: for
    each entry of ``data['runs']``, its items' titles (ids where not given)."""
    parts = [
        f"<h1>{esc(title_text)}</h1>",
        "<p class=note>" + "; ".join(f"<b>{esc(k)}</b>: {esc(v)}" for k, v in data.get("method", {}).items()) + "</p>",
    ]
    pooled = data.get("pooled", {})
    if data.get("not_pooled"):
        parts.append(f"<p class=note><b>Not pooled</b>: {esc(data['not_pooled'])}.</p>")
    if len(data.get("runs", [])) > 1 and pooled.get("score"):
        parts.append(f"<h2>Pooled over {pooled['cases']} cases and {pooled['items']} items</h2>" + skill_table(pooled))
        record = pooled.get("on_record")
        if record:
            parts.append(
                f"<p>On the {record['cells']} cells forecasts on record cover: Brier {record['record_brier']:.3f} on "
                f"record, {record['scenario_brier']:.3f} the scenario, {record['null_brier']:.3f} the null model.</p>"
            )
    if "loo" in data:
        parts.append(loo_section(data["loo"]))
    if "origins" in data:
        parts.append(origins_section(data["origins"], titles[0] if titles else None))
    figs = sorted(plots.glob("*.png")) if plots is not None and plots.is_dir() else []
    parts += [image(p, p.stem.replace("_", " ")) for p in figs if not p.stem.startswith("timeline-")]
    for i, entry in enumerate(data.get("runs", [])):
        mine = [p for p in figs if p.stem == entry.get("timeline")]  # (of the origins, only the first has one)
        parts.append(case_section(entry, mine, titles[i] if titles and i < len(titles) else None))
    return "".join(parts)


def loo_section(loo: dict[str, Any]) -> str:
    """``backtest --loo``: pooled, pooled with cases alike, and the most influential case."""
    parts = [
        f"<h2>Leave one case out: {loo['cases']} cases, {loo['items']} items</h2>",
        f"<p>{esc(loo.get('method', ''))}.</p>",
        skill_table(loo),
    ]
    alike = loo.get("cases_alike")
    if alike and alike.get("score"):
        parts.append(f"<h3>Cases weighing alike ({alike['cases']} cases)</h3>" + skill_table(alike))
    moved = loo.get("most_influential")
    if moved:
        parts.append(
            f"<p>The case that moves the pooled skill most: <b>{esc(moved['case'])}</b> (window-Brier skill "
            f"against the null model {moved['skill']:+.2f}; {moved['skill_without']:+.2f} without it).</p>"
        )
    return "".join(parts)


def calibration_report(data: dict[str, Any]) -> str:
    """``negsim calibrate``: the fitted figures, families and case effect, as one page."""
    rows = [
        [
            r["row"],
            r["family"],
            f"{r['before']:.3f}",
            f"{r['after']:.3f}",
            f"{r['low']:.3f} to {r['high']:.3f}",
            r["items"],
            "; ".join(f"{k} {v:+.3f}" for k, v in list(r["pull"].items())[:3]),
        ]
        for r in data["rows"]
    ]
    e = data["case_effect"]
    body = "".join(
        [
            f"<h1>Calibration of {esc(data['table']['name'])} version {esc(data['table']['version'])}</h1>",
            f"<p>{len(data['cases'])} cases of {esc(data['library'])}; {data['replications']:,} replications each; "
            f"{data['resamples']} bootstrap resamples over cases (90% intervals).</p>",
            "<p class=note>" + "; ".join(f"<b>{esc(k)}</b>: {esc(v)}" for k, v in data["method"].items()) + "</p>",
            table(
                ["row", "family", "before", "after", "90% interval", "draws", "pulled most by (change without it)"],
                rows,
            ),
            table(
                ["family", "log-odds correction", "90% interval"],
                [[f["family"], f"{f['shift']:+.3f}", f"{f['low']:+.3f} to {f['high']:+.3f}"] for f in data["families"]],
            ),
            f"<p>Case effect: sd {e['sd']:.3f} (90%: {e['low']:.3f} to {e['high']:.3f}) on the log odds.</p>",
        ]
    )
    return page(f"Calibration of {data['table']['name']}", body)


def origins_section(block: dict[str, Any], titles: dict[str, str] | None = None) -> str:
    """``score --origins``: the forecast made on each origin, given the history by then."""
    items = list(block["agreed"])
    title_of = (titles or {}).get
    rows = []
    for r in block["rows"]:
        p = r.get("p_by_horizon")
        wb = r.get("window_brier")
        sk = r.get("skill_null")
        rows.append(
            [
                r["origin"],
                f"{r['kept']:,} of {r['tried']:,}" if p else r["status"],
                *[pct(p[name]["p"]) if p else "" for name in items],
                f"{wb['scenario']:.3f}" if wb else "",
                f"{wb['null']:.3f}" if wb else "",
                ""
                if not sk
                else interval_text(sk, signed=True)
                if r["items_scored"] > 1 or sk["value"] is None
                else f"{sk['value']:+.2f} (one item: no interval)",
            ]
        )
    happened = "; ".join(f"{title_of(x, x)}: {d or 'not by ' + block['as_of']}" for x, d in block["agreed"].items())
    return (
        f"<h2>Forecasts over time: made on each origin, given the history by then</h2>"
        f"<p>P(agreed by the horizon, {esc(block['horizon'])}) as forecast on each date from the replications "
        f"whose history to that date agrees with what happened ({block['replications']:,} kept per origin), and "
        f"the window Brier score from that date to {esc(block['as_of'])}, beside the null model given the same "
        f"history. What happened: {esc(happened)}.</p>"
        + table(
            (
                "origin",
                "kept",
                *(title_of(x, x) for x in items),
                "window Brier",
                "null model",
                "skill against the null model (95%)",
            ),
            rows,
        )
    )


# ---------------------------------------------------------------------- discovery and variance shares


def discovery_body(data: dict[str, Any], plots: Path | None = None) -> str:
    """A discovery: the box in the words the terminal prints, its bounds, the trajectory, the figure."""
    b = data["box"]
    name = data["source"].get("title") or data["source"]["scenario"]
    how = "the box of the peeling trajectory that separates best" if data["chosen_by"] == "separation" else "as asked"
    parts = [
        f"<h1>{esc(name)}: which judgements decide it</h1>",
        f"<p class=sub>Whether the {esc(data['unit'])} {esc(discovery.outcome_text(data))}: PRIM over "
        f"{data['count']:,} {esc(data['unit'])} of {esc(data['source']['folder'])}</p>",
        f"<p><b>{esc(data['words'])}</b></p>",
    ]
    rows = discovery.restriction_rows(data)
    if rows:
        parts.append(table(list(discovery.RESTRICTION_HEADER), rows))
    parts.append(
        f"<p class=note>Box {data['peeled_to']} of the peeling trajectory ({esc(how)}), then pasted and pruned; "
        f"separation z {b['separation']:.1f}, against up to {data['chance']['separation']:.1f} on "
        f"{data['chance']['shuffles']} shuffles of the outcome (chance alone); bounds resampled {data['resamples']} "
        "times. Another box: <code>negsim discover ... --box K</code>.</p>"
    )
    parts.append("<h2>Peeling trajectory</h2>")
    parts.append(
        table(
            ["box", "mass", "coverage", "density", "z", "restricts"],
            [
                [
                    t["box"],
                    pct(t["mass"]),
                    pct(t["coverage"]),
                    pct(t["density"]),
                    f"{t['separation']:.1f}",
                    ", ".join(t["bounds"]),
                ]
                for t in data["trajectory"]
            ],
        )
    )
    if plots is not None:
        parts.append("<h2>Figure</h2>" + images(plots))
    return "".join(parts)


def discovery_report(data: dict[str, Any], plots: Path | None = None) -> str:
    return page(f"{data['source']['scenario']}: discover {data['item']}", discovery_body(data, plots))


def sobol_section(data: dict[str, Any]) -> str:
    """A sobol sweep's variance shares: each item in the terminal's words, then every index."""
    rows = []
    for it in data["items"]:
        for p in sorted(it["parameters"], key=lambda p: -(p["total"] or 0.0)):
            rows.append(
                [
                    it["item"],
                    p["path"],
                    p["title"],
                    _index(p["first"], p["first_low"], p["first_high"]),
                    _index(p["total"], p["total_low"], p["total_high"]),
                ]
            )
    words = "".join(f"<li>{esc(sobol_indices.item_words(it, data['label']))}</li>" for it in data["items"])
    return (
        f"<h2>Variance shares of {esc(data['label'])} (Sobol indices)</h2>"
        f"<p>{data['samples']} rows of a Saltelli design (A, B, one AB per judgement, and A again on other "
        f"random streams), {data['replications']:,} replications per point; each point's Monte Carlo noise is "
        "subtracted; 95% bootstrap intervals over the rows.</p>"
        f"<ul>{words}</ul>" + table(["item", "judgement", "what it is", "first order", "total"], rows)
    )


def _index(v: float | None, low: float | None, high: float | None) -> str:
    if v is None:
        return "n/a"
    return f"{v + 0.0:.2f}" if low is None or high is None else f"{v + 0.0:.2f} ({low + 0.0:.2f} – {high + 0.0:.2f})"
