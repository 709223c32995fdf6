"""Imported org registry rows: stored by ``hubpulse orgs import --apply``, read by every
process that builds the registry (refreshes, ``serve``, ``scheduler``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Engine, select

from bot.core.registry import Org, Registry
from bot.store.bulk import insert_rows
from bot.store.org_tables import org_imports

COLUMNS = tuple(org_imports.c.keys())
"""The table's columns, in order: ``save_orgs`` writes rows in this order."""


def imported_orgs(engine: Engine) -> list[Org]:
    """The stored rows, in the order they were last imported."""
    with engine.connect() as connection:
        return imported_orgs_on(connection)


def imported_orgs_on(connection: Connection) -> list[Org]:
    """``imported_orgs`` on an open connection."""
    table = org_imports
    rows = connection.execute(
        select(
            table.c.org, table.c.country, table.c.display_name, table.c.aliases, table.c.source
        ).order_by(table.c.imported_at, table.c.org_lower)
    ).all()
    return [
        Org(org, country, name, tuple(a for a in aliases.split("|") if a), source)
        for org, country, name, aliases, source in rows
    ]


def save_orgs(engine: Engine, orgs: Sequence[Org], origin: str, now: datetime) -> None:
    """Store ``orgs`` (added or changed ones), replacing earlier imports of the same id, in
    one transaction."""
    with engine.begin() as connection:
        insert_rows(
            connection,
            org_imports,
            COLUMNS,
            [
                (
                    org.org.lower(),
                    org.org,
                    org.country,
                    org.display_name,
                    "|".join(org.aliases),
                    org.source,
                    origin,
                    now,
                )
                for org in orgs
            ],
            conflict=("org_lower",),
            update=COLUMNS[1:],
        )


def with_imports(engine: Engine, registry: Registry) -> Registry:
    """``registry`` with the stored imports over it."""
    return registry.layered(imported_orgs(engine))
