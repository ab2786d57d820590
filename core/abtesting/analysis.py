"""Analysis of an A/B test: per-arm statistics from DuckDB, the statistics in Python.

Only events served while the test exposed traffic count: the test's `periods` (start, end,
split in force; a split change or a pause closes one).

Units and intent to treat. The unit is what traffic is randomised by. With unit "unit_id" a
unit is a user (events without a unit id count as their own unit); with "request_id" every
request is a unit of its own. Each unit belongs, for the life of the test, to the arm of its
**first exposure** (the version that served its first event in any period), and all its
in-test events count for that arm, averaged into one value per unit and metric: n is the
number of units. Splits are sticky (units hash into the traffic map laid out oldest version
first, `core.serving.splitter`), but a split change moves the units between the old and the
new boundary to another arm; counting them under each version they met would count a
returning user twice and break the randomisation. Intent to treat keeps each unit once, in
the arm it was randomised to; the price is that units served by both arms dilute the
difference, so the analysis says in `notes` how many there were. With request units no
unit can meet two arms and nothing changes.

Sample ratio. A unit is counted in the period of its first exposure; each period's first
exposures per arm are tested against that period's split (`core.stats.abtest.srm_periods`).
Returning units after a split change are no new exposures, so they are no mismatch; new units
in the later period follow the new split.

Variances come exact from centred moments (`ArmStats`), never from Σx².
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.abtesting.config import METRICS, ABTestConfig
from core.abtesting.results import ArmMetric, GuardrailStatus, MetricComparison, TestResults
from core.domain import Task
from core.errors import InvalidInput
from core.stats import abtest as st
from storage.conn import Conn
from storage.repos import abtest_sums

Period = dict[str, Any]  # {"start": iso, "end": iso | None, "split": {version: percent}}
Interval = tuple[float, float]
Compared = tuple[
    float, Interval, float | None, Interval | None, float | None, float | None, float | None
]
"""(lift, ci, rel, rel_ci, p, chance_to_beat, risk) of one treatment against the control."""


# ------------------------------------------------------------------ sums


@dataclass(frozen=True)
class UnitSums:
    """What a test's events add up to, unit by unit (intent to treat, see the module doc)."""

    arms: dict[str, dict[str, st.ArmStats]]
    """{version: {metric: statistics of the per-unit values}}"""
    first_exposures: list[dict[str, int]]
    """Per period: {version: units first exposed in that period}."""
    crossed: int
    """Units that more than one arm served (they count for the arm of their first exposure)."""

    @property
    def units(self) -> int:
        """Units in the test, each once."""
        return sum(sum(p.values()) for p in self.first_exposures)


def _time(text: str) -> datetime:
    t = datetime.fromisoformat(text)
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def arm_sums(
    conn: Conn,
    cfg: ABTestConfig,
    task: Task,
    periods: list[Period],
    now: datetime,
) -> UnitSums:
    """Per-arm statistics of every metric and first exposures per period, from the store."""
    metrics = [cfg.primary_metric, *cfg.secondary_metrics, *cfg.guardrail_metrics]
    versions = list(cfg.versions)
    windows = [(_time(p["start"]), _time(p["end"]) if p.get("end") else now) for p in periods]
    rows = abtest_sums.unit_sums(
        conn, model_id=cfg.model, environment=cfg.environment,
        versions=[int(v[1:]) for v in versions], windows=windows, metrics=metrics,
        regression=task is Task.REGRESSION, by_unit_id=cfg.unit == "unit_id",
    )  # fmt: skip
    arms = {v: {m: st.ArmStats(0, 0.0, 0.0) for m in metrics} for v in versions}
    first: list[dict[str, int]] = [dict.fromkeys(versions, 0) for _ in periods]
    crossed = 0
    for r in rows:
        v = f"v{int(r['arm'])}"
        first[int(r["period"])][v] += int(r["units"])
        crossed += int(r["crossed"])
        for j, m in enumerate(metrics):
            n = int(r[f"n{j}"])
            if n:  # periods merge by Chan's formula: exact, unlike adding Σx²
                part = st.ArmStats.from_shifted_sums(n, r[f"c{j}"], r[f"s{j}"], r[f"q{j}"])
                arms[v][m] = arms[v][m].merge(part)
    return UnitSums(arms, first, crossed)


# ------------------------------------------------------------------ statistics


def _sd(a: st.ArmStats) -> float | None:
    v = a.var
    return None if math.isnan(v) else math.sqrt(v)


def _compare(cfg: ABTestConfig, control: st.ArmStats, treat: st.ArmStats, metric: str) -> Compared:
    """`Compared` for the configured method."""
    if cfg.method == "bayesian":
        b = st.bayesian(control, treat, 0.0, cfg.prior_sd, alpha=cfg.alpha)
        higher = METRICS[metric].higher_is_better
        ctb = b.chance_to_beat if higher else 1.0 - b.chance_to_beat
        risk = b.risk_treatment if higher else b.risk_control
        rel = treat.mean / control.mean - 1.0 if control.mean else None
        return b.post_mean, b.ci, rel, None, None, ctb, risk
    if cfg.method == "sequential":
        c = st.sequential(control, treat, alpha=cfg.alpha, tuning=cfg.sequential_tuning)
    else:
        c = st.welch(control, treat, alpha=cfg.alpha)
    return c.lift, c.lift_ci, c.rel_lift, c.rel_ci, c.p_value, None, None


def analyse(
    test_id: str,
    cfg: ABTestConfig,
    data: UnitSums,
    periods: list[Period],
    *,
    now: datetime,
    started_at: datetime | None,
) -> TestResults:
    """The results and the recommendation, from `arm_sums` over the test's `periods`."""
    sums = data.arms
    control, treatments = cfg.versions[0], cfg.versions[1:]
    roles = {cfg.primary_metric: "primary"}
    roles.update({m: "secondary" for m in cfg.secondary_metrics})
    roles.update({m: "guardrail" for m in cfg.guardrail_metrics})
    arms = {
        v: {m: ArmMetric(v, m, a.n, None if a.n == 0 else a.mean, _sd(a)) for m, a in by.items()}
        for v, by in sums.items()
    }
    notes: list[str] = []

    # --- comparisons ---------------------------------------------------------------------
    raw: list[tuple[str, str, Compared]] = []
    for t in treatments:
        for m in roles:
            c, tr = sums[control][m], sums[t][m]
            if c.n < 2 or tr.n < 2:
                continue
            raw.append((t, m, _compare(cfg, c, tr, m)))
    # Holm across treatments x decision metrics (primary and secondary). Guardrails are
    # judged unadjusted: for a safety check a false alarm is cheaper than a missed breach.
    family = {
        i: r[4] for i, (_, m, r) in enumerate(raw) if roles[m] != "guardrail" and r[4] is not None
    }
    adjusted = dict(zip(family, st.holm(list(family.values())), strict=True)) if family else {}
    comparisons: list[MetricComparison] = []
    for i, (t, m, r) in enumerate(raw):
        lift, ci, rel, rel_ci, p, ctb, risk = r
        higher = METRICS[m].higher_is_better
        if p is not None:
            adj = adjusted.get(i, p)
            significant = adj < cfg.alpha
        else:
            adj = None
            significant = ctb is not None and (ctb > 1 - cfg.alpha / 2 or ctb < cfg.alpha / 2)
        better = None
        if significant and lift != 0:
            better = (lift > 0) == higher
        c, tr = sums[control][m], sums[t][m]
        comparisons.append(
            MetricComparison(
                treatment=t,
                metric=m,
                role=roles[m],
                control_n=c.n,
                treatment_n=tr.n,
                control_mean=c.mean,
                treatment_mean=tr.mean,
                lift=lift,
                ci=ci,
                rel_lift=rel,
                rel_ci=rel_ci,
                p_value=p,
                adjusted_p=adj,
                chance_to_beat=ctb,
                risk=risk,
                significant=significant,
                better=better,
            )
        )
    by_key = {(c.treatment, c.metric): c for c in comparisons}

    # --- sample ratio mismatch -----------------------------------------------------------
    srm, zero_split = _srm(cfg, data, periods)
    if zero_split:
        notes.append("an arm with a 0% split received traffic")
    if data.crossed:
        notes.append(
            f"{data.crossed:,} of {data.units:,} units ({data.crossed / data.units:.1%}) were"
            " served by more than one arm (a split change moved them); each counts for the arm"
            " of its first exposure (intent to treat), which dilutes the difference between arms"
        )

    # --- power ---------------------------------------------------------------------------
    primary = cfg.primary_metric
    ctl = sums[control][primary]
    split = cfg.split or {}
    needed: dict[str, int] = dict.fromkeys(cfg.versions, cfg.min_sample_per_arm)
    planned: int | None = None
    if ctl.n >= 2 and ctl.mean and not math.isnan(ctl.var):
        sd = None if METRICS[primary].proportion else _sd(ctl)
        for t in treatments:
            ratio = (split.get(t, 0) / split[control]) if split.get(control) else 1.0
            if ratio <= 0:
                continue
            n_c = _sample_size(ctl.mean, sd, cfg, ratio)
            if n_c is None:
                continue
            planned = max(planned or 0, n_c)
            needed[control] = max(needed[control], n_c)
            needed[t] = max(needed[t], math.ceil(ratio * n_c))
    n_arm = {v: sums[v][primary].n for v in cfg.versions}
    remaining = max(max(0, needed[v] - n_arm[v]) for v in cfg.versions)
    reached = remaining == 0
    prog = min(st.progress(n_arm[v], needed[v]) for v in cfg.versions)
    power = {"needed_per_arm": needed, "n_per_arm": n_arm, "progress": prog,
             "remaining_per_arm": remaining, "sample_size_for_mde": planned,
             "mde": cfg.mde, "power": cfg.power}  # fmt: skip
    if planned is None:
        notes.append(
            "sample size for the MDE unknown yet (no control data); using min_sample_per_arm"
        )

    # --- guardrails ----------------------------------------------------------------------
    guardrails: list[GuardrailStatus] = []
    broken: dict[str, list[str]] = {}
    for t in treatments:
        for m in cfg.guardrail_metrics:
            c = by_key.get((t, m))
            enough = (
                sums[control][m].n >= cfg.min_sample_per_arm
                and sums[t][m].n >= cfg.min_sample_per_arm
            )
            if c is None or not enough:
                if c is not None and c.better is False:
                    detail = f"{m} looks worse but min_sample_per_arm is not reached yet"
                else:
                    detail = "not enough data"
                guardrails.append(GuardrailStatus(t, m, "insufficient data", detail))
            elif c.better is False:
                broken.setdefault(t, []).append(m)
                guardrails.append(GuardrailStatus(t, m, "broken",
                    f"{m} {c.treatment_mean:.4g} vs control {c.control_mean:.4g}"))  # fmt: skip
            else:
                guardrails.append(GuardrailStatus(t, m, "ok", "no significant harm"))

    # --- decision ------------------------------------------------------------------------
    expired = (
        cfg.max_duration_s is not None
        and started_at is not None
        and (now - started_at).total_seconds() >= cfg.max_duration_s
    )
    keep = f"keep running (about {remaining:,} more units per arm)"
    winner: str | None = None
    if srm["mismatch"]:
        rec = (
            f"blocked: sample ratio mismatch (p = {srm['p_value']:.2g}; observed {srm['observed']})"
        )
    elif any(n_arm[v] < 2 for v in cfg.versions):
        rec = keep
    else:
        eligible = [t for t in treatments if t not in broken]
        # A fixed-horizon test is read only at its planned sample size (peeking inflates the
        # false-positive rate); sequential and Bayesian tests may be read at any look.
        decidable = (
            reached
            if cfg.method == "fixed"
            else all(n >= cfg.min_sample_per_arm for n in n_arm.values())
        )
        wins = [
            by_key[(t, primary)]
            for t in eligible
            if (t, primary) in by_key and by_key[(t, primary)].better
        ]
        losses = [
            t for t in treatments if (t, primary) in by_key and by_key[(t, primary)].better is False
        ]
        if not eligible:
            why = "; ".join(f"{t}: {', '.join(ms)} worse" for t, ms in broken.items())
            rec = f"stop: guardrail broken ({why})"
        elif decidable and wins:
            sign = 1 if METRICS[primary].higher_is_better else -1
            best = max(wins, key=lambda c: sign * c.lift)
            winner = best.treatment
            rec = f"promote {winner}"
        elif decidable and len(losses) == len(treatments):
            winner = control
            rec = f"promote {control} (the control: every treatment is significantly worse)"
        elif reached:
            rec = "stop: no difference"
        elif expired:
            rec = "stop: no difference (maximum duration reached before the planned sample size)"
        else:
            rec = keep
            if broken:
                notes.append("guardrail broken for " + ", ".join(sorted(broken)))
    return TestResults(
        test_id=test_id, analyzed_at=now, method=cfg.method, alpha=cfg.alpha, unit=cfg.unit,
        control=control, arms=arms, comparisons=comparisons, srm=srm, power=power,
        guardrails=guardrails, recommendation=rec, winner=winner, promotable=winner is not None,
        notes=notes,
    )  # fmt: skip


def _srm(cfg: ABTestConfig, data: UnitSums, periods: list[Period]) -> tuple[dict[str, Any], bool]:
    """First exposures per period against that period's split (`st.srm_periods`), and whether
    an arm with a 0% split was first to serve some unit."""
    versions = cfg.versions
    observed = [[pc[v] for v in versions] for pc in data.first_exposures]
    weights = [[float(p["split"].get(v, 0.0)) for v in versions] for p in periods]
    tested = data.units > 0
    r = st.srm_periods(observed, weights) if periods else None
    per_period = [
        {"start": p["start"], "end": p.get("end"), "split": p["split"],
         "observed": dict(zip(versions, o, strict=True)),
         "expected": {v: sum(o) * w / sum(ws) for v, w in zip(versions, ws, strict=True)}}
        for p, o, ws in zip(periods, observed, weights, strict=True)
    ]  # fmt: skip
    zero = any(o[i] > 0 and ws[i] == 0 for o, ws in zip(observed, weights, strict=True)
               for i in range(len(versions)))  # fmt: skip
    return {
        "observed": {v: sum(o[i] for o in observed) for i, v in enumerate(versions)},
        "expected": dict(zip(versions, r.expected, strict=True)) if r
                    else dict.fromkeys(versions, 0.0),
        "units": data.units,
        "crossed_units": data.crossed,
        "statistic": r.statistic if r and tested else None,
        "df": r.df if r and tested else None,
        "p_value": r.p_value if r and tested else None,
        "mismatch": bool(r and tested and r.mismatch),
        "threshold": st.SRM_THRESHOLD,
        "periods": per_period,
    }, zero  # fmt: skip


def _sample_size(base: float, sd: float | None, cfg: ABTestConfig, ratio: float) -> int | None:
    """Control units for the relative MDE; tries a drop when a rise leaves (0, 1)."""
    if sd is not None and sd <= 0:
        return None
    for mde in (cfg.mde, -cfg.mde):
        try:
            return st.sample_size(base, sd, mde, relative=True, alpha=cfg.alpha,
                                  power=cfg.power, ratio=ratio)  # fmt: skip
        except InvalidInput:
            continue
    return None
