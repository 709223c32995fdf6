"""Tables of the whole-Hub history imported from the public weekly archives (migration 0006).

An archived week keeps totals, never a row per model: ``week_aggregates`` (by country and org,
both attributions, 30-day and all-time downloads), ``week_releases`` (repos created that week by
each registered org) and ``week_models`` (only the models answers name). ``archive_weeks`` says
what was imported from where, what the week's file lacked and what reading it cost;
``archive_sources`` whether each archive answered when last listed.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
)

from bot.store.schema import MODEL_ID, ORG_ID, metadata


def _week_key() -> Column[int]:
    """The key column every per-week table starts with; its rows go with their week."""
    return Column(
        "week_id",
        Integer,
        ForeignKey("archive_weeks.id", ondelete="CASCADE"),
        primary_key=True,
    )


archive_weeks = Table(
    "archive_weeks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("day", Date, nullable=False, unique=True),
    Column("source", String(300), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("rows", Integer, nullable=False, default=0),
    Column("models", Integer, nullable=False, default=0),
    Column("downloads_total", BigInteger, nullable=False, default=0),
    Column("downloads_all_time_total", BigInteger),
    Column("missing_columns", Text, nullable=False, default=""),
    Column("file_bytes", BigInteger),
    Column("bytes_read", BigInteger),
    Column("seconds", Float),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("error", Text),
)

archive_sources = Table(
    "archive_sources",
    metadata,
    Column("source", String(300), primary_key=True),
    Column("checked_at", DateTime(timezone=True), nullable=False),
    Column("available", Boolean, nullable=False),
    Column("weeks_listed", Integer, nullable=False, default=0),
    Column("unavailable_since", DateTime(timezone=True)),
    Column("error", Text),
)
"""The last time each archive was listed, and whether it answered: an archive taken down is
said so in ``hubpulse snapshots list`` while answers carry on from the weeks imported."""

week_aggregates = Table(
    "week_aggregates",
    metadata,
    _week_key(),
    Column("attribution", String(16), primary_key=True),
    Column("level", String(16), primary_key=True),
    Column("key", ORG_ID, primary_key=True),
    Column("models", Integer, nullable=False),
    Column("downloads", Float, nullable=False),
    Column("share", Float, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("downloads_all_time", Float),
    Column("share_all_time", Float),
    sqlite_with_rowid=False,
)

week_releases = Table(
    "week_releases",
    metadata,
    _week_key(),
    Column("org", ORG_ID, primary_key=True),
    Column("repos", Integer, nullable=False),
    sqlite_with_rowid=False,
)

week_models = Table(
    "week_models",
    metadata,
    _week_key(),
    Column("model_id", MODEL_ID, primary_key=True),
    Column("downloads", BigInteger, nullable=False),
    Column("downloads_all_time", BigInteger),
    sqlite_with_rowid=False,
)
