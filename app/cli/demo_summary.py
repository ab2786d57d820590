"""What a headless `mlc demo` prints when it ends: one JSON-able summary of the run (store,
traffic, the A/B test's verdict, the alerts that fired and how long after the drift episode
began), and the same as lines for a person."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.demo import DemoScenario, TrafficStats
    from core.engine import Engine


def summary(
    engine: Engine,
    home: Path,
    scenario: DemoScenario,
    stats: TrafficStats,
    interrupted: bool,
) -> dict[str, Any]:
    """What happened, as one JSON-able document."""
    ab: dict[str, Any] | None = None
    if scenario.ab_test_id is not None:
        test = engine.get_ab_test(scenario.ab_test_id)
        results = engine.analyze_test_results(scenario.ab_test_id)
        primary = next((c for c in results.comparisons if c.role == "primary"), None)
        ab = {
            "id": test.id,
            "name": test.name,
            "status": test.status,
            "split": test.traffic_split,
            "recommendation": results.recommendation,
            "winner": results.winner,
            "primary": None
            if primary is None
            else {
                "metric": primary.metric,
                "control": results.control,
                "treatment": primary.treatment,
                "control_mean": primary.control_mean,
                "treatment_mean": primary.treatment_mean,
                "control_n": primary.control_n,
                "treatment_n": primary.treatment_n,
                "rel_lift": primary.rel_lift,
                "p_value": primary.p_value,
                "significant": primary.significant,
            },
        }
    alerts = []
    for model in scenario.models:
        for alert in engine.list_alerts(model=model):
            if alert.fired_at is None or (
                stats.started_at is not None and alert.fired_at < stats.started_at
            ):
                continue  # never fired, or before this run (a resumed demo store)
            alerts.append(
                {
                    "id": alert.id,
                    "model": alert.model_id,
                    "rule": alert.rule_id,
                    "condition": f"{alert.metric_name} {alert.comparison.value} {alert.threshold:g}",
                    "severity": alert.severity,
                    "state": alert.state,
                    "fired_at": alert.fired_at,
                    "resolved_at": alert.resolved_at,
                    "fired_after_drift_s": _seconds_after(alert.fired_at, stats.drift_started_at),
                    "value": alert.value,
                }
            )
    alerts.sort(key=lambda a: a["fired_at"])
    elapsed = stats.elapsed_s or 1.0
    return {
        "store": str(home),
        "interrupted": interrupted,
        "build_s": round(scenario.build_s, 2),
        "resumed": scenario.resumed,
        "models": scenario.models,
        "versions": scenario.versions,
        "traffic": {
            "seconds": stats.elapsed_s,
            "rate_target": stats.rate,
            "rate_achieved": round(stats.requests / elapsed, 1),
            "requests": stats.requests,
            "errors": stats.errors,
            "labels_sent": stats.labels_sent,
            "labels_pending": stats.labels_pending,
            "by_version": stats.by_version,
            "drift_started_at": stats.drift_started_at,
            "drift_ended_at": stats.drift_ended_at,
            "last_error": stats.last_error,
        },
        "ab_test": ab,
        "alerts": alerts,
    }


def _seconds_after(when: datetime | None, start: datetime | None) -> float | None:
    if when is None or start is None:
        return None
    return round((when - start).total_seconds(), 1)


def human(s: dict[str, Any]) -> str:
    """The summary as lines for a person (the `--json` output is `summary` itself)."""
    t = s["traffic"]
    lines = [
        f"demo store   {s['store']}  (mlc --store {s['store']} …)",
        f"built in     {s['build_s']:.1f} s"
        + ("  (resumed an existing demo)" if s["resumed"] else ""),
        f"traffic      {t['requests']:,} predictions in {t['seconds']:.0f} s"
        f" ({t['rate_achieved']:g}/s), {t['errors']:,} errors,"
        f" {t['labels_sent']:,} labels ({t['labels_pending']:,} still due)",
    ]
    for model, counts in t["by_version"].items():
        split = ", ".join(f"{v} {n:,}" for v, n in sorted(counts.items()))
        lines.append(f"  {model:<20} {split}")
    if t["drift_started_at"] is not None:
        end = t["drift_ended_at"]
        lines.append(
            f"drift        from {_clock(t['drift_started_at'])}"
            + (f" to {_clock(end)}" if end is not None else " (still on at the end)")
        )
    else:
        lines.append("drift        no episode yet")
    ab = s["ab_test"]
    if ab is not None:
        line = f"A/B test     {ab['id']} ({ab['status']}): {ab['recommendation']}"
        p = ab["primary"]
        if p is not None:
            lift = "-" if p["rel_lift"] is None else f"{p['rel_lift']:+.1%}"
            pv = "-" if p["p_value"] is None else f"{p['p_value']:.3g}"
            line += (
                f"; {p['metric']} {p['control']} {p['control_mean']:.3f} (n {p['control_n']:,})"
                f" vs {p['treatment']} {p['treatment_mean']:.3f} (n {p['treatment_n']:,}),"
                f" lift {lift}, p {pv}"
            )
        lines.append(line)
    if not s["alerts"]:
        lines.append("alerts       none fired")
    for a in s["alerts"]:
        after = a["fired_after_drift_s"]
        rel = f" ({after:+.0f} s from the drift start)" if after is not None else ""
        resolved = f", resolved {_clock(a['resolved_at'])}" if a["resolved_at"] else ""
        lines.append(
            f"alert        {a['id']} {a['severity']} {a['model']}: {a['condition']}"
            f" fired {_clock(a['fired_at'])}{rel}{resolved}"
        )
    if s["interrupted"]:
        lines.append("(interrupted)")
    return "\n".join(lines) + "\n"


def _clock(when: datetime) -> str:
    return when.astimezone().strftime("%H:%M:%S")
