"""``hubpulse orgs list``, ``orgs import`` and ``orgs unknown``: the org registry in use, how to
extend it, and which unregistered authors carry the most downloads."""

from __future__ import annotations

import click

from bot.cli.base import main, open_store, settings, user_errors
from bot.core.clock import SystemClock
from bot.core.errors import UserError
from bot.core.registry import UNKNOWN_COUNTRY, Org, Registry, changes
from bot.ingest.org_source import effective_registry, orgs_from
from bot.model.aggregates import COUNTRY, ORG, ORG_ROWS_KEPT, PUBLISHER
from bot.store.orgs import save_orgs
from bot.store.reader import Reader


@main.group("orgs")
def orgs_group() -> None:
    """The org registry: list it, import a file or URL into it, see unregistered authors."""


def org_line(org: Org) -> str:
    """One org, tab-separated: id, country code, region, display name, aliases."""
    return "\t".join((org.org, org.country, org.region, org.display_name, "|".join(org.aliases)))


@orgs_group.command("list")
@user_errors
def list_command() -> None:
    """List the registry in use (bundled, HUBPULSE_ORGS_FILE, stored imports), one org a line,
    tab-separated: id, country code, region, display name, aliases (|-separated)."""
    config = settings()
    registry = effective_registry(open_store(config), config.orgs_file)
    for org in sorted(registry, key=lambda org: org.org.lower()):
        click.echo(org_line(org))


def _changed(before: Org, after: Org) -> str:
    parts = []
    if before.country != after.country:
        parts.append(
            f"country {before.country} -> {after.country} (region {before.region} -> "
            f"{after.region})"
        )
    for label, old, new in (
        ("name", before.display_name, after.display_name),
        ("aliases", "|".join(before.aliases), "|".join(after.aliases)),
        ("source", before.source, after.source),
    ):
        if old != new:
            parts.append(f"{label} {old!r} -> {new!r}")
    return "; ".join(parts)


@orgs_group.command("import")
@click.argument("source")
@click.option("--apply", "apply_", is_flag=True, help="Store the changes (else only show them).")
@user_errors
def import_command(source: str, apply_: bool) -> None:
    """Compare a registry file or http(s) URL with the registry in use and show what it would
    add and change; with --apply, store it so the next refresh's aggregates use it.

    SOURCE is our CSV (org,country,display_name,aliases,source) or the ATOM Project's
    (hf_org,region,notes; region one of us, china, eu, other, unknown). An ATOM row keeps what
    the registry says of a known org unless its region differs; a new org gets its region's
    country (EU, XO or XU when the country is not given)."""
    config = settings()
    engine = open_store(config)
    current = effective_registry(engine, config.orgs_file)
    found = changes(current, orgs_from(source, current))
    try:
        current.layered(found.stored)
    except ValueError as exc:
        raise UserError(f"{source}: {exc}") from None
    for org in found.added:
        click.echo(f"+ {org_line(org)}")
    for before, after in found.changed:
        click.echo(f"~ {after.org}: {_changed(before, after)}")
    click.echo(
        f"{len(found.added)} added, {len(found.changed)} changed, {len(found.unchanged)} unchanged."
    )
    if not found.stored:
        return
    if not apply_:
        click.echo("Nothing stored: run again with --apply to store these changes.")
        return
    save_orgs(engine, found.stored, source, SystemClock().now())
    click.echo(
        f"Stored {len(found.stored)} orgs: the next refresh's aggregates use them "
        "(`hubpulse refresh`, or the scheduler's next run); `serve` names them after a restart."
    )


def unknown_lines(reader: Reader, registry: Registry, top: int) -> list[str]:
    """The unregistered authors of the latest snapshot with the most downloads (publisher
    attribution), from its stored aggregates: the top orgs are kept, registered or not."""
    snapshot = reader.latest()
    bucket = reader.aggregate(snapshot.id, PUBLISHER, COUNTRY, UNKNOWN_COUNTRY)
    rows = [
        row
        for row in reader.aggregates(snapshot.id, PUBLISHER, ORG, limit=ORG_ROWS_KEPT)
        if registry.get(row.key) is None
    ]
    share = bucket.share if bucket else 0.0
    lines = [
        f"Unregistered authors hold {share:.1%} of the top {snapshot.top_models:,} models' "
        f"30-day downloads (snapshot of {snapshot.taken_at:%Y-%m-%d %H:%M} UTC). "
        f"Largest of them, among the {ORG_ROWS_KEPT} largest orgs:"
    ]
    lines += [
        f"{row.share:7.2%}  {row.downloads:>14,.0f}  {row.models:>6,} "
        f"{'model ' if row.models == 1 else 'models'}  {row.key}"
        for row in rows[:top]
    ]
    if not rows:
        lines.append("(none: every large org is registered)")
    return lines


@orgs_group.command("unknown")
@click.option(
    "--top", type=click.IntRange(1), default=20, show_default=True, help="Authors listed."
)
@user_errors
def unknown_command(top: int) -> None:
    """List the unregistered authors carrying the most downloads in the latest snapshot, with
    their share: what to add to the registry next."""
    config = settings()
    engine = open_store(config)
    registry = effective_registry(engine, config.orgs_file)
    for line in unknown_lines(Reader(engine, registry), registry, top):
        click.echo(line)
