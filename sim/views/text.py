"""Text for the terminal: tables of runs, comparisons and scores, and a replication's timeline."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import Any

from sim.engine.records import HOW_BEFORE, HOW_ENACTED, HOW_OUTSIDE, Records
from sim.engine.state import Trace
from sim.errors import plural
from sim.results import discovery, shares
from sim.results import sobol as sobol_indices
from sim.results.compare import Comparison
from sim.results.score import FLOOR
from sim.results.sweepfolder import SweepResults
from sim.scenario.models import Scenario, can_pause
from sim.scenario.paths import number_at, scenario_data, written_number


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Collection[int] = ()) -> list[str]:
    """Columns two spaces apart under a dashed rule; columns in ``right`` aligned right."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = (c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
        return "  ".join(padded).rstrip()

    return [line(header), "  ".join("-" * w for w in widths).rstrip(), *(line(r) for r in rows)]


def summary_table(summary: dict[str, Any]) -> str:
    """The table ``negsim run`` prints."""
    rows = []
    for it in summary["items"]:
        med = it["median"]
        rows.append(
            (
                it["item"],
                f"{it['p']:.3f}",
                f"{it['ci_low']:.3f} - {it['ci_high']:.3f}",
                med["date"] if med else f"after {summary['horizon']['date']}",
            )
        )
    lines = text_table(("item", "P(agreed by horizon)", "95% interval", "median date"), rows, right=(1, 2))
    b = summary["breakdown"]
    a = summary["all_agreed"]
    lines.append("")
    lines.append(
        f"P(breakdown) {b['p']:.3f} ({b['ci_low']:.3f} - {b['ci_high']:.3f});  "
        f"P(all agreed) {a['p']:.3f} ({a['ci_low']:.3f} - {a['ci_high']:.3f});  "
        f"rounds held, mean {summary['rounds']['held_mean']:.2f}"
    )
    return "\n".join(lines)


def point_cells(sw: SweepResults, point: int) -> list[str]:
    """A sweep point's value of each swept path: the number it sets, or, for a path it leaves as the
    scenario writes it, that number, 'drawn' (a distribution, drawn in every replication) or 'unset'."""
    data = scenario_data(sw.base)
    values = sw.values(point)
    out = []
    for path in sw.parameters:
        if path in values:
            out.append(f"{values[path]:g}")
        elif (written := written_number(data, path)) is not None:
            out.append(f"{written:g}")
        else:
            out.append("drawn" if number_at(data, path) is not None else "unset")
    return out


def baseline_note(sw: SweepResults) -> str:
    """Which point is the scenario as written (the sweep's baseline), and what 'drawn' means."""
    base = sw.baseline
    if base is None:
        return ""
    drawn = "drawn" in point_cells(sw, base)
    return f"point {base} is the scenario as written" + (
        "; drawn: the judgement drawn from the scenario's distribution in every replication, as `negsim run` does"
        if drawn
        else ""
    )


def sweep_table(sw: SweepResults, most: int = 20) -> str:
    """P(agreed by horizon) per point (rows) and item (columns); the first ``most`` points."""
    pts = sw.points_table.to_pydict()
    params, items = sw.parameters, list(sw.base.items)
    by_point: dict[int, dict[str, Any]] = {}
    for i, point in enumerate(pts["point"]):
        row = by_point.setdefault(point, {"status": pts["status"][i]})
        row[pts["item"][i]] = pts["p_agreed"][i]
    body = []
    for point, row in sorted(by_point.items())[:most]:
        cells = [
            f"{row[x]:.3f}" if isinstance(row.get(x), float) and not math.isnan(row[x]) else "failed" for x in items
        ]
        body.append((str(point), *point_cells(sw, point), *cells))
    lines = [
        "P(agreed by horizon) at each point",
        "",
        *text_table(("point", *params, *items), body, right=range(1, 99)),
    ]
    if len(by_point) > most:
        lines.append(f"... {len(by_point) - most} more points in points.csv")
    note = baseline_note(sw)
    if note:
        lines.append(note)
    return "\n".join(lines)


def judgements_table(summary: dict[str, Any]) -> str:
    """Which judgements drive each item: P(agreed) in the highest quarter of a judgement's draws
    minus in the lowest quarter, and the share of the item's variance the draw explains, marked
    where it is beyond the band chance alone gives ('' when the scenario has no uncertain judgement)."""
    rows = summary.get("judgements") or []
    if not rows:
        return ""
    items = [it["item"] for it in summary["items"]]
    noise = rows[0].get("band")
    body = [
        (row["path"], row["distribution"], *(shares.cell_text(row["items"][x], noise) for x in items)) for row in rows
    ]
    n = summary["replications"]
    head = (
        "which judgements drive each item: P(agreed) in the top quarter of the draws minus the bottom quarter,\n"
        "and (in brackets) the share of the item's variance the draw explains"
    )
    note = shares.band_text(n, noise, len(rows) * len(items))
    if not note:  # a summary written before shares: the quarters' own chance spread
        band = 2 * math.sqrt(2 / max(n, 1))
        note = f"(differences within about +/-{band:.2f} can be chance at {plural(n, 'replication')})"
    return "\n".join([head, note, "", *text_table(("judgement", "drawn from", *items), body, right=range(2, 99))])


def _spread(q: dict[str, Any], mean: Any) -> str:
    return f"{mean:.3g}  ({q['0.1']:.3g} - {q['0.9']:.3g})" if q and mean is not None else ""


def talks_text(summary: dict[str, Any], given: dict[str, Any] | None = None) -> str:
    """The regime's shares (beside the prior, given a history) and how the talks went: pauses and
    the chance of no round within the next months."""
    out = []
    regime = summary.get("regime")
    if regime:
        prior = (given or {}).get("regime_prior")
        now = (given or {}).get("regime_at_as_of") or {}
        parts = []
        for st in regime:
            if prior is not None:
                bit = f"{st['title']} {now.get(st['state'], st['p']):.0%} (prior {prior.get(st['state'], 0.0):.0%})"
            else:
                bit = f"{st['title']} {st['p']:.0%}"
                if abs(st["at_horizon"]["p"] - st["p"]) >= 0.005:
                    bit += f" at the start, {st['at_horizon']['p']:.0%} at the horizon"
            parts.append(bit)
        head = "regime at as_of, given the history: " if prior is not None else "regime: "
        out.append(head + "; ".join(parts))
    rounds = summary.get("rounds", {}).get("no_round_within") or []
    talks = summary.get("talks")
    bits = []
    if talks:
        bits.append(
            f"paused at the horizon {talks['paused_at_horizon']['p']:.1%} (mean {talks['pauses_mean']:.2f} pauses)"
        )
    if talks or given:
        since = "after as_of" if given else "from the start"
        shown = ", ".join(f"{r['months']} months {r['p']:.1%}" for r in rounds)
        if shown:
            bits.append(f"P(no round held within, {since}): {shown}")
    if bits:
        out.append("talks: " + "; ".join(bits))
    return "\n".join(out)


def prior_posterior_table(summary: dict[str, Any]) -> str:
    """Each uncertain judgement before and after the history of a ``--given`` run: the mean and
    the 10%-90% range of the distribution as written, and of the kept replications' draws."""
    rows = summary.get("judgements") or []
    if not rows:
        return ""
    body = [
        (row["path"], _spread(row["prior"]["quantiles"], row["prior"]["mean"]), _spread(row["quantiles"], row["mean"]))
        for row in rows
    ]
    head = "what the history says of each judgement: mean (10% - 90%) before and after it"
    return "\n".join([head, "", *text_table(("judgement", "prior", "given the history"), body)])


def comparison_table(c: Comparison) -> str:
    """Each item's P per run and its difference against the first run."""
    first = c.runs[0].label
    body = []
    for item in dict.fromkeys(r["item"] for r in c.rows):
        for k, row in enumerate(r for r in c.rows if r["item"] == item):
            name = "" if k else item  # on the first row of each item, whichever run has it first
            if row["run"] == first:
                body.append((name, row["run"], f"{row['p_agreed']:.3f}", "", "", ""))
            elif math.isnan(row["diff"]):
                body.append((name, row["run"], f"{row['p_agreed']:.3f}", "n/a", "", ""))
            else:
                body.append(
                    (
                        name,
                        row["run"],
                        f"{row['p_agreed']:.3f}",
                        f"{row['diff']:+.3f}",
                        f"{row['diff_low']:+.3f} to {row['diff_high']:+.3f}",
                        "paired" if row["paired"] else "unpaired",
                    )
                )
    header = ("item", "run", "P(agreed)", "difference", "95% interval", "")
    notes = [f"note: {n}" for n in c.notes]
    head = f"differences against '{first}', with 95% intervals"
    return "\n".join([*notes, *([""] if notes else []), head, "", *text_table(header, body, right=(2, 3, 4))])


def outcomes_table(c: Comparison) -> str:
    """Each item's P(agreed by each milestone) and median date per run, and P(breakdown), with the
    difference from the first run (intervals in outcomes.csv)."""
    if not c.outcomes:
        return ""
    first = c.runs[0].label
    measures = list(dict.fromkeys(r["measure"] for r in c.outcomes if r["item"]))
    body: list[tuple[str, ...]] = []
    named = ""
    for item in dict.fromkeys(r["item"] for r in c.outcomes if r["item"]):
        for run in dict.fromkeys(r["run"] for r in c.outcomes):
            mine = {r["measure"]: r for r in c.outcomes if r["item"] == item and r["run"] == run}
            if not mine:
                continue
            cells = []
            for m in measures:
                r = mine.get(m)
                if r is None:
                    cells.append("-")
                elif m == "median date":
                    gap = "" if run == first or math.isnan(r["diff"]) else f" ({r['diff']:+.0f} d)"
                    cells.append(f"{r['value']}{gap}")
                else:
                    gap = "" if run == first or math.isnan(r["diff"]) else f" ({r['diff']:+.2f})"
                    cells.append(f"{r['value']:.2f}{gap}")
            body.append(("" if body and named == item else item, run, *cells))
            named = item
    header = ("item", "run", *[m.replace("P(agreed by ", "by ").rstrip(")") for m in measures])
    lines = [f"milestones and median dates against '{first}' (differences in brackets; intervals in outcomes.csv)", ""]
    lines += text_table(header, body, right=range(2, 2 + len(measures)))
    crash = [r for r in c.outcomes if r["measure"] == "P(breakdown)"]
    if crash:
        parts = []
        for r in crash:
            gap = "" if r["run"] == first else f" ({r['diff']:+.3f}, {r['diff_low']:+.3f} to {r['diff_high']:+.3f})"
            parts.append(f"{r['run']} {r['value']:.3f}{gap}")
        lines += ["", "P(breakdown): " + ";  ".join(parts)]
    return "\n".join(lines)


def diff_text(c: Comparison) -> str:
    """What differs between each run's scenario and the first one's, field by field."""
    lines = []
    for label, changes in c.diffs.items():
        lines.append(f"scenario '{label}' against '{c.runs[0].label}':")
        lines += [f"  {p}: {a} -> {b}" for p, a, b in changes] or ["  (no differences)"]
    return "\n".join(lines)


NAMES = {
    "scenario": "scenario",
    "null": "null model",
    "status_quo": "status quo",
    "base_rate": "base rate",
    "uncalibrated": "uncalibrated table",
}
METRIC_NAMES = {"window_brier": "window Brier", "log_score": "log score"}


def interval_text(v: dict[str, Any], signed: bool = False) -> str:
    """A score (``0.123 (0.100 to 0.150)``) or, ``signed``, a skill (``+0.25 (-0.10 to +0.60)``)."""
    if v["value"] is None:
        return "undefined (the baseline is practically perfect)"
    if v["low"] is None:
        return (f"{v['value']:+.2f}" if signed else f"{v['value']:.3f}") + " (one item: no interval)"
    f = "{:+.2f}" if signed else "{:.3f}"
    return f"{f.format(v['value'])} ({f.format(v['low'])} to {f.format(v['high'])})"


def _interval(v: dict[str, Any], signed: bool = False) -> str:
    """As :func:`interval_text`, saying when a skill's interval spans zero."""
    return interval_text(v, signed) + (", spans zero" if signed and v.get("spans_zero") else "")


def skill_lines(entry: dict[str, Any]) -> list[str]:
    """Each baseline's score and the scenario's skill against it, with 95% intervals."""
    lines = []
    scores, skill = entry.get("score", {}), entry.get("skill", {})
    if "scenario" in scores:
        lines.append(
            "scenario: " + ";  ".join(f"{METRIC_NAMES[m]} {_interval(v)}" for m, v in scores["scenario"].items())
        )
    for b, per in skill.items():
        theirs = ", ".join(f"{METRIC_NAMES[m]} {scores[b][m]['value']:.3f}" for m in per)
        ours = ";  ".join(f"{METRIC_NAMES[m]} {_interval(v, signed=True)}" for m, v in per.items())
        lines.append(f"against the {NAMES.get(b, b)} ({theirs}): skill {ours}")
    return lines


def score_text(entry: dict[str, Any]) -> str:
    """One scored forecast: each item's window Brier and log score beside every baseline, the
    means and skills with 95% intervals, the rounds, forecasts on record, and the checkpoint view."""
    w = entry["window"]
    who = [k for k in NAMES if entry["items"] and k in entry["items"][0]]
    body = [
        (
            it["item"],
            it["agreed"] or "not by as_of",
            *(f"{it[k]['window_brier']:.3f}" for k in who),
            *(f"{it[k]['log_score']:.2f}" for k in who),
        )
        for it in entry["items"]
    ]
    header = ("item", "agreed", *(f"WB {NAMES[k]}" for k in who), *(f"log {NAMES[k]}" for k in who))
    lines = [
        f"{entry['scenario']}: the forecast against what happened from {w['from']} to {w['to']} ({w['days']:g} days)",
        "WB: window Brier score (the Brier score of P(agreed by day t) averaged over every day); log: minus the",
        "log of the probability given to the month of agreement or to 'not agreed by as_of'; lower is better",
        "",
        *text_table(header, body, right=range(2, 99)),
        "",
        *skill_lines(entry),
    ]
    if "rounds" in entry:
        r, q = entry["rounds"]["scenario"], entry["rounds"]["null"]
        lines.append(
            f"rounds held by as_of: {r['observed']:g} observed; the scenario gave median {r['median']:g} "
            f"(80%: {r['low']:g} to {r['high']:g}), P(exactly {r['observed']:g}) {r['p_observed']:.2f}; "
            f"ranked probability score {r['rps']:.2f} (null model {q['rps']:.2f})"
        )
    for c in entry.get("on_record", []):
        lines.append(
            f"on record: {c['source']} ({c['made']}): P({c['item']} by {c['by']}) = {c['record']:.2f}; "
            f"the scenario {c['scenario']:.2f}, the null {c['null']:.2f}; "
            + ("it happened" if c["observed"] else "it did not happen")
        )
    b = entry.get("breakdown")
    if b:
        said = f"the talks broke off on {b['observed']}" if b["observed"] else "the talks did not break off"
        lines.append(
            f"breakdown: {said}; the scenario gave P(broken off by as_of) {b['p_by_as_of']:.2f}, "
            f"Brier score {b['brier']:.3f} (null model {b['null_brier']:.3f})"
        )
    for note in entry.get("notes", []):
        lines.append(f"note: {note}")
    cp = entry.get("checkpoints", {})
    if "brier" in cp:
        lines.append("checkpoints (secondary view): " + checkpoint_line(cp))
    return "\n".join(lines)


def pooled_text(pooled: dict[str, Any]) -> str:
    """Pooled over cases: scores and skills with intervals that resample cases, then items."""
    lines = [f"pooled over {pooled['cases']} cases and {pooled['items']} items (intervals resample cases, then items):"]
    lines += ["  " + line for line in skill_lines(pooled)]
    record = pooled.get("on_record")
    if record:
        lines.append(
            f"  on the {record['cells']} cells forecasts on record cover: Brier {record['record_brier']:.3f} "
            f"on record, {record['scenario_brier']:.3f} the scenario, {record['null_brier']:.3f} the null model"
        )
    if "rounds" in pooled:
        r = pooled["rounds"]
        rps = f"{r['scenario']['rps']:.2f} (null {r['null']['rps']:.2f})"
        lines.append(f"  rounds held by as_of: ranked probability score {rps}")
    return "\n".join(lines)


def loo_text(loo: dict[str, Any]) -> str:
    """``backtest --loo``: each case forecast from the table calibrated without it, pooled two ways,
    and the case that moves the pooled skill most."""
    lines = [
        f"leave one case out: each case forecast from the table calibrated on the other {loo['cases'] - 1}; "
        f"pooled over {loo['cases']} cases and {loo['items']} items (intervals resample cases, then items):"
    ]
    lines += ["  " + line for line in skill_lines(loo)]
    alike = loo.get("cases_alike")
    if alike and alike.get("score"):
        lines.append(f"  with the {alike['cases']} cases weighing alike (intervals resample cases):")
        lines += ["    " + line for line in skill_lines(alike)]
    moved = loo.get("most_influential")
    if moved:
        lines.append(
            f"  the case that moves it most: {moved['case']} (window-Brier skill against the null model "
            f"{moved['skill']:+.2f}, {moved['skill_without']:+.2f} without it)"
        )
    fit = loo.get("fit", {})
    if fit:
        shifts = ", ".join(f"{k} {v:+.2f}" for k, v in fit["families"].items())
        lines.append(
            f"  the fit on every case: log-odds corrections {shifts}; case effect sd {fit['case_effect_sd']:.2f}"
        )
    return "\n".join(lines)


def calibration_text(data: dict[str, Any]) -> str:
    """``negsim calibrate``: each calibrated figure before and after with its 90% interval and the case
    that pulls on it most, each family's correction, and the case effect's spread."""
    body = []
    for r in data["rows"]:
        (who, pull), *_ = list(r["pull"].items()) or [("", 0.0)]
        body.append(
            (
                r["row"],
                r["family"],
                f"{r['before']:.3f}",
                f"{r['after']:.3f}",
                f"{r['low']:.3f} to {r['high']:.3f}",
                str(r["items"]),
                f"{who} ({pull:+.3f})" if who else "",
            )
        )
    header = ("row", "family", "before", "after", "90% interval", "draws", "pulls most (change without it)")
    e = data["case_effect"]
    (who, pull), *_ = list(e["pull"].items()) or [("", 0.0)]
    lines = [
        f"calibrated {data['table']['name']} version {data['table']['version']} to the {len(data['cases'])} cases "
        f"of {data['library']} ({data['replications']:,} replications each, {data['resamples']} bootstrap resamples)",
        "",
        *text_table(header, body, right=(2, 3, 5)),
        "",
        "families (one correction of the log odds each): "
        + ", ".join(f"{f['family']} {f['shift']:+.2f} ({f['low']:+.2f} to {f['high']:+.2f})" for f in data["families"]),
        f"case effect sd {e['sd']:.2f} (90%: {e['low']:.2f} to {e['high']:.2f}) on the log odds"
        + (f"; {who} pulls on it most ({pull:+.3f})" if who else ""),
    ]
    thin = sorted(data.get("effective_replications", {}).items(), key=lambda kv: kv[1])[:3]
    if thin:
        lines.append("fewest effective replications: " + ", ".join(f"{k} {v:,.0f}" for k, v in thin))
    return "\n".join(lines)


def origins_text(block: dict[str, Any]) -> str:
    """``score --origins``: per origin, replications kept, each item's P(agreed by the horizon), and
    the window Brier score from that origin to as_of beside the null model, with skill."""
    items = list(block["agreed"])
    rows = []
    for r in block["rows"]:
        p = r.get("p_by_horizon")
        cells = [f"{p[name]['p']:.2f}" if p else "-" for name in items]
        if p:
            kept = f"{r['kept']:,} of {r['tried']:,}"
        elif r.get("why"):
            kept = f"cannot happen: {r['why']}"
        else:
            kept = f"too unlikely ({r['tried']:,} tried)" if r["status"] == "too unlikely" else "-"
        wb = r.get("window_brier")
        if wb:
            sk = r["skill_null"]
            if sk["value"] is None:
                skill = "undefined"
            elif r["items_scored"] < 2:
                skill = f"{sk['value']:+.2f} (one item)"  # resampling one item gives no interval
            else:
                skill = f"{sk['value']:+.2f} ({sk['low']:+.2f} to {sk['high']:+.2f})"
            scores = [f"{wb['scenario']:.3f}", f"{wb['null']:.3f}", skill]
        else:
            scores = ["-", "-", "nothing open" if r["status"] == "nothing open" else "-"]
        rows.append([r["origin"], kept, *cells, *scores])
    header = ("origin", "kept", *items, "WB scenario", "WB null", "skill vs null")
    agreed = ", ".join(f"{name} {d}" if d else f"{name} not by {block['as_of']}" for name, d in block["agreed"].items())
    return "\n".join(
        [
            f"forecasts made on each origin, given the history by then: P(agreed by the horizon, "
            f"{block['horizon']}) and the window Brier score from the origin to {block['as_of']} (WB; lower "
            "is better), with skill against the null model given the same history",
            "",
            *text_table(header, rows, right=range(1, len(header))),
            "",
            f"what happened: {agreed}",
        ]
    )


def checkpoint_line(scores: dict[str, Any]) -> str:
    """The checkpoint scores of a run in one line (the secondary view)."""
    text = f"Brier score {scores['brier']:.4f}"
    if "null_brier" in scores:
        text += f" (null model {scores['null_brier']:.4f}"
        text += f"; skill {scores['skill']:+.2f})" if scores.get("skill") is not None else ")"
    text += f";  log score {scores['log_score']:.4f}"
    if "null_log_score" in scores:
        text += f" (null model {scores['null_log_score']:.4f})"
    return text + f"  [lower is better; log floor {FLOOR}]"


def format_trace(s: Scenario, replication: int, lines: Trace, rec: Records) -> str:
    """The timeline as text: one line per step, dated, then the outcome at the horizon."""
    horizon = s.horizon
    head = [
        f"{s.title or s.name}",
        f"replication {replication}, seed {s.simulation.seed}; "
        f"from {s.calendar.start.isoformat()} to {s.date(horizon).isoformat()} ({horizon:g} days)",
        "",
    ]
    active = [name for name, c in s.constraints.items() if c.active]
    agreed0 = [name for name, it in s.items.items() if it.status == "agreed"]
    start_bits = [f"trust {s.trust.initial:+.2f}"]
    if active:
        start_bits.append("active constraints: " + ", ".join(active))
    if agreed0:
        start_bits.append("already agreed: " + ", ".join(agreed0))
    body = [_line(s, 0.0, "start", "; ".join(start_bits))]
    body += [_line(s, day, kind, text) for day, kind, _, text in lines]
    names = list(s.items)
    route = {HOW_ENACTED: "enacted", HOW_OUTSIDE: "outside the rounds"}

    def when(i: int) -> str:
        how = int(rec.item_how[0, i])
        if how == HOW_BEFORE:
            return "before start"
        if how in route:
            return f"{s.date(rec.item_day[0, i]).isoformat()}, {route[how]}"
        return f"{s.date(rec.item_day[0, i]).isoformat()}, round {rec.item_round[0, i]}"

    done = [f"{n} ({when(i)})" for i, n in enumerate(names) if rec.item_agreed[0, i]]
    missing = [n for i, n in enumerate(names) if not rec.item_agreed[0, i]]
    end = [
        "agreed: " + (", ".join(done) or "nothing"),
        "not agreed: " + (", ".join(missing) or "nothing"),
        f"rounds held {rec.rounds_held[0]}, cancelled {rec.rounds_cancelled[0]}, "
        f"not held while suspended {rec.rounds_suspended[0]}",
        f"trust {rec.trust[0]:+.2f}",
    ]
    if can_pause(s):
        end[2] += f", not held while paused {rec.rounds_paused[0]}"
        if rec.paused[0]:
            end.append(f"talks paused at the horizon ({rec.pauses[0]} pauses in all)")
    if rec.breakdown[0]:
        end.append(f"talks broken off on {s.date(rec.breakdown_day[0]).isoformat()}")
    still = [n for c, n in enumerate(s.constraints) if rec.constraint_active[0, c]]
    if still:
        end.append("still active: " + ", ".join(still))
    body.append(_line(s, horizon, "horizon", end[0]))
    body += [" " * 32 + e for e in end[1:]]
    return "\n".join(head + body)


def _line(s: Scenario, day: float, kind: str, text: str) -> str:
    d = s.date(day).isoformat() if math.isfinite(day) else "?"
    return f"{d}  day {day:6.1f}  {kind:<10}  {text}"


# ---------------------------------------------------------------------- discovery and variance shares


def discovery_text(data: dict[str, Any], most: int = 14) -> str:
    """What ``negsim discover`` prints: the box in words, its bounds with their stability, and the
    peeling trajectory (every box, for ``--box K``, is in trajectory.csv)."""
    b = data["box"]
    unit = data["unit"]
    how = (
        f"box {data['peeled_to']} of the peeling trajectory, the one that separates best"
        if data["chosen_by"] == "separation"
        else f"box {data['peeled_to']} of the peeling trajectory, as asked"
    )
    lines = [
        f"which judgements decide whether the {unit} {discovery.outcome_text(data)}: "
        f"PRIM over {data['count']:,} {unit}",
        "",
        data["words"],
    ]
    rows = discovery.restriction_rows(data)
    if rows:
        lines += ["", *text_table(discovery.RESTRICTION_HEADER, rows, right=(3, 4))]
    lines += [
        "",
        f"{how}, then pasted and pruned: separation z {b['separation']:.1f} (chance alone, over "
        f"{data['chance']['shuffles']} shuffles of the outcome: up to {data['chance']['separation']:.1f}); "
        f"bounds resampled {data['resamples']} times",
    ]
    trajectory = data["trajectory"]
    step = max(1, math.ceil(len(trajectory) / most))
    shown = sorted({*range(0, len(trajectory), step), len(trajectory) - 1, data["peeled_to"]})
    body = [
        (
            f"{t['box']}{' <' if t['box'] == data['peeled_to'] else ''}",
            f"{t['mass']:.0%}",
            f"{t['coverage']:.0%}",
            f"{t['density']:.1%}",
            f"{t['separation']:.1f}",
            str(len(t["bounds"])),
        )
        for t in (trajectory[i] for i in shown)
    ]
    lines += [
        "",
        "peeling trajectory (another box: --box K; every box, with the fields it restricts, in trajectory.csv)",
        *text_table(("box", "mass", "coverage", "density", "z", "fields"), body, right=(1, 2, 3, 4, 5)),
    ]
    return "\n".join(lines)


def sobol_text(data: dict[str, Any]) -> str:
    """What a sobol sweep prints: each item's variance in a sentence, then every judgement's first
    and total indices with 95% intervals."""
    lines = [
        f"variance shares of {data['label']}: Sobol first and total indices, 95% bootstrap intervals "
        f"({data['samples']} rows x {data['replications']:,} replications per point; Monte Carlo noise subtracted)",
        "",
    ]
    lines += [sobol_indices.item_words(it, data["label"]) for it in data["items"]]
    body = []
    for it in data["items"]:
        for i, p in enumerate(sorted(it["parameters"], key=lambda p: -(p["total"] or 0.0))):
            body.append(
                (
                    it["item"] if i == 0 else "",
                    p["path"],
                    _index(p["first"], p["first_low"], p["first_high"]),
                    _index(p["total"], p["total_low"], p["total_high"]),
                )
            )
    lines += ["", *text_table(("item", "judgement", "first", "total"), body)]
    return "\n".join(lines)


def _index(v: float | None, low: float | None, high: float | None) -> str:
    if v is None:
        return "n/a"
    if low is None or high is None:
        return f"{v + 0.0:.2f}"
    return f"{v + 0.0:.2f} ({low + 0.0:.2f} to {high + 0.0:.2f})"
