"""`mlc audit …`: read the audit trail, verify its keyed chain, print its head."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.output import emit, err_console, state, success, table
from core.audit import parse_head
from core.domain import AuditVerification
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
def verify(
    ctx: typer.Context,
    head: Annotated[
        str | None,
        typer.Option(
            "--head",
            metavar="SEQ:HASH",
            help="A head printed earlier by `mlc audit head` (kept off this host): the log must"
            " still lead through that record, unchanged.",
        ),
    ] = None,
) -> None:
    """Check the keyed chain and the head; exit 1 naming the first broken record, or where the
    log was truncated."""
    anchor = parse_head(head) if head is not None else None
    result = state(ctx).engine().verify_audit(head=anchor)
    emit(ctx, result, lambda: success(ctx, _intact(result)) if result.ok else None)
    if not result.ok:
        err_console.print(f"error: {_broken(result)}", markup=False)
        raise typer.Exit(1)


@app.command("head")
def head_(ctx: typer.Context) -> None:
    """The newest record as SEQ:HASH: keep it off this host, check it later with
    `mlc audit verify --head SEQ:HASH`."""
    found = state(ctx).engine().audit_head()
    emit(ctx, found, lambda: typer.echo(str(found)))


def _intact(result: AuditVerification) -> str:
    text = f"audit chain intact: {result.checked} records verified"
    if result.keyed_from is not None and result.keyed_from > 1 and result.checked:
        older = min(result.keyed_from - 1, result.checked)
        text += f" (1–{older} by the unkeyed chain of an older mlc, keyed from {result.keyed_from})"
    if result.head is not None:
        text += f"; head {result.head}"
    return text


def _broken(result: AuditVerification) -> str:
    if result.truncated_after is not None:
        return f"audit log {result.problem}"
    if result.first_broken_seq is None:
        return f"audit log unverified: {result.problem}"
    return f"audit chain broken at record {result.first_broken_seq}: {result.problem}"


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
