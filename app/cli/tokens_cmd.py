"""`mlc tokens …`: API tokens for the HTTP API (create, list, revoke)."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.output import emit, err_console, state, success, table

app = typer.Typer(
    help="API tokens: bearer secrets with a role (viewer, operator, admin).", no_args_is_help=True
)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A slug naming who holds it, e.g. ci-deploy.")],
    role: Annotated[str, typer.Option(help="viewer, operator or admin.")] = "viewer",
) -> None:
    """Create a token; its secret is printed once and stored only as a hash."""
    token, secret = state(ctx).engine().create_token(name, role)

    def human() -> None:
        success(ctx, f"created token {token.name} ({token.id}, role {token.role})")
        success(ctx, secret)
        err_console.print("note: store the secret now; it cannot be shown again", markup=False)

    emit(ctx, {"token": token, "secret": secret}, human)


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """Every token, revoked ones included (secrets are never shown)."""
    tokens = state(ctx).engine().list_tokens()

    def human() -> None:
        table(
            ["ID", "NAME", "ROLE", "CREATED", "BY", "LAST USED", "REVOKED"],
            [[t.id, t.name, t.role, t.created_at, t.created_by, t.last_used_at, t.revoked_at]
             for t in tokens],
        )  # fmt: skip

    emit(ctx, {"tokens": tokens}, human)


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    token: Annotated[str, typer.Argument(metavar="TOKEN", help="The token's id or name.")],
) -> None:
    """Revoke a token at once (exit 4 if it was already revoked)."""
    revoked = state(ctx).engine().revoke_token(token)
    emit(ctx, revoked, lambda: success(ctx, f"revoked token {revoked.name} ({revoked.id})"))
