"""``hubpulse export``: the download-share history as CSV, for spreadsheets."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pandas as pd
from sqlalchemy import Engine, select

from bot.cli.base import main, open_store, settings, user_errors
from bot.core.registry import Registry, country_name, load_registry
from bot.model.aggregates import ATTRIBUTIONS, COUNTRY, ORG
from bot.store import schema
from bot.store.snapshots import COMPLETE

COLUMNS = (
    "snapshot_id",
    "taken_at",
    "attribution",
    "level",
    "key",
    "name",
    "country",
    "downloads",
    "models",
    "share_percent",
    "rank",
)


def _org_name(registry: Registry, key: str) -> str:
    org = registry.get(key)
    return org.display_name if org else key


def share_history(
    engine: Engine, attributions: tuple[str, ...], level: str, registry: Registry
) -> pd.DataFrame:
    """One row per complete snapshot and key, oldest snapshot first, then by rank."""
    a, s = schema.aggregates, schema.snapshots
    query = (
        select(
            s.c.id.label("snapshot_id"),
            s.c.taken_at,
            a.c.attribution,
            a.c.level,
            a.c.key,
            a.c.downloads,
            a.c.models,
            a.c.share,
            a.c.rank,
        )
        .join(a, a.c.snapshot_id == s.c.id)
        .where(s.c.status == COMPLETE, a.c.attribution.in_(attributions), a.c.level == level)
        .order_by(s.c.taken_at, s.c.id, a.c.attribution, a.c.rank)
    )
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).mappings().all())
    if frame.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    frame["taken_at"] = pd.to_datetime(frame["taken_at"], utc=True).dt.strftime("%Y-%m-%d %H:%M")
    if level == COUNTRY:
        frame["country"] = frame["key"]
        frame["name"] = frame["key"].map(country_name)
    else:
        frame["country"] = frame["key"].map(registry.country_of)
        frame["name"] = frame["key"].map(lambda key: _org_name(registry, key))
    frame["downloads"] = frame["downloads"].round().astype("int64")
    frame["share_percent"] = (frame["share"] * 100).round(4)
    return frame[list(COLUMNS)]


@main.command("export")
@click.option(
    "--attribution",
    type=click.Choice([*ATTRIBUTIONS, "both"]),
    default="both",
    show_default=True,
    help="publisher: by the uploading org; lineage: by the root base model's org.",
)
@click.option("--level", type=click.Choice([COUNTRY, ORG]), default=COUNTRY, show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="CSV file to write (default: standard output).",
)
@user_errors
def export_command(attribution: str, level: str, output: Path | None) -> None:
    """Write the share history as CSV: one row per snapshot and country (or org), with its
    downloads, share of the snapshot's top-N downloads (percent) and rank."""
    engine = open_store(settings())
    attributions = ATTRIBUTIONS if attribution == "both" else (attribution,)
    frame = share_history(engine, attributions, level, load_registry())
    if output is None:
        frame.to_csv(sys.stdout, index=False, lineterminator="\n")
        return
    frame.to_csv(output, index=False, lineterminator="\n")
    snapshots = frame["snapshot_id"].nunique()
    click.echo(f"Wrote {len(frame):,} rows from {snapshots} snapshots to {output}.", err=True)
