"""Bulk inserts of plain tuples, for the hundreds of thousands of rows of one snapshot.

SQLAlchemy Core builds a parameter dict and runs every column's bind processing per row; at
200,000 models that was most of the time a snapshot took to write. Here rows are tuples in
column order, only the columns whose type needs a bind processor on this dialect (``DateTime``
on SQLite) are converted, and the driver gets them in one ``executemany`` (SQLite) or ``COPY``
(PostgreSQL), on the connection's own transaction. Rows sorted by primary key insert fastest.

SQL is built from the schema's own table and column names, quoted by the dialect; values only
ever travel as parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Table

Row = tuple[Any, ...]


def _processed(
    connection: Connection, table: Table, columns: Sequence[str], rows: Iterable[Row]
) -> Iterable[Row]:
    dialect = connection.dialect
    processors: list[tuple[int, Callable[[Any], Any]]] = []
    for index, name in enumerate(columns):
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            processors.append((index, processor))
    if not processors:
        return rows
    return _converted(rows, processors)


def _converted(
    rows: Iterable[Row], processors: list[tuple[int, Callable[[Any], Any]]]
) -> Iterator[Row]:
    for row in rows:
        values = list(row)
        for index, processor in processors:
            values[index] = processor(values[index])
        yield tuple(values)


def insert_rows(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Row],
    *,
    conflict: Sequence[str] = (),
    update: Sequence[str] = (),
) -> None:
    """Insert ``rows``; with ``conflict`` (the key columns), existing rows get ``update`` columns
    from the new row instead (an upsert, same SQL on SQLite and PostgreSQL)."""
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    values = _processed(connection, table, columns, rows)
    if connection.dialect.name == "postgresql":
        _copy(connection, table, columns, values, conflict, update)
        return
    marks = ", ".join("?" * len(columns))
    sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"  # noqa: S608
    if conflict:
        sql += _on_conflict(connection, conflict, update)
    cursor: Any = connection.connection.cursor()
    try:
        cursor.executemany(sql, values)
    finally:
        cursor.close()


def _on_conflict(connection: Connection, conflict: Sequence[str], update: Sequence[str]) -> str:
    quote = connection.dialect.identifier_preparer.quote
    keys = ", ".join(quote(name) for name in conflict)
    sets = ", ".join(f"{quote(name)} = excluded.{quote(name)}" for name in update)
    return (
        f" ON CONFLICT ({keys}) DO UPDATE SET {sets}"
        if sets
        else f" ON CONFLICT ({keys}) DO NOTHING"
    )


def _copy(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Row],
    conflict: Sequence[str],
    update: Sequence[str],
) -> None:
    """``COPY`` straight into the table, or, for an upsert, into a temporary table that one
    ``INSERT ... SELECT ... ON CONFLICT`` then merges."""
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    target = quote(table.name)
    cursor: Any = connection.connection.cursor()
    try:
        if conflict:
            staging = quote(f"staging_{table.name}")
            cursor.execute(f"CREATE TEMPORARY TABLE {staging} (LIKE {target} INCLUDING DEFAULTS)")
            into = staging
        else:
            into = target
        with cursor.copy(f"COPY {into} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        if conflict:
            cursor.execute(
                f"INSERT INTO {target} ({names}) SELECT {names} FROM {into}"  # noqa: S608
                f"{_on_conflict(connection, conflict, update)}"
            )
            cursor.execute(f"DROP TABLE {into}")
    finally:
        cursor.close()
