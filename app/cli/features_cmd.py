"""`mlc features …`: the feature store — definitions, rows, materialization and lookups."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app.cli.output import emit, fields, state, success, table
from app.cli.tables import read_table
from core.errors import InvalidInput
from core.timeparse import duration_text, parse_since

if TYPE_CHECKING:
    import polars as pl

    from core.features.types import FeatureView

app = typer.Typer(
    help="Feature store: entities, feature views, point-in-time training sets, online lookup.",
    no_args_is_help=True,
)

ViewArg = Annotated[str, typer.Argument(metavar="VIEW", help="Feature view name.")]
SHOWN_ROWS = 20


@app.command("apply")
def apply(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE.toml", help="Feature definitions.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; change nothing.")
    ] = False,
) -> None:
    """Create or update entities and views; an incompatible change refuses the file (exit 4)."""
    result = state(ctx).engine().apply_features(file, dry_run=dry_run)

    def human() -> None:
        table(
            ["KIND", "NAME", "ACTION", "VERSION", "CHANGES"],
            [[c.kind, c.name, c.action, f"v{c.version}" if c.version else None, c.changes]
             for c in result.applied],
        )  # fmt: skip
        if dry_run:
            success(ctx, "dry run: nothing was applied")

    emit(ctx, result, human)


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """Entities and feature views."""
    catalog = state(ctx).engine().feature_catalog()

    def human() -> None:
        table(
            ["ENTITY", "JOIN KEY", "TYPE", "DESCRIPTION"],
            [[e.name, e.join_key, e.value_type, e.description] for e in catalog.entities],
        )
        table(
            ["VIEW", "VERSION", "ENTITY", "SOURCE", "FEATURES", "TTL", "ROWS", "MATERIALIZED UP TO", "ONLINE"],
            [[v.name, f"v{v.version}", v.entity, _source(v), len(v.features), duration_text(v.ttl_s),
              v.offline_rows, v.materialized_up_to, v.online_entities] for v in catalog.views],
        )  # fmt: skip
        if not catalog.views:
            success(ctx, "no feature views yet: mlc features apply FILE.toml")

    emit(ctx, catalog, human)


@app.command("show")
def show(
    ctx: typer.Context,
    view: ViewArg,
    version: Annotated[int | None, typer.Option(help="As this version defined it.")] = None,
) -> None:
    """A view: its definition, state and version history."""
    found = state(ctx).engine().get_feature_view(view, version=version)

    def human() -> None:
        fields(
            [
                ("view", f"{found.name} v{found.version}"),
                ("entity", f"{found.entity} (join key {found.join_key}, {found.value_type})"),
                ("source", _source(found)),
                ("timestamp", found.timestamp),
                ("created timestamp", found.created_timestamp),
                ("ttl", duration_text(found.ttl_s)),
                ("description", found.description or None),
                ("applied", f"{found.applied_at:%Y-%m-%d %H:%M:%S} by {found.applied_by}"
                 if found.applied_at else None),
                ("rows in store", found.offline_rows),
                ("last ingest", found.last_ingest_at),
                ("materialized up to", found.materialized_up_to),
                ("online entities", found.online_entities),
            ]
        )  # fmt: skip
        table(["FEATURE", "TYPE"], [[f.name, f.type] for f in found.features])
        table(
            ["VERSION", "APPLIED", "BY", "CHANGES"],
            [[f"v{h.version}", h.applied_at, h.applied_by, h.changes] for h in found.history],
        )

    emit(ctx, found, human)


@app.command("ingest")
def ingest(
    ctx: typer.Context,
    view: ViewArg,
    file: Annotated[Path, typer.Argument(help="Rows: CSV or Parquet, the view's columns.")],
) -> None:
    """Append rows to a store view; one bad row (named by line) refuses the file."""
    result = state(ctx).engine().ingest_features(view, file)
    emit(
        ctx,
        result,
        lambda: success(
            ctx,
            f"ingested {result.rows:,} rows into {result.view} v{result.version}"
            f" ({result.offline_rows:,} in the store)",
        ),
    )


@app.command("materialize")
def materialize(
    ctx: typer.Context,
    views: Annotated[
        list[str] | None, typer.Argument(metavar="[VIEW]...", help="Views (default: --all).")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every view.")] = False,
    up_to: Annotated[
        str, typer.Option("--up-to", help="now, an ISO time (UTC) or a duration back (1h).")
    ] = "now",
) -> None:
    """Load the latest value per entity (as of --up-to, within the TTL) for serving."""
    engine = state(ctx).engine()
    if bool(views) == all_:
        raise InvalidInput("name the views to materialize, or --all")
    when = None if up_to == "now" else parse_since(up_to)
    names = views or [v.name for v in engine.feature_catalog().views]
    results = [engine.materialize_features(name, up_to=when) for name in names]

    def human() -> None:
        for r in results:
            success(
                ctx,
                f"materialized {r.view} v{r.version} up to {r.up_to:%Y-%m-%d %H:%M:%S}:"
                f" {r.entities:,} entities online",
            )

    emit(ctx, {"materialized": results}, human)


@app.command("get")
def get(
    ctx: typer.Context,
    features: Annotated[
        list[str], typer.Argument(metavar="VIEW:FEATURE...", help="e.g. profile:age profile:*")
    ],
    entity: Annotated[
        list[str] | None,
        typer.Option(help="Online: KEY=VALUE[,KEY=VALUE] or VALUE (one key); may repeat."),
    ] = None,
    entities: Annotated[
        Path | None,
        typer.Option(help="Point in time: a CSV/Parquet file of entity rows (keys, a time)."),
    ] = None,
    timestamp: Annotated[
        str, typer.Option(help="With --entities: the rows' time column.")
    ] = "event_timestamp",
    output: Annotated[
        Path | None, typer.Option(help="With --entities: write the rows here (.parquet, .csv).")
    ] = None,
) -> None:
    """Online values of --entity ids, or point-in-time values for the rows of --entities."""
    if bool(entity) == (entities is not None):
        raise InvalidInput("give --entity (online lookup) or --entities FILE (point in time)")
    engine = state(ctx).engine()
    if entity:
        rows = _entity_rows(entity, features, engine)
        found = engine.get_online_features(features, rows)

        def online_table() -> None:
            columns = list(found.rows[0]) if found.rows else found.features
            table([c.upper() for c in columns], [[r[c] for c in columns] for r in found.rows])

        emit(ctx, found, online_table)
        return
    assert entities is not None
    rows_in = read_table(entities, parse_dates=True)
    frame = engine.get_historical_features(rows_in, features, timestamp=timestamp)
    names = frame.columns[rows_in.width :]
    if output is not None:
        _write(frame, output)
        doc: dict[str, Any] = {"features": names, "rows": frame.height, "output": str(output)}
        emit(ctx, doc, lambda: success(ctx, f"wrote {frame.height:,} rows to {output}"))
        return

    def history_table() -> None:
        table(frame.columns, frame.head(SHOWN_ROWS).rows())
        if frame.height > SHOWN_ROWS:
            success(ctx, f"… {frame.height - SHOWN_ROWS:,} more rows (--output FILE for all)")

    emit(ctx, {"features": names, "rows": frame.to_dicts()}, history_table)


def _entity_rows(values: list[str], features: list[str], engine: Any) -> list[dict[str, Any]]:
    """`--entity` values as entity rows; a bare value needs the views to share one key."""
    rows: list[dict[str, Any]] = []
    keys: list[str] | None = None
    for value in values:
        if "=" in value:
            pairs = [p.split("=", 1) for p in value.split(",")]
            rows.append({k.strip(): v.strip() for k, v in pairs})
            continue
        if keys is None:
            wanted = {f.split(":", 1)[0] for f in features}
            keys = sorted({v.join_key for v in engine.feature_catalog().views if v.name in wanted})
        if len(keys) != 1:
            raise InvalidInput(
                f"--entity {value!r}: say which key, e.g. --entity {keys[0] if keys else 'KEY'}={value}"
            )
        rows.append({keys[0]: value})
    return rows


def _write(frame: pl.DataFrame, path: Path) -> None:
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            frame.write_parquet(path)
        elif suffix == ".csv":
            frame.write_csv(path)
        else:
            raise InvalidInput(f"--output {path} must end in .parquet or .csv")
    except OSError as e:
        raise InvalidInput(f"cannot write {path}: {e.strerror}") from None


def _source(view: FeatureView) -> str:
    return "store" if view.source == "store" else f"file {view.source}"
