"""`mlc status`: the fleet at a glance — traffic, health, drift, alerts, tests, rollouts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.output import console, emit, state, success, table
from core.timeparse import parse_duration

if TYPE_CHECKING:
    from core.fleet import ModelHealth  # the engine's modules load only when a command runs


def status(
    ctx: typer.Context,
    window: Annotated[
        str,
        typer.Option(help="Health over this much recent production traffic, e.g. 60s, 5m, 1h."),
    ] = "60s",
) -> None:
    """Every model: production traffic split, requests/s, errors, p99 latency, accuracy or MAE
    over the last --window; drift share over at least the last 5 min; firing alerts, running
    A/B tests and rollouts."""
    window_s = parse_duration(window).total_seconds()
    rows = state(ctx).engine().fleet_status(window_s)
    first = rows[0] if rows else None

    def human() -> None:
        if first is None:
            success(ctx, "no models yet: mlc models create NAME --task classification")
            return
        table(
            ["MODEL", "PRODUCTION", "REQ/S", "ERR", "INVALID", "P99 MS", "QUALITY", "DRIFT",
             "ALERTS", "ACTIVITY"],
            [
                [r.name, _traffic(r), f"{r.requests_per_s:.1f}", _percent(r.error_rate),
                 _invalid(r), _number(r.latency_p99_ms), _quality(r), _drift(r), _alerts(r),
                 _activity(r)]
                for r in rows
            ],
            title=interval_title(first),
        )  # fmt: skip
        for r in rows:
            if r.rate_s < r.window_s:
                console.print(f"{r.name}: {began_text(r.rate_s)}", markup=False)

    emit(ctx, {
        "window_s": window_s,
        "start": first.start if first else None,
        "end": first.end if first else None,
        "drift_window_s": first.drift_window_s if first else None,
        "models": rows,
    }, human)  # fmt: skip


def interval_title(r: ModelHealth) -> str:
    """What every figure of a row is over, e.g. `production, last 60 s (12:00:01-12:01:01
    UTC) · drift: last 5 min`."""
    from core.fleet import window_text

    return (
        f"production, last {window_text(r.window_s)}"
        f" ({r.start:%H:%M:%S}-{r.end:%H:%M:%S} UTC) · drift: last {window_text(r.drift_window_s)}"
    )


def began_text(rate_s: float) -> str:
    """Why a row's REQ/S is over less than the window (`core.fleet.rate_seconds`)."""
    return f"traffic began inside the window: req/s over the last {rate_s:.0f} s"


def _invalid(r: ModelHealth) -> str:
    """Refused input (never a version's error): its share of what was asked, and the count."""
    return f"{_percent(r.invalid_rate)} ({r.invalid})" if r.invalid else "-"


def _traffic(r: ModelHealth) -> str:
    if not r.production:
        return "not deployed"
    from core.traffic import describe

    return f"{describe(r.production)} (rev {r.production_revision})"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _quality(r: ModelHealth) -> str:
    if r.accuracy is not None:
        return f"acc {r.accuracy:.3f} ({r.labelled:,})"
    if r.mae is not None:
        return f"mae {r.mae:.4g} ({r.labelled:,})"
    return "-"


def _drift(r: ModelHealth) -> str:
    if r.drift_share is not None:
        return f"{r.drift_share:.0%}"
    return {"insufficient_data": "few events", "no_reference": "no ref"}.get(r.drift_status, "-")


def _alerts(r: ModelHealth) -> str:
    if not r.firing_alerts:
        return "-"
    return f"{r.firing_alerts} {r.max_severity.value if r.max_severity else ''}".strip()


def _activity(r: ModelHealth) -> str:
    parts = [
        f"A/B {t.name} ({t.status.value}): "
        + " ".join(f"{v} {t.split.get(v, 0):.0f}%" for v in t.arms)
        for t in r.ab_tests
    ]
    if r.rollout is not None:
        o = r.rollout
        parts.append(
            f"rollout {o.canary_version} {o.canary_weight:g}% step {o.step}/{len(o.steps)}"
            f" ({o.status.value})"
        )
    if r.staging:
        from core.traffic import describe

        parts.append("staging " + describe(r.staging))
    return "; ".join(parts) or "-"
