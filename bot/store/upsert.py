"""``INSERT ... ON CONFLICT`` for the databases hubpulse runs on (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def dialect_insert(connection: Connection, table: Table) -> Any:
    """An insert into ``table`` that offers ``on_conflict_do_nothing``/``_do_update``: both
    dialects' inserts spell them alike. Typed ``Any`` because the two classes share no base
    that declares them."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
