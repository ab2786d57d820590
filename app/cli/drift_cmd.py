"""`mlc drift`: a version's live traffic against its training reference."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.output import emit, fields, state, table
from core.timeparse import parse_duration


def drift(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[
        str | None, typer.Option(help="Default: the version serving most of production.")
    ] = None,
    window: Annotated[str, typer.Option(help="How far back to look, e.g. 1h, 30m.")] = "1h",
    min_events: Annotated[
        int, typer.Option(min=1, help="Fewer events is 'insufficient data'.")
    ] = 100,
    concept: Annotated[
        bool,
        typer.Option("--concept", help="ADWIN and Page–Hinkley on the labelled errors instead."),
    ] = False,
) -> None:
    """Per-feature drift (KS, chi-square, z, Wasserstein, Jensen–Shannon, PSI), each feature's
    missing share and unseen categories, and a verdict."""
    if concept:
        found = (
            state(ctx)
            .engine()
            .detect_concept_drift(
                model, version=version, window_s=parse_duration(window).total_seconds()
            )
        )
        emit(ctx, found, lambda: fields([
            ("model", f"{found.model_id} {found.version}"),
            ("labelled", f"{found.labelled:,} events in {window}, error {found.error_rate}"),
            ("verdict", "CHANGE DETECTED" if found.detected else "no change"),
            ("adwin", [p["ts"] for p in found.adwin] or None),
            ("page-hinkley", [p["ts"] for p in found.page_hinkley] or None),
        ]))  # fmt: skip
        return
    report = (
        state(ctx)
        .engine()
        .detect_drift(
            model,
            version=version,
            window_s=parse_duration(window).total_seconds(),
            min_current=min_events,
        )
    )
    a = report.analysis

    def human() -> None:
        verdict = (
            "DRIFT"
            if a.dataset_drift
            else ("insufficient data" if a.status != "ok" else "no drift")
        )
        fields(
            [
                ("model", f"{report.model_id} {report.version}"),
                ("window", f"{window} ({a.current_size:,} events)"),
                ("verdict", f"{verdict}: {a.reason}"),
                ("drift share", f"{a.drift_share:.0%}"),
            ]
        )
        rows = [
            [f.feature, f.kind, f.method, f.statistic, f.p_value, f.threshold, f.psi,
             f"{f.missing_share:.1%}", unseen(f.kind, f.unseen_categories),
             "DRIFT" if f.drifted else "ok"]
            for f in [*a.features, *([a.prediction] if a.prediction else [])]
        ]  # fmt: skip
        if rows:
            columns = ["FEATURE", "KIND", "METHOD", "STATISTIC", "P-VALUE", "THRESHOLD", "PSI",
                       "MISSING", "UNSEEN", "VERDICT"]  # fmt: skip
            table(columns, rows)

    emit(ctx, report, human)


def unseen(kind: str, count: int | None) -> str:
    """Categories the reference never had; "unknown" when its profile kept only the top 50."""
    if kind == "numeric":
        return "-"
    return "unknown" if count is None else str(count)
