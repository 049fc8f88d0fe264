"""Fitting the reference-class table to a backtest library: ``negsim calibrate`` and ``backtest --loo``.

The model is hierarchical as the scenarios are: each row of the table that gives a chance as a
beta distribution (mean m, concentration k) is the population from which every item citing it
draws its own chance, once per replication; every replication also draws a case effect, a normal
shift of all its chances' log odds of spread tau, shared by its items. Calibration estimates each
row's mean m and tau from what happened in the library's cases.

No closed form gives the probability of a case's history, so the likelihood is simulated: each
case is run at some figures of the rows (the proposal) with a case effect, keeping every
replication's draws and outcomes. For any other figures, each replication is reweighted by the
ratio of the densities of its draws (importance sampling), so a fit does not simulate. A case's
likelihood is composite: the probability of which of its scored items were agreed by ``as_of`` and
which were not, jointly (what the case effect moves together, and what identifies its spread),
times, for each item agreed, the probability of the quarter it was agreed in given that it was.
Items of a case are not independent beyond that, so intervals come from resampling whole cases (and
each case's replications, for the simulation's own error), not from the curvature. The prior is
centred on the table: each family's correction of the log odds normal of spread PRIOR_SD, the case
effect's spread log-normal of median TAU_MEDIAN (the regime already carries the largest difference
between cases; what is left is expected to be about half a unit of log odds).

Reweighting far from the proposal leaves few replications that count, so a fit may move only
RADIUS from it (a trust region), the proposal is moved to the fit and the cases simulated again
until the fit settles (:mod:`sim.runs.calibration`); the last fit, its bootstrap and the fits
leaving each case out all reweight replications simulated near them. An agreed item's quarter is
reweighted by the draws that reach it only (its own chances, those of the items it requires or
implements, the regime's share and the case effect): the others touch it only through trust and
the agenda's capacity, and counting them would multiply the weights' noise many times over.
Everything here is numpy and scipy: twenty cases need no heavier inference stack.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, special

FLOOR = 1e-3
"""The smallest probability a history's cell gets (as the log score's floor)."""
PRIOR_SD = 0.7
"""The prior's spread of a family's correction of the log odds (the table's figures are its centre)."""
TAU_MEDIAN = 0.5
"""The median of the log-normal prior of the case effect's spread."""
TAU_LOG_SD = 0.75
"""The spread of that prior on the log scale (90% between about 0.15 and 1.7). A half-normal prior
was tried first: on the log scale a fit optimises, its mode sits at its scale (1), where a case
effect the cases cannot pin down was drawn, twice the known spread in the recovery check."""
PROPOSAL_TAU = 1.0
"""The case effect's spread of the first proposal; later ones take a quarter more than the fit's."""
QUARTER = 365.25 / 4
RADIUS = 0.75
"""How far a fit may move from the proposal's parameters (log odds, and the log of the case
effect's spread): within it, reweighting keeps enough replications to trust the likelihood."""


@dataclass(frozen=True)
class RowPrior:
    """A calibrated row's figure: a beta of ``mean`` and ``concentration``."""

    ref: str
    mean: float
    concentration: float


@dataclass
class CaseSample:
    """One case simulated at the proposal: for each replication, the draws of every judgement that
    cites a calibrated row, its case effect, and the quarter each scored item was agreed in."""

    name: str
    rows: dict[str, np.ndarray]
    """Row reference -> (replications, paths) draws of the judgements citing it."""
    effect: np.ndarray
    """(replications,) case effect draws (the proposal's normal of spread ``tau``)."""
    cells: np.ndarray
    """(replications, items) the cell of each scored item: a quarter from the origin, or the last (not agreed)."""
    observed: np.ndarray
    """(items,) the cell each scored item was observed in."""
    last: int = 1
    """The cell that means "not agreed by the end of the window" (the number of quarters in it)."""
    items: list[str] = field(default_factory=list)
    reach: list[dict[str, list[int]]] = field(default_factory=list)
    """For each scored item: the columns of each row's draws that reach it (all of them if empty)."""
    tau: float = PROPOSAL_TAU
    """The case effect's spread the case was simulated with."""
    proposal: dict[str, RowPrior] = field(default_factory=dict)
    """The figures of the rows the case was simulated with."""

    @property
    def n(self) -> int:
        return int(self.effect.shape[0])


def quarter_cells(days: np.ndarray, origin: float, end: float) -> np.ndarray:
    """The cell of each agreement day: its quarter from the origin (within the window), else the
    last cell (not agreed by ``end``)."""
    quarters = max(1, math.ceil((end - origin) / QUARTER))
    d = np.nan_to_num(np.asarray(days, dtype=float), nan=np.inf)
    inside = d <= end
    return np.where(inside, np.minimum(np.floor((d - origin) / QUARTER), quarters - 1), quarters).astype(np.int64)


@dataclass(frozen=True)
class Sums:
    """The draws that reach one item, summed per figure: which figures, and over their draws the
    sums of log x and log(1 - x) (replications, figures) and the number of draws."""

    idx: np.ndarray
    s1: np.ndarray
    s2: np.ndarray
    count: np.ndarray


@dataclass
class Fit:
    """A fitted table: each row's mean, the case effect's spread, and how the fit went."""

    means: dict[str, float]
    tau: float
    objective: float
    converged: bool
    ess: dict[str, float] = field(default_factory=dict)
    """Each case's effective number of replications under the fit (how well the proposal covers it)."""
    edge: bool = False
    """Whether the fit stopped at its trust region's edge (the proposal should move further)."""


def family(ref: str) -> str:
    """The family a calibrated figure belongs to: figures of one family take one correction of their
    log odds, because twenty cases cannot estimate seventeen figures apart. The chances per round
    of R1 to R4 by the regime's state (decided, undecided), a legislature's (R5), enactment (R13) and
    ratification (R13.ratify_*), the regime's shares (R12), lifting at reviews (R6a, R6b); any other
    beta figure is a family of its own."""
    row, _, name = ref.partition(".")
    if row == "R12":
        return "shares"
    if row == "R13":
        return "ratification" if name.startswith("ratify") else "enactment"
    if row == "R5":
        return "legislature"
    if row in ("R6a", "R6b"):
        return "reviews"
    if name in ("decided", "undecided"):
        return name
    return ref


class Problem:
    """The objective of a fit (minus the log posterior) and its gradient, over a set of cases. Its
    parameters are one correction of the log odds per family of figures, and the log of the case
    effect's spread."""

    def __init__(self, samples: list[CaseSample], priors: dict[str, RowPrior]) -> None:
        self.samples = samples
        cited = {ref for s in samples for ref in s.rows}
        self.refs = [ref for ref in priors if ref in cited]
        """The calibrated figures, in the table's order."""
        self.priors = priors
        self.families = list(dict.fromkeys(family(r) for r in self.refs))
        self.member = np.zeros((len(self.refs), len(self.families)))
        """(figures, families) 1 where a figure belongs to a family."""
        for j, ref in enumerate(self.refs):
            self.member[j, self.families.index(family(ref))] = 1.0
        self.eta0 = np.array([special.logit(priors[r].mean) for r in self.refs])
        """The table's figures, on the log odds scale."""
        self.kappa = np.array([priors[r].concentration for r in self.refs])
        self.proposals = [
            np.array([special.logit((s.proposal.get(r) or priors[r]).mean) for r in self.refs]) for s in samples
        ]
        """Each case's proposal: the figures it was simulated with."""
        # Per case and item (and for the whole case, last): the figures whose draws reach the item,
        # and over those draws the sums of log x and log(1 - x) and their count, as matrices.
        self.stats: list[list[Sums]] = []
        for s in samples:
            logs = {ref: np.log(np.clip(x, 1e-12, 1 - 1e-12)) for ref, x in s.rows.items()}
            logs1 = {ref: np.log1p(-np.clip(x, 1e-12, 1 - 1e-12)) for ref, x in s.rows.items()}
            every = {ref: list(range(x.shape[1])) for ref, x in s.rows.items()}
            per_item = []
            for reach in [*(s.reach or [every] * s.observed.size), every]:
                idx, c1, c2, count = [], [], [], []
                for j, ref in enumerate(self.refs):
                    cols = reach.get(ref, [])
                    if ref in s.rows and cols:
                        idx.append(j)
                        c1.append(logs[ref][:, cols].sum(axis=1))
                        c2.append(logs1[ref][:, cols].sum(axis=1))
                        count.append(len(cols))
                n = s.n
                per_item.append(
                    Sums(
                        np.array(idx, dtype=np.int64),
                        np.stack(c1, axis=1) if c1 else np.zeros((n, 0)),
                        np.stack(c2, axis=1) if c2 else np.zeros((n, 0)),
                        np.array(count, dtype=float),
                    )
                )
            self.stats.append(per_item)

    def thinned(self, rows: list[np.ndarray]) -> Problem:
        """The same problem over the replications ``rows`` of each case (indices, repeats allowed)."""
        out = copy.copy(self)
        out.samples = [
            dataclasses.replace(x, rows={ref: v[r] for ref, v in x.rows.items()}, effect=x.effect[r], cells=x.cells[r])
            for x, r in zip(self.samples, rows, strict=True)
        ]
        out.stats = [
            [Sums(st.idx, st.s1[r], st.s2[r], st.count) for st in per_item]
            for per_item, r in zip(self.stats, rows, strict=True)
        ]
        return out

    @property
    def size(self) -> int:
        return len(self.families) + 1

    def unpack(self, theta: np.ndarray) -> tuple[np.ndarray, float]:
        """Each figure's log odds, and the case effect's spread."""
        return self.eta0 + self.member @ theta[:-1], float(math.exp(theta[-1]))

    def means(self, theta: np.ndarray) -> dict[str, float]:
        eta, _ = self.unpack(theta)
        return {ref: float(special.expit(e)) for ref, e in zip(self.refs, eta, strict=True)}

    def log_weights(self, k: int, theta: np.ndarray, item: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Case k's log importance weights under ``theta`` for one scored item (by the draws that
        reach it; every draw for ``None``), and their gradient (replications, params)."""
        eta, tau = self.unpack(theta)
        s = self.samples[k]
        st = self.stats[k][-1 if item is None else item]
        j, kappa = st.idx, self.kappa[st.idx]
        m, m0 = special.expit(eta[j]), special.expit(self.proposals[k][j])
        a, b, a0, b0 = m * kappa, (1 - m) * kappa, m0 * kappa, (1 - m0) * kappa
        logw = st.s1 @ (a - a0) + st.s2 @ (b - b0) - float(st.count @ (special.betaln(a, b) - special.betaln(a0, b0)))
        slope = kappa * m * (1 - m)  # d/d(log odds) of each figure's (a, b) density, per draw
        grad_eta = (st.s1 - st.s2 - st.count * (special.digamma(a) - special.digamma(b))) * slope
        grad = np.zeros((s.n, self.size))
        grad[:, :-1] = grad_eta @ self.member[j]
        z2 = s.effect**2
        logw += -math.log(tau) - z2 / (2 * tau**2) + math.log(s.tau) + z2 / (2 * s.tau**2)
        grad[:, -1] = -1.0 + z2 / tau**2
        return logw, grad

    def weights(self, k: int, theta: np.ndarray) -> np.ndarray:
        """Case k's normalised importance weights under ``theta`` (every draw: the whole forecast)."""
        logw, _ = self.log_weights(k, theta)
        w = np.exp(logw - logw.max())
        return w / w.sum()

    def _share(self, k: int, theta: np.ndarray, item: int | None, hit: np.ndarray) -> tuple[float, np.ndarray]:
        """The weighted share of case k's replications where ``hit``, under ``theta`` (weights by the
        draws that reach ``item``, or every draw), and the gradient of its log."""
        logw, grad = self.log_weights(k, theta, item)
        w = np.exp(logw - logw.max())
        w = w / w.sum()
        p = float(w[hit].sum())
        if p <= FLOOR:
            return math.log(FLOOR), np.zeros(self.size)
        return math.log(p), (w[hit] @ grad[hit]) / p - w @ grad

    def case_loglik(self, k: int, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Case k's composite log likelihood and its gradient: the probability of which scored items
        were agreed within the window and which were not (jointly, every draw weighing: what the case
        effect moves together), times, for each item agreed, the probability of its quarter given
        that it was agreed (by the draws that reach it)."""
        s = self.samples[k]
        agreed = s.cells < s.last
        seen = s.observed < s.last
        total, dtotal = self._share(k, theta, None, np.all(agreed == seen, axis=1))
        for i in np.flatnonzero(seen).tolist():
            quarter, dq = self._share(k, theta, i, s.cells[:, i] == s.observed[i])
            within, dw = self._share(k, theta, i, agreed[:, i])
            total += quarter - within
            dtotal += dq - dw
        return total, dtotal

    def objective(
        self, theta: np.ndarray, cases: np.ndarray, moved: np.ndarray | None = None
    ) -> tuple[float, np.ndarray]:
        """Minus the log posterior over ``cases`` (indices, with repeats for a bootstrap), and its
        gradient; ``moved`` shifts the prior's centre (one draw of the prior, for a bootstrap fit)."""
        value, grad = 0.0, np.zeros(self.size)
        for k in cases.tolist():
            ll, dll = self.case_loglik(k, theta)
            value -= ll
            grad -= dll
        centre = np.zeros(self.size) if moved is None else moved
        shift = theta[:-1] - centre[:-1]
        value += float(np.sum(shift**2) / (2 * PRIOR_SD**2))
        grad[:-1] += shift / PRIOR_SD**2
        z = (theta[-1] - math.log(TAU_MEDIAN) - centre[-1]) / TAU_LOG_SD  # log-normal prior on tau
        value += z**2 / 2
        grad[-1] += z / TAU_LOG_SD
        return value, grad

    def prior_draws(self, rng: np.random.Generator) -> np.ndarray:
        """A draw of the prior's parameters about its centre (each family's correction, the log of the
        case effect's spread)."""
        return rng.normal(0.0, 1.0, self.size) * np.array([PRIOR_SD] * len(self.families) + [TAU_LOG_SD])

    def center(self) -> np.ndarray:
        """The parameters of the first case's proposal (the figures its replications were simulated
        with; its case effect's spread is a quarter wider than the fit it followed)."""
        shift = np.linalg.lstsq(self.member, self.proposals[0] - self.eta0, rcond=None)[0]
        return np.concatenate([shift, [math.log(self.samples[0].tau / 1.25)]])

    def bounds(self, center: np.ndarray | None = None, radius: float = RADIUS) -> list[tuple[float, float]]:
        """Where a fit may go: within ``radius`` of ``center`` (the proposal: beyond it, the
        reweighted replications are too few to trust) and within the outer bounds."""
        outer = [(-4.0, 4.0)] * len(self.families) + [(math.log(0.02), math.log(3.0))]
        if center is None:
            return outer
        return [(max(lo, c - radius), min(hi, c + radius)) for (lo, hi), c in zip(outer, center.tolist(), strict=True)]

    def at_edge(self, theta: np.ndarray, center: np.ndarray, radius: float = RADIUS) -> bool:
        """Whether a fit stopped at its trust region's edge (not at the edge of the outer bounds)."""
        outer = self.bounds()
        for (lo, hi), (olo, ohi), x in zip(self.bounds(center, radius), outer, theta.tolist(), strict=True):
            if (abs(x - lo) < 1e-6 and lo > olo) or (abs(x - hi) < 1e-6 and hi < ohi):
                return True
        return False

    def fit(
        self,
        cases: np.ndarray | None = None,
        start: np.ndarray | None = None,
        center: np.ndarray | None = None,
        moved: np.ndarray | None = None,
        radius: float = RADIUS,
    ) -> tuple[np.ndarray, Fit]:
        """The posterior mode over ``cases`` (all by default), within ``radius`` of ``center`` (the
        proposal's parameters by default), with the prior's centre ``moved``."""
        cases = np.arange(len(self.samples)) if cases is None else cases
        center = self.center() if center is None else center
        x0 = center if start is None else start
        bounds = self.bounds(center, radius)
        x0 = np.clip(x0, [lo for lo, _ in bounds], [hi for _, hi in bounds])
        res = optimize.minimize(self.objective, x0, args=(cases, moved), jac=True, method="L-BFGS-B", bounds=bounds)
        theta = np.asarray(res.x)
        _, tau = self.unpack(theta)
        ess = {}
        for k in sorted(set(cases.tolist())):  # under every draw: the weights of the case's forecast
            w = self.weights(k, theta)
            ess[self.samples[k].name] = float(1.0 / np.sum(w**2))
        edge = self.at_edge(theta, center, radius)
        return theta, Fit(self.means(theta), tau, float(res.fun), bool(res.success) and not edge, ess, edge)


def resamples_of(cases: int, resamples: int, seed: int = 0) -> np.ndarray:
    """The libraries of a bootstrap: (resamples, cases) case indices drawn with replacement (seeded)."""
    return np.random.default_rng(seed).integers(0, cases, (resamples, cases))


def bootstrap(problem: Problem, theta: np.ndarray, picks: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """The fits to the libraries ``picks`` (rows of case indices), each started from ``theta``:
    (libraries, params). Each also resamples every case's replications (seeded by ``seeds``, one per
    library), so that the intervals carry the simulation's own error as well as the cases', and
    moves the prior's centre by a draw of the prior (randomise-then-optimise: for a normal model
    each such fit is a draw of the posterior). Without that, a figure the cases say nothing about
    (no item of its kind agreed in any case) would get the same fit in every resample, and an
    interval of no width; with it, it gets the prior's."""
    out = np.empty((picks.shape[0], problem.size))
    for b, picked in enumerate(picks):
        rng = np.random.default_rng(int(seeds[b]))
        again = problem.thinned([rng.integers(0, x.n, x.n) for x in problem.samples])
        # twice the trust region: a figure the cases leave to the prior may go as far as the prior does
        out[b], _ = again.fit(picked, start=theta, moved=problem.prior_draws(rng), radius=2 * RADIUS)
    return out


def interval(values: np.ndarray, level: float = 0.9) -> tuple[float, float]:
    """The central ``level`` percentile interval."""
    lo, hi = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def summary(problem: Problem, theta: np.ndarray, boot: np.ndarray, loo: dict[str, np.ndarray]) -> dict[str, Any]:
    """Each row's figure before and after with its 90% interval and how much each case pulls on it
    (the change when the case is left out), each family's correction, and the case effect's spread."""
    after = problem.means(theta)
    boots = [problem.means(b) for b in boot]
    loos = {name: problem.means(t) for name, t in loo.items()}
    rows = []
    for ref in problem.refs:
        lo, hi = interval(np.array([b[ref] for b in boots]))
        pull = {name: round(after[ref] - m[ref], 4) for name, m in loos.items()}
        rows.append(
            {
                "row": ref,
                "family": family(ref),
                "before": round(problem.priors[ref].mean, 4),
                "after": round(after[ref], 4),
                "low": round(lo, 4),
                "high": round(hi, 4),
                "concentration": problem.priors[ref].concentration,
                "items": int(sum(s.rows[ref].shape[1] for s in problem.samples if ref in s.rows)),
                "pull": dict(sorted(pull.items(), key=lambda kv: -abs(kv[1]))),
            }
        )
    families = []
    for f, name in enumerate(problem.families):
        lo, hi = interval(boot[:, f])
        families.append({"family": name, "shift": round(float(theta[f]), 4), "low": round(lo, 4), "high": round(hi, 4)})
    tau = float(math.exp(theta[-1]))
    lo, hi = interval(np.exp(boot[:, -1]))
    pulls = {name: round(tau - float(math.exp(t[-1])), 4) for name, t in loo.items()}
    return {
        "rows": rows,
        "families": families,
        "case_effect": {
            "sd": round(tau, 4),
            "low": round(lo, 4),
            "high": round(hi, 4),
            "pull": dict(sorted(pulls.items(), key=lambda kv: -abs(kv[1]))),
        },
    }


def resample(weights: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """Replication indices drawn in proportion to ``weights`` (systematic resampling, seeded): an
    unweighted sample of the reweighted forecast, for the scores that take one."""
    rng = np.random.default_rng(seed)
    positions = (rng.random() + np.arange(size)) / size
    return np.minimum(np.searchsorted(np.cumsum(weights), positions), weights.size - 1)
