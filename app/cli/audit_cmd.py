"""`mlc audit …`: read the audit trail and verify its hash chain."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.output import emit, err_console, state, success, table
from core.timeparse import parse_since

app = typer.Typer(help="The audit trail: who did what, when and why.", no_args_is_help=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Option(help="Only records about this model.")] = None,
    action: Annotated[
        str | None, typer.Option(help="Only this action, or a family such as 'version'.")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="A duration back from now (1h, 7d) or an ISO time.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many (the newest).")] = 200,
) -> None:
    """Audit records, oldest first."""
    when = parse_since(since) if since else None
    records = state(ctx).engine().list_audit(model=model, action=action, since=when, limit=limit)

    def human() -> None:
        table(
            ["SEQ", "TIME", "ACTOR", "ACTION", "TARGET", "CHANGE", "REASON"],
            [
                [r.seq, r.at, r.actor, r.action, r.target, _change(r.before, r.after), r.reason]
                for r in records
            ],
            wrap=["CHANGE", "REASON"],
        )

    emit(ctx, {"records": records}, human)


@app.command("verify")
def verify(ctx: typer.Context) -> None:
    """Check the hash chain; exit 1 naming the first broken record."""
    result = state(ctx).engine().verify_audit()
    emit(
        ctx,
        result,
        lambda: (
            success(ctx, f"audit chain intact: {result.checked} records verified")
            if result.ok
            else None
        ),
    )
    if not result.ok:
        err_console.print(
            f"error: audit chain broken at record {result.first_broken_seq}: {result.problem}",
            markup=False,
        )
        raise typer.Exit(1)


def _change(before: object, after: object) -> str:
    def short(v: object) -> str:
        if isinstance(v, dict):
            return ", ".join(f"{k}={short(val)}" for k, val in v.items())
        if isinstance(v, list):
            return ",".join(short(x) for x in v)
        return "-" if v is None else str(v)

    if before is None:
        return short(after)
    return f"{short(before)} → {short(after)}"
