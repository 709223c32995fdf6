"""The org registry's imported rows (migration 0008).

``hubpulse orgs import --apply`` stores each org it adds or changes here, whole, so every
replica sharing the database builds the same registry: the bundled CSV with these rows over it
(``bot.store.orgs.with_imports``).
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, String, Table, Text

from bot.store.schema import ORG_ID, metadata

org_imports = Table(
    "org_imports",
    metadata,
    Column("org_lower", ORG_ID, primary_key=True),
    Column("org", ORG_ID, nullable=False),
    Column("country", String(2), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("aliases", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("origin", Text, nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
)
