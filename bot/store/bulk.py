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

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Connection, Table

Row = tuple[Any, ...]


def _processors(
    connection: Connection, table: Table, columns: Sequence[str]
) -> list[Callable[[Any], Any] | None]:
    """Each column's bind processor on this dialect, or None where values pass as they are."""
    dialect = connection.dialect
    found: list[Callable[[Any], Any] | None] = []
    for name in columns:
        kind = table.c[name].type
        if isinstance(kind, Boolean) and dialect.name == "sqlite":
            found.append(None)  # sqlite3 binds True and False as 1 and 0, as the processor would
            continue
        processor = kind.dialect_impl(dialect).bind_processor(dialect)
        found.append(None if processor is None else _faster(processor))
    return found


def _processed(
    connection: Connection, table: Table, columns: Sequence[str], rows: Iterable[Row]
) -> Iterable[Row]:
    processors = [
        (index, processor)
        for index, processor in enumerate(_processors(connection, table, columns))
        if processor is not None
    ]
    if not processors:
        return rows
    if len(processors) == 1:
        return _converted_one(rows, *processors[0])
    return _converted(rows, processors)


_SAMPLES = (
    datetime(2001, 2, 3, 4, 5, 6, 7),
    datetime(987, 12, 31, 23, 59, 59),
    datetime(2024, 1, 1),
)


def _iso_text(value: datetime) -> str:
    return value.isoformat(" ", "microseconds")[:26]


def _faster(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """SQLite's ``DateTime`` processor formats each value field by field in Python; when its
    text is the ISO form with microseconds (the default storage format, checked on samples),
    a plain ``datetime`` is formatted by ``datetime.isoformat`` in C instead. Anything else
    (None, a date, a subclass) still goes through SQLAlchemy's own processor."""
    try:
        same = all(processor(sample) == _iso_text(sample) for sample in _SAMPLES)
    except Exception:  # a processor for another type may reject a datetime any way it likes
        same = False
    if not same:
        return processor

    def process(value: Any) -> Any:
        if type(value) is datetime:
            return value.isoformat(" ", "microseconds")[:26]
        return processor(value)

    return process


def _converted_one(
    rows: Iterable[Row], index: int, processor: Callable[[Any], Any]
) -> Iterator[Row]:
    for row in rows:
        yield (*row[:index], processor(row[index]), *row[index + 1 :])


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
    _execute(
        connection, table, columns, _processed(connection, table, columns, rows), conflict, update
    )


def insert_columns(
    connection: Connection,
    table: Table,
    columns: Mapping[str, Iterable[Any]],
    *,
    conflict: Sequence[str] = (),
    update: Sequence[str] = (),
) -> None:
    """``insert_rows`` for data held column by column (equal lengths): each column is converted
    with one ``map`` and the rows are zipped in C, with no Python code run per row."""
    names = list(columns)
    values = [
        column if processor is None else map(processor, column)
        for column, processor in zip(
            columns.values(), _processors(connection, table, names), strict=True
        )
    ]
    _execute(connection, table, names, zip(*values, strict=True), conflict, update)


def _execute(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Row],
    conflict: Sequence[str],
    update: Sequence[str],
) -> None:
    if connection.dialect.name == "postgresql":
        _copy(connection, table, columns, rows, conflict, update)
        return
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(name) for name in columns)
    marks = ", ".join("?" * len(columns))
    sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"  # noqa: S608
    if conflict:
        sql += _on_conflict(connection, table, conflict, update)
    cursor: Any = connection.connection.cursor()
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()


def read_pairs(
    connection: Connection,
    table: Table,
    key: str,
    value: str,
    where: tuple[str, Any] | None = None,
) -> dict[Any, Any]:
    """``{key: value}`` over the rows of ``table`` (where a column equals a value, if given),
    fetched by the driver as plain tuples."""
    quote = connection.dialect.identifier_preparer.quote
    sql = f"SELECT {quote(key)}, {quote(value)} FROM {quote(table.name)}"  # noqa: S608
    parameters: tuple[Any, ...] = ()
    if where is not None:
        sql += f" WHERE {quote(where[0])} = {_mark(connection)}"
        parameters = (where[1],)
    cursor: Any = connection.connection.cursor()
    try:
        cursor.execute(sql, parameters)
        return dict(cursor.fetchall())
    finally:
        cursor.close()


def delete_where_in(
    connection: Connection, table: Table, column: str, values: Sequence[Any]
) -> None:
    """Delete the rows whose ``column`` is one of ``values`` (one statement per value, sent in
    one ``executemany``)."""
    if not values:
        return
    quote = connection.dialect.identifier_preparer.quote
    sql = f"DELETE FROM {quote(table.name)} WHERE {quote(column)} = {_mark(connection)}"  # noqa: S608
    cursor: Any = connection.connection.cursor()
    try:
        cursor.executemany(sql, [(value,) for value in values])
    finally:
        cursor.close()


@contextmanager
def large_cache(connection: Connection, kibibytes: int = 256 * 1024) -> Iterator[None]:
    """On SQLite, let the page cache hold a snapshot's index pages while its rows are written
    (the default 2 MiB cache spills them to disk over and over); restored afterwards."""
    if connection.dialect.name != "sqlite":
        yield
        return
    cursor: Any = connection.connection.cursor()
    try:
        previous = cursor.execute("PRAGMA cache_size").fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = {-int(kibibytes)}")
        try:
            yield
        finally:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")
    finally:
        cursor.close()


@contextmanager
def indexes_deferred(connection: Connection, table: Table) -> Iterator[None]:
    """On SQLite, when ``table`` is empty (a first refresh), drop its secondary indexes while
    it is filled and build them again from their stored SQL: one sort per index instead of
    hundreds of thousands of random B-tree inserts. All inside the caller's transaction."""
    if connection.dialect.name != "sqlite":
        yield
        return
    cursor: Any = connection.connection.cursor()
    try:
        if not connection.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
            # sqlite3 opens the transaction only before a DML statement: without this, the
            # DROPs would commit at once, and a failure (or kill -9) would leave no index.
            cursor.execute("BEGIN")
        name = table.name
        empty = cursor.execute(
            f"SELECT 1 FROM {_quote(connection, name)} LIMIT 1"  # noqa: S608
        ).fetchone()
        indexes = (
            cursor.execute(
                "SELECT name, sql FROM sqlite_master"
                " WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                (name,),
            ).fetchall()
            if empty is None
            else []
        )
        for index_name, _ in indexes:
            cursor.execute(f"DROP INDEX {_quote(connection, index_name)}")
        yield
        for _, sql in indexes:
            cursor.execute(sql)
    finally:
        cursor.close()


def _mark(connection: Connection) -> str:
    """The driver's parameter placeholder: psycopg's ``%s``, sqlite3's ``?``."""
    return "%s" if connection.dialect.name == "postgresql" else "?"


def _quote(connection: Connection, name: str) -> str:
    return str(connection.dialect.identifier_preparer.quote(name))


def _on_conflict(
    connection: Connection, table: Table, conflict: Sequence[str], update: Sequence[str]
) -> str:
    """``ON CONFLICT``: keep the row, or update ``update`` columns where one of them changed. A
    row that is the same as stored is not written at all, so a refresh that sees the same
    models again writes only what changed."""
    quote = connection.dialect.identifier_preparer.quote
    keys = ", ".join(quote(name) for name in conflict)
    if not update:
        return f" ON CONFLICT ({keys}) DO NOTHING"
    sets = ", ".join(f"{quote(name)} = excluded.{quote(name)}" for name in update)
    stored = ", ".join(f"{quote(table.name)}.{quote(name)}" for name in update)
    new = ", ".join(f"excluded.{quote(name)}" for name in update)
    differs = "IS DISTINCT FROM" if connection.dialect.name == "postgresql" else "IS NOT"
    return f" ON CONFLICT ({keys}) DO UPDATE SET {sets} WHERE ({stored}) {differs} ({new})"


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
                f"{_on_conflict(connection, table, conflict, update)}"
            )
            cursor.execute(f"DROP TABLE {into}")
    finally:
        cursor.close()
